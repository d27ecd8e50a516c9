/** X.509 v3 extensions (RFC 5280 4.2) used by the server certificates and requests built here. */
import { boolean, namedBits, octetString, oid, sequence } from '../../core/der.ts';
import { encodeGeneralNames, type SubjectName } from './general-names.ts';
import { OID } from './oids.ts';

/**
 * Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }.
 * DER (X.690 11.5) leaves a value equal to its DEFAULT out, so `critical` appears only when true.
 */
export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

/**
 * RFC 5280 4.2.1.6: critical only when the subject is empty, since then the SAN is the sole
 * identity and a relying party that skips it would accept the certificate for anything.
 */
export function subjectAltName(names: readonly SubjectName[], subjectEmpty: boolean): Buffer {
  return extension(OID.subjectAltName, subjectEmpty, encodeGeneralNames(names));
}

/** cA FALSE is the DEFAULT, so DER encodes it as an empty SEQUENCE. */
export function basicConstraintsNotCa(): Buffer {
  return extension(OID.basicConstraints, true, sequence());
}

/** KeyUsage bit 0 is digitalSignature: what ECDHE handshakes need from an ECDSA server key. */
export function keyUsageDigitalSignature(): Buffer {
  return extension(OID.keyUsage, true, namedBits([0]));
}

export function extKeyUsageServerAuth(): Buffer {
  return extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth)));
}

/**
 * RFC 8737 3: the acmeIdentifier extension is critical and its value is the DER encoding of
 * `Authorization ::= OCTET STRING (SIZE (32))`, so extnValue is an OCTET STRING holding an
 * OCTET STRING that holds the SHA-256 digest.
 */
export function acmeIdentifier(digest: Uint8Array): Buffer {
  if (digest.length !== 32) throw new RangeError('acmeIdentifier holds a 32-byte SHA-256 digest');
  return extension(OID.acmeIdentifier, true, octetString(digest));
}
