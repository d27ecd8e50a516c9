/**
 * The few DER (X.690) encodings that certificates and CSRs need. Every function returns one
 * complete TLV. Nothing here is on a per-request path: certificates are built at startup, on a
 * config change or for an ACME order, so clarity beats allocation count.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** X.690 8.1.3: short form below 128, else 0x80|n followed by n big-endian length octets. */
export function encodeLength(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`bad DER length ${length}`);
  if (length < 0x80) return Buffer.of(length);
  const octets: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) octets.unshift(n % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

/** One TLV with a single-octet identifier (tag numbers below 31, which is all X.509 uses). */
export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(tag), encodeLength(content.length), content]);
}

export function sequence(...items: readonly Uint8Array[]): Buffer {
  return tlv(TAG.SEQUENCE, Buffer.concat(items));
}

/**
 * A SET OF: X.690 11.6 (DER) orders the elements by their encodings, so signatures computed by
 * different encoders over the same set agree.
 */
export function setOf(...items: readonly Uint8Array[]): Buffer {
  const sorted = [...items].sort((a, b) => Buffer.compare(a, b));
  return tlv(TAG.SET, Buffer.concat(sorted));
}

/**
 * A non-negative INTEGER in the minimal two's-complement form (X.690 8.3.2): leading zero octets
 * dropped, one 0x00 put back when the top bit is set so the value does not read as negative.
 */
export function integer(value: bigint | number | Uint8Array): Buffer {
  let bytes: Uint8Array;
  if (value instanceof Uint8Array) {
    bytes = value;
  } else {
    const big = BigInt(value);
    if (big < 0n) throw new RangeError('only non-negative INTEGERs are supported');
    const hex = big.toString(16);
    bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  }
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  if (trimmed.length === 0) return tlv(TAG.INTEGER, Buffer.of(0));
  const needsPad = (trimmed[0]! & 0x80) !== 0;
  return tlv(TAG.INTEGER, needsPad ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed);
}

/** A BIT STRING; the first content octet counts the unused bits of the last octet (X.690 8.6.2). */
export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  if (unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
    throw new RangeError(`bad unused-bit count ${unusedBits}`);
  }
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.of(unusedBits), bytes]));
}

/**
 * A named-bit-list BIT STRING (KeyUsage) from the numbers of the bits that are set, bit 0 being
 * the most significant bit of the first octet. X.690 11.2.2: trailing zero bits are not encoded.
 */
export function namedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return bitString(Buffer.alloc(0));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc((highest >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return bitString(bytes, 7 - (highest & 7));
}

export function octetString(bytes: Uint8Array): Buffer {
  return tlv(TAG.OCTET_STRING, bytes);
}

export function boolean(value: boolean): Buffer {
  // X.690 11.1: DER encodes TRUE as 0xFF.
  return tlv(TAG.BOOLEAN, Buffer.of(value ? 0xff : 0x00));
}

export function nullValue(): Buffer {
  return Buffer.of(TAG.NULL, 0x00);
}

/** An OBJECT IDENTIFIER from its dotted form; arcs in base 128, the first two as 40*a+b (8.19). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((part) => {
    if (!/^(0|[1-9][0-9]*)$/.test(part)) throw new RangeError(`bad OID ${dotted}`);
    return BigInt(part);
  });
  const [first, second] = arcs;
  if (first === undefined || second === undefined || first > 2n || (first < 2n && second > 39n)) {
    throw new RangeError(`bad OID ${dotted}`);
  }
  const out: number[] = [];
  for (const arc of [first * 40n + second, ...arcs.slice(2)]) {
    const groups: number[] = [Number(arc & 0x7fn)];
    for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) groups.unshift(Number(rest & 0x7fn) | 0x80);
    out.push(...groups);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

export function utf8String(text: string): Buffer {
  return tlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

export function printableString(text: string): Buffer {
  if (!PRINTABLE.test(text)) throw new RangeError(`not a PrintableString: ${JSON.stringify(text)}`);
  return tlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'latin1'));
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: IA5 is exactly the 7-bit range.
const IA5 = /^[\u0000-\u007f]*$/;

/** The bytes of an IA5String (ASCII); callers tag them (dNSName is [2] IMPLICIT IA5String). */
export function ia5Bytes(text: string): Buffer {
  if (!IA5.test(text)) throw new RangeError(`not an IA5String: ${JSON.stringify(text)}`);
  return Buffer.from(text, 'latin1');
}

function digits(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function secondsPart(date: Date): string {
  return (
    digits(date.getUTCMonth() + 1, 2) +
    digits(date.getUTCDate(), 2) +
    digits(date.getUTCHours(), 2) +
    digits(date.getUTCMinutes(), 2) +
    digits(date.getUTCSeconds(), 2)
  );
}

function checkDate(date: Date): void {
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid date');
}

/** YYMMDDHHMMSSZ; fractions of a second are dropped (RFC 5280 4.1.2.5.1). */
export function utcTime(date: Date): Buffer {
  checkDate(date);
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) throw new RangeError(`UTCTime cannot hold the year ${year}`);
  return tlv(TAG.UTC_TIME, Buffer.from(`${digits(year % 100, 2)}${secondsPart(date)}Z`, 'latin1'));
}

/** YYYYMMDDHHMMSSZ without fractional seconds (RFC 5280 4.1.2.5.2). */
export function generalizedTime(date: Date): Buffer {
  checkDate(date);
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`GeneralizedTime cannot hold the year ${year}`);
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(`${digits(year, 4)}${secondsPart(date)}Z`, 'latin1'));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 on (and before 1950). */
export function x509Time(date: Date): Buffer {
  checkDate(date);
  const year = date.getUTCFullYear();
  return year >= 1950 && year <= 2049 ? utcTime(date) : generalizedTime(date);
}

function contextTag(n: number, constructed: boolean): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError(`context tag [${n}] out of range`);
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** [n] EXPLICIT: a constructed context tag wrapping the whole inner TLV. */
export function explicit(n: number, inner: Uint8Array): Buffer {
  return tlv(contextTag(n, true), inner);
}

/**
 * [n] IMPLICIT: the context tag replaces the inner tag. `content` is the inner value's content
 * octets; `constructed` must be true when the replaced type was (SEQUENCE, SET).
 */
export function implicit(n: number, content: Uint8Array, constructed = false): Buffer {
  return tlv(contextTag(n, constructed), content);
}
