/**
 * An `errors` after `retry` when a connection fails, as Traefik v3.7 (pkg/middlewares/retry/
 * retry.go WrapHandler and responseWriter, pkg/middlewares/customerrors): the errors middleware
 * catches the proxy's 502 for a connection that failed before anything was sent and fetches its
 * page; the page request carries the attempt's context, so the page's own server clears the
 * retry's network-error flag once the page request reached it: the page is the answer, retried
 * only when `status` lists the status it is served with. A page whose own connection fails
 * before anything was sent leaves the flag set: the attempt is retried. The access log's
 * RetryAttempts counts the retries only (Traefik's retry listener), never a page's fetch.
 * Real proxy, node:http backends counting requests, a port nobody listens on, curl.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { curl } from '../helpers/curl.ts';
import { freePort } from '../helpers/free-port.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('errors after retry when a connection fails, as Traefik', () => {
  let proxy: ProxyProcess;
  let base = '';
  let flaky: Server;
  let pages: Server;
  /** A page server that reads the request and closes the connection without an answer. */
  let resetPages: Server;
  /** Requests per path at the backend (each path's first gets a 500). */
  const hits = new Map<string, number>();
  /** Page requests per page path. */
  const pageCalls = new Map<string, number>();

  before(async () => {
    flaky = createServer((req, res) => {
      req.resume();
      const path = req.url ?? '';
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      if (n === 1) res.writeHead(500).end('failed');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok ${n}`);
    });
    pages = createServer((req, res) => {
      const path = req.url ?? '';
      pageCalls.set(path, (pageCalls.get(path) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`page ${path}`);
    });
    resetPages = createServer((req) => {
      req.socket.destroy();
    });
    const resetUrl = await listen(resetPages);
    const flakyUrl = await listen(flaky);
    const pagesUrl = await listen(pages);
    const dead = `http://127.0.0.1:${await freePort()}`;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
accessLog: { format: json }
http:
  middlewares:
    retry3: { retry: { attempts: 3, budget: { percent: 100 } } }
    retry502: { retry: { attempts: 3, status: ["502"], budget: { percent: 100 } } }
    retry2: { retry: { attempts: 2, budget: { percent: 100 } } }
    page502: { errors: { status: ["502"], service: pages, query: "/p/{status}" } }
    listed502: { errors: { status: ["502"], service: pages, query: "/listed/{status}" } }
    deadpage: { errors: { status: ["500-502"], service: deadpages, query: "/dead/{status}" } }
    plain: { errors: { status: ["500"], service: pages, query: "/plain/{status}" } }
    retry500: { retry: { attempts: 2, status: ["500"], budget: { percent: 100 } } }
    resetpage: { errors: { status: ["500"], service: resetpages, query: "/reset/{status}" } }
  routers:
    refused: { rule: "PathPrefix(\`/refused\`)", middlewares: [retry3, page502], service: dead }
    listed: { rule: "PathPrefix(\`/listed\`)", middlewares: [retry502, listed502], service: dead }
    pagedown: { rule: "PathPrefix(\`/pagedown\`)", middlewares: [retry2, deadpage], service: flaky }
    bothdown: { rule: "PathPrefix(\`/bothdown\`)", middlewares: [retry3, deadpage], service: dead }
    noretry: { rule: "PathPrefix(\`/noretry\`)", middlewares: [plain], service: flaky }
    pagereset: { rule: "PathPrefix(\`/pagereset\`)", middlewares: [retry500, resetpage], service: flaky }
  services:
    flaky:
      loadBalancer: { servers: [{ url: "${flakyUrl}" }] }
    pages:
      loadBalancer: { servers: [{ url: "${pagesUrl}" }] }
    dead:
      loadBalancer: { servers: [{ url: "${dead}" }] }
    deadpages:
      loadBalancer: { servers: [{ url: "${dead}" }] }
    resetpages:
      loadBalancer: { servers: [{ url: "${resetUrl}" }] }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    for (const s of [flaky, pages, resetPages]) s?.close();
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

  it("fetches the page for a refused connection's 502, and the page is the answer", async () => {
    const r = await curl(['--max-time', '10', `${base}/refused/a`]);
    assert.equal(r.status, 502);
    assert.equal(r.body.toString(), 'page /p/502');
    assert.equal(pageCalls.get('/p/502'), 1);
    assert.equal(
      (await accessRecord('/refused/a'))['RetryAttempts'],
      0,
      'the page reached its server: no retry',
    );
  });

  it('retries after the page when `status` lists the status it is served with, a page per attempt', async () => {
    const r = await curl(['--max-time', '10', `${base}/listed/b`]);
    assert.equal(r.status, 502);
    assert.equal(r.body.toString(), 'page /listed/502');
    assert.equal(pageCalls.get('/listed/502'), 3, 'each of the 3 attempts fetched the page');
    assert.equal((await accessRecord('/listed/b'))['RetryAttempts'], 2);
  });

  it("retries an attempt whose page's connection failed before anything was sent", async () => {
    const r = await curl(['--max-time', '10', `${base}/pagedown/c`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok 2');
    assert.equal(hits.get('/pagedown/c'), 2);
    assert.equal((await accessRecord('/pagedown/c'))['RetryAttempts'], 1);
  });

  it('does not send a POST that reached its server again because its page could not be fetched', async () => {
    // Traefik would (its network-error retry ignores the method): ours keeps the status rule.
    const r = await curl(['--max-time', '10', '-X', 'POST', '--data', 'x', `${base}/pagedown/d`]);
    assert.equal(r.status, 500);
    assert.equal(r.body.toString(), 'Bad Gateway');
    assert.equal(hits.get('/pagedown/d'), 1);
  });

  it('retries a refused connection whose page is refused too, up to the attempts', async () => {
    const r = await curl(['--max-time', '10', `${base}/bothdown/e`]);
    assert.equal(r.status, 502);
    assert.equal(r.body.toString(), 'Bad Gateway');
    assert.equal((await accessRecord('/bothdown/e'))['RetryAttempts'], 2);
  });

  it('retries a page whose request reached its server and failed, when `status` lists what it stands for', async () => {
    // The page's 502 goes out under the status it replaces (500, customerrors' codeModifier),
    // which the retry lists.
    const r = await curl(['--max-time', '10', `${base}/pagereset/g`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok 2');
    assert.equal(hits.get('/pagereset/g'), 2);
  });

  it('counts no retry for a page fetched without a retry', async () => {
    const r = await curl(['--max-time', '10', `${base}/noretry/f`]);
    assert.equal(r.status, 500);
    assert.equal(r.body.toString(), 'page /plain/500');
    assert.equal((await accessRecord('/noretry/f'))['RetryAttempts'], 0);
  });
});
