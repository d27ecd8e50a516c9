/** PKCS#10 certificate signing requests (RFC 2986), as ACME finalize wants them (RFC 8555 7.4). */

import { ia5Bytes, implicit, integer, oid, sequence, setOf } from '../../core/der.ts';
import { toPem } from '../../core/pem.ts';
import { commonNameName } from './certificate.ts';
import { extension, subjectAltName } from './extensions.ts';
import { parseSubjectNames } from './general-names.ts';
import { OID } from './oids.ts';
import { signerFor, signStructure } from './signing.ts';

/**
 * A PKCS#10 CSR (PEM) for `names` signed with `keyPem` (EC P-256/P-384 or RSA). Every name goes
 * into a subjectAltName carried by the extensionRequest attribute (RFC 2985 5.4.2); the first
 * one is also the subject CN when it fits 64 characters, otherwise the subject is empty and the
 * SAN is critical (RFC 5280 4.2.1.6). ACME servers read the SAN; the CN is for humans.
 * `commonName: false` leaves the subject empty whatever the length (Traefik's
 * `disableCommonName`: lego's certificate.go getForOrder puts domains[0] in the CN only when it
 * fits 64 bytes and the common name is enabled).
 */
export function certificateRequest(
  keyPem: string,
  names: readonly string[],
  emailAddresses: readonly string[] = [],
  commonName = true,
): string {
  const parsed = parseSubjectNames(names);
  const first = parsed[0];
  if (first === undefined) throw new RangeError('a certificate request needs at least one name');
  const withCn = commonName && first.value.length <= 64;
  const signer = signerFor(keyPem);
  // Email addresses are rfc822Name [1] entries, after the DNS names and before the IP addresses,
  // where Go's x509.CreateCertificateRequest (lego's CSROptions.EmailAddresses) puts them.
  const san =
    emailAddresses.length === 0
      ? subjectAltName(parsed, !withCn)
      : extension(
          OID.subjectAltName,
          !withCn,
          sequence(
            ...parsed.flatMap((n) => (n.kind === 'dns' ? [implicit(2, ia5Bytes(n.value))] : [])),
            ...emailAddresses.map((e) => implicit(1, ia5Bytes(e))),
            ...parsed.flatMap((n) => (n.kind === 'ip' ? [implicit(7, n.bytes)] : [])),
          ),
        );
  const extensionRequest = sequence(oid(OID.extensionRequest), setOf(sequence(san)));
  const info = sequence(
    integer(0), // version v1
    withCn ? commonNameName(first.value) : sequence(),
    signer.spki,
    // attributes [0] IMPLICIT SET OF Attribute: the SET's content under a constructed [0] tag.
    implicit(0, extensionRequest, true),
  );
  return toPem('CERTIFICATE REQUEST', signStructure(signer, info));
}
