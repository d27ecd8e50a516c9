/**
 * An `errors` middleware after `retry` in a router's chain is inside each attempt, as Traefik's
 * retry (pkg/middlewares/retry/retry.go) calls its `next`, the errors middleware
 * (pkg/middlewares/customerrors), once per attempt: an attempt's caught answer is replaced by
 * the page first, and the retry then sees the status the page is written with (after
 * `statusRewrites`), retrying when `status` lists it. An `errors` before the retry sees the
 * retry's final answer only. Real proxy, node:http backend failing each path's first request, a
 * page server counting its calls, curl.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('errors after retry is inside each attempt, as Traefik', () => {
  let proxy: ProxyProcess;
  let base = '';
  let flaky: Server;
  let pages: Server;
  let auth: Server;
  /** Requests per path at the backend (each path's first gets a 503). */
  const hits = new Map<string, number>();
  /** Page requests per page path. */
  const pageCalls = new Map<string, number>();

  before(async () => {
    flaky = createServer((req, res) => {
      req.resume();
      const path = req.url ?? '';
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      if (n === 1) res.writeHead(503).end('busy');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok ${n}`);
    });
    pages = createServer((req, res) => {
      const path = req.url ?? '';
      pageCalls.set(path, (pageCalls.get(path) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`page ${path}`);
    });
    // A forwardAuth server whose first call per URI answers 503.
    const authSeen = new Set<string>();
    auth = createServer((req, res) => {
      const uri = String(req.headers['x-forwarded-uri'] ?? '');
      if (authSeen.has(uri)) res.writeHead(200).end();
      else {
        authSeen.add(uri);
        res.writeHead(503).end('auth busy');
      }
    });
    const authUrl = await listen(auth);
    const flakyUrl = await listen(flaky);
    const pagesUrl = await listen(pages);
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
accessLog: { format: json }
http:
  middlewares:
    retry503: { retry: { attempts: 3, status: ["503"] } }
    page: { errors: { status: ["503"], service: pages, query: "/inside/{status}" } }
    rewritten: { errors: { status: ["503"], service: pages, query: "/rewritten/{status}", statusRewrites: { "503": 200 } } }
    auth: { forwardAuth: { address: "${authUrl}" } }
    mwpage: { errors: { status: ["503"], service: pages, query: "/guarded/{status}" } }
    outer: { errors: { status: ["503"], service: pages, query: "/outside/{status}" } }
  routers:
    inside: { rule: "PathPrefix(\`/inside\`)", middlewares: [retry503, page], service: flaky }
    rewritten: { rule: "PathPrefix(\`/rewritten\`)", middlewares: [retry503, rewritten], service: flaky }
    guarded: { rule: "PathPrefix(\`/guarded\`)", middlewares: [retry503, mwpage, auth], service: flaky }
    outside: { rule: "PathPrefix(\`/outside\`)", middlewares: [outer, retry503], service: flaky }
  services:
    flaky:
      loadBalancer: { servers: [{ url: "${flakyUrl}" }] }
    pages:
      loadBalancer: { servers: [{ url: "${pagesUrl}" }] }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    for (const s of [flaky, pages, auth]) s?.close();
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

  it("fetches the page for an attempt's caught answer, then the retry retries its listed status", async () => {
    const r = await curl(['--max-time', '10', `${base}/inside/a`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok 2');
    assert.equal(hits.get('/inside/a'), 2);
    assert.equal(pageCalls.get('/inside/503'), 1, "the first attempt's 503 was caught by the page first");
    assert.equal((await accessRecord('/inside/a'))['RetryAttempts'], 1);
  });

  it("does not retry when the page's rewritten status is not listed: the page is the answer", async () => {
    const r = await curl(['--max-time', '10', `${base}/rewritten/b`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'page /rewritten/200');
    assert.equal(hits.get('/rewritten/b'), 1, 'no second attempt');
  });

  it("fetches the page for a middleware's answer after it too, once per attempt", async () => {
    // Attempt 1: forwardAuth's 503, caught (page 1), retried; attempt 2: the backend's 503,
    // caught (page 2), retried; attempt 3: the backend's 200.
    const r = await curl(['--max-time', '10', `${base}/guarded/d`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok 2');
    assert.equal(pageCalls.get('/guarded/503'), 2);
    assert.equal((await accessRecord('/guarded/d'))['RetryAttempts'], 2);
  });

  it('leaves an errors before the retry to the final answer (unchanged)', async () => {
    const r = await curl(['--max-time', '10', `${base}/outside/c`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok 2');
    assert.equal(pageCalls.has('/outside/503'), false);
  });
});
