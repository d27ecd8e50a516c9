/** Facts about a PEM certificate that the certificate store indexes and reports. */
import { X509Certificate } from 'node:crypto';
import { children, content, decodeOid, type Element, readElement } from '../../core/der-reader.ts';
import { certificatePems, firstCertificatePem } from '../../core/pem.ts';
import { decodeGeneralNames } from './general-names.ts';
import { OID } from './oids.ts';

export interface CertificateInfo {
  /**
   * The names the certificate is indexed under, lower-cased: the subject CN first (when there is
   * one), then the SAN dNSNames and iPAddresses (RFC 5952 text for IPv6), without duplicates.
   * Traefik's certificate store indexes the CN alongside the SANs, so this does too; whether a
   * client accepts a CN-only certificate is the client's business.
   */
  readonly names: string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** As node's X509Certificate prints them, e.g. `CN=example.com`. */
  readonly issuer: string;
  readonly subject: string;
  /** SHA-256 of the DER, colon-separated upper-case hex. */
  readonly fingerprint256: string;
}

const STRING_TAGS = new Set([0x0c, 0x13, 0x16, 0x14]); // UTF8, Printable, IA5, Teletex
const BMP_STRING = 0x1e;

function decodeDirectoryString(der: Uint8Array, element: Element): string | undefined {
  const bytes = Buffer.from(content(der, element));
  if (STRING_TAGS.has(element.tag)) return bytes.toString(element.tag === 0x0c ? 'utf8' : 'latin1');
  if (element.tag === BMP_STRING) return bytes.swap16().toString('utf16le');
  return undefined;
}

function tbsFields(der: Uint8Array): Element[] {
  const certificate = readElement(der);
  const [tbs] = children(der, certificate);
  if (tbs === undefined) throw new RangeError('certificate without TBSCertificate');
  const fields = children(der, tbs);
  // The version field is [0] EXPLICIT with DEFAULT v1, so v1 certificates leave it out.
  return fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
}

/** The first value of the attribute `oid` in a Name (issuer or subject), as Go's pkix.Name reads it. */
function nameAttribute(der: Uint8Array, name: Element, oid: string): string | undefined {
  for (const rdn of children(der, name)) {
    for (const attribute of children(der, rdn)) {
      const [type, value] = children(der, attribute);
      if (type === undefined || value === undefined) continue;
      if (decodeOid(content(der, type)) === oid) return decodeDirectoryString(der, value);
    }
  }
  return undefined;
}

function commonName(der: Uint8Array, subject: Element): string | undefined {
  return nameAttribute(der, subject, OID.commonName);
}

/** What the API's certificate views show of a certificate's DER (Traefik's pkg/api/certificate.go). */
export interface CertificateDetails {
  /** X.509 version, 1 when the field is absent (its DEFAULT). */
  readonly version: number;
  /** The outer signatureAlgorithm's OID. */
  readonly signatureOid: string;
  readonly subject: { readonly cn: string; readonly o: string; readonly c: string };
  readonly issuer: { readonly cn: string; readonly o: string; readonly c: string };
  /** The SAN dNSNames and iPAddresses as written (not lower-cased). */
  readonly sans: readonly string[];
}

export function certificateDetails(der: Uint8Array): CertificateDetails {
  const certificate = readElement(der);
  const [tbs, algorithm] = children(der, certificate);
  if (tbs === undefined || algorithm === undefined)
    throw new RangeError('certificate without TBSCertificate');
  const all = children(der, tbs);
  const explicit = all[0]?.tag === 0xa0 ? all[0] : undefined;
  const [versionInt] = explicit === undefined ? [] : children(der, explicit);
  const version = versionInt === undefined ? 1 : (content(der, versionInt).at(-1) ?? 0) + 1;
  const fields = explicit === undefined ? all : all.slice(1);
  const [oid] = children(der, algorithm);
  const name = (el: Element | undefined) => ({
    cn: el === undefined ? '' : (nameAttribute(der, el, OID.commonName) ?? ''),
    o: el === undefined ? '' : (nameAttribute(der, el, OID.organizationName) ?? ''),
    c: el === undefined ? '' : (nameAttribute(der, el, OID.countryName) ?? ''),
  });
  return {
    version,
    signatureOid: oid === undefined ? '' : decodeOid(content(der, oid)),
    issuer: name(fields[2]),
    subject: name(fields[4]),
    sans: subjectAltNames(der, fields),
  };
}

function subjectAltNames(der: Uint8Array, fields: readonly Element[]): string[] {
  const wrapper = fields.find((field) => field.tag === 0xa3);
  const [list] = wrapper === undefined ? [] : children(der, wrapper);
  if (list === undefined) return [];
  for (const ext of children(der, list)) {
    const parts = children(der, ext);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (id === undefined || value === undefined) continue;
    if (decodeOid(content(der, id)) !== OID.subjectAltName) continue;
    return decodeGeneralNames(content(der, value)).map((name) => name.value);
  }
  return [];
}

/** Parsed facts about a PEM certificate chain's leaf (the first certificate). Throws on bad PEM. */
export function certificateInfo(certPem: string): CertificateInfo {
  const leaf = firstCertificatePem(certPem);
  if (leaf === undefined) throw new TypeError('no PEM CERTIFICATE block found');
  const x509 = new X509Certificate(leaf);
  const der = x509.raw;
  const fields = tbsFields(der);
  // TBSCertificate after the version: serial, signature, issuer, validity, subject, ...
  const subject = fields[4];
  const cn = subject === undefined ? undefined : commonName(der, subject);
  const names: string[] = [];
  for (const name of [cn, ...subjectAltNames(der, fields)]) {
    if (name === undefined || name.length === 0) continue;
    const lower = name.toLowerCase();
    if (!names.includes(lower)) names.push(lower);
  }
  return {
    names,
    notBefore: x509.validFromDate,
    notAfter: x509.validToDate,
    issuer: x509.issuer,
    subject: x509.subject,
    fingerprint256: x509.fingerprint256,
  };
}

/**
 * The issuer common name of the last certificate of a chain's issuers (the leaf left out): the
 * root a chain leads to, as lego's hasPreferredChain reads it for `preferredChain`. Undefined for
 * a chain without issuers or an issuer name without CN.
 */
export function chainRootName(chainPem: string): string | undefined {
  const pems = certificatePems(chainPem);
  const top = pems.length < 2 ? undefined : pems[pems.length - 1];
  if (top === undefined) return undefined;
  const der = new X509Certificate(top).raw;
  // TBSCertificate after the version: serial, signature, issuer, ...
  const issuer = tbsFields(der)[2];
  return issuer === undefined ? undefined : commonName(der, issuer);
}
