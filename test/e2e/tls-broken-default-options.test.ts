/**
 * The `default` TLS options set cannot be built (a clientAuth caFile that cannot be read).
 * Traefik's buildEntryPointHandler (pkg/server/router/tcp/manager.go) logs "Error during the
 * build of the default TLS configuration" and goes on with a nil config: every ClientHello that
 * would use the default options is closed (the HTTPS forwarder, "special closing route" for the
 * routers without options), while the cleartext routers and the routers with other options serve.
 * Here the whole configuration was refused, so nothing served (or, TLS loaded on demand, the
 * ClientHellos waited 10 s for a configuration that never came). A certificate given as an empty
 * string is left out alone too, and so is a named options set with an unknown cipher suite (they
 * refused the whole file).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { handshake, selfSignedCertificate } from '../helpers/tls-certs.ts';

describe('a default TLS options set that cannot be built', () => {
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
    b: { rule: "Host(\`b.test\`)", entryPoints: [websecure], service: be, tls: { options: modern } }
    c: { rule: "Host(\`c.test\`)", entryPoints: [websecure], service: be, tls: { options: weird } }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: c.pem, keyFile: c.key }
    - { certFile: "", keyFile: "" }
  options:
    default:
      clientAuth: { caFiles: [gone-ca.pem], clientAuthType: RequireAndVerifyClientCert }
    modern: { minVersion: VersionTLS12 }
    weird: { cipherSuites: [TLS_NOT_A_SUITE] }
`,
      files: { 'c.pem': cert.certPem, 'c.key': cert.keyPem },
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('applies the configuration with a located error for the set', async () => {
    assert.ok(
      !proxy.logs.some((l) => l.msg === 'configuration rejected'),
      JSON.stringify(proxy.logs.filter((l) => l.level === 'error')),
    );
    const l = await proxy.waitForLog(
      (x) => x.msg === 'configuration error' && String(x['issue']).includes('tls.options.default'),
    );
    assert.match(
      String(l['issue']),
      /:\d+:\d+: tls\.options\.default\.clientAuth\.caFiles\[0\]: .*gone-ca\.pem/,
    );
  });

  // Traefik's FileOrContent reads "" as content without PEM data: that certificate alone fails.
  it('leaves out a certificate given empty, with a located error', async () => {
    const l = await proxy.waitForLog(
      (x) => x.msg === 'configuration error' && String(x['issue']).includes('tls.certificates[1].certFile'),
    );
    assert.match(
      String(l['issue']),
      /:\d+:\d+: tls\.certificates\[1\]\.certFile: empty: no file and no PEM data/,
    );
  });

  // Traefik's decoder takes the string; buildTLSConfig refuses it ("invalid CipherSuite"), for
  // that set alone: its routers' handshakes are closed, the rest serves.
  it('leaves out a named options set with an unknown cipher suite, with a located error', () => {
    const errors = proxy.logs.filter((l) => l.level === 'error').map((l) => String(l['issue']));
    assert.ok(
      errors.some((e) =>
        /:\d+:\d+: tls\.options\.weird\.cipherSuites\[0\]: unknown cipher suite "TLS_NOT_A_SUITE"/.test(e),
      ),
      JSON.stringify(errors),
    );
  });

  it('serves cleartext and the router with other options', async () => {
    const plain = await curl(['-H', 'Host: plain.test', `http://127.0.0.1:${proxy.ports['web']}/`]);
    assert.equal(plain.status, 200);
    const port = proxy.ports['websecure']!;
    const b = await curl(['-k', '--resolve', `b.test:${port}:127.0.0.1`, `https://b.test:${port}/`]);
    assert.equal(b.status, 200, b.stderr);
    assert.equal(b.body.toString(), 'site');
  });

  it('closes the ClientHellos that would use the default options, at once', async () => {
    const port = proxy.ports['websecure']!;
    for (const servername of ['a.test', 'unknown.test', 'c.test']) {
      const h = await handshake({ port, servername, timeoutMs: 5_000 });
      assert.equal(h.ok, false, servername);
      assert.notEqual(h.ok === false ? h.error : '', 'timeout', servername);
    }
  });
});
