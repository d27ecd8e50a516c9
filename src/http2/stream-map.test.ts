import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamMap } from './stream-map.ts';

describe('StreamMap', () => {
  it('agrees with a Map through random sets and deletes of stream-like ids', () => {
    // A deterministic generator: failures reproduce.
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const ours = new StreamMap<string>(4);
    const ref = new Map<number, string>();
    let next = 1;
    for (let step = 0; step < 20_000; step++) {
      const op = rnd(10);
      if (op < 5) {
        // a new stream (odd ids, increasing), sometimes far ahead
        next += 2 * (1 + (rnd(20) === 0 ? rnd(5000) : 0));
        ours.set(next, `s${next}`);
        ref.set(next, `s${next}`);
      } else if (op < 9 && ref.size > 0) {
        const ids = [...ref.keys()];
        const id = ids[rnd(ids.length)]!;
        assert.equal(ours.delete(id), true);
        ref.delete(id);
      } else {
        const id = 1 + 2 * rnd(next);
        assert.equal(ours.get(id), ref.get(id));
        assert.equal(ours.delete(id + 100_000_001), false);
      }
      assert.equal(ours.size, ref.size);
    }
    for (const [id, v] of ref) assert.equal(ours.get(id), v);
    assert.deepEqual(
      ours
        .entries()
        .map(([id]) => id)
        .sort((a, b) => a - b),
      [...ref.keys()].sort((a, b) => a - b),
    );
    assert.equal(ours.values().length, ref.size);
  });

  it('replaces a value set again, and clear empties it', () => {
    const m = new StreamMap<number>();
    m.set(3, 1).set(3, 2);
    assert.equal(m.size, 1);
    assert.equal(m.get(3), 2);
    assert.equal(m.has(5), false);
    m.clear();
    assert.equal(m.size, 0);
    assert.equal(m.get(3), undefined);
    assert.throws(() => m.set(0, 1), RangeError);
  });
});
