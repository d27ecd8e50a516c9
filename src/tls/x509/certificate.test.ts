import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { selfSignedCertificate, tlsAlpnChallengeCertificate } from './certificate.ts';
import { keyMatchesCertificate } from './keys.ts';
import { certificateExtensions, tbsCertificateFields } from './test-extensions.ts';
import { extensionBlock, openssl, x509Dates, x509Text } from './test-openssl.ts';

const DAY_MS = 86_400_000;

describe('selfSignedCertificate', () => {
  const names = ['example.test', '*.example.test', '127.0.0.1', '::1'];
  const { keyPem, certPem } = selfSignedCertificate(names);

  it('is read by node with the SANs, the CN as subject and issuer, and a valid self-signature', () => {
    const x509 = new X509Certificate(certPem);
    assert.equal(
      x509.subjectAltName,
      'DNS:example.test, DNS:*.example.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    assert.equal(x509.subject, 'CN=example.test');
    assert.equal(x509.issuer, 'CN=example.test');
    assert.equal(x509.ca, false);
    assert.equal(x509.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(x509.verify(x509.publicKey), true);
    assert.equal(x509.checkHost('www.example.test'), '*.example.test');
    assert.equal(x509.checkHost('other.test'), undefined);
    assert.equal(x509.checkIP('::1'), '::1');
    assert.equal(keyMatchesCertificate(keyPem, certPem), true);
  });

  it('is read by openssl as v3, ecdsa-with-SHA256, with the agreed extensions and critical flags', () => {
    const text = x509Text(certPem);
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /NIST CURVE: P-256/);
    assert.deepEqual(extensionBlock(text, 'X509v3 Subject Alternative Name'), {
      header: 'X509v3 Subject Alternative Name:',
      value: 'DNS:example.test, DNS:*.example.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    });
    assert.deepEqual(extensionBlock(text, 'X509v3 Basic Constraints'), {
      header: 'X509v3 Basic Constraints: critical',
      value: 'CA:FALSE',
    });
    assert.deepEqual(extensionBlock(text, 'X509v3 Key Usage'), {
      header: 'X509v3 Key Usage: critical',
      value: 'Digital Signature',
    });
    assert.deepEqual(extensionBlock(text, 'X509v3 Extended Key Usage'), {
      header: 'X509v3 Extended Key Usage:',
      value: 'TLS Web Server Authentication',
    });
  });

  it('passes openssl verify -x509_strict as its own trust anchor', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'x509-test-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, certPem);
    const result = openssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', caFile], certPem);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /OK/);
  });

  it('encodes the extensions with the critical flags RFC 5280 expects', () => {
    const extensions = certificateExtensions(certPem);
    assert.deepEqual([...extensions.keys()], ['2.5.29.17', '2.5.29.19', '2.5.29.15', '2.5.29.37']);
    assert.equal(extensions.get('2.5.29.17')?.critical, false);
    assert.deepEqual(extensions.get('2.5.29.19'), { critical: true, value: Buffer.from('3000', 'hex') });
    assert.deepEqual(extensions.get('2.5.29.15'), { critical: true, value: Buffer.from('03020780', 'hex') });
    assert.deepEqual(extensions.get('2.5.29.37'), {
      critical: false,
      value: Buffer.from('300a06082b06010505070301', 'hex'),
    });
  });

  it('is valid from notBefore for the given number of days, to the second', () => {
    const notBefore = new Date('2030-01-02T03:04:05.678Z');
    const cert = selfSignedCertificate(['a.test'], { notBefore, days: 10 }).certPem;
    const x509 = new X509Certificate(cert);
    assert.equal(x509.validFromDate.toISOString(), '2030-01-02T03:04:05.000Z');
    assert.equal(x509.validToDate.toISOString(), '2030-01-12T03:04:05.000Z');
    assert.deepEqual(x509Dates(x509Text(cert)), {
      notBefore: x509.validFromDate,
      notAfter: x509.validToDate,
    });
  });

  it('defaults to one hour before now, for 365 days', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: new Date('2031-05-06T07:08:09Z') });
    const x509 = new X509Certificate(selfSignedCertificate(['a.test']).certPem);
    assert.equal(x509.validFromDate.toISOString(), '2031-05-06T06:08:09.000Z');
    assert.equal(x509.validToDate.getTime() - x509.validFromDate.getTime(), 365 * DAY_MS);
  });

  it('writes validity dates from 2050 on as GeneralizedTime, which node and openssl read back', () => {
    const notBefore = new Date('2049-06-01T00:00:00Z');
    const cert = selfSignedCertificate(['a.test'], { notBefore, days: 400 }).certPem;
    const { der, fields } = tbsCertificateFields(cert);
    const validity = fields[4]!;
    assert.deepEqual([der[validity.contentStart], der[validity.contentStart + 15]], [0x17, 0x18]);
    const expectedEnd = new Date(notBefore.getTime() + 400 * DAY_MS);
    assert.equal(new X509Certificate(cert).validToDate.getTime(), expectedEnd.getTime());
    assert.equal(x509Dates(x509Text(cert)).notAfter.getTime(), expectedEnd.getTime());
  });

  it('gives each certificate a fresh positive 16-octet serial number', () => {
    const serials = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const cert = selfSignedCertificate(['a.test']).certPem;
      const { der, fields } = tbsCertificateFields(cert);
      const serial = fields[1]!;
      assert.equal(serial.end - serial.contentStart, 16);
      assert.equal(der[serial.contentStart]! & 0x80, 0);
      serials.add(new X509Certificate(cert).serialNumber);
    }
    assert.equal(serials.size, 5);
  });

  it('uses the given commonName for subject and issuer', () => {
    const x509 = new X509Certificate(
      selfSignedCertificate(['a.test'], { commonName: 'Default Cert' }).certPem,
    );
    assert.equal(x509.subject, 'CN=Default Cert');
    assert.equal(x509.issuer, 'CN=Default Cert');
  });

  it('falls back to a fixed CN when the first name does not fit in 64 characters', () => {
    const long = `${'a'.repeat(60)}.example.test`;
    const x509 = new X509Certificate(selfSignedCertificate([long]).certPem);
    assert.equal(x509.subject, 'CN=traffic-management self-signed');
    assert.equal(x509.subjectAltName, `DNS:${long}`);
  });

  it('leaves the SAN out when there are no names, keeping the other extensions', () => {
    const cert = selfSignedCertificate([]).certPem;
    assert.deepEqual([...certificateExtensions(cert).keys()], ['2.5.29.19', '2.5.29.15', '2.5.29.37']);
    assert.equal(new X509Certificate(cert).subject, 'CN=traffic-management self-signed');
  });

  it('refuses invalid names, a non-positive validity and an over-long commonName', () => {
    assert.throws(() => selfSignedCertificate(['bad name']), TypeError);
    assert.throws(() => selfSignedCertificate(['a.test'], { days: 0 }), RangeError);
    assert.throws(() => selfSignedCertificate(['a.test'], { days: Number.NaN }), RangeError);
    assert.throws(() => selfSignedCertificate(['a.test'], { commonName: 'x'.repeat(65) }), RangeError);
    assert.throws(() => selfSignedCertificate(['a.test'], { commonName: '' }), RangeError);
  });
});

