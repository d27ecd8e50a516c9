/**
 * A resolver whose caServer Go cannot get (an unexpanded `${ACME_CA_SERVER}`) or whose EAB key
 * lego cannot decode: Traefik's static ValidateConfiguration (pkg/config/static/static_config.go)
 * checks only the storage, so it starts; every order of that resolver fails (lego's api.New,
 * RegisterWithExternalAccountBinding; Go's x509 refusing a non-ASCII `emailAddresses` entry in
 * the CSR; no challenge at all, getClient's "ACME challenge not specified"), logged, and its
 * routers serve with the default
 * certificate. The proxy refused such a static file before. No CA is contacted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('a certificate resolver no order can use', () => {
  let dir: string;
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acme-unusable-e2e-'));
    backend = await startBackend((_req, res) => res.end('site'));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  websecure:
    address: "127.0.0.1:0"
log: { level: INFO }
certificatesResolvers:
  placeholder:
    acme:
      email: admin@example.test
      caServer: "\${ACME_CA_SERVER}"
      storage: "${join(dir, 'a.json')}"
      httpChallenge: { entryPoint: web }
  badeab:
    acme:
      email: admin@example.test
      caServer: "https://127.0.0.1:9/directory"
      storage: "${join(dir, 'b.json')}"
      eab: { kid: k, hmacEncoded: "not+base64/url" }
      httpChallenge: { entryPoint: web }
  nonascii:
    acme:
      email: admin@example.test
      caServer: "https://127.0.0.1:9/directory"
      storage: "${join(dir, 'c.json')}"
      emailAddresses: ["opé@example.test"]
      httpChallenge: { entryPoint: web }
  skipped:
    acme:
      email: admin@example.test
      caServer: "https://127.0.0.1:9/directory"
      storage: "${join(dir, 'e.json')}"
      clientTimeout: 10s
      httpChallenge: { entryPoint: web }
  nochallenge:
    acme:
      email: admin@example.test
      caServer: "https://127.0.0.1:9/directory"
      storage: "${join(dir, 'd.json')}"
http:
  routers:
    a: { rule: "Host(\`a.test\`)", entryPoints: [websecure], service: be, tls: { certResolver: placeholder } }
    b: { rule: "Host(\`b.test\`)", entryPoints: [websecure], service: be, tls: { certResolver: badeab } }
    c: { rule: "Host(\`c.test\`)", entryPoints: [websecure], service: be, tls: { certResolver: nonascii } }
    d: { rule: "Host(\`d.test\`)", entryPoints: [websecure], service: be, tls: { certResolver: nochallenge } }
    e: { rule: "Host(\`e.test\`)", entryPoints: [websecure], service: be, tls: { certResolver: skipped } }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts, with a located warning for each resolver', () => {
    const warned = proxy.logs
      .filter((l) => l.level === 'warn')
      .map((l) => String(l.msg))
      .filter((i) => i.includes('every certificate order of this resolver fails'));
    assert.equal(warned.length, 4, JSON.stringify(warned));
    assert.match(
      warned.join('\n'),
      /:\d+:\d+: warning: certificatesResolvers\.placeholder\.acme\.caServer: .*unsupported protocol scheme ""/,
    );
    assert.match(
      warned.join('\n'),
      /certificatesResolvers\.badeab\.acme\.eab\.hmacEncoded: .*could not decode hmac key/,
    );
  });

  // Traefik's Provider.Init refuses it; cmd/traefik/traefik.go skips the resolver.
  it('skips a resolver Traefik cannot initialize, and serves its router', async () => {
    // At ERROR, as Traefik's "The ACME resolve is skipped from the resolvers list".
    const raw = proxy.logs.filter((l) => l.level === 'error').map((l) => String(l.msg));
    assert.ok(
      raw.some((m) =>
        /certificatesResolvers\.skipped\.acme\.clientTimeout: .*the resolver is skipped/.test(m),
      ),
      JSON.stringify(raw),
    );
    const port = proxy.ports['websecure']!;
    const r = await curl(['-k', '--resolve', `e.test:${port}:127.0.0.1`, `https://e.test:${port}/`]);
    assert.equal(r.status, 200);
    // The router naming it: at ERROR, as Traefik's "Router uses a nonexistent certificate resolver".
    const w = await proxy.waitForLog(
      (l) =>
        l.msg === 'configuration error' && String(l['issue']).includes('http.routers.e.tls.certResolver'),
    );
    assert.equal(w.level, 'error');
    assert.match(String(w['issue']), /certificate resolver `skipped` does not exist/);
  });

  for (const [host, error] of [
    ['a.test', /get directory at '\$\{ACME_CA_SERVER\}'/],
    ['b.test', /could not decode hmac key/],
    ['c.test', /cannot be encoded as an IA5String/],
    ['d.test', /ACME challenge not specified/],
  ] as const) {
    it(`serves ${host} with the default certificate and logs its failed order`, async () => {
      const port = proxy.ports['websecure']!;
      const r = await curl(['-k', '--resolve', `${host}:${port}:127.0.0.1`, `https://${host}:${port}/`]);
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'site');
      const l = await proxy.waitForLog(
        (x) => x.msg === 'acme certificate request failed' && JSON.stringify(x['domains']).includes(host),
      );
      assert.match(String(l['error']), error);
    });
  }
});
