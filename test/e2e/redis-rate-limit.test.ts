/**
 * rateLimit with redis: three real proxy processes share one limit through one real
 * redis-server. A node:http client drives all three at once, well over the limit; together they
 * admit exactly what one bucket (burst, then `average` per second) admits at the moments Redis
 * ran their scripts, read from Redis's MONITOR stream: no wall-clock window of the client's, so
 * a loaded machine (a stall lets the bucket fill and lose tokens) cannot make a right count look
 * wrong. Then Redis goes away: fail closed answers 500 (Traefik's behaviour), fail open lets
 * requests in.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { within } from '../helpers/wait.ts';

const RATE = 100; // per second
const BURST = 20;
const SECONDS = 4;

// readTimeout only bounds a Redis answer here: one slower than it is a 500, so it is long enough
// for a loaded machine. The 500 without Redis comes from the closed connection, not from it.
function config(backend: string, redis: string): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  middlewares:
    shared-limit:
      rateLimit: { average: ${RATE}, period: 1s, burst: ${BURST}, redis: { endpoints: ["${redis}"], readTimeout: 10s } }
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
  return getWithBody(agent, port, path).then((r) => r.status);
}

function getWithBody(
  agent: Agent,
  port: number,
  path: string,
): Promise<{ status: number; body: string; type?: string | undefined; nosniff?: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          type: res.headers['content-type'],
          nosniff: res.headers['x-content-type-options'] as string | undefined,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Redis's MONITOR stream: every command it runs, scripts' own calls included, with its time. */
async function monitor(
  port: number,
): Promise<{ lines: string[]; seen: (text: string) => Promise<void>; stop: () => void }> {
  const lines: string[] = [];
  const waiters: { text: string; resolve: () => void }[] = [];
  let rest = '';
  const s: Socket = connect(port, '127.0.0.1');
  s.setEncoding('latin1');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.on('data', (d: string) => {
      const parts = (rest + d).split('\r\n');
      rest = parts.pop()!;
      for (const l of parts) {
        if (l === '+OK') resolve();
        else lines.push(l);
        for (const w of waiters) if (l.includes(w.text)) w.resolve();
      }
    });
    s.write('MONITOR\r\n');
  });
  return {
    lines,
    /** Resolves once a line with `text` has come (sent after everything Redis ran before it). */
    seen: (text) =>
      within(new Promise<void>((resolve) => waiters.push({ text, resolve })), `MONITOR to show ${text}`),
    stop: () => s.destroy(),
  };
}

/**
 * The scripts' times per bucket key, in ms: each TIME a script calls (`[0 lua] "TIME"`, stamped
 * by Redis a few µs after it answered) and the key of the HMGET that follows it.
 */
function scriptTimes(lines: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let at: number | undefined;
  for (const l of lines) {
    const m = /^\+?(\d+)\.(\d+) \[\d+ lua\] "(TIME|HMGET)"(?: "([^"]*)")?/.exec(l);
    if (m === null) continue;
    if (m[3] === 'TIME') at = Number(m[1]) * 1000 + Number(m[2]) / 1000;
    else if (at !== undefined) {
      const key = m[4]!;
      if (!out.has(key)) out.set(key, []);
      out.get(key)!.push(at);
      at = undefined;
    }
  }
  return out;
}

/**
 * What a token bucket (full at first, `rate` per ms, `burst` at most) admits at `times`, as
 * Traefik's limiter does: a request whose token comes within `maxDelayMs` reserves it (the bucket
 * goes below zero) and passes after the wait; a longer wait is refused and takes nothing.
 */
function bucketAdmits(
  times: readonly number[],
  ratePerMs: number,
  burst: number,
  maxDelayMs: number,
): number {
  let tokens = burst;
  let last = times[0] ?? 0;
  let admitted = 0;
  for (const now of times) {
    if (now > last) {
      tokens = Math.min(burst, tokens + (now - last) * ratePerMs);
      last = now;
    }
    if (tokens >= 1 - 1e-9 || (1 - tokens) / ratePerMs <= maxDelayMs) {
      tokens -= 1;
      admitted++;
    }
  }
  return admitted;
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

  it('admits what one bucket admits at the times Redis saw the requests, each proxy refusing its share', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const admitted = [0, 0, 0];
    const refused = [0, 0, 0];
    const other: number[] = [];
    const mon = await monitor(redis.port);
    // How long the client drives them is not what is checked: Redis's clock is.
    const end = performance.now() + SECONDS * 1000;
    const worker = async (i: number) => {
      const port = proxies[i]!.port;
      while (performance.now() < end) {
        const status = await get(agent, port, '/limited');
        if (status === 200) admitted[i]!++;
        else if (status === 429) refused[i]!++;
        else other.push(status);
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, k) => worker(k % 3)));
    agent.destroy();
    // Every answer came after its script ran: once MONITOR shows a marker sent now, it has shown
    // every script.
    const marker = `end-of-run-${process.pid}`;
    const shown = mon.seen(marker);
    await redis.command('ECHO', marker);
    await shown;
    mon.stop();
    assert.deepEqual(other, []);
    for (let i = 0; i < 3; i++)
      assert.ok(
        admitted[i]! > 0 && refused[i]! > 0,
        `proxy ${i}: ${admitted[i]} admitted, ${refused[i]} refused`,
      );
    const total = admitted.reduce((a, b) => a + b, 0);
    const requests = total + refused.reduce((a, b) => a + b, 0);
    const buckets = scriptTimes(mon.lines);
    assert.deepEqual(
      [...buckets.keys()],
      ['rate:shared-limit@file:127.0.0.1'],
      'one bucket for the three proxies',
    );
    const times = buckets.values().next().value!;
    assert.equal(times.length, requests, 'one script per request');
    // MONITOR stamps a TIME a few µs after the script read it (0.0001 token/µs here): a decision
    // right at a token's edge may go the other way, hence ±2 and not an exact count.
    // Traefik's max delay: 1 / (2 × rate).
    const expected = bucketAdmits(times, RATE / 1000, BURST, 1000 / (2 * RATE));
    assert.ok(
      Math.abs(total - expected) <= 2,
      `admitted ${total}, one bucket would have admitted ${expected} of ${requests} (refused ${refused.join('/')})`,
    );
  });

  it('answers 500 without Redis, or lets requests in with failOpen', async () => {
    await redis.stop();
    const agent = new Agent({ keepAlive: true });
    const port = proxies[0]!.port;
    // Traefik's http.Error (pkg/middlewares/ratelimiter/rate_limiter.go): its two fields too.
    assert.deepEqual(await getWithBody(agent, port, '/limited'), {
      status: 500,
      body: 'Could not insert/update bucket\n',
      type: 'text/plain; charset=utf-8',
      nosniff: 'nosniff',
    });
    assert.equal(await get(agent, port, '/open'), 200);
    agent.destroy();
  });
});
