// The latency client for real: its own process against a Node HTTP server on loopback, at a low
// rate for one second. Counts only: no time is asserted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type LatencyReport, parseLatencyReport } from './latency-report.ts';

const CLIENT = join(fileURLToPath(new URL('.', import.meta.url)), 'latency-client.ts');
const RATE = 300;
const CONNECTIONS = 5;

interface Backend {
  readonly port: number;
  readonly server: Server;
  connections: number;
  requests: number;
}

async function backend(handler: RequestListener): Promise<Backend> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const b: Backend = { port: (server.address() as AddressInfo).port, server, connections: 0, requests: 0 };
  server.on('connection', () => b.connections++);
  server.on('request', () => b.requests++);
  return b;
}

async function runClient(port: number, ...headers: string[]): Promise<LatencyReport> {
  const child = spawn(
    process.execPath,
    [CLIENT, '127.0.0.1', String(port), String(RATE), String(CONNECTIONS), '1', ...headers],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, err);
  return parseLatencyReport(out);
}

describe('latency client (a real run against a Node backend)', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.closeAllConnections();
    for (const s of servers) s.close();
  });

  it('sends rate × seconds requests over keep-alive connections and answers for every one', async () => {
    const seen = new Set<string>();
    const b = await backend((req, res) => {
      seen.add(`${req.method} ${req.url} ${req.headers['x-bench']}`);
      res.end('hello world\n');
    });
    servers.push(b.server);
    const r = await runClient(b.port, 'X-Bench: 1');
    assert.equal(r.scheduled, RATE);
    assert.equal(r.completed, RATE);
    assert.deepEqual(r.statuses, { '200': RATE });
    assert.deepEqual(r.errors, {});
    assert.equal(r.latency.count, RATE);
    assert.equal(r.lateness.count, RATE);
    assert.equal(
      r.histogram.reduce((n, [, count]) => n + count, 0),
      RATE,
    );
    assert.ok(r.latency.p50Ms <= r.latency.p99Ms && r.latency.p99Ms <= r.latency.p999Ms);
    assert.ok(r.latency.p999Ms <= r.latency.maxMs);
    // The measured second, after half a second of settling at the same rate; never a new connection.
    assert.equal(b.requests, RATE * 1.5);
    assert.equal(b.connections, CONNECTIONS);
    assert.deepEqual([...seen], ['GET / 1']);
  });

  it('frames chunked answers, counts non-2xx as errors, and reconnects when the server closes', async () => {
    let n = 0;
    const b = await backend((_req, res) => {
      n++;
      if (n % 7 === 0) {
        res.writeHead(503, { connection: 'close' });
        res.end('busy');
      } else {
        res.write('hello ');
        res.end('world\n');
      }
    });
    servers.push(b.server);
    const r = await runClient(b.port);
    assert.equal(r.completed, RATE);
    const failed = r.statuses['503'] ?? 0;
    assert.ok(failed > 0);
    assert.equal((r.statuses['200'] ?? 0) + failed, RATE);
    assert.deepEqual(r.errors, { 'status 503': failed });
    assert.ok(b.connections > CONNECTIONS, `${b.connections} connections`);
  });
});
