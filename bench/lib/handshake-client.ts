// The full-handshake load generator of `--mode handshake`, run as its own process pinned to the
// client CPU: `node bench/lib/handshake-client.ts <host> <port> <servername> <concurrency> <seconds>`.
// Each of <concurrency> loops opens a new TLS connection, sends one `Connection: close` request,
// reads the response to the server's close, and starts over. No session is ever offered, so every
// connection is a full handshake (h2load and wrk would resume sessions on reconnect); a resumed
// one is counted separately as an error. Prints one JSON line (HandshakeClientReport) at the end.
import { connect, type TLSSocket } from 'node:tls';
import type { HandshakeClientReport } from './handshakes.ts';
import { CLIENT_GROUPS } from './tls-probe.ts';

const [host = '127.0.0.1', portText = '8443', servername = 'localhost', concText = '50', secondsText = '10'] =
  process.argv.slice(2);
const port = Number(portText);
const concurrency = Number(concText);
const durationMs = Number(secondsText) * 1000;
const REQUEST = `GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`;
// A connection that neither finishes nor fails within this time is a timeout, not a stall of the run.
const CONNECTION_TIMEOUT_MS = 5000;

const report: HandshakeClientReport = {
  handshakes: 0,
  durationS: 0,
  meanMs: 0,
  maxMs: 0,
  errors: { connect: 0, status: 0, resumed: 0, timeout: 0 },
  protocols: {},
  ciphers: {},
  groups: {},
};
let totalMs = 0;
const started = performance.now();
const deadline = started + durationMs;
let running = 0;

function count(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}

function finish(): void {
  report.durationS = (performance.now() - started) / 1000;
  report.meanMs = report.handshakes > 0 ? totalMs / report.handshakes : 0;
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function one(): void {
  if (performance.now() >= deadline) {
    running--;
    if (running === 0) finish();
    return;
  }
  const t0 = performance.now();
  let head = '';
  let settled = false;
  const socket: TLSSocket = connect({
    host,
    port,
    servername,
    // The cert is the bench's own self-signed one; the runner checks its fingerprint once per run.
    rejectUnauthorized: false,
    ALPNProtocols: ['http/1.1'],
    ecdhCurve: CLIENT_GROUPS,
  });
  const done = (error: keyof HandshakeClientReport['errors'] | undefined): void => {
    if (settled) return;
    settled = true;
    socket.destroy();
    if (error !== undefined) report.errors[error]++;
    else {
      const ms = performance.now() - t0;
      report.handshakes++;
      totalMs += ms;
      if (ms > report.maxMs) report.maxMs = ms;
    }
    setImmediate(one);
  };
  socket.setTimeout(CONNECTION_TIMEOUT_MS, () => done('timeout'));
  socket.once('secureConnect', () => {
    if (socket.isSessionReused()) {
      done('resumed');
      return;
    }
    count(report.protocols, socket.getProtocol() ?? 'unknown');
    count(report.ciphers, socket.getCipher().name);
    const key = socket.getEphemeralKeyInfo();
    count(
      report.groups,
      key !== null && 'name' in key && typeof key.name === 'string' ? key.name : 'unknown',
    );
    // write, not end: a half-close reads as a client gone to Go's net/http, which cancels the request.
    socket.write(REQUEST);
  });
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    if (head.length < 16) head += d;
  });
  socket.once('end', () => done(head.startsWith('HTTP/1.1 2') ? undefined : 'status'));
  socket.once('error', () => done('connect'));
}

for (let i = 0; i < concurrency; i++) {
  running++;
  one();
}
