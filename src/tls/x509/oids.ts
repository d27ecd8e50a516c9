/** Object identifiers used by the certificates and requests built here. */
export const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  countryName: '2.5.4.6',
  subjectAltName: '2.5.29.17',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  /** RFC 8737 3: id-pe-acmeIdentifier ::= { id-pe 31 }. */
  acmeIdentifier: '1.3.6.1.5.5.7.1.31',
  /** PKCS#9 extensionRequest (RFC 2985 5.4.2), the CSR attribute that carries wanted extensions. */
  extensionRequest: '1.2.840.113549.1.9.14',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRsaEncryption: '1.2.840.113549.1.1.11',
  ed25519: '1.3.101.112',
} as const;
