/**
 * Reading and checking an OCSP response (RFC 6960 4.2) before it is stapled: the client checks
 * it too, but a broken or foreign response must not replace a good one, and a client that
 * requires stapling (must-staple) would fail every handshake on it.
 */
import { verify, X509Certificate } from 'node:crypto';
import { children, content, decodeOid, type Element, readElement } from '../../core/der-reader.ts';
import { CERT_ID_HASHES, type CertIdParts, issuerHashes } from './ocsp-request.ts';

export type CertStatus = 'good' | 'revoked' | 'unknown';

export interface OcspResponse {
  readonly status: CertStatus;
  /** Epoch ms. */
  readonly thisUpdate: number;
  /** Epoch ms; absent when the responder says newer information is always available. */
  readonly nextUpdate: number | undefined;
  readonly revokedAt: number | undefined;
}

const BASIC = '1.3.6.1.5.5.7.48.1.1';
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
/** Clocks disagree; a response dated a little ahead is still fine (RFC 5019 4 allows for skew). */
const SKEW_MS = 5 * 60_000;

/** Signature algorithms by OID → the digest for crypto.verify (null: the key type decides). */
const SIGNATURE_HASHES: Readonly<Record<string, string | null>> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null,
};

/** `responseStatus` values other than successful (RFC 6960 4.2.1). */
const RESPONSE_STATUS: Readonly<Record<number, string>> = {
  1: 'malformedRequest',
  2: 'internalError',
  3: 'tryLater',
  5: 'sigRequired',
  6: 'unauthorized',
};

class Reader {
  readonly der: Buffer;
  constructor(der: Buffer) {
    this.der = der;
  }
  kids(e: Element): Element[] {
    return children(this.der, e);
  }
  bytes(e: Element): Buffer {
    return Buffer.from(content(this.der, e));
  }
  whole(e: Element): Buffer {
    return this.der.subarray(e.start, e.end);
  }
  expect(e: Element | undefined, tag: number, what: string): Element {
    if (e === undefined || e.tag !== tag) throw new RangeError(`${what} missing or malformed`);
    return e;
  }
  time(e: Element | undefined, what: string): number {
    const t = this.expect(e, 0x18, what);
    const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d+)?Z$/.exec(this.bytes(t).toString('latin1'));
    if (m === null) throw new RangeError(`${what}: not a GeneralizedTime`);
    const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
    return Date.UTC(y, mo - 1, d, h, mi, s);
  }
}

/** The response's signer: the issuer itself, or a certificate it issued for OCSP signing. */
function signerKeys(r: Reader, basic: Element[], issuer: X509Certificate, now: number): X509Certificate[] {
  const out = [issuer];
  const wrapper = basic[3];
  if (wrapper?.tag !== 0xa0) return out;
  const [list] = r.kids(wrapper);
  for (const c of list === undefined ? [] : r.kids(list)) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(r.whole(c));
    } catch {
      continue;
    }
    // RFC 6960 4.2.2.2: a delegated responder is issued by the CA and carries id-kp-OCSPSigning.
    const valid = Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
    if (
      valid &&
      cert.keyUsage?.includes(OCSP_SIGNING) &&
      cert.checkIssued(issuer) &&
      cert.verify(issuer.publicKey)
    ) {
      out.push(cert);
    }
  }
  return out;
}

/**
 * Parses `der` as the response for the certificate whose CertID is made of `parts`, issued by
 * `issuer`: successful, a basic response, signed by the issuer or its delegated responder, with
 * an answer for this certificate that is current at `now`. Throws a RangeError saying what is
 * wrong otherwise.
 */
