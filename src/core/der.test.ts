import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bitString,
  boolean,
  encodeLength,
  explicit,
  generalizedTime,
  ia5Bytes,
  implicit,
  integer,
  namedBits,
  nullValue,
  octetString,
  oid,
  printableString,
  sequence,
  setOf,
  utcTime,
  utf8String,
  x509Time,
} from './der.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('DER lengths', () => {
  it('uses the short form below 128 and the minimal long form above', () => {
    assert.equal(hex(encodeLength(0)), '00');
    assert.equal(hex(encodeLength(127)), '7f');
    assert.equal(hex(encodeLength(128)), '8180');
    assert.equal(hex(encodeLength(255)), '81ff');
    assert.equal(hex(encodeLength(256)), '820100');
    assert.equal(hex(encodeLength(65536)), '83010000');
  });

  it('switches a SEQUENCE to the long-form length when its content reaches 128 octets', () => {
    assert.equal(hex(sequence(octetString(Buffer.alloc(125))).subarray(0, 4)), '307f047d');
    const long = sequence(octetString(Buffer.alloc(126)));
    assert.equal(hex(long.subarray(0, 5)), '308180047e');
    assert.equal(long.length, 3 + 128);
  });

  it('rejects negative and fractional lengths', () => {
    assert.throws(() => encodeLength(-1), RangeError);
    assert.throws(() => encodeLength(1.5), RangeError);
  });
});

describe('DER INTEGER', () => {
  it('encodes small numbers in one octet and pads a set top bit with 0x00', () => {
    assert.equal(hex(integer(0)), '020100');
    assert.equal(hex(integer(2)), '020102');
    assert.equal(hex(integer(127)), '02017f');
    assert.equal(hex(integer(128)), '02020080');
    assert.equal(hex(integer(256)), '02020100');
    assert.equal(hex(integer(65537)), '0203010001');
  });

  it('encodes bigints beyond 2^53', () => {
    assert.equal(hex(integer(2n ** 64n)), '0209010000000000000000');
    assert.equal(hex(integer(2n ** 63n)), '0209008000000000000000');
  });

  it('strips leading zero octets from raw bytes and keeps the value positive', () => {
    assert.equal(hex(integer(Buffer.from('00007f', 'hex'))), '02017f');
    assert.equal(hex(integer(Buffer.from('0000ff01', 'hex'))), '020300ff01');
    assert.equal(hex(integer(Buffer.from('80', 'hex'))), '02020080');
    assert.equal(hex(integer(Buffer.from('0000', 'hex'))), '020100');
    assert.equal(hex(integer(Buffer.alloc(0))), '020100');
  });

  it('refuses negative values', () => {
    assert.throws(() => integer(-1), RangeError);
    assert.throws(() => integer(-1n), RangeError);
  });
});

