/**
 * An `errors` between two `retry` middlewares, as in Traefik (pkg/middlewares/retry/retry.go,
 * pkg/middlewares/customerrors): the inner retry decides first; when it gives up, its answer is
 * caught by the errors middleware, whose page is written to the outer retry's responseWriter, so
 * the outer retry decides on the status the page is served with (after `statusRewrites`), and
 * each of its attempts runs the errors middleware and the inner retry afresh. Real proxy,
 * node:http backend failing each path's first three requests, a page server counting its calls,
 * curl.
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

describe('errors between two retries: the outer retry sees the page, as Traefik', () => {
  let proxy: ProxyProcess;
  let base = '';
  let flaky: Server;
  let pages: Server;
  const hits = new Map<string, number>();
  const pageCalls = new Map<string, number>();

  before(async () => {
    flaky = createServer((req, res) => {
      req.resume();
      const path = req.url ?? '';
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      if (n <= 3) res.writeHead(503).end('busy');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok ${n}`);
    });
    pages = createServer((req, res) => {
      const path = req.url ?? '';
      pageCalls.set(path, (pageCalls.get(path) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`page ${path}`);
    });
    const flakyUrl = await listen(flaky);
    const pagesUrl = await listen(pages);
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
accessLog: { format: json }
http:
  middlewares:
    outer418: { retry: { attempts: 2, status: ["418"], budget: { percent: 100 } } }
    outer503: { retry: { attempts: 2, status: ["503"], budget: { percent: 100 } } }
    inner: { retry: { attempts: 2, status: ["503"], budget: { percent: 100 } } }
    teapot: { errors: { status: ["503"], service: pages, query: "/teapot/{status}", statusRewrites: { "503": 418 } } }
    fine: { errors: { status: ["503"], service: pages, query: "/fine/{status}", statusRewrites: { "503": 200 } } }
  routers:
    listed: { rule: "PathPrefix(\`/listed\`)", middlewares: [outer418, teapot, inner], service: flaky }
    unlisted: { rule: "PathPrefix(\`/unlisted\`)", middlewares: [outer503, fine, inner], service: flaky }
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
    for (const s of [flaky, pages]) s?.close();
  });

  it("retries when the outer retry lists the page's status, the inner retry running afresh", async () => {
    // Inner: 503, 503 (gives up) → page as 418 → outer retries → inner: 503, then 200.
    const r = await curl(['--max-time', '10', `${base}/listed/a`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok 4');
    assert.equal(hits.get('/listed/a'), 4);
    assert.equal(pageCalls.get('/teapot/418'), 1);
  });

  it("does not retry on the inner retry's status when the page is served with another", async () => {
    // Inner: 503, 503 (gives up) → page as 200: not listed by the outer retry, the answer.
    const r = await curl(['--max-time', '10', `${base}/unlisted/b`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'page /fine/200');
    assert.equal(hits.get('/unlisted/b'), 2);
    assert.equal(pageCalls.get('/fine/200'), 1);
  });
});
