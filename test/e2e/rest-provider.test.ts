/**
 * Traefik's REST provider (pkg/provider/rest/rest.go, pkg/provider/traefik/internal.go
 * restConfiguration): `PUT /api/providers/rest` replaces the provider's whole configuration, its
 * objects are `@rest`; `insecure: true` puts its router on the `traefik` entry point, and a router
 * of the configuration may name `rest@internal` too. Its answers are Traefik's: 200 with the
 * configuration as JSON, 400 for another provider or a body that does not decode, 405 for
 * another method, 404 elsewhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { httpRequest } from '../helpers/http-request.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { untilApplied } from '../helpers/wait.ts';

describe('providers.rest', () => {
  let proxy: ProxyProcess;
  let a: Backend;
  let b: Backend;
  before(async () => {
    a = await startBackend((_req, res) => res.end('from a'));
    b = await startBackend((_req, res) => res.end('from b'));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: DEBUG }
providers:
  rest:
    insecure: true
http:
  routers:
    push:
      rule: "Host(\`push.example\`)"
      service: rest@internal
      entryPoints: [web]
    mixed:
      rule: "Host(\`mixed.example\`)"
      service: shared@rest
      entryPoints: [web]
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await a?.close();
    await b?.close();
  });

  /** node:http, as fetch drops a Host header. */
  const send = (ep: string, method: string, path: string, host?: string, body?: string) =>
    httpRequest(proxy.ports[ep]!, {
      method,
      path,
      ...(host === undefined ? {} : { headers: { host } }),
      ...(body === undefined ? {} : { body }),
    });
  const put = (ep: string, path: string, body: string, host?: string) => send(ep, 'PUT', path, host, body);
  const get = async (host: string) => {
    const r = await send('web', 'GET', '/', host);
    return { status: r.status, text: r.text };
  };

  it('replaces its configuration with a PUT of YAML on the traefik entry point, answering it as JSON', async () => {
    const from = proxy.logs.length;
    const yaml = `http:
  routers:
    app:
      rule: "Host(\`app.example\`)"
      service: shared
      entryPoints: [web]
  services:
    shared:
      loadBalancer:
        servers:
          - url: "${a.url}"
`;
    const r = await put('traefik', '/api/providers/rest', yaml);
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] ?? '', /^application\/json/);
    const body = JSON.parse(r.text) as { http: { services: { shared: unknown } } };
    assert.deepEqual(body.http.services.shared, { loadBalancer: { servers: [{ url: a.url }] } });
    await untilApplied(proxy, from, async () => (await get('app.example')).text === 'from a');
    // A router of another provider names the REST provider's service as `shared@rest`.
    assert.deepEqual(await get('mixed.example'), { status: 200, text: 'from a' });
  });

  it('takes JSON through a router of the configuration that names rest@internal, replacing everything', async () => {
    const from = proxy.logs.length;
    const json = JSON.stringify({
      http: {
        routers: { other: { rule: 'Host(`other.example`)', service: 'shared', entryPoints: ['web'] } },
        services: { shared: { loadBalancer: { servers: [{ url: b.url }] } } },
      },
    });
    const r = await put('web', '/api/providers/rest', json, 'push.example');
    assert.equal(r.status, 200);
    await untilApplied(proxy, from, async () => (await get('other.example')).text === 'from b');
    // The whole configuration was replaced: the first PUT's router is gone.
    assert.equal((await get('app.example')).status, 404);
    assert.deepEqual(await get('mixed.example'), { status: 200, text: 'from b' });
  });

  it("answers Traefik's 400 for another provider and for a body that does not decode, changing nothing", async () => {
    let r = await put('traefik', '/api/providers/file', 'http: {}');
    assert.equal(r.status, 400);
    assert.equal(r.text, "Only 'rest' provider can be updated through the REST API\n");
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    r = await put('traefik', '/api/providers/rest', 'http: [unclosed');
    assert.equal(r.status, 400);
    assert.notEqual(r.text, '');
    r = await put(
      'traefik',
      '/api/providers/rest',
      'http:\n  routers:\n    x: { rule: 1, unknownKey: true }\n',
    );
    assert.equal(r.status, 400);
    assert.match(r.text, /unknownKey/);
    assert.deepEqual(await get('other.example'), { status: 200, text: 'from b' });
  });

  it('answers 405 to another method and 404 to another path', async () => {
    assert.equal((await send('traefik', 'GET', '/api/providers/rest')).status, 405);
    const r = await put('traefik', '/api/providers/rest/x', '{}');
    assert.equal(r.status, 404);
    assert.equal(r.text, '404 page not found\n');
  });
});
