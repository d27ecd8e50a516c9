import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeProxyHeader, parseProxyHeader } from './proxy-protocol.ts';

const v2sig = '0d0a0d0a000d0a515549540a';

describe('PROXY protocol', () => {
  it('reads v1 TCP4, TCP6 and UNKNOWN headers, with the bytes that follow left alone', () => {
    const b = Buffer.from('PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET / HTTP/1.1\r\n');
    assert.deepEqual(parseProxyHeader(b), {
      kind: 'header',
      version: 1,
      length: 45,
      addresses: {
        sourceAddress: '192.0.2.1',
        sourcePort: 56324,
        destinationAddress: '198.51.100.2',
        destinationPort: 443,
      },
    });
    const six = parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n'));
    assert.ok(six.kind === 'header');
    assert.equal(six.addresses?.sourceAddress, '2001:db8::1');
    const unknown = parseProxyHeader(Buffer.from('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'));
    assert.ok(unknown.kind === 'header' && unknown.addresses === null);
  });

  it('waits for more bytes while they can still be a header, and says none when they cannot', () => {
    for (const partial of ['P', 'PROXY', 'PROXY TCP4 1.2.3.4', '\r\n\r\n\0']) {
      assert.equal(parseProxyHeader(Buffer.from(partial, 'latin1')).kind, 'incomplete', partial);
    }
    for (const other of ['GET / HTTP/1.1\r\n', '\x16\x03\x01', 'PRI * HTTP/2.0', 'PROXYX']) {
      assert.equal(parseProxyHeader(Buffer.from(other, 'latin1')).kind, 'none', other);
    }
  });

  it('refuses malformed v1 headers', () => {
    for (const bad of [
      'PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n',
      'PROXY TCP4 1.2.3.4 ::1 80 443\r\n',
      'PROXY TCP5 1.2.3.4 5.6.7.8 80 443\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 080 443\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 80 65536\r\n',
      'PROXY TCP4  1.2.3.4 5.6.7.8 80 443\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 80\n443\r\n',
      `PROXY ${'x'.repeat(120)}`,
    ]) {
      assert.equal(parseProxyHeader(Buffer.from(bad, 'latin1')).kind, 'invalid', JSON.stringify(bad));
    }
  });

  it('reads v2 PROXY (IPv4, IPv6) and LOCAL headers, skipping TLVs', () => {
    const v4 = Buffer.from(`${v2sig}2111000fc0000201c6336402dc0401bb040000`, 'hex');
    assert.deepEqual(parseProxyHeader(v4), {
      kind: 'header',
      version: 2,
      length: 31,
      addresses: {
        sourceAddress: '192.0.2.1',
        sourcePort: 56324,
        destinationAddress: '198.51.100.2',
        destinationPort: 443,
      },
    });
    const v6 = Buffer.from(
      `${v2sig}21210024${'20010db8000000000000000000000001'}${'20010db8000000000000000000000002'}00500051`,
      'hex',
    );
    const r6 = parseProxyHeader(v6);
    assert.ok(r6.kind === 'header');
    assert.deepEqual(r6.addresses, {
      sourceAddress: '2001:db8::1',
      destinationAddress: '2001:db8::2',
      sourcePort: 80,
      destinationPort: 81,
    });
    const local = parseProxyHeader(Buffer.from(`${v2sig}20000000`, 'hex'));
    assert.deepEqual(local, { kind: 'header', version: 2, length: 16, addresses: null });
    assert.equal(parseProxyHeader(Buffer.from(`${v2sig}2111000cc0000201`, 'hex')).kind, 'incomplete');
  });

  it('refuses malformed v2 headers', () => {
    for (const hex of [
      `${v2sig}1111000c`,
      `${v2sig}2211000c`,
      `${v2sig}21110004c0000201`,
      `${v2sig}2141000c${'00'.repeat(12)}`,
    ]) {
      assert.equal(parseProxyHeader(Buffer.from(hex, 'hex')).kind, 'invalid', hex);
    }
  });

  it('writes what it reads: v1 and v2, IPv4, IPv6 and mixed families, UNKNOWN and LOCAL', () => {
    const sock = {
      remoteAddress: '::ffff:192.0.2.1',
      remotePort: 5000,
      localAddress: '198.51.100.2',
      localPort: 443,
    };
    assert.equal(encodeProxyHeader(1, sock).toString(), 'PROXY TCP4 192.0.2.1 198.51.100.2 5000 443\r\n');
    for (const version of [1, 2] as const) {
      for (const s of [
        sock,
        { remoteAddress: '2001:db8::1', remotePort: 1, localAddress: '2001:db8::2', localPort: 2 },
        { remoteAddress: '192.0.2.9', remotePort: 3, localAddress: '::1', localPort: 4 },
      ]) {
        const h = encodeProxyHeader(version, s);
        const back = parseProxyHeader(Buffer.concat([h, Buffer.from('payload')]));
        assert.ok(back.kind === 'header', `${version} ${JSON.stringify(s)}`);
        assert.equal(back.length, h.length);
        assert.equal(back.addresses?.sourcePort, s.remotePort);
        assert.equal(back.addresses?.destinationPort, s.localPort);
      }
    }
    const mixed = parseProxyHeader(
      encodeProxyHeader(2, { remoteAddress: '192.0.2.9', remotePort: 3, localAddress: '::1', localPort: 4 }),
    );
    assert.ok(mixed.kind === 'header');
    assert.equal(mixed.addresses?.sourceAddress, '::ffff:c000:209');
    assert.equal(encodeProxyHeader(1, undefined).toString(), 'PROXY UNKNOWN\r\n');
    assert.deepEqual(parseProxyHeader(encodeProxyHeader(2, {})), {
      kind: 'header',
      version: 2,
      length: 16,
      addresses: null,
    });
  });
});
