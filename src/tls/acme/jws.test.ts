import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { AccountKey, jwkThumbprint } from './jws.ts';

const RFC7638_N =
  '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3' +
  'oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZ' +
  'Hzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEg' +
  'U8awapJzKnqDKgw';

const decode = (b64: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(b64, 'base64url').toString('utf8')) as Record<string, unknown>;

function ecKey(): AccountKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return new AccountKey(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
}

describe('jwkThumbprint', () => {
  it('matches the RFC 7638 §3.1 example', () => {
    assert.equal(
      jwkThumbprint({ kty: 'RSA', n: RFC7638_N, e: 'AQAB' }),
      'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
    );
  });
});

describe('AccountKey', () => {
  it('signs newAccount with the public key in jwk and ES256 over protected.payload (raw r||s)', () => {
    const key = ecKey();
    const jws = key.sign('https://ca/new-acct', 'nonce-1', { termsOfServiceAgreed: true });
    const header = decode(jws.protected);
    assert.deepEqual(header, { alg: 'ES256', jwk: key.jwk, nonce: 'nonce-1', url: 'https://ca/new-acct' });
    assert.deepEqual(decode(jws.payload), { termsOfServiceAgreed: true });
    const sig = Buffer.from(jws.signature, 'base64url');
    assert.equal(sig.length, 64);
    const pub = createPublicKey({ key: { ...key.jwk }, format: 'jwk' });
    const input = Buffer.from(`${jws.protected}.${jws.payload}`);
    assert.ok(verify('sha256', input, { key: pub, dsaEncoding: 'ieee-p1363' }, sig));
  });

  it('signs with kid and no jwk once the account URL is known, and POST-as-GET has an empty payload', () => {
    const key = ecKey();
    const jws = key.sign('https://ca/order/1', 'n2', undefined, 'https://ca/acct/7');
    assert.deepEqual(decode(jws.protected), {
      alg: 'ES256',
      kid: 'https://ca/acct/7',
      nonce: 'n2',
      url: 'https://ca/order/1',
    });
    assert.equal(jws.payload, '');
  });

  it('signs RS256 with an RSA key (Traefik account keys) and verifies', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = new AccountKey(privateKey);
    const jws = key.sign('https://ca/x', 'n', {});
    assert.equal(decode(jws.protected).alg, 'RS256');
    assert.deepEqual(Object.keys(key.jwk), ['e', 'kty', 'n']);
    const input = Buffer.from(`${jws.protected}.${jws.payload}`);
    assert.ok(verify('sha256', input, publicKey, Buffer.from(jws.signature, 'base64url')));
  });

  it('builds key authorizations and dns-01 values from the thumbprint (RFC 8555 §8.1, §8.4)', () => {
    const key = ecKey();
    assert.equal(key.keyAuthorization('tok'), `tok.${key.thumbprint}`);
    assert.equal(key.thumbprint, jwkThumbprint(key.jwk));
    assert.match(key.dns01Value('tok'), /^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses EC curves other than P-256', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    assert.throws(() => new AccountKey(privateKey), /P-256 only/);
  });
});
