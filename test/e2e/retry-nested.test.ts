/**
 * Several `retry` middlewares in one chain nest, as in Traefik: each retry calls the rest of the
 * chain, the next retry included, once per attempt (pkg/middlewares/retry/retry.go ServeHTTP), so
 * when the inner one gives up, its answer is an attempt of the outer one, which runs the
 * middlewares after it (and the inner retry, afresh) again. Real proxy, node:http backend
 * failing each path's first three requests, curl.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('several retries in one chain nest, as Traefik', () => {
  let proxy: ProxyProcess;
  let base = '';
  let flaky: Server;
  /** Per path, the X-Tag of each request the backend saw (its first three get a 503). */
  const seen = new Map<string, string[]>();

  before(async () => {
    flaky = createServer((req, res) => {
      req.resume();
      const path = req.url ?? '';
      const list = seen.get(path) ?? [];
      list.push(String(req.headers['x-tag'] ?? ''));
      seen.set(path, list);
      if (list.length <= (path.includes('many') ? 5 : 3)) res.writeHead(503).end('busy');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok ${list.length}`);
    });
    flaky.listen(0, '127.0.0.1');
    await new Promise((r) => flaky.once('listening', r));
    const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
accessLog: { format: json }
http:
  middlewares:
    outer: { retry: { attempts: 2, status: ["503"], budget: { percent: 100 } } }
    inner: { retry: { attempts: 2, status: ["503"], budget: { percent: 100 } } }
    tag: { headers: { customRequestHeaders: { X-Tag: "t" } } }
    inner500: { retry: { attempts: 2, status: ["500"], budget: { percent: 100 } } }
  routers:
    nested: { rule: "PathPrefix(\`/nested\`)", middlewares: [outer, tag, inner], service: flaky }
    single: { rule: "PathPrefix(\`/single\`)", middlewares: [inner], service: flaky }
    empty: { rule: "PathPrefix(\`/empty\`)", middlewares: [outer, inner500], service: emptyw }
  services:
    empty: { loadBalancer: { servers: [] } }
    emptyw: { weighted: { services: [{ name: empty }] } }
    flaky:
      loadBalancer: { servers: [{ url: "${url}" }] }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    flaky?.close();
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

  it("gives each attempt of the outer retry the inner retry's attempts", async () => {
    // Outer attempt 1: inner tries 1, 2 (503, 503), inner gives up; outer attempt 2: inner
    // tries 3 (503), 4 (200).
    const r = await curl(['--max-time', '10', `${base}/nested/a`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok 4');
    assert.deepEqual(seen.get('/nested/a'), ['t', 't', 't', 't']);
  });

  it('stops once the outer retry has made its attempts (2 × 2 tries)', async () => {
    const r = await curl(['--max-time', '10', `${base}/nested/many`]);
    assert.equal(r.status, 503);
    assert.equal(seen.get('/nested/many')?.length, 4);
  });

  it('lets the outer retry take the 503 of no server that the inner one does not list', async () => {
    const r = await curl(['--max-time', '10', `${base}/empty/e`]);
    assert.equal(r.status, 503);
    assert.equal((await accessRecord('/empty/e'))['RetryAttempts'], 1);
  });

  it('keeps a single retry as it was', async () => {
    const r = await curl(['--max-time', '10', `${base}/single/b`]);
    assert.equal(r.status, 503);
    assert.equal(seen.get('/single/b')?.length, 2);
  });
});
