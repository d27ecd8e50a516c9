import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scriptedRandom, seededRandom } from './seeded-random.ts';

describe('seededRandom', () => {
  it('repeats the same sequence for the same seed and differs for another seed', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const seqA = Array.from({ length: 20 }, a);
    assert.deepEqual(Array.from({ length: 20 }, b), seqA);
    assert.notDeepEqual(Array.from({ length: 20 }, c), seqA);
  });

  it('returns values in [0, 1) spread over the whole range', () => {
    const next = seededRandom(1);
    const buckets = new Array<number>(10).fill(0);
    for (let k = 0; k < 10_000; k++) {
      const value = next();
      assert.ok(value >= 0 && value < 1, `value ${value}`);
      buckets[Math.floor(value * 10)]!++;
    }
    for (const count of buckets) assert.ok(count > 900 && count < 1100, `buckets ${buckets.join(',')}`);
  });
});

describe('scriptedRandom', () => {
  it('replays its values and then throws', () => {
    const next = scriptedRandom([0.5, 0.25]);
    assert.equal(next(), 0.5);
    assert.equal(next(), 0.25);
    assert.throws(next, /exhausted/);
  });
});
