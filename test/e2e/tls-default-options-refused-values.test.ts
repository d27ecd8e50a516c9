/**
 * Values of a TLS options set that Traefik's decoder takes as plain strings and its tlsmanager
 * checks only when it builds the set (pkg/tls/tlsmanager.go buildTLSConfig):
 * - an unknown cipher suite (or curve, or clientAuthType) in the `default` set fails that set
 *   alone: Traefik's buildEntryPointHandler logs "Error during the build of the default TLS
 *   configuration" and closes the ClientHellos that would use it, while cleartext and the routers
 *   with other options serve. It was a schema error here that refused the whole file.
 * - an unknown minVersion or maxVersion is not set (`if minConst, exists := MinVersion[…]`), so
 *   Go's defaults apply (TLS 1.2 to 1.3): the set loads, with a located warning. It was refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { handshake, selfSignedCertificate } from '../helpers/tls-certs.ts';

describe('TLS options values Traefik checks only when it builds the set', () => {
  const cert = selfSignedCertificate(['a.test', 'b.test']);
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend((_req, res) => res.end('site'));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  websecure:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    plain: { rule: "Host(\`plain.test\`)", entryPoints: [web], service: be }
    a: { rule: "Host(\`a.test\`)", entryPoints: [websecure], service: be, tls: {} }
    b: { rule: "Host(\`b.test\`)", entryPoints: [websecure], service: be, tls: { options: versions } }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: c.pem, keyFile: c.key }
  options:
    default:
      cipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_NOT_A_SUITE]
    versions: { minVersion: TLS12, maxVersion: VersionTLS14 }
`,
      files: { 'c.pem': cert.certPem, 'c.key': cert.keyPem },
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('loads the file, with a located error for the default set', async () => {
    assert.ok(
      !proxy.logs.some((l) => l.msg === 'configuration rejected'),
      JSON.stringify(proxy.logs.filter((l) => l.level === 'error')),
    );
    const l = await proxy.waitForLog(
      (x) => x.msg === 'configuration error' && String(x['issue']).includes('tls.options.default'),
    );
    assert.match(
      String(l['issue']),
      /:\d+:\d+: tls\.options\.default\.cipherSuites\[1\]: unknown cipher suite "TLS_NOT_A_SUITE"/,
    );
  });

  it('warns, located, about the unknown versions', async () => {
    for (const [key, value] of [
      ['minVersion', 'TLS12'],
      ['maxVersion', 'VersionTLS14'],
    ]) {
      const w = await proxy.waitForLog(
        (x) =>
          x.msg === 'configuration warning' && String(x['issue']).includes(`tls.options.versions.${key}`),
      );
      assert.match(
        String(w['issue']),
        new RegExp(
          `:\\d+:\\d+: warning: tls\\.options\\.versions\\.${key}: unknown TLS version "${value}" is ignored, as in Traefik`,
        ),
      );
    }
  });

  it("serves cleartext, and the router with other options with Go's default versions", async () => {
    const plain = await curl(['-H', 'Host: plain.test', `http://127.0.0.1:${proxy.ports['web']}/`]);
    assert.equal(plain.status, 200);
    const port = proxy.ports['websecure']!;
    const b = await curl(['-k', '--resolve', `b.test:${port}:127.0.0.1`, `https://b.test:${port}/`]);
    assert.equal(b.status, 200, b.stderr);
    assert.equal(b.body.toString(), 'site');
    const h = await handshake({ port, servername: 'b.test' });
    assert.equal(h.ok && h.protocol, 'TLSv1.3');
    const tls12 = await curl([
      '-k',
      '--tls-max',
      '1.2',
      '--resolve',
      `b.test:${port}:127.0.0.1`,
      `https://b.test:${port}/`,
    ]);
    assert.equal(tls12.status, 200, tls12.stderr);
  });

  it('closes the ClientHellos that would use the default options, at once', async () => {
    const port = proxy.ports['websecure']!;
    for (const servername of ['a.test', 'unknown.test']) {
      const h = await handshake({ port, servername, timeoutMs: 5_000 });
      assert.equal(h.ok, false, servername);
      assert.notEqual(h.ok === false ? h.error : '', 'timeout', servername);
    }
  });
});
