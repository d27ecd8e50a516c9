/**
 * Self-signed X.509 v3 certificates (RFC 5280): the default certificate served when none is
 * configured, and the RFC 8737 tls-alpn-01 challenge certificate.
 */
import { createHash, randomBytes } from 'node:crypto';
import { explicit, integer, oid, sequence, setOf, utf8String, x509Time } from '../../core/der.ts';
import { toPem } from '../../core/pem.ts';
import {
  acmeIdentifier,
  basicConstraintsNotCa,
  extKeyUsageServerAuth,
  keyUsageDigitalSignature,
  subjectAltName,
} from './extensions.ts';
import { parseSubjectName, parseSubjectNames, type SubjectName } from './general-names.ts';
import { generateKey } from './keys.ts';
import { OID } from './oids.ts';
import { type Signer, signerFor, signStructure } from './signing.ts';

export interface KeyAndCert {
  readonly keyPem: string;
  readonly certPem: string;
}

export interface SelfSignedOptions {
  /** Validity length in days from notBefore; default 365. */
  readonly days?: number;
  /** Subject and issuer CN; default the first name (when it fits 64 characters). */
  readonly commonName?: string;
  /** Default one hour ago, so a client whose clock is a little behind still accepts it. */
  readonly notBefore?: Date;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** RFC 5280 appendix A.1: ub-common-name INTEGER ::= 64. */
const MAX_COMMON_NAME = 64;
const FALLBACK_COMMON_NAME = 'traffic-management self-signed';

/** Name ::= SEQUENCE OF RelativeDistinguishedName, here one RDN holding the CN. */
export function commonNameName(commonName: string): Buffer {
  return sequence(setOf(sequence(oid(OID.commonName), utf8String(commonName))));
}

/** The first name when it is short enough to be a CN; RFC 5280 4.1.2.4 wants a non-empty issuer. */
function defaultCommonName(names: readonly SubjectName[]): string {
  const first = names[0]?.value;
  return first !== undefined && first.length <= MAX_COMMON_NAME ? first : FALLBACK_COMMON_NAME;
}

/**
 * 16 random bytes, top bit cleared so the INTEGER is positive and the next bit set so it stays
 * 16 octets long: 126 bits of entropy, well inside RFC 5280 4.1.2.2's 20-octet limit, and
 * unpredictable as the CA/B Forum requires of serials.
 */
function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}

interface TbsSpec {
  readonly signer: Signer;
  readonly commonName: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: readonly Buffer[];
}

function selfSign(spec: TbsSpec): string {
  const name = commonNameName(spec.commonName);
  const tbs = sequence(
    explicit(0, integer(2)), // version v3
    integer(randomSerial()),
    spec.signer.algorithm,
    name, // issuer
    sequence(x509Time(spec.notBefore), x509Time(spec.notAfter)),
    name, // subject
    spec.signer.spki,
    explicit(3, sequence(...spec.extensions)),
  );
  return toPem('CERTIFICATE', signStructure(spec.signer, tbs));
}

function checkCommonName(commonName: string): string {
  if (commonName.length === 0 || commonName.length > MAX_COMMON_NAME) {
    throw new RangeError(`commonName must be 1..${MAX_COMMON_NAME} characters`);
  }
  return commonName;
}

/** A self-signed certificate for `names` (DNS names or IP literals), ECDSA P-256, valid `days`. */
export function selfSignedCertificate(names: readonly string[], opts: SelfSignedOptions = {}): KeyAndCert {
  const parsed = parseSubjectNames(names);
  const days = opts.days ?? 365;
  if (!(Number.isFinite(days) && days > 0)) throw new RangeError(`days must be positive, got ${days}`);
  const notBefore = opts.notBefore ?? new Date(Date.now() - HOUR_MS);
  const commonName = checkCommonName(opts.commonName ?? defaultCommonName(parsed));
  const extensions: Buffer[] = [];
  if (parsed.length > 0) extensions.push(subjectAltName(parsed, false));
  extensions.push(basicConstraintsNotCa(), keyUsageDigitalSignature(), extKeyUsageServerAuth());
  const keyPem = generateKey('ec256');
  const certPem = selfSign({
    signer: signerFor(keyPem),
    commonName,
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * DAY_MS),
    extensions,
  });
  return { keyPem, certPem };
}

/**
 * RFC 8737 3: a self-signed certificate whose SAN is exactly the identifier being validated (a
 * dNSName, or an iPAddress per RFC 8738 4) and whose critical acmeIdentifier extension holds
 * SHA-256(keyAuthorization). Served only to the ACME server's `acme-tls/1` handshakes.
 */
export function tlsAlpnChallengeCertificate(name: string, keyAuthorization: string): KeyAndCert {
  const subject = parseSubjectName(name);
  if (subject.value.startsWith('*.')) throw new TypeError('tls-alpn-01 cannot validate a wildcard name');
  const digest = createHash('sha256').update(keyAuthorization, 'utf8').digest();
  const now = Date.now();
  const keyPem = generateKey('ec256');
  const certPem = selfSign({
    signer: signerFor(keyPem),
    commonName: defaultCommonName([subject]),
    notBefore: new Date(now - HOUR_MS),
    notAfter: new Date(now + 7 * DAY_MS),
    extensions: [subjectAltName([subject], false), acmeIdentifier(digest)],
  });
  return { keyPem, certPem };
}
