import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TcpInFlightConn } from './index.ts';

describe('TCP inFlightConn', () => {
  it('admits up to amount connections per client IP, and again once one is released', () => {
    const m = new TcpInFlightConn(2);
    assert.equal(m.admit('10.0.0.1'), true);
    assert.equal(m.admit('10.0.0.1'), true);
    assert.equal(m.admit('10.0.0.1'), false);
    assert.equal(m.admit('10.0.0.2'), true, 'another client has its own count');
    m.release('10.0.0.1');
    assert.equal(m.admit('10.0.0.1'), true);
  });

  it("admits nothing with an amount of 0 or less, as Traefik's inflightconn", () => {
    for (const amount of [0, -3]) assert.equal(new TcpInFlightConn(amount).admit('10.0.0.1'), false);
  });
});
