/**
 * Traefik v3.7's `GET /api/certificates[/{fingerprint}]` (traefik/traefik#12628:
 * pkg/api/certificate.go buildCertificateRepresentation, handler_certificate.go): the
 * certificates of the default store and the configured default certificate (not the generated
 * one), as tlsManager.GetServerCertificates lists them, one per SHA-256 fingerprint.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { firstCertificatePem } from '../core/pem.ts';
import type { RuntimeSnapshot } from '../runtime/types.ts';
import type { StoredCertificate } from '../tls/cert-store.ts';
import { certificateDetails } from '../tls/x509/certificate-info.ts';

export interface CertificateView {
  readonly name: string;
  readonly sans: string[];
  readonly notAfter: string;
  readonly notBefore: string;
  readonly serialNumber: string;
  readonly commonName: string;
  readonly issuerOrg?: string;
  readonly issuerCN?: string;
  readonly issuerCountry?: string;
  readonly organization?: string;
  readonly country?: string;
  readonly version: string;
  readonly keyType: string;
  readonly keySize?: number;
  readonly signatureAlgorithm: string;
  readonly certFingerprint: string;
  readonly publicKeyFingerprint: string;
  readonly status: string;
}

/** Go's x509.SignatureAlgorithm.String() by OID; an unknown one is Go's `0`. */
const SIGNATURE_NAMES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.2': 'MD2-RSA',
  '1.2.840.113549.1.1.4': 'MD5-RSA',
  '1.2.840.113549.1.1.5': 'SHA1-RSA',
  '1.2.840.113549.1.1.11': 'SHA256-RSA',
  '1.2.840.113549.1.1.12': 'SHA384-RSA',
  '1.2.840.113549.1.1.13': 'SHA512-RSA',
  // Go tells the PSS hashes apart by the parameters; SHA-256 is the one in use.
  '1.2.840.113549.1.1.10': 'SHA256-RSAPSS',
  '1.2.840.10040.4.3': 'DSA-SHA1',
  '2.16.840.1.101.3.4.3.2': 'DSA-SHA256',
  '1.2.840.10045.4.1': 'ECDSA-SHA1',
  '1.2.840.10045.4.3.2': 'ECDSA-SHA256',
  '1.2.840.10045.4.3.3': 'ECDSA-SHA384',
  '1.2.840.10045.4.3.4': 'ECDSA-SHA512',
  '1.3.101.112': 'Ed25519',
};

/** Go's elliptic curve BitSize by the curve node names. */
const CURVE_BITS: Readonly<Record<string, number>> = {
  prime256v1: 256,
  secp224r1: 224,
  secp384r1: 384,
  secp521r1: 521,
};

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Traefik's getCertificateStatus: `expired` once past notAfter, `warning` within 30 days of it,
 * else `enabled` (the status its handler test filters on, handler_certificate_test.go).
 */
function certificateStatus(notAfter: Date, now: number): string {
  const left = notAfter.getTime() - now;
  if (left < 0) return 'expired';
  return left < 30 * DAY_MS ? 'warning' : 'enabled';
}

function view(pem: string, now: number): CertificateView | undefined {
  const leaf = firstCertificatePem(pem);
  if (leaf === undefined) return undefined;
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(leaf);
  } catch {
    return undefined;
  }
  const d = certificateDetails(x509.raw);
  const key = x509.publicKey;
  const keyType =
    key.asymmetricKeyType === 'rsa' ? 'RSA' : key.asymmetricKeyType === 'ec' ? 'ECDSA' : 'Unknown';
  const details = key.asymmetricKeyDetails;
  const keySize =
    keyType === 'RSA'
      ? details?.modulusLength
      : keyType === 'ECDSA'
        ? CURVE_BITS[details?.namedCurve ?? '']
        : undefined;
  const fingerprint = createHash('sha256').update(x509.raw).digest('hex');
  const spki = key.export({ type: 'spki', format: 'der' });
  // Go's json omitempty: empty strings and a zero key size are left out.
  const opt = (k: string, v: string | number | undefined) =>
    v === undefined || v === '' || v === 0 ? {} : { [k]: v };
  return {
    name: fingerprint,
    sans: [...d.sans].sort(),
    notAfter: x509.validToDate.toISOString().replace('.000Z', 'Z'),
    notBefore: x509.validFromDate.toISOString().replace('.000Z', 'Z'),
    // Go's big.Int String: decimal.
    serialNumber: BigInt(`0x${x509.serialNumber}`).toString(),
    commonName: d.subject.cn,
    ...opt('issuerOrg', d.issuer.o),
    ...opt('issuerCN', d.issuer.cn),
    ...opt('issuerCountry', d.issuer.c),
    ...opt('organization', d.subject.o),
    ...opt('country', d.subject.c),
    version: `v${d.version}`,
    keyType,
    ...opt('keySize', keySize),
    signatureAlgorithm: SIGNATURE_NAMES[d.signatureOid] ?? '0',
    certFingerprint: fingerprint,
    publicKeyFingerprint: createHash('sha256').update(spki).digest('hex'),
    status: certificateStatus(x509.validToDate, now),
  } as CertificateView;
}

/** The default store's certificates and the configured default one, once per fingerprint. */
export function certificateViews(snap: RuntimeSnapshot, now = Date.now()): CertificateView[] {
  const store = snap.tls?.store;
  if (store === undefined) return [];
  const certs: StoredCertificate[] = [...store.certificates];
  if (!store.defaultCertificate.generated) certs.push(store.defaultCertificate);
  const seen = new Map<string, CertificateView>();
  for (const c of certs) {
    const v = view(c.certPem, now);
    if (v !== undefined && !seen.has(v.name)) seen.set(v.name, v);
  }
  return [...seen.values()];
}