describe('DER OBJECT IDENTIFIER', () => {
  it('matches the encodings of well-known identifiers', () => {
    assert.equal(hex(oid('1.2.840.113549')), '06062a864886f70d');
    assert.equal(hex(oid('2.5.4.3')), '0603550403');
    assert.equal(hex(oid('2.5.29.17')), '0603551d11');
    assert.equal(hex(oid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
    assert.equal(hex(oid('1.3.6.1.5.5.7.1.31')), '06082b0601050507011f');
  });

  it('folds a large second arc under the joint-iso-itu-t root (X.690 8.19.5 example)', () => {
    assert.equal(hex(oid('2.999.3')), '0603883703');
  });

  it('rejects malformed identifiers', () => {
    for (const bad of ['', '1', '3.1', '1.40', '1.2.a', '1..2', '1.02']) {
      assert.throws(() => oid(bad), RangeError, bad);
    }
  });
});

describe('DER primitives', () => {
  it('encodes BOOLEAN TRUE as 0xff and NULL as 05 00', () => {
    assert.equal(hex(boolean(true)), '0101ff');
    assert.equal(hex(boolean(false)), '010100');
    assert.equal(hex(nullValue()), '0500');
  });

  it('prefixes BIT STRING content with the unused-bit count', () => {
    assert.equal(hex(bitString(Buffer.from('0a3b', 'hex'))), '0303000a3b');
    assert.equal(hex(bitString(Buffer.alloc(0))), '030100');
    assert.throws(() => bitString(Buffer.of(1), 8), RangeError);
    assert.throws(() => bitString(Buffer.alloc(0), 1), RangeError);
  });

  it('encodes named bit lists without trailing zero bits (KeyUsage)', () => {
    assert.equal(hex(namedBits([0])), '03020780'); // digitalSignature
    assert.equal(hex(namedBits([0, 2, 5])), '030202a4'); // + keyEncipherment, keyCertSign
    assert.equal(hex(namedBits([8])), '0303070080'); // decipherOnly
    assert.equal(hex(namedBits([])), '030100');
  });

  it('encodes strings with their own tags', () => {
    assert.equal(hex(octetString(Buffer.from('0102', 'hex'))), '04020102');
    assert.equal(hex(utf8String('é')), '0c02c3a9');
    assert.equal(hex(printableString('Ab 1')), '130441622031');
    assert.equal(hex(ia5Bytes('a.b')), '612e62');
  });

  it('rejects characters outside PrintableString and IA5String', () => {
    assert.throws(() => printableString('a@b'), RangeError);
    assert.throws(() => printableString('*'), RangeError);
    assert.throws(() => ia5Bytes('é'), RangeError);
  });

  it('encodes the CN=example.test Name exactly as OpenSSL does', () => {
    const name = sequence(setOf(sequence(oid('2.5.4.3'), utf8String('example.test'))));
    assert.equal(name.toString('base64'), 'MBcxFTATBgNVBAMMDGV4YW1wbGUudGVzdA==');
  });
});

describe('DER constructed types and tags', () => {
  it('encodes an empty SEQUENCE', () => {
    assert.equal(hex(sequence()), '3000');
  });

  it('sorts SET OF elements by their encodings', () => {
    assert.equal(hex(setOf(integer(2), integer(1), integer(256))), '310a02010102010202020100');
  });

  it('wraps the whole inner TLV for EXPLICIT tags and replaces the tag for IMPLICIT ones', () => {
    assert.equal(hex(explicit(0, integer(2))), 'a003020102');
    assert.equal(hex(explicit(3, sequence())), 'a3023000');
    assert.equal(hex(implicit(2, ia5Bytes('a'))), '820161');
    assert.equal(hex(implicit(7, Buffer.of(127, 0, 0, 1))), '87047f000001');
    assert.equal(hex(implicit(0, integer(1), true)), 'a003020101');
  });

  it('rejects context tags that do not fit one identifier octet', () => {
    assert.throws(() => explicit(31, sequence()), RangeError);
    assert.throws(() => implicit(-1, Buffer.alloc(0)), RangeError);
  });
});

describe('DER times', () => {
  const ascii = (bytes: Uint8Array): string => Buffer.from(bytes.subarray(2)).toString('latin1');

  it('writes UTCTime as YYMMDDHHMMSSZ and drops milliseconds', () => {
    const encoded = utcTime(new Date('2026-11-05T02:03:04.999Z'));
    assert.equal(encoded[0], 0x17);
    assert.equal(ascii(encoded), '261105020304Z');
  });

  it('writes GeneralizedTime with a four-digit year', () => {
    const encoded = generalizedTime(new Date('2050-01-01T00:00:00Z'));
    assert.equal(hex(encoded.subarray(0, 2)), '180f');
    assert.equal(ascii(encoded), '20500101000000Z');
  });

  it('switches from UTCTime to GeneralizedTime at 2050 (RFC 5280 4.1.2.5)', () => {
    assert.equal(x509Time(new Date('2049-12-31T23:59:59Z'))[0], 0x17);
    assert.equal(x509Time(new Date('2050-01-01T00:00:00Z'))[0], 0x18);
    assert.equal(x509Time(new Date('1950-01-01T00:00:00Z'))[0], 0x17);
    assert.equal(x509Time(new Date('1949-12-31T23:59:59Z'))[0], 0x18);
  });

  it('refuses years UTCTime cannot hold and invalid dates', () => {
    assert.throws(() => utcTime(new Date('2050-01-01T00:00:00Z')), RangeError);
    assert.throws(() => utcTime(new Date('1949-12-31T00:00:00Z')), RangeError);
    assert.throws(() => x509Time(new Date(Number.NaN)), RangeError);
  });
});
