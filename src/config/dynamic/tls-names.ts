/*
 * TLS names of the dynamic configuration (Go's, as Traefik reads them) and their OpenSSL
 * counterparts, without the schemas (tls.ts): src/tls builds contexts in a process that never
 * loads `zod` (docs/performance.md, "Memory at rest").
 */

/** Go's version names → Node's. */
export const TLS_VERSIONS = {
  VersionTLS10: 'TLSv1',
  VersionTLS11: 'TLSv1.1',
  VersionTLS12: 'TLSv1.2',
  VersionTLS13: 'TLSv1.3',
} as const;
export type TlsVersionName = keyof typeof TLS_VERSIONS;

/**
 * Go's cipher suite names (Traefik's pkg/tls/cipher.go) → OpenSSL's. `tls13` suites are never
 * configurable in Go; we honour them when listed (see src/tls/tls-options.ts).
 * `TLS_FALLBACK_SCSV` is a client signal (RFC 7507) that a server has nothing to do with.
 */
export const CIPHER_SUITES: Readonly<Record<string, { readonly openssl: string; readonly tls13?: true }>> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: { openssl: 'AES128-SHA' },
  TLS_RSA_WITH_AES_256_CBC_SHA: { openssl: 'AES256-SHA' },
  TLS_RSA_WITH_AES_128_CBC_SHA256: { openssl: 'AES128-SHA256' },
  TLS_RSA_WITH_AES_128_GCM_SHA256: { openssl: 'AES128-GCM-SHA256' },
  TLS_RSA_WITH_AES_256_GCM_SHA384: { openssl: 'AES256-GCM-SHA384' },
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: { openssl: 'ECDHE-ECDSA-AES128-SHA' },
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: { openssl: 'ECDHE-ECDSA-AES256-SHA' },
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: { openssl: 'ECDHE-RSA-AES128-SHA' },
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: { openssl: 'ECDHE-RSA-AES256-SHA' },
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: { openssl: 'ECDHE-ECDSA-AES128-SHA256' },
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: { openssl: 'ECDHE-RSA-AES128-SHA256' },
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: { openssl: 'ECDHE-RSA-AES128-GCM-SHA256' },
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: { openssl: 'ECDHE-ECDSA-AES128-GCM-SHA256' },
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: { openssl: 'ECDHE-RSA-AES256-GCM-SHA384' },
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: { openssl: 'ECDHE-ECDSA-AES256-GCM-SHA384' },
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: { openssl: 'ECDHE-RSA-CHACHA20-POLY1305' },
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: { openssl: 'ECDHE-RSA-CHACHA20-POLY1305' },
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: { openssl: 'ECDHE-ECDSA-CHACHA20-POLY1305' },
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: { openssl: 'ECDHE-ECDSA-CHACHA20-POLY1305' },
  TLS_AES_128_GCM_SHA256: { openssl: 'TLS_AES_128_GCM_SHA256', tls13: true },
  TLS_AES_256_GCM_SHA384: { openssl: 'TLS_AES_256_GCM_SHA384', tls13: true },
  TLS_CHACHA20_POLY1305_SHA256: { openssl: 'TLS_CHACHA20_POLY1305_SHA256', tls13: true },
  TLS_FALLBACK_SCSV: { openssl: '' },
};

/** Go cannot disable TLS 1.3 suites, and node disables TLS 1.3 when none is listed: keep them all. */
export const TLS13_SUITES = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
] as const;

/**
 * Go cipher suite names as node's `ciphers` string: the TLS 1.2 suites listed, and the TLS 1.3
 * suites listed or, when none is, all of them (Go cannot narrow TLS 1.3).
 */
export function opensslCipherList(names: readonly string[]): string {
  const tls13: string[] = [];
  const tls12: string[] = [];
  for (const name of names) {
    const suite = CIPHER_SUITES[name];
    if (suite === undefined || suite.openssl === '') continue;
    const list = suite.tls13 === true ? tls13 : tls12;
    if (!list.includes(suite.openssl)) list.push(suite.openssl);
  }
  return [...(tls13.length > 0 ? tls13 : TLS13_SUITES), ...tls12].join(':');
}

/**
 * Traefik's curve names (pkg/tls/tls.go CurveIDs) → OpenSSL group names. The post-quantum
 * hybrids need OpenSSL 3.5 (node 24): an older build refuses the options set that names them.
 */
export const CURVES: Readonly<Record<string, string>> = {
  CurveP256: 'P-256',
  secp256r1: 'P-256',
  CurveP384: 'P-384',
  secp384r1: 'P-384',
  CurveP521: 'P-521',
  secp521r1: 'P-521',
  X25519: 'X25519',
  x25519: 'X25519',
  X25519MLKEM768: 'X25519MLKEM768',
  x25519mlkem768: 'X25519MLKEM768',
  SecP256r1MLKEM768: 'SecP256r1MLKEM768',
  secp256r1mlkem768: 'SecP256r1MLKEM768',
  SecP384r1MLKEM1024: 'SecP384r1MLKEM1024',
  secp384r1mlkem1024: 'SecP384r1MLKEM1024',
};

export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

/** True when a certFile/keyFile/caFiles value holds the PEM itself rather than a path. */
export function isInlinePem(value: string): boolean {
  return value.includes('-----BEGIN ');
}
