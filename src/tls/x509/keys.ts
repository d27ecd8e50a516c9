/** Private keys: generating them, and checking one against a certificate. */
import { createPrivateKey, generateKeyPair, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { firstCertificatePem } from '../../core/pem.ts';

/** Traefik's ACME `keyType` values (pkg/provider/acme/account.go GetKeyType, lego's certcrypto). */
export type KeyType = 'ec256' | 'ec384' | 'rsa2048' | 'rsa4096' | 'rsa8192';

const RSA_BITS: Readonly<Record<string, number>> = { rsa2048: 2048, rsa4096: 4096, rsa8192: 8192 };

/** A new private key in PEM (PKCS#8): 'ec256' (default) | 'ec384' | 'rsa2048' | 'rsa4096' | 'rsa8192'. */
export function generateKey(type: KeyType = 'ec256'): string {
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  // node's typings want both halves encoded or neither; the public half is simply dropped.
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  switch (type) {
    case 'ec256':
    case 'ec384':
      return generateKeyPairSync('ec', {
        namedCurve: type === 'ec256' ? 'prime256v1' : 'secp384r1',
        publicKeyEncoding,
        privateKeyEncoding,
      }).privateKey;
    case 'rsa2048':
    case 'rsa4096':
    case 'rsa8192':
      return generateKeyPairSync('rsa', {
        modulusLength: RSA_BITS[type] ?? 4096,
        publicExponent: 0x10001,
        publicKeyEncoding,
        privateKeyEncoding,
      }).privateKey;
    default:
      throw new TypeError(`unknown key type ${String(type)}`);
  }
}

/**
 * generateKey off the event loop (libuv's thread pool): an RSA 4096/8192 key takes from a fraction
 * of a second to several, which must not stall the requests being served meanwhile.
 */
export function generateKeyAsync(type: KeyType = 'ec256'): Promise<string> {
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _pub: string, priv: string): void => (err ? reject(err) : resolve(priv));
    if (type === 'ec256' || type === 'ec384') {
      generateKeyPair(
        'ec',
        { namedCurve: type === 'ec256' ? 'prime256v1' : 'secp384r1', publicKeyEncoding, privateKeyEncoding },
        done,
      );
    } else if (RSA_BITS[type] !== undefined) {
      generateKeyPair(
        'rsa',
        { modulusLength: RSA_BITS[type], publicExponent: 0x10001, publicKeyEncoding, privateKeyEncoding },
        done,
      );
    } else {
      reject(new TypeError(`unknown key type ${String(type)}`));
    }
  });
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
