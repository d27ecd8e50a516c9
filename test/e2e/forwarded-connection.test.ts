/**
 * Traefik v3.4's `forwardedHeaders.connection` (pkg/middlewares/forwardedheaders/
 * forwarded_header.go removeConnectionHeaders): the fields a client names in Connection are
 * removed before routing, except the listed ones, which routing and the middlewares still see;
 * they never reach the backend (nor a forwardAuth server).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('entryPoints.<name>.forwardedHeaders.connection', () => {
  let kept: Backend;
  let other: Backend;
  let auth: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    kept = await startBackend((_req, res) => res.end('kept'));
    other = await startBackend((_req, res) => res.end('other'));
    auth = await startBackend((_req, res) => res.end());
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    forwardedHeaders:
      connection: [X-Keep]
  plain:
    address: "127.0.0.1:0"
  trusting:
    address: "127.0.0.1:0"
    forwardedHeaders: { insecure: true }
  listing:
    address: "127.0.0.1:0"
    forwardedHeaders: { insecure: true, connection: [X-Forwarded-For, X-Real-Ip] }
log: { level: DEBUG }
http:
  routers:
    keep:
      rule: "Header(\`X-Keep\`, \`yes\`)"
      service: kept
      middlewares: [auth]
    rest: { rule: "PathPrefix(\`/\`)", service: other }
  middlewares:
    auth:
      forwardAuth: { address: "${auth.url}" }
  services:
    kept: { loadBalancer: { servers: [{ url: "${kept.url}" }] } }
    other: { loadBalancer: { servers: [{ url: "${other.url}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all([kept.close(), other.close(), auth.close()]);
  });

  const ask = (port: number) =>
    curl([
      '-s',
      '-H',
      'Connection: keep-alive, X-Keep, X-Drop',
      '-H',
      'X-Keep: yes',
      '-H',
      'X-Drop: 1',
      `http://127.0.0.1:${port}/`,
    ]);

  it('keeps a listed field for routing and the middlewares, and removes it before the backend', async () => {
    const r = await ask(proxy.ports['web']!);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'kept');
    const seen = kept.seen.at(-1)!.headers;
    assert.equal(seen['x-keep'], undefined);
    assert.equal(seen['x-drop'], undefined);
    const toAuth = auth.seen.at(-1)!.headers;
    assert.equal(toAuth['x-keep'], undefined);
    assert.equal(toAuth['x-drop'], undefined);
  });

  it('removes every field Connection names on an entry point without the list', async () => {
    const r = await ask(proxy.ports['plain']!);
    assert.equal(r.body.toString(), 'other');
    assert.equal(other.seen.at(-1)!.headers['x-keep'], undefined);
  });

  it("cannot remove the forwarding fields Traefik manages: a trusted proxy's chain goes on", async () => {
    const r = await curl([
      '-s',
      '-H',
      'Connection: X-Forwarded-For, X-Real-Ip',
      '-H',
      'X-Forwarded-For: 10.1.1.1',
      '-H',
      'X-Real-Ip: 10.1.1.1',
      `http://127.0.0.1:${proxy.ports['trusting']!}/`,
    ]);
    assert.equal(r.body.toString(), 'other');
    const seen = other.seen.at(-1)!.headers;
    assert.equal(seen['x-forwarded-for'], '10.1.1.1, 127.0.0.1');
    assert.equal(seen['x-real-ip'], '10.1.1.1');
  });

  it('cannot remove them either when `connection` lists them (Traefik skips managed fields before its list)', async () => {
    const r = await curl([
      '-s',
      '-H',
      'Connection: X-Forwarded-For, X-Real-Ip',
      '-H',
      'X-Forwarded-For: 10.1.1.1',
      '-H',
      'X-Real-Ip: 10.1.1.1',
      `http://127.0.0.1:${proxy.ports['listing']!}/`,
    ]);
    assert.equal(r.body.toString(), 'other');
    const seen = other.seen.at(-1)!.headers;
    assert.equal(seen['x-forwarded-for'], '10.1.1.1, 127.0.0.1');
    assert.equal(seen['x-real-ip'], '10.1.1.1');
  });

  it('leaves a request without Connection alone', async () => {
    const r = await curl(['-s', '-H', 'X-Keep: yes', `http://127.0.0.1:${proxy.ports['web']!}/`]);
    assert.equal(r.body.toString(), 'kept');
    assert.equal(kept.seen.at(-1)!.headers['x-keep'], 'yes');
  });
});
