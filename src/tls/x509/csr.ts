/** PKCS#10 certificate signing requests (RFC 2986), as ACME finalize wants them (RFC 8555 7.4). */
import { commonNameName } from './certificate.ts';
import { implicit, integer, oid, sequence, setOf } from './der.ts';
import { subjectAltName } from './extensions.ts';
import { parseSubjectNames } from './general-names.ts';
import { OID } from './oids.ts';
import { toPem } from './pem.ts';
import { signerFor, signStructure } from './signing.ts';

/**
 * A PKCS#10 CSR (PEM) for `names` signed with `keyPem` (EC P-256/P-384 or RSA). Every name goes
 * into a subjectAltName carried by the extensionRequest attribute (RFC 2985 5.4.2); the first
 * one is also the subject CN when it fits 64 characters, otherwise the subject is empty and the
 * SAN is critical (RFC 5280 4.2.1.6). ACME servers read the SAN; the CN is for humans.
 */
export function certificateRequest(keyPem: string, names: readonly string[]): string {
  const parsed = parseSubjectNames(names);
  const first = parsed[0];
  if (first === undefined) throw new RangeError('a certificate request needs at least one name');
  const withCn = first.value.length <= 64;
  const signer = signerFor(keyPem);
  const extensionRequest = sequence(
    oid(OID.extensionRequest),
    setOf(sequence(subjectAltName(parsed, !withCn))),
  );
  const info = sequence(
    integer(0), // version v1
    withCn ? commonNameName(first.value) : sequence(),
    signer.spki,
    // attributes [0] IMPLICIT SET OF Attribute: the SET's content under a constructed [0] tag.
    implicit(0, extensionRequest, true),
  );
  return toPem('CERTIFICATE REQUEST', signStructure(signer, info));
}
