import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { selfSignedCertificate } from './certificate.ts';
import { certificateInfo } from './certificate-info.ts';
import { openssl } from './test-openssl.ts';

/** A certificate made by openssl, so the reader is tested on encodings it did not write. */
function opensslCertificate(subject: string, extensions: readonly string[]): string {
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  args.push('-keyout', '/dev/null', '-days', '2', '-subj', subject);
  for (const ext of extensions) args.push('-addext', ext);
  const result = openssl(args, '');
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

describe('certificateInfo', () => {
  it('reports the names, validity, subject, issuer and fingerprint of a generated certificate', () => {
    const notBefore = new Date('2030-03-04T05:06:07Z');
    const { certPem } = selfSignedCertificate(['example.test', '*.example.test', '10.0.0.1', '2001:db8::1'], {
      notBefore,
      days: 30,
    });
    const der = new X509Certificate(certPem).raw;
    const fingerprint = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
    assert.deepEqual(certificateInfo(certPem), {
      names: ['example.test', '*.example.test', '10.0.0.1', '2001:db8::1'],
      notBefore,
      notAfter: new Date('2030-04-03T05:06:07Z'),
      issuer: 'CN=example.test',
      subject: 'CN=example.test',
      fingerprint256: fingerprint,
    });
  });

  it('indexes the CN alongside the SANs, lower-cased and without duplicates, as Traefik does', () => {
    const cert = opensslCertificate('/O=Org/CN=Upper.Example', [
      'subjectAltName=DNS:A.Test,DNS:upper.example,IP:::1,email:x@y.test,URI:https://u.test/',
    ]);
    const info = certificateInfo(cert);
    assert.deepEqual(info.names, ['upper.example', 'a.test', '::1']);
    assert.equal(info.subject, 'O=Org\nCN=Upper.Example');
  });

  it('falls back to the CN alone when there is no SAN', () => {
    assert.deepEqual(certificateInfo(opensslCertificate('/CN=legacy.test', [])).names, ['legacy.test']);
  });

  it('has no names when there is neither a CN nor a SAN', () => {
    assert.deepEqual(certificateInfo(opensslCertificate('/O=Nameless', [])).names, []);
  });

  it('describes the leaf, the first certificate of a chain', () => {
    const leaf = selfSignedCertificate(['leaf.test']).certPem;
    const other = selfSignedCertificate(['other.test']).certPem;
    assert.deepEqual(certificateInfo(`${leaf}${other}`).names, ['leaf.test']);
  });

  it('throws when there is no certificate to read', () => {
    assert.throws(() => certificateInfo('not a certificate'), TypeError);
    assert.throws(() => certificateInfo('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'));
  });
});
