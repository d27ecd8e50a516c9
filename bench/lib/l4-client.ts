// The load generator of the layer-4 modes, run as its own process pinned to the client CPU:
//   node bench/lib/l4-client.ts tcp-bulk <host> <port> <bytes> <maxSeconds>
//   node bench/lib/l4-client.ts tcp-conn <host> <port> <concurrency> <seconds>
//   node bench/lib/l4-client.ts udp      <host> <port> <sockets> <seconds>
// tcp-bulk: one connection carries <bytes> (1 GiB) to a sink that answers the count it got;
// completed = MiB carried. tcp-conn: <concurrency> loops of connect, 1 KiB each way (an echo),
// close; completed = connections. udp: <sockets> sockets in a closed loop of a 64-byte datagram
// and its echo; completed = round trips. Prints one JSON line (ScriptClientReport) at the end.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import type { ScriptClientReport } from './script-client.ts';

const [mode = '', host = '127.0.0.1', portText = '8080', nText = '1', secondsText = '10'] =
  process.argv.slice(2);
const port = Number(portText);
const n = Number(nText);
const durationMs = Number(secondsText) * 1000;
const report: ScriptClientReport = { completed: 0, durationS: 0, meanMs: 0, maxMs: 0, errors: {} };
const started = performance.now();
let totalMs = 0;

function error(kind: string): void {
  report.errors[kind] = (report.errors[kind] ?? 0) + 1;
}

function observe(ms: number): void {
  totalMs += ms;
  if (ms > report.maxMs) report.maxMs = ms;
}

function finish(): never {
  report.durationS = (performance.now() - started) / 1000;
  report.meanMs = report.completed > 0 ? totalMs / report.completed : 0;
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}

const MIB = 1 << 20;

function bulk(): void {
  const total = n;
  const chunk = Buffer.alloc(MIB, 0x61);
  const s = connect({ host, port, noDelay: true });
  let sent = 0;
  let reply = '';
  const timer = setTimeout(() => {
    error('timeout');
    s.destroy();
  }, durationMs);
  const pump = (): void => {
    while (sent < total) {
      sent += chunk.length;
      if (!s.write(chunk)) {
        s.once('drain', pump);
        return;
      }
    }
    s.end();
  };
  s.on('connect', pump);
  s.setEncoding('latin1');
  s.on('data', (d: string) => {
    reply += d;
  });
  s.on('error', () => error('connection'));
  s.on('close', () => {
    clearTimeout(timer);
    const got = Number(reply.trim());
    if (got !== total) error('short');
    report.completed = Math.floor(got / MIB);
    observe(performance.now() - started);
    finish();
  });
}

function conns(): void {
  const payload = Buffer.alloc(1024, 0x62);
  const deadline = started + durationMs;
  let running = n;
  const loop = (): void => {
    if (performance.now() >= deadline) {
      if (--running === 0) finish();
      return;
    }
    const t0 = performance.now();
    const s = connect({ host, port, noDelay: true });
    let got = 0;
    let ok = false;
    s.on('connect', () => s.write(payload));
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= payload.length) {
        ok = true;
        s.destroy();
      }
    });
    s.on('error', () => {});
    s.on('close', () => {
      if (ok) {
        report.completed++;
        observe(performance.now() - t0);
      } else error('connection');
      loop();
    });
  };
  for (let i = 0; i < n; i++) loop();
}

function udp(): void {
  const payload = Buffer.alloc(64, 0x63);
  const deadline = started + durationMs;
  let running = n;
  for (let i = 0; i < n; i++) {
    const s = createSocket('udp4');
    let t0 = 0;
    let timer: NodeJS.Timeout | undefined;
    const send = (): void => {
      if (performance.now() >= deadline) {
        s.close();
        if (--running === 0) finish();
        return;
      }
      t0 = performance.now();
      s.send(payload, port, host);
      // A lost datagram (UDP may drop under load) is counted and sent again.
      timer = setTimeout(() => {
        error('lost');
        send();
      }, 1000);
    };
    s.on('message', () => {
      clearTimeout(timer);
      report.completed++;
      observe(performance.now() - t0);
      send();
    });
    s.bind(0, '127.0.0.1', send);
  }
}

if (mode === 'tcp-bulk') bulk();
else if (mode === 'tcp-conn') conns();
else if (mode === 'udp') udp();
else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
