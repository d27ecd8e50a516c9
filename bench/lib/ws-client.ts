// The load generator of `--mode ws`, run as its own process pinned to the client CPU:
// `node bench/lib/ws-client.ts <url> <sockets> <seconds> <bytes>`. Each of <sockets> WebSockets
// sends a <bytes>-byte binary message, waits for its echo, and sends the next (a closed loop).
// One message is one round trip: a frame each way through the proxy. Prints one JSON line
// (ScriptClientReport) at the end.
import WebSocket from 'ws';
import type { ScriptClientReport } from './script-client.ts';

const [url = 'ws://127.0.0.1:8080/', socketsText = '100', secondsText = '10', bytesText = '64'] =
  process.argv.slice(2);
const sockets = Number(socketsText);
const durationMs = Number(secondsText) * 1000;
const payload = Buffer.alloc(Number(bytesText), 0x61);

const report: ScriptClientReport = {
  completed: 0,
  durationS: 0,
  meanMs: 0,
  maxMs: 0,
  errors: { connect: 0, closed: 0, mismatch: 0 },
};
let totalMs = 0;
let started = 0;
let deadline = 0;
let running = 0;

function finish(): void {
  report.durationS = (performance.now() - started) / 1000;
  report.meanMs = report.completed > 0 ? totalMs / report.completed : 0;
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}

function done(ws: WebSocket): void {
  ws.terminate();
  running--;
  if (running === 0) finish();
}

const opened: WebSocket[] = [];
await Promise.all(
  Array.from(
    { length: sockets },
    () =>
      new Promise<void>((resolve) => {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        ws.once('open', () => {
          opened.push(ws);
          resolve();
        });
        ws.once('error', () => {
          report.errors['connect']!++;
          resolve();
        });
      }),
  ),
);
started = performance.now();
deadline = started + durationMs;
running = opened.length;
if (running === 0) finish();
for (const ws of opened) {
  let sentAt = 0;
  const send = (): void => {
    sentAt = performance.now();
    ws.send(payload, { binary: true });
  };
  ws.on('message', (data: Buffer) => {
    const now = performance.now();
    if (data.length !== payload.length) report.errors['mismatch']!++;
    const ms = now - sentAt;
    totalMs += ms;
    if (ms > report.maxMs) report.maxMs = ms;
    report.completed++;
    if (now >= deadline) done(ws);
    else send();
  });
  ws.on('close', () => {
    if (performance.now() < deadline) {
      report.errors['closed']!++;
      running--;
      if (running === 0) finish();
    }
  });
  send();
}
