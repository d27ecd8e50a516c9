/**
 * `;` in a query, through the real proxy: Traefik reads it as a separator like `&` before routing
 * and forwards it so (Go's http.AllowQuerySemicolons, its proxy director), or with an entry
 * point's `http.encodeQuerySemicolons` keeps it in its value as `%3B`. Over HTTP/1.1 and h2c.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('semicolons in the query', () => {
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend();
    proxy = await startProxy({
      entryPoints: 2,
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  encoded:
    address: "127.0.0.1:0"
    http: { encodeQuerySemicolons: true }
log: { level: DEBUG }
http:
  routers:
    by-query: { rule: "Query(\`b\`, \`2\`)", service: be, priority: 100 }
    rest: { rule: "PathPrefix(\`/\`)", service: be, middlewares: [tag], priority: 1 }
  middlewares:
    tag: { headers: { customResponseHeaders: { X-Router: rest } } }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  const get = async (port: number, path: string): Promise<{ body: string; router: string }> => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    assert.equal(r.status, 200);
    return { body: await r.text(), router: r.headers.get('x-router') ?? 'by-query' };
  };

  it("reads ';' as '&' for routing and forwards it so, by default", async () => {
    const r = await get(proxy.ports['web']!, '/q?a=1;b=2');
    assert.deepEqual(r, { body: 'GET /q?a=1&b=2', router: 'by-query' });
  });

  it("keeps ';' in its value as %3B with encodeQuerySemicolons", async () => {
    const r = await get(proxy.ports['encoded']!, '/q?a=1;b=2');
    // `b=2` is no pair of its own here: the catch-all router serves it.
    assert.deepEqual(r, { body: 'GET /q?a=1%3Bb=2', router: 'rest' });
  });

  it('does the same for an HTTP/2 client', async () => {
    const session = connect(`http://127.0.0.1:${proxy.ports['web']}`);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const s = session.request({ ':path': '/h2?x=1;b=2' });
        let text = '';
        s.setEncoding('utf8');
        s.on('data', (d: string) => {
          text += d;
        });
        s.on('end', () => resolve(text));
        s.on('error', reject);
      });
      assert.equal(body, 'GET /h2?x=1&b=2');
    } finally {
      session.close();
    }
  });
});
