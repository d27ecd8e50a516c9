/**
 * Signing a to-be-signed structure (TBSCertificate, CertificationRequestInfo) with a private key,
 * and the AlgorithmIdentifier that names what was done.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { bitString, nullValue, oid, sequence } from '../../core/der.ts';
import { OID } from './oids.ts';

export interface Signer {
  readonly key: KeyObject;
  /** DER SubjectPublicKeyInfo of the key's public half. */
  readonly spki: Buffer;
  /** DER AlgorithmIdentifier of the signature. */
  readonly algorithm: Buffer;
  /** The digest name for crypto.sign, or null for Ed25519 (which hashes internally). */
  readonly hash: string | null;
}

const EC_HASH: Readonly<Record<string, readonly [string, string]>> = {
  prime256v1: ['sha256', OID.ecdsaWithSha256],
  secp384r1: ['sha384', OID.ecdsaWithSha384],
  secp521r1: ['sha512', OID.ecdsaWithSha512],
};

/** Throws TypeError for a key type that certificates here are not signed with. */
export function signerFor(keyPemOrObject: string | KeyObject): Signer {
  const key = typeof keyPemOrObject === 'string' ? createPrivateKey(keyPemOrObject) : keyPemOrObject;
  if (key.type !== 'private') throw new TypeError('a private key is needed to sign');
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    const entry = EC_HASH[curve];
    if (entry === undefined) throw new TypeError(`unsupported EC curve ${curve}`);
    // RFC 5758 3.2: the ECDSA AlgorithmIdentifiers have absent parameters.
    return { key, spki, algorithm: sequence(oid(entry[1])), hash: entry[0] };
  }
  if (type === 'rsa') {
    // RFC 4055 5: sha256WithRSAEncryption parameters are NULL (present).
    return { key, spki, algorithm: sequence(oid(OID.sha256WithRsaEncryption), nullValue()), hash: 'sha256' };
  }
  if (type === 'ed25519') {
    return { key, spki, algorithm: sequence(oid(OID.ed25519)), hash: null };
  }
  throw new TypeError(`unsupported key type ${type ?? 'unknown'}`);
}

/** SEQUENCE { tbs, signatureAlgorithm, signature BIT STRING }: the shape of both a certificate and a CSR. */
export function signStructure(signer: Signer, tbs: Buffer): Buffer {
  // ECDSA signatures come out as DER Ecdsa-Sig-Value, which is what X.509 carries (RFC 5758 3.2).
  const signature = sign(signer.hash, tbs, signer.key);
  return sequence(tbs, signer.algorithm, bitString(signature));
}
