import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipBlockContains, parseIPv4, parseIPv6, parseIpBlock } from './ip.ts';

function v6(s: string): number[] | undefined {
  const out = new Uint16Array(8);
  return parseIPv6(s, out) ? [...out] : undefined;
}

function contains(block: string, ip: string): boolean {
  const b = parseIpBlock(block);
  assert.ok(b, `${block} should parse`);
  return ipBlockContains(b, ip, new Uint16Array(8));
}

describe('parseIPv4', () => {
  it('parses dotted quads', () => {
    assert.equal(parseIPv4('192.168.1.2'), 0xc0a80102);
    assert.equal(parseIPv4('0.0.0.0'), 0);
    assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
  });

  it('rejects what Go rejects', () => {
    for (const s of [
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '01.2.3.4',
      '1..2.3',
      '1.2.3.4.',
      'a.b.c.d',
      '',
      '1.2.3.-4',
    ]) {
      assert.equal(parseIPv4(s), -1, s);
    }
  });
});

describe('parseIPv6', () => {
  it('parses full, compressed and dotted-quad forms', () => {
    assert.deepEqual(v6('2001:db8:0:0:0:0:0:1'), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(v6('2001:db8::1'), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(v6('::'), [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(v6('::1'), [0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(v6('fe80::'), [0xfe80, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(v6('::ffff:10.1.2.3'), [0, 0, 0, 0, 0, 0xffff, 0x0a01, 0x0203]);
    assert.deepEqual(v6('1:2:3:4:5:6:1.2.3.4'), [1, 2, 3, 4, 5, 6, 0x0102, 0x0304]);
    assert.deepEqual(v6('A:B::C'), [0xa, 0xb, 0, 0, 0, 0, 0, 0xc]);
  });

  it('rejects malformed addresses', () => {
    for (const s of [
      ':',
      ':1',
      '1:',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      'g::',
      '1:2:3:4:5:6:7',
      'fe80::1%eth0',
      '1.2.3.4::',
      '::1.2.3',
    ]) {
      assert.equal(v6(s), undefined, s);
    }
  });
});

describe('ClientIP blocks', () => {
  it('matches a single IPv4 address exactly', () => {
    assert.ok(contains('10.0.0.1', '10.0.0.1'));
    assert.ok(!contains('10.0.0.1', '10.0.0.2'));
  });

  it('matches IPv4 CIDRs, host bits in the block ignored as Go does', () => {
    assert.ok(contains('192.168.1.0/24', '192.168.1.200'));
    assert.ok(!contains('192.168.1.0/24', '192.168.2.1'));
    assert.ok(contains('192.168.1.77/24', '192.168.1.1'));
    assert.ok(contains('0.0.0.0/0', '8.8.8.8'));
  });

  it('matches IPv6 CIDRs and single addresses', () => {
    assert.ok(contains('2001:db8::/32', '2001:db8:ffff::1'));
    assert.ok(!contains('2001:db8::/32', '2001:db9::1'));
    assert.ok(contains('2001:db8::/33', '2001:db8:7fff::1'));
    assert.ok(!contains('2001:db8::/33', '2001:db8:8000::1'));
    assert.ok(contains('::1', '::1'));
    assert.ok(contains('::/0', '2001:db8::1'));
  });

  it('treats IPv4-mapped IPv6 addresses as IPv4 on both sides', () => {
    assert.ok(contains('10.0.0.0/8', '::ffff:10.1.2.3'));
    assert.ok(contains('::ffff:10.0.0.0/104', '10.9.9.9'));
    assert.ok(!contains('::ffff:10.0.0.0/104', '11.0.0.1'));
  });

  it('never matches across families', () => {
    assert.ok(!contains('10.0.0.0/8', '2001:db8::1'));
    assert.ok(!contains('::/0', '10.0.0.1'));
  });

  it('does not match an unparsable client address', () => {
    assert.ok(!contains('10.0.0.0/8', ''));
    assert.ok(!contains('10.0.0.0/8', 'unix:/tmp/s'));
  });

  it('rejects invalid blocks', () => {
    for (const s of ['1', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '::/129', 'x::/8', '10.0.0.0/8/8']) {
      assert.equal(parseIpBlock(s), undefined, s);
    }
  });

  it("takes an IPv6 zone on an address and compares without it, as Traefik's checker (canonicalAddr)", () => {
    assert.ok(contains('fe80::1%eth0', 'fe80::1'));
    assert.ok(contains('fe80::1%eth0', 'fe80::1%eth1'));
    assert.ok(contains('fe80::/10', 'fe80::1%eth0'));
    assert.ok(!contains('fe80::1%eth0', 'fe80::2%eth0'));
    // Go's netip.ParseAddr: an empty zone, or one on an IPv4 address, is no address.
    assert.ok(!contains('fe80::/10', 'fe80::1%'));
    for (const s of ['fe80::1%', '10.0.0.1%eth0', 'fe80::1%eth0/64'])
      assert.equal(parseIpBlock(s), undefined, s);
  });
});
