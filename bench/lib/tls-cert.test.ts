import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateBenchCertificate } from './tls-cert.ts';

describe('generateBenchCertificate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-bench-cert-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const c = generateBenchCertificate(dir);

  it('makes an ECDSA P-256 certificate for localhost and 127.0.0.1', () => {
    const x = new X509Certificate(readFileSync(c.certFile));
    assert.equal(x.publicKey.asymmetricKeyType, 'ec');
    assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(x.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1');
    assert.equal(x.fingerprint256, c.fingerprint256);
  });

  it('writes the matching key, alone and after the certificate in the combined file', () => {
    const x = new X509Certificate(readFileSync(c.certFile));
    assert.ok(x.checkPrivateKey(createPrivateKey(readFileSync(c.keyFile))));
    const combined = readFileSync(c.pemFile, 'utf8');
    assert.ok(combined.indexOf('BEGIN CERTIFICATE') < combined.indexOf('PRIVATE KEY'));
    assert.ok(x.checkPrivateKey(createPrivateKey(combined)));
  });
});
