/**
 * The certificate manager against a small ACME CA on loopback (test-fake-acme-ca.ts), for the
 * resolver keys Debian's pebble 2.4 cannot show: `profile` (the ACME profiles draft came with
 * pebble 2.7) and `emailAddresses` (pebble issues its own template and drops what else the CSR
 * asks for). The CA signs the CSR with openssl, extensions copied, so the certificate shows what
 * the CSR held.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../core/logger.ts';
import type { KeyAndCert } from '../x509/index.ts';
import { CertificateManager, type CertificateManagerOptions } from './acme-manager.ts';
import { Http01Store } from './http01-store.ts';
import { type FakeAcmeCa, startFakeAcmeCa } from './test-fake-acme-ca.ts';
import { TlsAlpn01Store } from './tls-alpn01-store.ts';

interface Outcome {
  readonly cert?: KeyAndCert;
  readonly failure?: Record<string, unknown>;
}

describe("CertificateManager with Traefik v3's resolver options against a fake ACME CA", () => {
  let ca: FakeAcmeCa;
  let dir: string;
  const managers: CertificateManager[] = [];

  before(async () => {
    ca = await startFakeAcmeCa({ profiles: { classic: 'the default', shortlived: 'six days' } });
    dir = mkdtempSync(join(tmpdir(), 'acme-fake-ca-'));
  });

  after(async () => {
    for (const m of managers) m.stop();
    await ca?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** Obtains `domain` with these options: the certificate, or the logged failure. */
  function obtain(domain: string, opts: Partial<CertificateManagerOptions>): Promise<Outcome> {
    return new Promise((resolve) => {
      const logger = createLogger({
        level: 'info',
        format: 'json',
        write: (line) => {
          const record = JSON.parse(line) as Record<string, unknown>;
          if (record.msg === 'acme certificate request failed') resolve({ failure: record });
        },
      });
      const m = new CertificateManager(
        {
          caServer: ca.directoryUrl,
          caCertificates: ca.serverCaPem,
          email: 'ops@example.com',
          storageFile: join(dir, `${domain}.json`),
          challenge: 'http-01',
          logger,
          ...opts,
        },
        { http01: new Http01Store(), tlsAlpn01: new TlsAlpn01Store() },
      );
      managers.push(m);
      m.onChange((_domains, cert) => resolve({ cert }));
      m.start();
      m.ensure([domain]);
    });
  }

  it('asks for the configured profile in each order, and for none without one', async () => {
    const asked = await obtain('profile.example.com', { profile: 'shortlived' });
    assert.ok(asked.cert, JSON.stringify(asked.failure));
    assert.equal(ca.orders.at(-1)?.['profile'], 'shortlived');

    const plain = await obtain('plain.example.com', {});
    assert.ok(plain.cert, JSON.stringify(plain.failure));
    assert.deepEqual(Object.keys(ca.orders.at(-1) ?? {}), ['identifiers']);
  });

  it('reports the CA refusing a profile it does not offer', async () => {
    const r = await obtain('unknown-profile.example.com', { profile: 'tlsclient' });
    assert.equal(r.cert, undefined);
    assert.equal(r.failure?.['acmeType'], 'urn:ietf:params:acme:error:invalidProfile');
  });

  it('puts emailAddresses in the CSR, so the CA can certify them with the names', async () => {
    const r = await obtain('mail.example.com', { emailAddresses: ['ops@example.com', 'pki@example.com'] });
    assert.ok(r.cert, JSON.stringify(r.failure));
    assert.equal(
      new X509Certificate(r.cert.certPem).subjectAltName,
      'DNS:mail.example.com, email:ops@example.com, email:pki@example.com',
    );
    const plain = await obtain('nomail.example.com', {});
    assert.ok(plain.cert, JSON.stringify(plain.failure));
    assert.equal(new X509Certificate(plain.cert.certPem).subjectAltName, 'DNS:nomail.example.com');
  });

  it("puts the first name in the subject CN, and none with Traefik's disableCommonName", async () => {
    const withCn = await obtain('cn.example.com', {});
    assert.ok(withCn.cert, JSON.stringify(withCn.failure));
    assert.equal(csrSubject(ca.csrs.at(-1) ?? ''), 'subject=/CN=cn.example.com');
    assert.equal(new X509Certificate(withCn.cert.certPem).subject, 'CN=cn.example.com');

    const r = await obtain('nocn.example.com', { disableCommonName: true });
    assert.ok(r.cert, JSON.stringify(r.failure));
    assert.equal(csrSubject(ca.csrs.at(-1) ?? ''), 'subject=');
    const cert = new X509Certificate(r.cert.certPem);
    assert.equal(cert.subject, undefined, 'no subject');
    assert.equal(cert.subjectAltName, 'DNS:nocn.example.com');
  });

  it("issues EC384 keys (Traefik's keyType EC384), the CSR signed with the P-384 key", async () => {
    const r = await obtain('ec384.example.com', { keyType: 'ec384' });
    assert.ok(r.cert, JSON.stringify(r.failure));
    const key = createPrivateKey(r.cert.keyPem);
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    assert.ok(new X509Certificate(r.cert.certPem).checkPrivateKey(key));
    const csr = ca.csrs.at(-1) ?? '';
    assert.equal(createPublicKey(csrPublicKey(csr)).asymmetricKeyDetails?.namedCurve, 'secp384r1');
  });
});

/** The subject of a CSR, as openssl prints it (`subject=` when empty). */
function csrSubject(csrPem: string): string {
  return execFileSync('openssl', ['req', '-noout', '-subject', '-nameopt', 'compat'], {
    input: csrPem,
    encoding: 'utf8',
  }).trim();
}

/** The SubjectPublicKeyInfo of a CSR, as openssl reads it. */
function csrPublicKey(csrPem: string): string {
  return execFileSync('openssl', ['req', '-noout', '-pubkey'], { input: csrPem, encoding: 'utf8' });
}
