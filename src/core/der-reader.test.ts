import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { integer, octetString, oid, sequence, utf8String } from './der.ts';
import { children, content, decodeOid, readElement } from './der-reader.ts';

describe('DER reader', () => {
  it('reads back what the encoder wrote, including long-form lengths', () => {
    const der = sequence(integer(5), octetString(Buffer.alloc(300, 7)), utf8String('x'));
    const root = readElement(der);
    assert.equal(root.tag, 0x30);
    assert.equal(root.end, der.length);
    const [first, second, third] = children(der, root);
    assert.deepEqual(Buffer.from(content(der, first!)), Buffer.of(5));
    assert.equal(second!.tag, 0x04);
    assert.equal(content(der, second!).length, 300);
    assert.equal(Buffer.from(content(der, third!)).toString(), 'x');
  });

  it('decodes object identifiers to their dotted form', () => {
    for (const dotted of [
      '2.5.29.17',
      '1.2.840.113549.1.9.14',
      '1.3.6.1.5.5.7.1.31',
      '2.999.3',
      '0.9.2342',
    ]) {
      const der = oid(dotted);
      assert.equal(decodeOid(content(der, readElement(der))), dotted);
    }
  });

  it('keeps 128-bit UUID arcs and refuses an arc longer than 20 octets (quadratic decoding)', () => {
    const uuid = '2.25.329800735698586629295641978511506172918';
    const der = oid(uuid);
    assert.equal(decodeOid(content(der, readElement(der))), uuid);
    // 60 KB of continuation octets: one arc of 420,000 bits.
    const huge = new Uint8Array(60_000).fill(0xff);
    huge[0] = 0x2a;
    huge[huge.length - 1] = 0x7f;
    assert.throws(() => decodeOid(huge), /OID arc too long/);
    // Many short arcs stay fine.
    const many = new Uint8Array(60_000).fill(0x01);
    assert.equal(decodeOid(many).split('.').length, 60_001);
  });

  it('rejects content that runs past the end of the buffer', () => {
    assert.throws(() => readElement(Buffer.from('3005020101', 'hex')), RangeError);
    assert.throws(() => readElement(Buffer.from('30', 'hex')), RangeError);
    assert.throws(() => readElement(Buffer.from('3082ff', 'hex')), RangeError);
  });

  it('rejects non-minimal and indefinite lengths, which DER forbids', () => {
    assert.throws(() => readElement(Buffer.from('30810100', 'hex')), RangeError);
    assert.throws(() => readElement(Buffer.from('3082000100', 'hex')), RangeError);
    assert.throws(() => readElement(Buffer.from('30800000', 'hex')), RangeError);
  });

  it('rejects a child that overruns its parent', () => {
    const der = Buffer.from('3003020201ff', 'hex');
    assert.throws(() => children(der, readElement(der)), RangeError);
  });
});
