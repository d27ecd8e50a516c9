/**
 * The middlewares after a `retry` in a router's chain run once per attempt, as Traefik's retry
 * calls its `next` handler (the rest of the chain, then the service) for each attempt with a
 * clone of the request as the retry got it (pkg/middlewares/retry/retry.go ServeHTTP): their
 * counting effects happen per attempt (a rateLimit token, an inFlightReq slot held for one
 * attempt, a forwardAuth call), their changes to the request are made again on each attempt's
 * copy and never twice, and an answer of theirs whose status `retry.status` lists is retried
 * like a server's. Real proxy process, real node:http backends and auth server, curl.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

interface Seen {
  readonly path: string;
  readonly auth: string | string[] | undefined;
  readonly tag: string | string[] | undefined;
  readonly prefix: string | string[] | undefined;
  readonly body: string;
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      s += d;
    });
    req.on('end', () => resolve(s));
  });
}

describe('middlewares after retry run once per attempt, as Traefik', () => {
  let proxy: ProxyProcess;
  let base = '';
  let flaky: Server;
  let auth: Server;
  let boom: Server;
  let boomHits = 0;
  /** What the flaky backend saw, per request path (each path's first request gets a 503). */
  const seen = new Map<string, Seen[]>();
  /** Calls to the auth server, per original path (X-Forwarded-Uri). */
  const authCalls = new Map<string, number>();

  before(async () => {
    flaky = createServer(async (req, res) => {
      const body = await readBody(req);
      const path = req.url ?? '';
      const list = seen.get(path) ?? [];
      list.push({
        path,
        auth: req.headers['x-auth-attempt'],
        tag: req.headers['x-tag'],
        prefix: req.headers['x-forwarded-prefix'],
        body,
      });
      seen.set(path, list);
      if (list.length === 1) res.writeHead(503).end('busy');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok ${list.length}`);
    });
    // Counts its calls per original URI; answers 503 to the first call for a `/authfail` URI.
    auth = createServer((req, res) => {
      const uri = String(req.headers['x-forwarded-uri'] ?? '');
      const n = (authCalls.get(uri) ?? 0) + 1;
      authCalls.set(uri, n);
      if (uri.includes('authfail') && n === 1) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('auth busy');
        return;
      }
      res.writeHead(200, { 'x-auth-attempt': String(n) }).end();
    });
    boom = createServer((_req, res) => {
      boomHits++;
      res.writeHead(500).end('boom');
    });
    const boomUrl = await listen(boom);
    const flakyUrl = await listen(flaky);
    const authUrl = await listen(auth);
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
accessLog: { format: json }
http:
  middlewares:
    retry503: { retry: { attempts: 3, status: ["503"] } }
    retry503b: { retry: { attempts: 2, status: ["503"], budget: { percent: 100 } } }
    auth: { forwardAuth: { address: "${authUrl}", authResponseHeaders: [X-Auth-Attempt] } }
    strip: { stripPrefix: { prefixes: ["/api"] } }
    striptree: { stripPrefix: { prefixes: ["/tree"] } }
    tag: { headers: { customRequestHeaders: { X-Tag: "t" } } }
    limit: { rateLimit: { average: 1, period: 1m, burst: 2 } }
    oneatatime: { inFlightReq: { amount: 1 } }
    cb:
      circuitBreaker:
        expression: "ResponseCodeRatio(500, 600, 0, 600) > 0.5"
        checkPeriod: 100ms
        fallbackDuration: 1m
    steps: { chain: { middlewares: [strip, auth, tag] } }
  routers:
    rerun: { rule: "PathPrefix(\`/api\`)", service: flaky, middlewares: [retry503, steps] }
    authfail: { rule: "PathPrefix(\`/authfail\`)", service: flaky, middlewares: [retry503, auth] }
    limited: { rule: "PathPrefix(\`/limited\`)", service: flaky, middlewares: [retry503b, limit] }
    inflight: { rule: "PathPrefix(\`/inflight\`)", service: flaky, middlewares: [retry503b, oneatatime] }
    breaker: { rule: "PathPrefix(\`/breaker\`)", service: boom, middlewares: [retry503, cb] }
    tree: { rule: "PathPrefix(\`/tree\`)", middlewares: [retry503, striptree] }
    tree-child: { rule: "PathPrefix(\`/x\`)", service: flaky, middlewares: [tag], parentRefs: [tree] }
    last: { rule: "PathPrefix(\`/last\`)", middlewares: [retry503] }
    last-child: { rule: "PathPrefix(\`/last\`)", service: flaky, middlewares: [auth], parentRefs: [last] }
  services:
    flaky:
      loadBalancer:
        servers: [{ url: "${flakyUrl}" }]
    boom:
      loadBalancer:
        servers: [{ url: "${boomUrl}" }]
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    for (const s of [flaky, auth, boom]) s?.close();
  });

  /** The access log's record of the request to `path` (stdout, JSON), once written. */
  const accessRecord = async (path: string): Promise<Record<string, unknown>> => {
    for (const until = Date.now() + 10_000; Date.now() < until; ) {
      for (const line of proxy.stdout().split('\n')) {
        if (!line.startsWith('{')) continue;
        const r = JSON.parse(line) as Record<string, unknown>;
        if (r['RequestPath'] === path) return r;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no access log line for ${path}`);
  };

  it('runs the middlewares after the retry again for each attempt, on the request as the retry got it', async () => {
    const r = await curl(['--max-time', '10', `${base}/api/api/x`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok 2');
    const list = seen.get('/api/x');
    assert.ok(list !== undefined, `paths seen: ${[...seen.keys()].join(' ')}`);
    assert.equal(list.length, 2);
    // The prefix is stripped once per attempt (never from the path attempt 1 stripped), the
    // header set once on each attempt's copy, and forwardAuth asked again for the second one.
    assert.deepEqual(
      list.map((s) => [s.path, s.prefix, s.tag, s.auth]),
      [
        ['/api/x', '/api', 't', '1'],
        ['/api/x', '/api', 't', '2'],
      ],
    );
    assert.equal(authCalls.get('/api/x'), 2, 'forwardAuth saw the path as the strip left it, twice');
    assert.equal(seen.has('/x'), false, 'no attempt stripped the prefix twice');
  });

  it("retries a middleware's own answer whose status retry.status lists", async () => {
    // Attempt 1: forwardAuth answers the auth server's 503, retried like a server's; attempt 2:
    // the server's own 503; attempt 3 (the last): the server's 200.
    const r = await curl(['--max-time', '10', `${base}/authfail/get`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok 2');
    assert.equal(authCalls.get('/authfail/get'), 3);
    assert.equal(seen.get('/authfail/get')?.length, 2);
    // The attempt forwardAuth answered counts among the retries (Traefik's listener.Retried).
    const record = await accessRecord('/authfail/get');
    assert.equal(record['RetryAttempts'], 2);
    assert.equal(record['DownstreamStatus'], 200);
  });

  it("does not retry a middleware's answer to a POST (not idempotent), as a server's", async () => {
    const r = await curl([
      '--max-time',
      '10',
      '-X',
      'POST',
      '--data-binary',
      'payload',
      `${base}/authfail/post`,
    ]);
    assert.equal(r.status, 503);
    assert.equal(r.body.toString(), 'auth busy');
    assert.equal(authCalls.get('/authfail/post'), 1);
    assert.equal(seen.has('/authfail/post'), false);
  });

  it('replays the request body to the attempt after a middleware answered one', async () => {
    const r = await curl([
      '--max-time',
      '10',
      '-X',
      'PUT',
      '--data-binary',
      'payload',
      `${base}/authfail/put`,
    ]);
    assert.equal(authCalls.get('/authfail/put'), 3);
    assert.equal(r.status, 200);
    const list = seen.get('/authfail/put') ?? [];
    assert.deepEqual(
      list.map((s) => s.body),
      ['payload', 'payload'],
    );
  });

  it('takes a rateLimit token per attempt', async () => {
    // burst 2, one token a minute: the first request's two attempts (503, then 200) take both.
    const first = await curl(['--max-time', '10', `${base}/limited/a`]);
    assert.equal(first.status, 200);
    assert.equal(seen.get('/limited/a')?.length, 2);
    const second = await curl(['--max-time', '10', `${base}/limited/b`]);
    assert.equal(second.status, 429, 'no token left for another request');
    assert.equal(seen.has('/limited/b'), false);
  });

  it("holds an inFlightReq slot for one attempt: the retry is not refused by the request's own slot", async () => {
    const r = await curl(['--max-time', '10', `${base}/inflight/a`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok 2');
    // And the slot is free once the request is over.
    const again = await curl(['--max-time', '10', `${base}/inflight/a`]);
    assert.equal(again.status, 200);
  });

  it("retries a tripped circuitBreaker's 503 after the retry, each attempt asking the breaker", async () => {
    // The server's 500s (not listed) trip the breaker; then every attempt gets its 503.
    const statuses: number[] = [];
    for (let i = 0; i < 20 && !statuses.includes(503); i++)
      statuses.push((await curl(['--max-time', '10', `${base}/breaker/${i}`])).status);
    assert.equal(statuses[0], 500);
    assert.equal(statuses.at(-1), 503, `the breaker tripped: ${statuses.join(',')}`);
    const hits = boomHits;
    const r = await curl(['--max-time', '10', `${base}/breaker/tripped`]);
    assert.equal(r.status, 503);
    assert.equal(boomHits, hits, 'no attempt reached the server');
    const record = await accessRecord('/breaker/tripped');
    assert.equal(record['RetryAttempts'], 2, 'three attempts, each answered by the breaker');
    const first = await accessRecord('/breaker/0');
    assert.equal(first['RetryAttempts'], 0, "the server's 500 is not listed: not retried");
  });

  it("runs a parent router's middlewares after its retry, and its child's, again for each attempt", async () => {
    // The parent strips /tree, its child (matched on the stripped path) sets X-Tag: each attempt
    // strips the path as the request came, once, and sets the field once.
    const r = await curl(['--max-time', '10', `${base}/tree/x/1`]);
    assert.equal(r.status, 200);
    assert.deepEqual(
      (seen.get('/x/1') ?? []).map((s) => [s.path, s.prefix, s.tag]),
      [
        ['/x/1', '/tree', 't'],
        ['/x/1', '/tree', 't'],
      ],
    );
  });

  it("runs a child router's middlewares per attempt of its parent's retry, last in the parent's chain", async () => {
    // Traefik's child router is the `next` of its parent's chain, so the parent's retry calls it
    // (its forwardAuth) again: attempt 1, the auth server's 503 (retried); attempt 2, the
    // backend's 503; attempt 3, its 200.
    const r = await curl(['--max-time', '10', `${base}/last/authfail`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok 2');
    assert.equal(authCalls.get('/last/authfail'), 3);
    assert.deepEqual(
      (seen.get('/last/authfail') ?? []).map((s) => s.auth),
      ['2', '3'],
    );
    assert.equal((await accessRecord('/last/authfail'))['RetryAttempts'], 2);
  });

  it('does the same for an HTTP/2 client (h2c)', async () => {
    const r = await curl([
      '--max-time',
      '10',
      '--http2-prior-knowledge',
      '-X',
      'PUT',
      '--data-binary',
      'h2',
      `${base}/authfail/h2`,
    ]);
    assert.equal(r.status, 200);
    assert.equal(authCalls.get('/authfail/h2'), 3);
    assert.equal((await accessRecord('/authfail/h2'))['RequestProtocol'], 'HTTP/2.0');
    assert.deepEqual(
      (seen.get('/authfail/h2') ?? []).map((s) => s.body),
      ['h2', 'h2'],
    );
  });
});
