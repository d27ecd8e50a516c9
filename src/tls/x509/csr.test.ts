import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { certificateRequest } from './csr.ts';
import { generateKey } from './keys.ts';
import { requestedExtensions, requestSubject } from './test-extensions.ts';
import { extensionBlock, openssl } from './test-openssl.ts';

/** openssl 3.0 exits 0 even when the signature is bad, so the verdict is read from its output. */
function verifyRequest(csrPem: string): { ok: boolean; text: string; verdict: string } {
  const result = openssl(['req', '-noout', '-verify', '-text'], csrPem);
  const verdict = /self-signature verify (\w+)/.exec(result.stdout + result.stderr)?.[1] ?? 'missing';
  return { ok: result.status === 0 && verdict === 'OK', text: result.stdout, verdict };
}

describe('certificateRequest', () => {
  it('is signed with an EC P-256 key so that openssl req -verify accepts it', () => {
    const csr = certificateRequest(generateKey('ec256'), ['example.test', 'www.example.test', '192.0.2.7']);
    assert.match(csr, /^-----BEGIN CERTIFICATE REQUEST-----\n/);
    const { ok, text } = verifyRequest(csr);
    assert.equal(ok, true, text);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /Subject: CN = example.test/);
    assert.deepEqual(extensionBlock(text, 'X509v3 Subject Alternative Name'), {
      header: 'X509v3 Subject Alternative Name:',
      value: 'DNS:example.test, DNS:www.example.test, IP Address:192.0.2.7',
    });
  });

  it('carries email addresses as rfc822Name entries between the DNS names and the IPs, as Go puts them', () => {
    const csr = certificateRequest(
      generateKey('ec256'),
      ['example.test', '192.0.2.7', 'www.example.test'],
      ['ops@example.test', 'pki@example.test'],
    );
    const { ok, text } = verifyRequest(csr);
    assert.equal(ok, true, text);
    assert.deepEqual(extensionBlock(text, 'X509v3 Subject Alternative Name'), {
      header: 'X509v3 Subject Alternative Name:',
      value:
        'DNS:example.test, DNS:www.example.test, email:ops@example.test, email:pki@example.test, IP Address:192.0.2.7',
    });
  });

  it('is signed with an RSA key (sha256WithRSAEncryption) so that openssl req -verify accepts it', () => {
    const csr = certificateRequest(generateKey('rsa2048'), ['example.test', '2001:db8::1']);
    const { ok, text } = verifyRequest(csr);
    assert.equal(ok, true, text);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.equal(
      extensionBlock(text, 'X509v3 Subject Alternative Name')?.value,
      'DNS:example.test, IP Address:2001:DB8:0:0:0:0:0:1',
    );
  });

  it('accepts a P-384 key, signing with ecdsa-with-SHA384', () => {
    const { privateKey } = generateKeyPairSync('ec', {
      namedCurve: 'secp384r1',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const { ok, text } = verifyRequest(certificateRequest(privateKey, ['a.test']));
    assert.equal(ok, true, text);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA384/);
  });

  it('fails openssl verification once a signed byte is changed', () => {
    const csr = certificateRequest(generateKey('ec256'), ['example.test']);
    const der = Buffer.from(csr.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    // Inside the subject's CN value, so the structure still parses and only the signature breaks.
    const at = der.indexOf(Buffer.from('example.test'));
    der[at] = 'E'.charCodeAt(0);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const { ok, text, verdict } = verifyRequest(tampered);
    assert.equal(ok, false);
    assert.equal(verdict, 'failure');
    assert.match(text, /Subject: CN = Example.test/);
  });

  it('puts the SAN, not critical, in the extensionRequest attribute when the subject has a CN', () => {
    const extensions = requestedExtensions(certificateRequest(generateKey(), ['a.test']));
    assert.deepEqual(extensions.get('2.5.29.17'), {
      critical: false,
      value: Buffer.from('30088206612e74657374', 'hex'),
    });
  });

  it('leaves the subject empty and marks the SAN critical when the first name is too long for a CN', () => {
    const long = `${'a'.repeat(60)}.example.test`;
    const csr = certificateRequest(generateKey(), [long, 'b.test']);
    assert.deepEqual(requestSubject(csr), Buffer.from('3000', 'hex'));
    assert.equal(requestedExtensions(csr).get('2.5.29.17')?.critical, true);
    const { ok, text } = verifyRequest(csr);
    assert.equal(ok, true, text);
    assert.match(text, /X509v3 Subject Alternative Name: critical/);
  });

  it('refuses an empty name list, invalid names and keys it cannot sign with', () => {
    assert.throws(() => certificateRequest(generateKey(), []), RangeError);
    assert.throws(() => certificateRequest(generateKey(), ['a b']), TypeError);
    const { privateKey } = generateKeyPairSync('x25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    assert.throws(() => certificateRequest(privateKey, ['a.test']), TypeError);
  });
});
