// The constant-rate client of `--mode latency`, run as its own process pinned to the client CPU:
// `node bench/lib/latency-client.ts <host> <port> <rate> <connections> <seconds> ['Name: value'…]`.
// It opens <connections> keep-alive connections, runs SETTLE_MS at the rate unmeasured (its own
// code gets compiled: a cold client would be late on the first requests and blame the server),
// then sends GET / at <rate> requests per second in all for <seconds>, as
// bench/lib/constant-rate.ts schedules them, waits for the answers (at most DRAIN_MS more), and
// prints one JSON line (LatencyReport).
//
// Built to keep up with ~20,000 requests/s on one core: raw sockets, one request buffer written
// over and over, responses framed by bench/lib/response-scanner.ts, and a scheduler that looks at
// performance.now() on every turn of the event loop (setImmediate) while the next request is
// due within SPIN_MS, because timers have a 1 ms granularity and fire late under load.
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConstantRateDriver } from './constant-rate.ts';
import type { LatencyReport } from './latency-report.ts';
import { ResponseScanner } from './response-scanner.ts';

const SPIN_MS = 2;
/** After the last request is due: how long answers may still come before they count as unfinished. */
const DRAIN_MS = 10_000;
const SETTLE_MS = 500;
/** Before the first request of a phase: the process settled after setting it up. */
const START_DELAY_MS = 20;
const RECONNECT_DELAY_MS = 10;

const [
  host = '127.0.0.1',
  portText = '8080',
  rateText = '1000',
  connText = '50',
  secondsText = '10',
  ...headers
] = process.argv.slice(2);
const port = Number(portText);
const rate = Number(rateText);
const connections = Number(connText);
const durationMs = Number(secondsText) * 1000;
if (!(rate > 0) || !Number.isInteger(connections) || connections < 1 || !(durationMs > 0) || !(port > 0)) {
  process.stderr.write('usage: latency-client.ts <host> <port> <rate> <connections> <seconds> [header…]\n');
  process.exit(2);
}
const REQUEST = Buffer.from(
  `GET / HTTP/1.1\r\nHost: ${host}:${port}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`,
  'latin1',
);

const sockets: Array<Socket | undefined> = new Array(connections).fill(undefined);
/** The phase running (settling or measured); responses and failures go to it. */
let driver: ConstantRateDriver | undefined;
let finished = false;

const sink = {
  send(conn: number): void {
    sockets[conn]!.write(REQUEST);
  },
};

/** Opens connection `conn`, and again whenever it closes, until the client finishes. */
function open(conn: number, onFirstOpen: () => void): void {
  const socket = connect({ host, port, noDelay: true });
  const scanner = new ResponseScanner();
  let up = false;
  let why = 'closed';
  const onResponse = (status: number, close: boolean): void => {
    driver?.response(conn, status, performance.now(), close);
    // The server said it closes: no more requests on this one; a new connection takes over.
    if (close) socket.end();
  };
  socket.on('connect', () => {
    up = true;
    sockets[conn] = socket;
    if (driver === undefined) onFirstOpen();
    else driver.opened(conn);
  });
  socket.on('data', (chunk: Buffer) => {
    try {
      scanner.feed(chunk, onResponse);
    } catch (err) {
      socket.destroy(err instanceof Error ? err : new Error(String(err)));
    }
    // Hand out what fell due meanwhile: one turn of the loop may read dozens of connections,
    // and requests due during it would otherwise wait for the turn to end (client lateness).
    driver?.tick(performance.now());
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    why = err.code ?? 'unparsable';
  });
  socket.on('close', () => {
    sockets[conn] = undefined;
    if (finished) return;
    if (up) driver?.lost(conn, why);
    else driver?.connectFailed();
    // A server that closed (Connection: close, a timeout, a restart) gets a new connection; the
    // requests due meanwhile wait for it, and that wait counts.
    setTimeout(() => open(conn, onFirstOpen), up ? 0 : RECONNECT_DELAY_MS);
  });
}

function openAll(): Promise<void> {
  return new Promise((resolve, reject) => {
    let opened = 0;
    const timer = setTimeout(
      () => reject(new Error(`only ${opened}/${connections} connections to ${host}:${port} opened`)),
      DRAIN_MS,
    );
    for (let c = 0; c < connections; c++) {
      let first = true;
      open(c, () => {
        if (!first) return;
        first = false;
        if (++opened === connections) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}

function pump(): void {
  const d = driver;
  if (d === undefined || finished) return;
  const wait = d.tick(performance.now());
  if (wait < 0) return;
  if (wait > SPIN_MS) setTimeout(pump, wait - SPIN_MS / 2);
  else setImmediate(pump);
}

/** One phase at the rate: resolves with its driver once every request is answered, lost or given up. */
async function phase(ms: number): Promise<ConstantRateDriver> {
  const d = new ConstantRateDriver(
    { rate, connections, durationMs: ms },
    performance.now() + START_DELAY_MS,
    sink,
  );
  driver = d;
  for (let i = 0; i < connections; i++) if (sockets[i] !== undefined) d.opened(i);
  pump();
  const deadline = performance.now() + START_DELAY_MS + ms + DRAIN_MS;
  while (!d.done && performance.now() < deadline) await sleep(5);
  if (!d.done) d.abandon();
  return d;
}

try {
  await openAll();
  const settle = await phase(SETTLE_MS);
  // Answers the settling phase gave up on would be taken for the measured phase's.
  if (settle.errors['unfinished'] !== undefined)
    throw new Error('the settling phase was not answered in time');
  const d = await phase(durationMs);
  finished = true;
  const elapsedMs = Math.max(durationMs, d.lastResponseMs - d.dueMs(0));
  const report: LatencyReport = {
    rate,
    connections,
    scheduled: d.scheduled,
    completed: d.completed,
    durationS: elapsedMs / 1000,
    achievedRate: d.completed / (elapsedMs / 1000),
    latency: d.latency.summary(),
    lateness: d.lateness.summary(),
    statuses: d.statuses,
    errors: d.errors,
    histogram: d.latency.buckets(),
  };
  for (const s of sockets) s?.destroy();
  process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
} catch (err) {
  process.stderr.write(`latency client: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