export function parseOcspResponse(
  der: Buffer,
  parts: CertIdParts,
  issuer: X509Certificate,
  now: number,
): OcspResponse {
  const r = new Reader(der);
  const top = r.expect(readElement(der), 0x30, 'OCSPResponse');
  if (top.end !== der.length) throw new RangeError('trailing bytes after the OCSPResponse');
  const [statusEl, bytesEl] = r.kids(top);
  const status = r.bytes(r.expect(statusEl, 0x0a, 'responseStatus'))[0] ?? -1;
  if (status !== 0)
    throw new RangeError(`responder answered ${RESPONSE_STATUS[status] ?? `status ${status}`}`);
  const [responseBytes] = r.kids(r.expect(bytesEl, 0xa0, 'responseBytes'));
  const [typeEl, octets] = r.kids(r.expect(responseBytes, 0x30, 'responseBytes'));
  if (decodeOid(r.bytes(r.expect(typeEl, 0x06, 'responseType'))) !== BASIC) {
    throw new RangeError('not a basic OCSP response');
  }
  const inner = r.expect(octets, 0x04, 'response');
  const basicEl = r.expect(readElement(der, inner.contentStart), 0x30, 'BasicOCSPResponse');
  const basic = r.kids(basicEl);
  const tbs = r.expect(basic[0], 0x30, 'tbsResponseData');
  const algorithm = r.kids(r.expect(basic[1], 0x30, 'signatureAlgorithm'))[0];
  const signature = r.bytes(r.expect(basic[2], 0x03, 'signature')).subarray(1);
  const sigOid = decodeOid(r.bytes(r.expect(algorithm, 0x06, 'signatureAlgorithm')));
  const hash = SIGNATURE_HASHES[sigOid];
  if (hash === undefined) throw new RangeError(`unsupported signature algorithm ${sigOid}`);
  const signed = signerKeys(r, basic, issuer, now).some((c) => {
    try {
      return verify(hash, r.whole(tbs), c.publicKey, signature);
    } catch {
      return false;
    }
  });
  if (!signed) throw new RangeError('signature does not verify with the issuer or a delegated responder');

  let fields = r.kids(tbs);
  if (fields[0]?.tag === 0xa0) fields = fields.slice(1); // version, DEFAULT v1
  const responses = r.kids(r.expect(fields[2], 0x30, 'responses'));
  for (const single of responses) {
    const [certId, certStatus, thisUpdateEl, ...rest] = r.kids(single);
    if (!matches(r, r.expect(certId, 0x30, 'certID'), parts)) continue;
    const thisUpdate = r.time(thisUpdateEl, 'thisUpdate');
    const nextEl = rest[0]?.tag === 0xa0 ? r.kids(rest[0])[0] : undefined;
    const nextUpdate = nextEl === undefined ? undefined : r.time(nextEl, 'nextUpdate');
    if (thisUpdate > now + SKEW_MS)
      throw new RangeError('response is not valid yet (thisUpdate ahead of the clock)');
    if (nextUpdate !== undefined && nextUpdate <= now)
      throw new RangeError('response has expired (nextUpdate passed)');
    if (certStatus === undefined) throw new RangeError('certStatus missing');
    if (certStatus.tag === 0x80) return { status: 'good', thisUpdate, nextUpdate, revokedAt: undefined };
    if (certStatus.tag === 0x82) return { status: 'unknown', thisUpdate, nextUpdate, revokedAt: undefined };
    if (certStatus.tag === 0xa1) {
      const revokedAt = r.time(r.kids(certStatus)[0], 'revocationTime');
      return { status: 'revoked', thisUpdate, nextUpdate, revokedAt };
    }
    throw new RangeError('certStatus malformed');
  }
  throw new RangeError('no answer for this certificate in the response');
}

function matches(r: Reader, certId: Element, parts: CertIdParts): boolean {
  const [alg, nameHash, keyHash, serial] = r.kids(certId);
  const algOid = r.kids(r.expect(alg, 0x30, 'hashAlgorithm'))[0];
  const hash = CERT_ID_HASHES[decodeOid(r.bytes(r.expect(algOid, 0x06, 'hashAlgorithm')))];
  if (hash === undefined) return false;
  if (!r.bytes(r.expect(serial, 0x02, 'serialNumber')).equals(parts.serial)) return false;
  const h = issuerHashes(parts, hash);
  return (
    r.bytes(r.expect(nameHash, 0x04, 'issuerNameHash')).equals(h.name) &&
    r.bytes(r.expect(keyHash, 0x04, 'issuerKeyHash')).equals(h.key)
  );
}
