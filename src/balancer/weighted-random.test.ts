import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scriptedRandom } from '../../test/helpers/seeded-random.ts';
import { createPicker } from './index.ts';

function random(weights: readonly number[], values: readonly number[]) {
  return createPicker(
    'random',
    weights.map((weight) => ({ weight })),
    { inFlight: weights.map(() => 0) },
    scriptedRandom(values),
  );
}

describe('weighted random', () => {
  it('maps the random draw onto the cumulative weights', () => {
    const picker = random([3, 1], [0, 0.74, 0.76, 0.999]);
    assert.deepEqual([picker.pick(), picker.pick(), picker.pick(), picker.pick()], [0, 0, 1, 1]);
  });

  it('maps the draw onto the acceptable servers only', () => {
    const picker = random([1, 1, 1], [0, 0.6]);
    const notFirst = (i: number): boolean => i !== 0;
    assert.deepEqual([picker.pick(notFirst), picker.pick(notFirst)], [1, 2]);
  });

  it('picks the last acceptable server when the draw is just below 1', () => {
    const picker = random([0.1, 0.2, 0.7, 5], [1 - 2 ** -53]);
    assert.equal(
      picker.pick((i) => i !== 3),
      2,
    );
  });

  it('draws nothing when no server is acceptable', () => {
    const picker = random([1, 1], []);
    assert.equal(
      picker.pick(() => false),
      -1,
    );
  });
});
