/**
 * The OCSP request for one certificate (RFC 6960 4.1), and the CertID it is about: the hashes of
 * the issuer's name and key, and the certificate's serial number.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { nullValue, octetString, oid, sequence, tlv } from '../../core/der.ts';
import { children, content, type Element, readElement } from '../../core/der-reader.ts';

/** The CertID hash algorithms a responder may answer with, by OID. */
export const CERT_ID_HASHES: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const SHA1 = '1.3.14.3.2.26';

/** What a CertID is computed from: the issuer's subject Name (DER) and public key bits. */
export interface CertIdParts {
  /** Content octets of the certificate's serialNumber INTEGER. */
  readonly serial: Buffer;
  readonly issuerName: Buffer;
  /** The issuer's subjectPublicKey BIT STRING value, without its unused-bits octet. */
  readonly issuerKey: Buffer;
}

/** The TBSCertificate fields after the optional version: serial, signature, issuer, validity, subject, spki. */
function tbsFields(der: Buffer): Element[] {
  const [tbs] = children(der, readElement(der));
  if (tbs === undefined) throw new RangeError('certificate without TBSCertificate');
  const fields = children(der, tbs);
  return fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
}

export function certIdParts(leaf: X509Certificate, issuer: X509Certificate): CertIdParts {
  const leafFields = tbsFields(leaf.raw);
  const serial = leafFields[0];
  const issuerDer = issuer.raw;
  const issuerFields = tbsFields(issuerDer);
  const subject = issuerFields[4];
  const spki = issuerFields[5];
  if (serial === undefined || subject === undefined || spki === undefined) {
    throw new RangeError('certificate too short for a CertID');
  }
  const [, key] = children(issuerDer, spki);
  if (key === undefined || key.tag !== 0x03) throw new RangeError('issuer without a public key');
  return {
    serial: Buffer.from(content(leaf.raw, serial)),
    issuerName: Buffer.from(issuerDer.subarray(subject.start, subject.end)),
    issuerKey: Buffer.from(content(issuerDer, key).subarray(1)),
  };
}

/** The two issuer hashes of a CertID made with `hash` (node's digest name). */
export function issuerHashes(parts: CertIdParts, hash: string): { name: Buffer; key: Buffer } {
  return {
    name: createHash(hash).update(parts.issuerName).digest(),
    key: createHash(hash).update(parts.issuerKey).digest(),
  };
}

/**
 * OCSPRequest { TBSRequest { requestList { Request { CertID } } } }, unsigned and without a nonce:
 * stapled responses are shared by every client, so a nonce would only defeat responder caches
 * (RFC 5019 2.1, which Let's Encrypt's responders follow). CertID hashes are SHA-1, the one
 * algorithm every responder must understand (RFC 5019 2.1.1).
 */
export function ocspRequest(parts: CertIdParts): Buffer {
  const h = issuerHashes(parts, 'sha1');
  const certId = sequence(
    sequence(oid(SHA1), nullValue()),
    octetString(h.name),
    octetString(h.key),
    tlv(0x02, parts.serial),
  );
  return sequence(sequence(sequence(sequence(certId))));
}
