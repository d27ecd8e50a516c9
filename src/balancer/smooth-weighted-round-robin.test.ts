import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../test/helpers/seeded-random.ts';
import { createPicker, type Picker } from './index.ts';
import { SmoothWeightedRoundRobinPicker } from './smooth-weighted-round-robin.ts';
import { toWeights } from './weights.ts';

function wrr(...weights: number[]): Picker {
  return createPicker(
    'wrr',
    weights.map((weight) => ({ weight })),
    { inFlight: weights.map(() => 0) },
  );
}

function sequence(picker: Picker, picks: number, accept?: (index: number) => boolean): string {
  let out = '';
  for (let k = 0; k < picks; k++) {
    const index = accept === undefined ? picker.pick() : picker.pick(accept);
    out += index === -1 ? '-' : String.fromCharCode(97 + index);
  }
  return out;
}

describe('smooth weighted round robin (wrr)', () => {
  it('produces nginx’s interleaved sequence a a b a c a a for weights 5, 1, 1, cycle after cycle', () => {
    assert.equal(sequence(wrr(5, 1, 1), 21), 'aabacaa'.repeat(3));
  });

  it('interleaves weights 3 and 1 as a a b a', () => {
    assert.equal(sequence(wrr(3, 1), 12), 'aaba'.repeat(3));
  });

  it('rotates in index order when weights are equal', () => {
    assert.equal(sequence(wrr(2, 2, 2), 9), 'abc'.repeat(3));
  });

  it('gives the others exactly their own sequence while a server is excluded', () => {
    const withC = sequence(wrr(5, 1, 1), 24, (i) => i !== 2);
    const alone = sequence(wrr(5, 1), 24);
    assert.equal(withC, alone);
  });

  it('resumes the full cycle without a burst when an excluded server is readmitted', () => {
    const picker = wrr(1, 1, 1);
    sequence(picker, 10, (i) => i !== 2);
    const after = sequence(picker, 30);
    for (let k = 0; k < after.length; k += 3) {
      assert.deepEqual([...after.slice(k, k + 3)].sort(), ['a', 'b', 'c'], `window ${k}: ${after}`);
    }
  });

  it('spreads every window of 7 picks exactly 5:1:1', () => {
    const picker = wrr(5, 1, 1);
    picker.pick();
    picker.pick();
    const picks = sequence(picker, 70);
    for (let k = 0; k + 7 <= picks.length; k++) {
      const window = picks.slice(k, k + 7);
      assert.equal(window.split('a').length - 1, 5, `window at ${k}: ${window}`);
    }
  });

  it('handles fractional weights', () => {
    const picks = sequence(wrr(0.5, 1.5), 40);
    assert.equal(picks.split('a').length - 1, 10);
  });

  describe('shuffleStart (Traefik shuffles the servers when it builds a load balancer)', () => {
    function shuffled(seed: number, ...weights: number[]): SmoothWeightedRoundRobinPicker {
      const p = new SmoothWeightedRoundRobinPicker(toWeights(weights.map((weight) => ({ weight }))));
      p.shuffleStart(seededRandom(seed));
      return p;
    }

    it('starts equal weights at a random server, every one of them for some seed', () => {
      const firsts = new Set<string>();
      for (let seed = 1; seed <= 64; seed++) firsts.add(sequence(shuffled(seed, 1, 1, 1, 1), 1));
      assert.deepEqual([...firsts].sort(), ['a', 'b', 'c', 'd']);
    });

    it('still gives each server one turn per round, in the same shuffled order each round', () => {
      for (let seed = 1; seed <= 16; seed++) {
        const picks = sequence(shuffled(seed, 2, 2, 2), 30);
        const round = picks.slice(0, 3);
        assert.deepEqual([...round].sort(), ['a', 'b', 'c'], `seed ${seed}: ${picks}`);
        assert.equal(picks, round.repeat(10), `seed ${seed}`);
      }
    });

    it('keeps the shares and the interleaving of unequal weights (5, 1, 1)', () => {
      for (let seed = 1; seed <= 16; seed++) {
        const picks = sequence(shuffled(seed, 5, 1, 1), 70);
        for (let k = 0; k + 7 <= picks.length; k++) {
          const window = picks.slice(k, k + 7);
          assert.equal(window.split('a').length - 1, 5, `seed ${seed}, window at ${k}: ${picks}`);
        }
      }
    });
  });
});
