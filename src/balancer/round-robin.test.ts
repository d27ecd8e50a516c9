import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../test/helpers/seeded-random.ts';
import { createPicker, type Picker } from './index.ts';

function roundRobin(...weights: number[]): Picker {
  return createPicker(
    'roundRobin',
    weights.map((weight) => ({ weight })),
    { inFlight: weights.map(() => 0) },
  );
}

function picks(picker: Picker, count: number, accept?: (index: number) => boolean): number[] {
  const out: number[] = [];
  for (let k = 0; k < count; k++) out.push(accept === undefined ? picker.pick() : picker.pick(accept));
  return out;
}

describe('round robin', () => {
  it('cycles through the servers in index order whatever their weights', () => {
    assert.deepEqual(picks(roundRobin(5, 1, 2), 9), [0, 1, 2, 0, 1, 2, 0, 1, 2]);
  });

  it('never picks a server of weight 0', () => {
    assert.deepEqual(picks(roundRobin(1, 0, 3), 6), [0, 2, 0, 2, 0, 2]);
  });

  it('alternates between the remaining servers while one is excluded', () => {
    assert.deepEqual(
      picks(roundRobin(1, 1, 1), 6, (i) => i !== 1),
      [0, 2, 0, 2, 0, 2],
    );
  });

  it('does not let a retry that skips a failing server give that server an extra turn', () => {
    const picker = roundRobin(1, 1, 1);
    const firstAttempts: number[] = [];
    for (let k = 0; k < 9; k++) {
      const index = picker.pick();
      firstAttempts.push(index);
      if (index === 0) picker.pick((i) => i !== 0);
    }
    assert.equal(firstAttempts.filter((i) => i === 0).length, 3, `first attempts ${firstAttempts.join(',')}`);
  });

  it('starts at a random server after shuffleStart (Traefik shuffles the servers), one turn each per round', () => {
    const firsts = new Set<number>();
    for (let seed = 1; seed <= 64; seed++) {
      const picker = roundRobin(1, 1, 1);
      picker.shuffleStart!(seededRandom(seed));
      const p = picks(picker, 9);
      assert.deepEqual([...p.slice(0, 3)].sort(), [0, 1, 2], `seed ${seed}: ${p.join(',')}`);
      assert.deepEqual(p, [...p.slice(0, 3), ...p.slice(0, 3), ...p.slice(0, 3)]);
      firsts.add(p[0]!);
    }
    assert.deepEqual([...firsts].sort(), [0, 1, 2]);
  });
});
