import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientKey } from './client-key.ts';

describe('clientKey', () => {
  it('is the IPv4 address, also when the socket reports it IPv4-mapped', () => {
    assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
  });

  it('is the /64 of an IPv6 address, however it is written', () => {
    const key = clientKey('2001:db8:0:1::1');
    assert.equal(key, '2001:db8:0:1::/64');
    assert.equal(clientKey('2001:0db8:0000:0001:ffff:1:2:3'), key);
    assert.notEqual(clientKey('2001:db8:0:2::1'), key);
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
  });

  it('is empty for a socket without an address', () => {
    assert.equal(clientKey(undefined), '');
  });
});
