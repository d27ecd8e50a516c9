/**
 * rateLimit with redis: three real proxy processes share one limit through one real
 * redis-server. A node:http client drives all three at once, well over the limit; together they
 * admit the bucket's burst plus `average` per second for the time it ran, within 5 %. Then
 * Redis goes away: fail closed answers 500 (Traefik's behaviour), fail open lets requests in.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

const RATE = 100; // per second
const BURST = 20;
const SECONDS = 4;

function config(backend: string, redis: string): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  middlewares:
    shared-limit:
      rateLimit: { average: ${RATE}, period: 1s, burst: ${BURST}, redis: { endpoints: ["${redis}"], readTimeout: 1s } }
    open-limit:
      rateLimit: { average: ${RATE}, burst: ${BURST}, redis: { endpoints: ["${redis}"], failOpen: true, dialTimeout: 1s } }
  routers:
    limited: { rule: "PathPrefix(\`/limited\`)", middlewares: [shared-limit], service: be }
    open: { rule: "PathPrefix(\`/open\`)", middlewares: [open-limit], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend}" }] } }
`;
}

function get(agent: Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('rateLimit shared through Redis by three proxies', () => {
  let redis: RedisServer;
  let backend: Backend;
  const proxies: ProxyProcess[] = [];

  before(async () => {
    redis = await startRedis();
    backend = await startBackend();
    for (let i = 0; i < 3; i++)
      proxies.push(await startProxy({ config: config(backend.url, redis.endpoint) }));
  });

  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await backend?.close();
    await redis?.close();
  });

  it('admits burst + average × time in all, within 5 %, each proxy refusing its share', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const admitted = [0, 0, 0];
    const refused = [0, 0, 0];
    const other: number[] = [];
    const start = performance.now();
    const end = start + SECONDS * 1000;
    // The scripts ran between the first request sent and the last answer received, and at least
    // from the first answer to the last request sent: the limit is checked against both windows,
    // so that a loaded machine (slow answers) cannot make a right count look wrong.
    let firstAnswer = Number.POSITIVE_INFINITY;
    let lastSent = start;
    let lastAnswer = start;
    const worker = async (i: number) => {
      const port = proxies[i]!.port;
      while (performance.now() < end) {
        lastSent = Math.max(lastSent, performance.now());
        const status = await get(agent, port, '/limited');
        const now = performance.now();
        firstAnswer = Math.min(firstAnswer, now);
        lastAnswer = Math.max(lastAnswer, now);
        if (status === 200) admitted[i]!++;
        else if (status === 429) refused[i]!++;
        else other.push(status);
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, k) => worker(k % 3)));
    agent.destroy();
    const total = admitted.reduce((a, b) => a + b, 0);
    const low = BURST + (RATE * (lastSent - firstAnswer)) / 1000;
    const high = BURST + (RATE * (lastAnswer - start)) / 1000;
    assert.deepEqual(other, []);
    for (let i = 0; i < 3; i++)
      assert.ok(
        admitted[i]! > 0 && refused[i]! > 0,
        `proxy ${i}: ${admitted[i]} admitted, ${refused[i]} refused`,
      );
    assert.ok(
      total >= low * 0.95 && total <= high * 1.05,
      `admitted ${total}, expected ${low.toFixed(0)}..${high.toFixed(0)} ± 5 % (refused ${refused.join('/')})`,
    );
  });

  it('answers 500 without Redis, or lets requests in with failOpen', async () => {
    await redis.stop();
    const agent = new Agent({ keepAlive: true });
    const port = proxies[0]!.port;
    assert.equal(await get(agent, port, '/limited'), 500);
    assert.equal(await get(agent, port, '/open'), 200);
    agent.destroy();
  });
});
