/** Private keys: generating them, and checking one against a certificate. */
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { firstCertificatePem } from './pem.ts';

export type KeyType = 'ec256' | 'rsa2048' | 'rsa4096';

/** A new private key in PEM (PKCS#8): 'ec256' (default) | 'rsa2048' | 'rsa4096'. */
export function generateKey(type: KeyType = 'ec256'): string {
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  // node's typings want both halves encoded or neither; the public half is simply dropped.
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  switch (type) {
    case 'ec256':
      return generateKeyPairSync('ec', {
        namedCurve: 'prime256v1',
        publicKeyEncoding,
        privateKeyEncoding,
      }).privateKey;
    case 'rsa2048':
    case 'rsa4096':
      return generateKeyPairSync('rsa', {
        modulusLength: type === 'rsa2048' ? 2048 : 4096,
        publicExponent: 0x10001,
        publicKeyEncoding,
        privateKeyEncoding,
      }).privateKey;
    default:
      throw new TypeError(`unknown key type ${String(type)}`);
  }
}

/**
 * True when the private key matches the leaf (first) certificate's public key. Input that does
 * not parse as a key or a certificate is a mismatch too (false), never an exception: callers
 * report it as a config error either way.
 */
export function keyMatchesCertificate(keyPem: string, certPem: string): boolean {
  const leaf = firstCertificatePem(certPem);
  if (leaf === undefined) return false;
  try {
    return new X509Certificate(leaf).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}
