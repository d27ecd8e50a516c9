import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cnameQuery, parseCnameAnswer, resolvConfServers } from './cname-flattening.ts';

describe('CNAME flattening: resolv.conf and the DNS messages', () => {
  it('keeps the nameserver addresses miekg/dns keeps (IP addresses only, comments skipped)', () => {
    const text = [
      '# a comment',
      '; another',
      'search example.com',
      'nameserver 127.0.0.53',
      'nameserver   ::1',
      'nameserver fe80::1%lo',
      'nameserver dns.example.com',
      'nameserver',
      'options ndots:2',
    ].join('\n');
    assert.deepEqual(resolvConfServers(text), ['127.0.0.53', '::1', 'fe80::1%lo']);
  });

  it('asks name CNAME IN with recursion desired', () => {
    const q = cnameQuery(0x1234, 'a.example.com');
    assert.equal(q.readUInt16BE(0), 0x1234);
    assert.equal(q.readUInt16BE(2), 0x0100);
    assert.equal(q.readUInt16BE(4), 1);
    assert.deepEqual(
      [...q.subarray(12)],
      [1, 97, 7, ...Buffer.from('example'), 3, ...Buffer.from('com'), 0, 0, 5, 0, 1],
    );
  });

  it('reads the first answer when it is a CNAME (compression pointers followed), else refuses', () => {
    const q = cnameQuery(7, 'a.example.com');
    const head = Buffer.from(q);
    head[2] = 0x81; // QR + RD
    head[3] = 0x80; // RA
    head.writeUInt16BE(1, 6); // ANCOUNT
    // Owner: pointer to the question's name (offset 12); CNAME IN, TTL 300, target "T.Example" + pointer to "com".
    const target = Buffer.from([1, 84, 7, ...Buffer.from('Example'), 0xc0, 12 + 2 + 8]);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(5, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(300, 6);
    rr.writeUInt16BE(target.length, 10);
    const msg = Buffer.concat([head, rr, target]);
    assert.deepEqual(parseCnameAnswer(msg, 7), { ttlSeconds: 300, target: 't.example.com' });
    assert.throws(() => parseCnameAnswer(msg, 8), /another question/);
    const a = Buffer.from(msg);
    a.writeUInt16BE(1, head.length + 2); // type A
    assert.throws(() => parseCnameAnswer(a, 7), /invalid response type/);
    const empty = Buffer.from(head);
    empty.writeUInt16BE(0, 6);
    assert.throws(() => parseCnameAnswer(empty, 7), /empty answer/);
    const loop = Buffer.concat([head, Buffer.from([0xc0, head.length])]);
    assert.throws(() => parseCnameAnswer(loop, 7), /loop|truncated/);
  });
});
