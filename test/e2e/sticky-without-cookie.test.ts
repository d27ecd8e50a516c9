/**
 * `sticky` without a `cookie` is no sticky session: Traefik's balancers make one only when
 * `sticky.Cookie != nil` (pkg/server/service/loadbalancer/wrr/wrr.go New), so `sticky: {}` in a
 * file, or the label `traefik.http.services.<s>.loadbalancer.sticky=true` (an empty allowEmpty
 * Sticky), sets no cookie and balances every request. `sticky: { cookie: {} }` still does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('a load balancer whose sticky has no cookie', () => {
  let a: Backend;
  let b: Backend;
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    a = await startBackend((_req, res) => res.end('a'));
    b = await startBackend((_req, res) => res.end('b'));
    const servers = `[{ url: "${a.url}" }, { url: "${b.url}" }]`;
    proxy = await startProxy({
      files: {
        'dyn.yaml': `http:
  routers:
    bare: { rule: "PathPrefix(\`/bare\`)", service: bare }
    cookie: { rule: "PathPrefix(\`/cookie\`)", service: cookie }
  services:
    bare:
      loadBalancer:
        sticky: {}
        servers: ${servers}
    cookie:
      loadBalancer:
        sticky: { cookie: {} }
        servers: ${servers}
`,
      },
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
providers:
  file: { filename: dyn.yaml }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([a?.close(), b?.close()]);
  });

  it('sets no cookie and balances between the servers', async () => {
    const bodies = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await curl([`${base}/bare`]);
      assert.equal(r.status, 200);
      assert.equal(r.headers['set-cookie'], undefined, String(r.headers['set-cookie']));
      bodies.add(r.body.toString());
    }
    assert.deepEqual([...bodies].sort(), ['a', 'b']);
  });

  it('still sets the cookie when `cookie` is there, even empty', async () => {
    const r = await curl([`${base}/cookie`]);
    assert.equal(r.status, 200);
    assert.ok(r.headers['set-cookie']?.[0]?.startsWith('_'), String(r.headers['set-cookie']));
  });
});
