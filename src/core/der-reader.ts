/**
 * A minimal DER reader: enough to walk a certificate to its extensions. It checks lengths against
 * the buffer (a malformed certificate throws RangeError rather than reading past the end) and
 * accepts only definite, minimal lengths, as DER requires.
 */

export interface Element {
  /** The identifier octet (single-octet tags only). */
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

export function readElement(der: Uint8Array, offset = 0): Element {
  if (offset + 2 > der.length) throw new RangeError('DER: truncated element');
  const tag = der[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new RangeError('DER: multi-octet tags are not supported');
  const first = der[offset + 1]!;
  let length: number;
  let contentStart = offset + 2;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new RangeError('DER: unsupported length form');
    if (contentStart + count > der.length) throw new RangeError('DER: truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[contentStart + i]!;
    if (length < 0x80 || der[contentStart] === 0) throw new RangeError('DER: non-minimal length');
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > der.length) throw new RangeError('DER: content runs past the end');
  return { tag, start: offset, contentStart, end };
}

/** The elements directly inside a constructed element. */
export function children(der: Uint8Array, parent: Element): Element[] {
  const out: Element[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const child = readElement(der, at);
    if (child.end > parent.end) throw new RangeError('DER: child runs past its parent');
    out.push(child);
    at = child.end;
  }
  return out;
}

export function content(der: Uint8Array, element: Element): Uint8Array {
  return der.subarray(element.contentStart, element.end);
}

/**
 * Octets one arc may take: 20 carry 140 bits, enough for the 128-bit UUID arcs of `2.25` (ITU-T
 * X.667). Unbounded, one arc of n octets cost O(n²) (each octet shifts the whole BigInt): 60 KB
 * of them in a client certificate's subject (the access log's TLSClientSubject, decoded once per
 * connection) held the event loop 750 ms. Go refuses any arc past 31 bits (cryptobyte
 * readBase128Int, behind x509.ParseCertificate), so Traefik never gets such a certificate past
 * its handshake; the class of pyasn1's CVE-2026-59885.
 */
const MAX_ARC_OCTETS = 20;

/** The dotted form of an OBJECT IDENTIFIER's content octets. */
export function decodeOid(bytes: Uint8Array): string {
  const arcs: bigint[] = [];
  let value = 0n;
  let octets = 0;
  for (const byte of bytes) {
    if (++octets > MAX_ARC_OCTETS) throw new RangeError('DER: OID arc too long');
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
      octets = 0;
    }
  }
  const [head, ...rest] = arcs;
  if (head === undefined) throw new RangeError('DER: empty OID');
  const first = head < 80n ? head / 40n : 2n;
  return [first, head - first * 40n, ...rest].join('.');
}
