/**
 * X.509 for the TLS module: self-signed certificates (the default certificate), PKCS#10 requests
 * and tls-alpn-01 challenge certificates for ACME, and facts about configured certificates.
 * Built on node:crypto and a small DER encoder; no third-party code.
 */

export type { KeyAndCert, SelfSignedOptions } from './certificate.ts';
export { selfSignedCertificate, tlsAlpnChallengeCertificate } from './certificate.ts';
export type { CertificateInfo } from './certificate-info.ts';
export { certificateInfo, chainRootName } from './certificate-info.ts';
export { missingIssuer, TrustedRoots } from './chain.ts';
export { certificateRequest } from './csr.ts';
export type { KeyType } from './keys.ts';
export { generateKey, generateKeyAsync, keyMatchesCertificate } from './keys.ts';
