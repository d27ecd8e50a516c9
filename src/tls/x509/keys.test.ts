import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { selfSignedCertificate } from './certificate.ts';
import { generateKey, generateKeyAsync, keyMatchesCertificate } from './keys.ts';

describe('generateKey', () => {
  it('makes a PKCS#8 EC P-256 key by default', () => {
    const pem = generateKey();
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
    const key = createPrivateKey(pem);
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('makes RSA keys of 2048 and 4096 bits with exponent 65537', () => {
    for (const [type, bits] of [
      ['rsa2048', 2048],
      ['rsa4096', 4096],
    ] as const) {
      const key = createPrivateKey(generateKey(type));
      assert.equal(key.asymmetricKeyType, 'rsa');
      assert.equal(key.asymmetricKeyDetails?.modulusLength, bits);
      assert.equal(key.asymmetricKeyDetails?.publicExponent, 65537n);
    }
  });

  it("makes Traefik's EC384 (P-384) keys, in the thread pool too", async () => {
    for (const pem of [generateKey('ec384'), await generateKeyAsync('ec384')]) {
      const key = createPrivateKey(pem);
      assert.equal(key.asymmetricKeyType, 'ec');
      assert.equal(key.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    }
  });

  it("makes Traefik's RSA8192 keys off the event loop", async () => {
    const key = createPrivateKey(await generateKeyAsync('rsa8192'));
    assert.equal(key.asymmetricKeyType, 'rsa');
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 8192);
    assert.equal(key.asymmetricKeyDetails?.publicExponent, 65537n);
  });

  it('makes a different key every time', () => {
    assert.notEqual(generateKey(), generateKey());
  });
});

describe('keyMatchesCertificate', () => {
  const a = selfSignedCertificate(['a.test']);
  const b = selfSignedCertificate(['b.test']);

  it('is true for the key the certificate was made with', () => {
    assert.equal(keyMatchesCertificate(a.keyPem, a.certPem), true);
  });

  it('is false for another key, of the same or another type', () => {
    assert.equal(keyMatchesCertificate(b.keyPem, a.certPem), false);
    assert.equal(keyMatchesCertificate(generateKey('rsa2048'), a.certPem), false);
  });

  it('checks the leaf of a chain, not the certificates after it', () => {
    assert.equal(keyMatchesCertificate(a.keyPem, `${a.certPem}${b.certPem}`), true);
    assert.equal(keyMatchesCertificate(b.keyPem, `${a.certPem}${b.certPem}`), false);
  });

  it('is false, not an exception, for input that is not a key or a certificate', () => {
    assert.equal(keyMatchesCertificate('garbage', a.certPem), false);
    assert.equal(keyMatchesCertificate(a.keyPem, 'garbage'), false);
    assert.equal(
      keyMatchesCertificate(a.keyPem, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'),
      false,
    );
  });
});
