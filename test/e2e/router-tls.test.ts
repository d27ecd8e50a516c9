/**
 * Traefik's router-level TLS through the real proxy, with curl: a router with `tls` (even
 * `tls: {}`) serves HTTPS on every entry point it names, whether or not the entry point has
 * `http.tls`; routers without `tls` serve cleartext HTTP on the same port (the entry point's
 * dispatcher tells them apart by the first bytes); `http.tls` on an entry point only gives the
 * routers there a default `tls`. A proxy whose static file has no TLS at all loads it when the
 * first such router appears.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, sClient, TestPki } from '../helpers/tls-certs.ts';
import { currentGeneration, waitApplied } from '../helpers/wait.ts';

describe('router-level TLS (Traefik semantics)', () => {
  let pki: TestPki;
  let certA: Issued;
  let certB: Issued;
  let backend: Backend;
  let proxy: ProxyProcess;
  let withEpTls: ProxyProcess;

  before(async () => {
    pki = new TestPki('Router TLS CA');
    certA = pki.issue('a.test', ['a.test']);
    certB = pki.issue('b.test', ['b.test']);
    backend = await startBackend((req, res) => {
      res.setHeader('x-seen-proto', String(req.headers['x-forwarded-proto']));
      res.end(`${req.headers.host} ${req.url}`);
    });
    const files = {
      'a.pem': certA.certPem,
      'a.key': certA.keyPem,
      'b.pem': certB.certPem,
      'b.key': certB.keyPem,
    };
    // No `http.tls` anywhere, no resolver: the static file terminates no TLS.
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  websecure:
    address: "127.0.0.1:0"
log: { level: DEBUG }
providers:
  file: { filename: dyn.yaml }
`,
      files: {
        ...files,
        'dyn.yaml': `http:
  routers:
    secure: { rule: "Host(\`a.test\`)", service: be, tls: {} }
    plain: { rule: "Host(\`plain.test\`)", service: be, entryPoints: [websecure] }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: a.pem, keyFile: a.key }
    - { certFile: b.pem, keyFile: b.key }
`,
      },
    });
    withEpTls = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
log: { level: DEBUG }
ping: { entryPoint: websecure }
http:
  routers:
    both: { rule: "Host(\`a.test\`)", service: be, entryPoints: [web, websecure] }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: a.pem, keyFile: a.key }
`,
      files,
    });
  });

  after(async () => {
    await proxy?.stop('SIGTERM', 3_000);
    await withEpTls?.stop('SIGTERM', 3_000);
    await backend?.close();
    pki?.remove();
  });

  const https = (p: ProxyProcess, ep: string, host: string): string[] => {
    const port = p.ports[ep]!;
    return [
      '--cacert',
      pki.ca.certFile,
      '--resolve',
      `${host}:${port}:127.0.0.1`,
      `https://${host}:${port}/x`,
    ];
  };
  const http = (p: ProxyProcess, ep: string, host: string): string[] => [
    '-H',
    `Host: ${host}`,
    `http://127.0.0.1:${p.ports[ep]!}/x`,
  ];

  it('serves a router with `tls: {}` over HTTPS on an entry point without http.tls (its certificate by SNI)', async () => {
    for (const ep of ['websecure', 'web']) {
      const r = await curl(https(proxy, ep, 'a.test'));
      assert.equal(r.exitCode, 0, `${ep}: ${r.stderr}`);
      assert.equal(r.status, 200, ep);
      assert.equal(r.body.toString(), `a.test:${proxy.ports[ep]} /x`);
      assert.deepEqual(r.headers['x-seen-proto'], ['https']);
    }
    const s = await sClient(proxy.ports['websecure']!, ['-servername', 'a.test', '-CAfile', pki.ca.certFile]);
    assert.match(s.out, /Verification: OK/, s.out);
    assert.match(s.out, /CN ?= ?a\.test/, s.out);
  });

  it('serves cleartext routers on the same port, and never the TLS router in cleartext', async () => {
    const plain = await curl(http(proxy, 'websecure', 'plain.test'));
    assert.equal(plain.status, 200, plain.stderr);
    assert.deepEqual(plain.headers['x-seen-proto'], ['http']);
    const tlsOnly = await curl(http(proxy, 'websecure', 'a.test'));
    assert.equal(tlsOnly.status, 404, 'the tls router serves HTTPS only');
    // And the cleartext router is not reachable over TLS.
    const overTls = await curl(['-k', ...https(proxy, 'websecure', 'plain.test')]);
    assert.equal(overTls.status, 404);
  });

  it('follows a reload that gives a cleartext router `tls`', async () => {
    const g = currentGeneration(proxy);
    proxy.writeFile(
      'dyn.yaml',
      `http:
  routers:
    secure: { rule: "Host(\`a.test\`)", service: be, tls: {} }
    plain: { rule: "Host(\`b.test\`)", service: be, entryPoints: [websecure], tls: {} }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: a.pem, keyFile: a.key }
    - { certFile: b.pem, keyFile: b.key }
`,
    );
    await waitApplied(proxy, g + 1);
    const r = await curl(https(proxy, 'websecure', 'b.test'));
    assert.equal(r.status, 200, r.stderr);
    assert.equal(r.body.toString(), `b.test:${proxy.ports['websecure']} /x`);
    const onWeb = await curl(https(proxy, 'web', 'b.test'));
    assert.notEqual(onWeb.status, 200, 'b names websecure only');
  });

  it('gives the routers of an entry point with http.tls a default tls: HTTPS there, cleartext elsewhere', async () => {
    const secure = await curl(https(withEpTls, 'websecure', 'a.test'));
    assert.equal(secure.status, 200, secure.stderr);
    assert.deepEqual(secure.headers['x-seen-proto'], ['https']);
    const clear = await curl(http(withEpTls, 'web', 'a.test'));
    assert.equal(clear.status, 200);
    assert.deepEqual(clear.headers['x-seen-proto'], ['http']);
    // Only TLS is served on websecure: plain HTTP there meets no cleartext router, Traefik's 404.
    const refused = await curl(http(withEpTls, 'websecure', 'a.test'));
    assert.equal(refused.status, 404);
  });

  it("serves an internal router on an entry point with http.tls over HTTPS only, as Traefik's model does", async () => {
    const port = withEpTls.ports['websecure']!;
    const secure = await curl([
      '--cacert',
      pki.ca.certFile,
      '--resolve',
      `a.test:${port}:127.0.0.1`,
      `https://a.test:${port}/ping`,
    ]);
    assert.equal(secure.status, 200, secure.stderr);
    assert.equal(secure.body.toString(), 'OK');
    const clear = await curl([`http://127.0.0.1:${port}/ping`]);
    assert.equal(clear.status, 404);
  });
});
