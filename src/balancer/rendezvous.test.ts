import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RendezvousHasher } from './rendezvous.ts';

const keys = Array.from({ length: 5000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);

describe('RendezvousHasher', () => {
  it('sends the same key to the same server every time', () => {
    const h = new RendezvousHasher(['a', 'b', 'c'], [1, 1, 1]);
    for (const k of keys.slice(0, 100)) assert.equal(h.pick(k), h.pick(k));
  });

  it('spreads keys evenly over equal weights', () => {
    const h = new RendezvousHasher(['http://a', 'http://b', 'http://c', 'http://d'], [1, 1, 1, 1]);
    const counts = [0, 0, 0, 0];
    for (const k of keys) counts[h.pick(k)]!++;
    for (const c of counts) assert.ok(c > 1000 && c < 1500, `counts ${counts}`);
  });

  it('gives a server of weight 3 about three times the keys of one of weight 1', () => {
    const h = new RendezvousHasher(['a', 'b'], [3, 1]);
    let a = 0;
    for (const k of keys) if (h.pick(k) === 0) a++;
    const share = a / keys.length;
    assert.ok(share > 0.71 && share < 0.79, `share ${share}`);
  });

  it('moves only the new server’s share of keys when a server is added', () => {
    const before = new RendezvousHasher(['a', 'b', 'c', 'd'], [1, 1, 1, 1]);
    const after = new RendezvousHasher(['a', 'b', 'c', 'd', 'e'], [1, 1, 1, 1, 1]);
    let moved = 0;
    for (const k of keys) {
      const x = after.pick(k);
      if (x !== before.pick(k)) {
        moved++;
        assert.equal(x, 4, 'a key that moves goes to the new server');
      }
    }
    const share = moved / keys.length;
    assert.ok(share > 0.15 && share < 0.25, `moved ${share}`);
  });

  it('keeps keys on their server when the list is reordered', () => {
    const a = new RendezvousHasher(['x', 'y', 'z'], [1, 1, 1]);
    const b = new RendezvousHasher(['z', 'x', 'y'], [1, 1, 1]);
    const name = ['x', 'y', 'z'];
    const nameB = ['z', 'x', 'y'];
    for (const k of keys.slice(0, 500)) assert.equal(name[a.pick(k)], nameB[b.pick(k)]);
  });

  it('skips servers that are not acceptable and moves only their keys', () => {
    const h = new RendezvousHasher(['a', 'b', 'c'], [1, 1, 1]);
    for (const k of keys.slice(0, 1000)) {
      const first = h.pick(k);
      const without1 = h.pick(k, (i) => i !== 1);
      assert.notEqual(without1, 1);
      if (first !== 1) assert.equal(without1, first);
    }
    assert.equal(
      h.pick('k', () => false),
      -1,
    );
  });

  it('never picks a server of weight 0', () => {
    const h = new RendezvousHasher(['a', 'b'], [0, 1]);
    for (const k of keys.slice(0, 200)) assert.equal(h.pick(k), 1);
  });
});
