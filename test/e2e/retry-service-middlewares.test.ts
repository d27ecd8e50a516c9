/**
 * A router's `retry` calls the whole service again for each attempt, service middlewares
 * included (Traefik v3.7: pkg/server/service/service.go wraps a service's handler with its
 * middlewares, and those of a reference to a child, e.g. `weighted.services[].middlewares`;
 * pkg/middlewares/retry/retry.go calls that handler once per attempt with a clone of the
 * request): they run again per attempt, on the request as the router's chain left it, and an
 * answer of theirs that `retry.status` lists is retried. A `retry` among a service's own
 * middlewares runs those after it again too. Real proxy, node:http backend failing each path's
 * first request, a forwardAuth server counting its calls, curl.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

interface Seen {
  readonly path: string;
  readonly auth: string | string[] | undefined;
  readonly tag: string | string[] | undefined;
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('retry reruns service middlewares per attempt, as Traefik', () => {
  let proxy: ProxyProcess;
  let base = '';
  let flaky: Server;
  let auth: Server;
  /** What the backend saw per path (each path's first request gets a 503). */
  const seen = new Map<string, Seen[]>();
  /** Calls to the auth server per original URI (X-Forwarded-Uri). */
  const authCalls = new Map<string, number>();

  before(async () => {
    flaky = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const path = req.url ?? '';
        const list = seen.get(path) ?? [];
        list.push({ path, auth: req.headers['x-auth-attempt'], tag: req.headers['x-tag'] });
        seen.set(path, list);
        if (list.length === 1) res.writeHead(503).end('busy');
        else res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok ${list.length}`);
      });
    });
    // Answers 503 to the first call for a URI with `authfail`; else 200 with the call's number.
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
    sretry: { retry: { attempts: 2, status: ["503"] } }
    auth: { forwardAuth: { address: "${authUrl}", authResponseHeaders: [X-Auth-Attempt] } }
    strip: { stripPrefix: { prefixes: ["/ref"] } }
    tag: { headers: { customRequestHeaders: { X-Tag: "t" } } }
  routers:
    own: { rule: "PathPrefix(\`/own\`)", middlewares: [retry503], service: own }
    ref: { rule: "PathPrefix(\`/ref\`)", middlewares: [retry503], service: split }
    authfail: { rule: "PathPrefix(\`/authfail\`)", middlewares: [retry503], service: guarded }
    inner: { rule: "PathPrefix(\`/inner\`)", service: inner }
  services:
    own:
      middlewares: [auth, tag]
      loadBalancer: { servers: [{ url: "${flakyUrl}" }] }
    split:
      weighted:
        services:
          - { name: plain, middlewares: [strip, auth] }
    plain:
      loadBalancer: { servers: [{ url: "${flakyUrl}" }] }
    guarded:
      middlewares: [auth]
      loadBalancer: { servers: [{ url: "${flakyUrl}" }] }
    inner:
      middlewares: [sretry, auth]
      loadBalancer: { servers: [{ url: "${flakyUrl}" }] }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    for (const s of [flaky, auth]) s?.close();
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

  it("runs a service's own middlewares again for each attempt", async () => {
    const r = await curl(['--max-time', '10', `${base}/own/a`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok 2');
    assert.equal(authCalls.get('/own/a'), 2, 'forwardAuth asked once per attempt');
    assert.deepEqual(
      (seen.get('/own/a') ?? []).map((s) => [s.auth, s.tag]),
      [
        ['1', 't'],
        ['2', 't'],
      ],
    );
  });

  it("runs a weighted child reference's middlewares again for each attempt, never stripping twice", async () => {
    const r = await curl(['--max-time', '10', `${base}/ref/ref/b`]);
    assert.equal(r.status, 200);
    assert.equal(authCalls.get('/ref/b'), 2);
    assert.deepEqual(
      (seen.get('/ref/b') ?? []).map((s) => [s.path, s.auth]),
      [
        ['/ref/b', '1'],
        ['/ref/b', '2'],
      ],
    );
    assert.equal(seen.has('/b'), false, 'no attempt stripped the prefix twice');
  });

  it("retries a service middleware's own answer that retry.status lists", async () => {
    // Attempt 1: forwardAuth (a service middleware) answers the auth server's 503; attempt 2:
    // the backend's 503; attempt 3: its 200.
    const r = await curl(['--max-time', '10', `${base}/authfail/c`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok 2');
    assert.equal(authCalls.get('/authfail/c'), 3);
    assert.equal((await accessRecord('/authfail/c'))['RetryAttempts'], 2);
  });

  it("runs the service middlewares after a retry among a service's own middlewares per attempt", async () => {
    const r = await curl(['--max-time', '10', `${base}/inner/d`]);
    assert.equal(r.status, 200);
    assert.equal(authCalls.get('/inner/d'), 2);
    assert.deepEqual(
      (seen.get('/inner/d') ?? []).map((s) => s.auth),
      ['1', '2'],
    );
  });
});
