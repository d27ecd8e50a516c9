import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeGeneralNames,
  encodeGeneralNames,
  formatIp,
  parseSubjectName,
  parseSubjectNames,
} from './general-names.ts';

const v6 = (text: string): Buffer => Buffer.from(text.replaceAll(':', ''), 'hex');

describe('subject names', () => {
  it('classifies IP literals as iPAddress and everything else as dNSName', () => {
    assert.deepEqual(parseSubjectName('127.0.0.1'), {
      kind: 'ip',
      value: '127.0.0.1',
      bytes: Buffer.of(127, 0, 0, 1),
    });
    assert.equal(parseSubjectName('::1').kind, 'ip');
    assert.equal(parseSubjectName('[2001:db8::1]').value, '2001:db8::1');
    assert.deepEqual(parseSubjectName('Example.COM.'), { kind: 'dns', value: 'example.com' });
    assert.deepEqual(parseSubjectName('*.example.com'), { kind: 'dns', value: '*.example.com' });
    assert.deepEqual(parseSubjectName('_acme-challenge.a1.test'), {
      kind: 'dns',
      value: '_acme-challenge.a1.test',
    });
  });

  it('writes IPv6 addresses in their RFC 5952 canonical form', () => {
    assert.equal(parseSubjectName('2001:0DB8:0000:0000:0000:0000:0000:0001').value, '2001:db8::1');
    assert.equal(parseSubjectName('::ffff:1.2.3.4').value, '::ffff:102:304');
  });

  it('rejects names that are neither a host name nor an IP literal', () => {
    for (const bad of [
      '',
      '.',
      'a..b',
      '-a.test',
      'a-.test',
      'exa mple.test',
      'bücher.test',
      '*',
      'a.*.test',
      '*a.test',
      '1.2.3.04:80',
      'fe80::1%eth0',
      `${'a'.repeat(64)}.test`,
    ]) {
      assert.throws(() => parseSubjectName(bad), TypeError, bad);
    }
  });

  it('drops duplicates after normalisation and keeps the first order', () => {
    const names = parseSubjectNames(['B.test', 'a.test', 'b.test.', '::1', '0:0::1']).map((n) => n.value);
    assert.deepEqual(names, ['b.test', 'a.test', '::1']);
  });
});

describe('GeneralNames', () => {
  it('encodes dNSName as [2] IA5String and iPAddress as [7] OCTET STRING', () => {
    const der = encodeGeneralNames(parseSubjectNames(['a.b', '127.0.0.1']));
    assert.equal(der.toString('hex'), '300b8203612e6287047f000001');
  });

  it('reads back the names it wrote', () => {
    const names = parseSubjectNames([
      'example.test',
      '*.example.test',
      '10.1.2.3',
      '2001:db8::8:800:200c:417a',
    ]);
    assert.deepEqual(decodeGeneralNames(encodeGeneralNames(names)), names);
  });

  it('skips kinds it does not produce (rfc822Name, URI)', () => {
    // [1] rfc822Name "a.b", then [2] dNSName "a.b.c"
    const der = Buffer.from('300c8103612e628205612e622e63', 'hex');
    assert.deepEqual(decodeGeneralNames(der), [{ kind: 'dns', value: 'a.b.c' }]);
  });

  it('refuses an empty list, which RFC 5280 forbids (SIZE 1..MAX)', () => {
    assert.throws(() => encodeGeneralNames([]), RangeError);
  });
});

describe('formatIp', () => {
  it('compresses the longest run of zero groups, the first one on a tie', () => {
    assert.equal(formatIp(v6('2001:0db8:0000:0000:0001:0000:0000:0001')), '2001:db8::1:0:0:1');
    assert.equal(formatIp(v6('2001:0db8:0000:0001:0000:0000:0000:0001')), '2001:db8:0:1::1');
    assert.equal(formatIp(Buffer.alloc(16)), '::');
    assert.equal(formatIp(v6('0001:0000:0000:0000:0000:0000:0000:0000')), '1::');
  });

  it('leaves a single zero group uncompressed', () => {
    assert.equal(formatIp(v6('2001:0db8:0000:0001:0001:0001:0001:0001')), '2001:db8:0:1:1:1:1:1');
  });

  it('prints IPv4 as a dotted quad', () => {
    assert.equal(formatIp(Buffer.of(192, 0, 2, 1)), '192.0.2.1');
  });
});
