/**
 * OCSP stapling through the real proxy process (static `ocsp` section): certificates from a
 * throwaway CA made with openssl, `openssl ocsp` as the responder on loopback, and
 * `openssl s_client -status` as the client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, OcspResponder } from '../../src/tls/ocsp/test-responder.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, run, TestPki } from '../helpers/tls-certs.ts';

/** What `openssl s_client -status` saw stapled for `servername`. */
async function stapled(port: number, servername: string): Promise<{ status: string | null; out: string }> {
  const r = await run('openssl', [
    's_client',
    '-connect',
    `127.0.0.1:${port}`,
    '-servername',
    servername,
    '-status',
  ]);
  assert.match(r.out, /^(OCSP response: no response sent|OCSP Response Data:)/m, r.out);
  const ok = /OCSP Response Status: successful/.test(r.out);
  return { status: ok ? (/Cert Status: (\w+)/.exec(r.out)?.[1] ?? null) : null, out: r.out };
}

describe('OCSP stapling (e2e)', () => {
  const OVERRIDDEN = 'http://ocsp.ca.invalid/';
  let pki: TestPki;
  let responder: OcspResponder;
  let proxy: ProxyProcess;
  let good: Issued;
  let revoked: Issued;
  let plain: Issued;

  before(async () => {
    pki = new TestPki('E2E OCSP CA');
    const port = await freePort();
    good = pki.issue('good.test', ['good.test'], { ocspUrl: `http://127.0.0.1:${port}/` });
    // Names a responder that does not exist; the static responderOverrides send it to ours.
    revoked = pki.issue('revoked.test', ['revoked.test'], { ocspUrl: OVERRIDDEN });
    plain = pki.issue('plain.test', ['plain.test']);
    pki.revoke(revoked);
    responder = await OcspResponder.start(pki, { port, validMinutes: 60 });
    const files: Record<string, string> = {};
    for (const [name, c] of Object.entries({ good, revoked, plain })) {
      // The chain file carries the CA: the stapler finds the issuer there.
      files[`${name}.pem`] = c.certPem + pki.ca.certPem;
      files[`${name}.key`] = c.keyPem;
    }
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http:
      tls: {}
    transport: { lifeCycle: { graceTimeOut: 1s } }
log: { level: DEBUG }
ocsp:
  responderOverrides:
    "${OVERRIDDEN}": "${responder.url}"
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }
tls:
  certificates:
    - { certFile: good.pem, keyFile: good.key }
    - { certFile: revoked.pem, keyFile: revoked.key }
    - { certFile: plain.pem, keyFile: plain.key }
`,
      files,
    });
  });

  after(async () => {
    await proxy?.stop('SIGTERM', 3_000);
    await responder?.stop();
    pki?.remove();
  });

  it('staples a good response for a certificate that names its OCSP responder', async () => {
    const r = await stapled(proxy.port, 'good.test');
    assert.equal(r.status, 'good', r.out);
  });

  it('staples the revoked status, fetched from the overriding responder, and logs it', async () => {
    const r = await stapled(proxy.port, 'revoked.test');
    assert.equal(r.status, 'revoked', r.out);
    const warned = await proxy.waitForLog(
      (l) => l.msg === 'certificate revoked (OCSP): clients that check will refuse it',
    );
    assert.match(String(warned['certificate']), /revoked\.pem$/);
  });

  it('staples nothing for a certificate without an OCSP URL', async () => {
    const r = await stapled(proxy.port, 'plain.test');
    assert.equal(r.status, null, r.out);
    assert.match(r.out, /OCSP response: no response sent/);
  });

  it('keeps stapling the last good response while the responder is down', async () => {
    await responder.stop();
    const r = await stapled(proxy.port, 'good.test');
    assert.equal(r.status, 'good', r.out);
  });
});
