/**
 * `ping@internal` and `prometheus@internal` as Traefik serves them: its own routers are
 * `PathPrefix(/ping)` and `PathPrefix(/metrics)` (pkg/provider/traefik/internal.go
 * pingConfiguration, prometheusConfiguration), and the services answer every request their
 * router sends them, whatever its path or method (pkg/ping/ping.go Handler.ServeHTTP; the
 * Prometheus handler), so a router `Path(/healthz)` naming ping@internal answers there.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/** One request with node:http (HEAD and POST with a body included); the answer whole. */
function send(
  port: number,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('ping@internal and prometheus@internal answer every request their router sends', () => {
  let proxy: ProxyProcess;
  before(async () => {
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
ping: {}
metrics:
  prometheus: {}
http:
  routers:
    health:
      rule: "Path(\`/healthz\`)"
      service: ping@internal
      entryPoints: [web]
    prom:
      rule: "Path(\`/prom\`)"
      service: prometheus@internal
      entryPoints: [web]
`,
    });
  });
  after(() => proxy?.stop());

  const port = (ep: string): number => proxy.ports[ep]!;

  it("ping: every path under /ping on its entry point, as Traefik's PathPrefix(`/ping`)", async () => {
    for (const path of ['/ping', '/ping/', '/ping/live', '/ping?full=1']) {
      const r = await send(port('traefik'), 'GET', path);
      assert.equal(r.status, 200, path);
      assert.equal(r.text, 'OK', path);
      assert.match(String(r.headers['content-type']), /^text\/plain/, path);
    }
  });

  it('ping: any method', async () => {
    const post = await send(port('traefik'), 'POST', '/ping', 'x');
    assert.equal(post.status, 200);
    assert.equal(post.text, 'OK');
    const head = await send(port('traefik'), 'HEAD', '/ping');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });

  it('ping: a router naming ping@internal answers on its own path', async () => {
    const r = await send(port('web'), 'GET', '/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'OK');
  });

  it("prometheus: every path under /metrics on its entry point, as Traefik's PathPrefix(`/metrics`)", async () => {
    for (const path of ['/metrics', '/metrics/', '/metrics?name[]=x']) {
      const r = await send(port('traefik'), 'GET', path);
      assert.equal(r.status, 200, path);
      assert.match(r.text, /^# (HELP|TYPE) /m, path);
    }
  });

  it('prometheus: a router naming prometheus@internal answers on its own path, to any method', async () => {
    const r = await send(port('web'), 'GET', '/prom');
    assert.equal(r.status, 200);
    assert.match(r.text, /^# (HELP|TYPE) /m);
    const post = await send(port('traefik'), 'POST', '/metrics', '');
    assert.equal(post.status, 200);
    assert.match(post.text, /^# (HELP|TYPE) /m);
  });
});
