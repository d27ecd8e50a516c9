import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import type { ProxyProcess } from '../helpers/proxy-process.ts';
import { Counter, gate, within } from '../helpers/wait.ts';
import { killWorkers, startWorkers } from '../helpers/workers.ts';

/*
 * `workers: 2` and the static overload caps: each worker enforces its share, so the figure the
 * configuration names holds for the whole proxy (src/workers/split-limits.ts), not N times it.
 */

function metricsText(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Backend arrivals and refused closes both call this: whoever waits re-checks. */
const changed = new EventEmitter();

/**
 * Opens `n` connections at once, each sending a request that the backend holds. Resolves once
 * every connection is either held (its request reached the backend) or closed by the proxy
 * without an answer (refused at accept), with how many were held.
 */
async function holdMany(
  port: number,
  n: number,
  arrived: Counter,
): Promise<{ held: number; sockets: Socket[] }> {
  const start = arrived.value;
  let closed = 0;
  const sockets: Socket[] = [];
  const settled = new Promise<void>((resolve) => {
    const check = (): void => {
      if (arrived.value - start + closed < n) return;
      changed.off('change', check);
      resolve();
    };
    changed.on('change', check);
  });
  for (let i = 0; i < n; i++) {
    const s = connect(port, '127.0.0.1', () => s.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.on('error', () => {});
    s.on('close', () => {
      closed++;
      changed.emit('change');
    });
    s.resume();
    sockets.push(s);
  }
  await within(settled, 'every connection held or refused', 20_000);
  return { held: arrived.value - start, sockets };
}

describe('workers: static caps are the whole proxy’s, split among the workers', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  const arrived = new Counter();
  const release = gate();

  before(async () => {
    backend = await startBackend((req, res) => {
      if (req.url === '/hold') {
        arrived.inc();
        changed.emit('change');
        void release.promise.then(() => res.end('held'));
        return;
      }
      res.end('ok');
    });
    proxy = await startWorkers({
      config: `workers: 2
log: { level: INFO, format: json }
entryPoints:
  capped:
    address: "127.0.0.1:0"
    transport: { maxConnections: 2 }
  perip:
    address: "127.0.0.1:0"
    transport: { maxConnectionsPerIP: 2 }
  traefik: { address: "127.0.0.1:0" }
api: { insecure: true }
metrics:
  prometheus: { entryPoint: traefik }
overload: { maxRequestBodyBytes: 1000 }
http:
  routers:
    a: { rule: "PathPrefix(\`/\`)", entryPoints: [capped, perip], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      entryPoints: 3,
    });
  });

  after(async () => {
    release.open();
    await killWorkers(proxy);
    await backend?.close();
  });

  // 16 connections land on both workers (the kernel hashes each; all on one worker has odds of
  // 2^-15), so each worker fills its share of 1: the proxy holds 2, not 2 per worker.
  for (const ep of ['capped', 'perip']) {
    it(`${ep}: holds the configured 2 connections over both workers, not 2 each`, async () => {
      const { held, sockets } = await holdMany(proxy.ports[ep]!, 16, arrived);
      try {
        assert.equal(held, 2);
      } finally {
        for (const s of sockets) s.destroy();
      }
    });
  }

  it('reports the body-memory budget as configured: the workers’ shares add up to it', async () => {
    const text = await metricsText(proxy.ports['traefik']!);
    assert.match(text, /^traffic_overload_max_request_body_bytes 1000$/m);
  });
});
