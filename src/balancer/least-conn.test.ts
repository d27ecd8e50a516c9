import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../test/helpers/seeded-random.ts';
import { createPicker } from './index.ts';

function leastConn(weights: readonly number[], inFlight: number[]) {
  return createPicker(
    'leastConn',
    weights.map((weight) => ({ weight })),
    { inFlight },
  );
}

describe('least connections (leastConn)', () => {
  it('picks the server with the fewest requests in flight', () => {
    const picker = leastConn([1, 1, 1], [5, 2, 7]);
    for (let k = 0; k < 10; k++) assert.equal(picker.pick(), 1);
  });

  it('compares in-flight requests per unit of weight', () => {
    const inFlight = [5, 2];
    const picker = leastConn([3, 1], inFlight);
    assert.equal(picker.pick(), 0, '5/3 beats 2/1');
    inFlight[0] = 7;
    assert.equal(picker.pick(), 1, '2/1 beats 7/3');
  });

  it('reads in-flight counts live on every pick', () => {
    const inFlight = [0, 0, 0];
    const picker = leastConn([1, 1, 1], inFlight);
    const picked: number[] = [];
    for (let k = 0; k < 6; k++) {
      const index = picker.pick();
      picked.push(index);
      inFlight[index]!++;
    }
    assert.deepEqual(inFlight, [2, 2, 2], `picked ${picked.join(',')}`);
  });

  it('rotates among servers tied for the lowest load', () => {
    const picker = leastConn([1, 1, 1], [0, 3, 0]);
    const picked: number[] = [];
    for (let k = 0; k < 6; k++) picked.push(picker.pick());
    assert.deepEqual(picked, [0, 2, 0, 2, 0, 2]);
  });

  it('spreads idle picks across all servers instead of piling onto the heaviest', () => {
    const picker = leastConn([2, 1], [0, 0]);
    const picked: number[] = [];
    for (let k = 0; k < 6; k++) picked.push(picker.pick());
    assert.deepEqual(picked, [0, 1, 0, 0, 1, 0]);
  });

  it('picks the least loaded acceptable server when the least loaded one is excluded', () => {
    const picker = leastConn([1, 1, 1], [0, 5, 9]);
    assert.equal(
      picker.pick((i) => i !== 0),
      1,
    );
  });

  it('always picks a server with the lowest in-flight per weight among the acceptable ones', () => {
    const weights = [1, 2, 3, 1, 4];
    const inFlight = [0, 0, 0, 0, 0];
    const picker = leastConn(weights, inFlight);
    const rng = seededRandom(2024);
    for (let k = 0; k < 5000; k++) {
      for (let i = 0; i < inFlight.length; i++) inFlight[i] = Math.floor(rng() * 8);
      const mask = 1 + Math.floor(rng() * 31);
      const accept = (i: number): boolean => ((mask >> i) & 1) === 1;
      const index = picker.pick(accept);
      let lowest = Number.POSITIVE_INFINITY;
      for (let i = 0; i < weights.length; i++) {
        if (accept(i)) lowest = Math.min(lowest, inFlight[i]! / weights[i]!);
      }
      assert.ok(accept(index), `pick ${k} returned excluded ${index}`);
      assert.equal(
        inFlight[index]! / weights[index]!,
        lowest,
        `pick ${k}: ${inFlight.join(',')} mask ${mask}`,
      );
    }
  });

  it('holds in-flight requests in proportion to weight under sustained load', () => {
    const weights = [3, 1];
    const inFlight = [0, 0];
    const picker = leastConn(weights, inFlight);
    const rng = seededRandom(8);
    // Closed loop: 40 concurrent requests, each pick replaces one completed request at random.
    for (let k = 0; k < 40; k++) inFlight[picker.pick()]!++;
    for (let k = 0; k < 2000; k++) {
      const done = rng() * 40 < inFlight[0]! ? 0 : 1;
      inFlight[done]!--;
      inFlight[picker.pick()]!++;
    }
    assert.deepEqual(inFlight, [30, 10]);
  });
});
