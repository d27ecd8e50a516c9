import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scriptedRandom, seededRandom } from '../../test/helpers/seeded-random.ts';
import { createPicker } from './index.ts';

function p2c(weights: readonly number[], inFlight: number[], random: () => number) {
  return createPicker(
    'p2c',
    weights.map((weight) => ({ weight })),
    { inFlight },
    random,
  );
}

const JUST_BELOW_ONE = 1 - 2 ** -53;

describe('power of two choices (p2c)', () => {
  it('always picks the less loaded of two servers, since both are always drawn', () => {
    const picker = p2c([1, 1], [4, 1], seededRandom(3));
    for (let k = 0; k < 1000; k++) assert.equal(picker.pick(), 1);
  });

  it('never picks the most loaded server and picks the middle one only when drawn with it', () => {
    const picker = p2c([1, 1, 1], [0, 5, 10], seededRandom(4));
    const counts = [0, 0, 0];
    for (let k = 0; k < 10_000; k++) counts[picker.pick()]!++;
    assert.equal(counts[2], 0);
    // The middle server wins only the pair {1, 2}, drawn with probability 1/3.
    assert.ok(Math.abs(counts[1]! / 10_000 - 1 / 3) <= 0.03, `counts ${counts.join(',')}`);
  });

  it('compares the drawn servers by in-flight requests per unit of weight', () => {
    const picker = p2c([4, 1], [4, 2], seededRandom(5));
    for (let k = 0; k < 100; k++) assert.equal(picker.pick(), 0, '4/4 beats 2/1');
  });

  it('draws two distinct servers even when the random source repeats itself', () => {
    // Both draws land on the first candidate of their range: server 0, then server 1.
    const picker = p2c([1, 1, 1], [3, 0, 0], scriptedRandom([0, 0]));
    assert.equal(picker.pick(), 1);
  });

  it('keeps the first drawn server on a tie', () => {
    const picker = p2c([1, 1, 1], [2, 0, 2], scriptedRandom([0.9, 0]));
    assert.equal(picker.pick(), 2);
  });

  it('draws only among acceptable servers', () => {
    // Without server 0, a draw of 0 lands on server 1 and a draw of 0.9 (of what is left) on 3.
    const picker = p2c([1, 1, 1, 1], [0, 5, 5, 1], scriptedRandom([0, 0.9]));
    assert.equal(
      picker.pick((i) => i !== 0),
      3,
    );
  });

  it('does not draw at all when only one server is acceptable', () => {
    const picker = p2c([1, 1, 1], [0, 0, 0], scriptedRandom([]));
    assert.equal(
      picker.pick((i) => i === 1),
      1,
    );
  });

  it('stays in range when the random source returns its largest value', () => {
    const picker = p2c([1, 2, 3], [0, 0, 0], () => JUST_BELOW_ONE);
    for (let k = 0; k < 10; k++) {
      const index = picker.pick((i) => i !== 2);
      assert.ok(index === 0 || index === 1, `picked ${index}`);
    }
  });
});