describe('tlsAlpnChallengeCertificate', () => {
  const keyAuthorization =
    'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ';
  const digest = createHash('sha256').update(keyAuthorization).digest();

  it('names exactly the identifier and carries a critical acmeIdentifier of SHA-256(keyAuthorization)', () => {
    const { keyPem, certPem } = tlsAlpnChallengeCertificate('Www.Example.test', keyAuthorization);
    assert.equal(new X509Certificate(certPem).subjectAltName, 'DNS:www.example.test');
    const acme = certificateExtensions(certPem).get('1.3.6.1.5.5.7.1.31');
    // RFC 8737 3: extnValue is the DER of Authorization ::= OCTET STRING (SIZE (32)).
    assert.deepEqual(acme, { critical: true, value: Buffer.concat([Buffer.of(0x04, 0x20), digest]) });
    assert.equal(keyMatchesCertificate(keyPem, certPem), true);
  });

  it('is read by openssl with the extension marked critical and the digest inside an OCTET STRING', () => {
    const { certPem } = tlsAlpnChallengeCertificate('a.test', keyAuthorization);
    assert.match(extensionBlock(x509Text(certPem), '1.3.6.1.5.5.7.1.31')?.header ?? '', /: critical$/);
    assert.deepEqual(
      extensionBlock(x509Text(certPem), 'X509v3 Subject Alternative Name')?.value,
      'DNS:a.test',
    );
    const parsed = openssl(['asn1parse', '-i'], certPem);
    assert.equal(parsed.status, 0, parsed.stderr);
    assert.ok(parsed.stdout.toUpperCase().includes(`[HEX DUMP]:0420${digest.toString('hex').toUpperCase()}`));
  });

  it('uses an iPAddress SAN for an IP identifier (RFC 8738)', () => {
    const { certPem } = tlsAlpnChallengeCertificate('2001:db8::1', keyAuthorization);
    assert.equal(new X509Certificate(certPem).subjectAltName, 'IP Address:2001:DB8:0:0:0:0:0:1');
  });

  it('uses a fresh key for every challenge', () => {
    const a = tlsAlpnChallengeCertificate('a.test', keyAuthorization);
    const b = tlsAlpnChallengeCertificate('a.test', keyAuthorization);
    assert.notEqual(a.keyPem, b.keyPem);
    assert.equal(keyMatchesCertificate(a.keyPem, b.certPem), false);
  });

  it('refuses a wildcard name, which tls-alpn-01 cannot validate', () => {
    assert.throws(() => tlsAlpnChallengeCertificate('*.example.test', keyAuthorization), TypeError);
  });
});
