import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../test/helpers/seeded-random.ts';
import type { BalancerServer, BalancerState, Picker } from './balancer.ts';

export interface PickerContractOptions {
  /** Builds the picker under test. */
  readonly create: (servers: readonly BalancerServer[], state: BalancerState, random: () => number) => Picker;
  /**
   * The share each server should get when all are idle: `weighted` (proportional to weight) or
   * `uniform` (every server with weight > 0 alike, as plain round robin).
   */
  readonly distribution: 'weighted' | 'uniform';
}

const PICKS = 10_000;
const TOLERANCE = 0.03;

function servers(...weights: number[]): BalancerServer[] {
  return weights.map((weight) => ({ weight }));
}

function idle(n: number): BalancerState {
  return { inFlight: new Array<number>(n).fill(0) };
}

/** Counts picks per server, asserting that every pick is a valid, acceptable index. */
function tally(picker: Picker, n: number, picks: number, accept?: (index: number) => boolean): number[] {
  const counts = new Array<number>(n).fill(0);
  for (let k = 0; k < picks; k++) {
    const index = accept === undefined ? picker.pick() : picker.pick(accept);
    assert.ok(Number.isInteger(index) && index >= 0 && index < n, `pick ${k} returned ${index}`);
    assert.ok(accept === undefined || accept(index), `pick ${k} returned excluded server ${index}`);
    counts[index]!++;
  }
  return counts;
}

function expectedShares(
  weights: readonly number[],
  distribution: 'weighted' | 'uniform',
  excluded: ReadonlySet<number> = new Set(),
): number[] {
  const effective = weights.map((w, i) => {
    if (w <= 0 || excluded.has(i)) return 0;
    return distribution === 'weighted' ? w : 1;
  });
  const total = effective.reduce((sum, w) => sum + w, 0);
  return effective.map((w) => w / total);
}

function assertShares(counts: readonly number[], expected: readonly number[]): void {
  const total = counts.reduce((sum, c) => sum + c, 0);
  for (let i = 0; i < expected.length; i++) {
    const share = counts[i]! / total;
    const want = expected[i]!;
    assert.ok(
      Math.abs(share - want) <= TOLERANCE,
      `server ${i}: share ${share.toFixed(4)}, expected ${want.toFixed(4)} ± ${TOLERANCE} (counts ${counts.join(',')})`,
    );
    if (want === 0) assert.equal(counts[i], 0, `server ${i} must never be picked`);
  }
}

/** Behaviour every load-balancing strategy must share; call it inside a describe per strategy. */
export function pickerContract(options: PickerContractOptions): void {
  const { create, distribution } = options;
  const make = (weights: readonly number[], seed = 1): Picker =>
    create(servers(...weights), idle(weights.length), seededRandom(seed));

  describe('availability', () => {
    it('returns -1 when there are no servers', () => {
      const picker = make([]);
      assert.equal(picker.pick(), -1);
      assert.equal(
        picker.pick(() => true),
        -1,
      );
    });

    it('returns -1 when every weight is 0', () => {
      const picker = make([0, 0, 0]);
      for (let k = 0; k < 10; k++) {
        assert.equal(picker.pick(), -1);
        assert.equal(
          picker.pick(() => true),
          -1,
        );
      }
    });

    it('returns -1 when accept rejects every server', () => {
      const picker = make([3, 1, 2]);
      for (let k = 0; k < 10; k++) {
        assert.equal(
          picker.pick(() => false),
          -1,
        );
      }
    });

    it('always picks the only server', () => {
      const picker = make([7]);
      for (let k = 0; k < 100; k++) {
        assert.equal(picker.pick(), 0);
        assert.equal(
          picker.pick(() => true),
          0,
        );
      }
    });

    it('always picks the only acceptable server among several', () => {
      const picker = make([1, 5, 2, 2]);
      for (let k = 0; k < 100; k++) {
        assert.equal(
          picker.pick((i) => i === 2),
          2,
        );
      }
    });

    it('never picks a server of weight 0 even when accept allows it', () => {
      const picker = make([0, 2, 0, 1, 0]);
      const counts = tally(picker, 5, 1000, () => true);
      assert.deepEqual([counts[0], counts[2], counts[4]], [0, 0, 0]);
    });

    it('never returns an excluded server while the excluded set keeps changing', () => {
      const weights = [4, 1, 3, 2, 0, 5];
      const picker = make(weights, 7);
      const rng = seededRandom(99);
      for (let k = 0; k < 5000; k++) {
        const mask = Math.floor(rng() * 64);
        const accept = (i: number): boolean => ((mask >> i) & 1) === 1;
        const anyAcceptable = weights.some((w, i) => w > 0 && accept(i));
        const index = picker.pick(accept);
        if (!anyAcceptable) {
          assert.equal(index, -1, `mask ${mask.toString(2)} leaves nothing acceptable`);
          continue;
        }
        assert.ok(index >= 0 && index < weights.length, `mask ${mask.toString(2)} gave ${index}`);
        assert.ok(accept(index), `mask ${mask.toString(2)} gave excluded server ${index}`);
        assert.ok(weights[index]! > 0, `mask ${mask.toString(2)} gave weight-0 server ${index}`);
      }
    });

    it('asks accept only about existing servers', () => {
      const picker = make([1, 2, 3]);
      for (let k = 0; k < 200; k++) {
        picker.pick((i) => {
          assert.ok(Number.isInteger(i) && i >= 0 && i < 3, `accept called with ${i}`);
          return i !== k % 3;
        });
      }
    });

    it('treats negative, NaN and infinite weights as 0', () => {
      const picker = make([-1, Number.NaN, 2, Number.POSITIVE_INFINITY]);
      const counts = tally(picker, 4, 200);
      assert.deepEqual(counts, [0, 0, 200, 0]);
    });
  });

  describe(`distribution (${distribution})`, () => {
    const cases: readonly (readonly number[])[] = [
      [3, 1],
      [5, 1, 1],
      [1, 1, 1, 1],
      [2, 0, 1],
      [10, 1],
    ];
    for (const weights of cases) {
      it(`matches the expected shares for weights ${weights.join(',')} over ${PICKS} idle picks`, () => {
        const counts = tally(make(weights, 42), weights.length, PICKS);
        assertShares(counts, expectedShares(weights, distribution));
      });
    }

    it('gives an excluded server’s share to the others', () => {
      const weights = [3, 1, 2];
      const counts = tally(make(weights, 5), 3, PICKS, (i) => i !== 2);
      assertShares(counts, expectedShares(weights, distribution, new Set([2])));
    });

    // The proxy's retry path: a server that fails every request is excluded from its retry. The
    // failing server must keep its own share of first attempts, not gain turns from the retries.
    for (const [weights, failing] of [
      [[3, 1, 2], 0],
      [[1, 1, 1], 1],
      [[2, 3, 4, 1], 2],
    ] as const) {
      it(`keeps a failing server's share of first attempts when its retries exclude it (weights ${weights.join(',')}, server ${failing} failing)`, () => {
        const picker = make(weights, 17);
        const first = new Array<number>(weights.length).fill(0);
        const notFailing = (i: number): boolean => i !== failing;
        for (let k = 0; k < PICKS; k++) {
          const index = picker.pick();
          first[index]!++;
          if (index === failing) assert.notEqual(picker.pick(notFailing), failing);
        }
        const want = expectedShares(weights, distribution)[failing]!;
        const share = first[failing]! / PICKS;
        assert.ok(
          Math.abs(share - want) <= TOLERANCE,
          `failing server got ${share.toFixed(4)} of first attempts, expected ${want.toFixed(4)}`,
        );
      });
    }

    it('returns to the expected shares after an excluded server is readmitted', () => {
      const weights = [3, 1, 2];
      const picker = make(weights, 13);
      tally(picker, 3, 1000, (i) => i !== 0);
      const counts = tally(picker, 3, PICKS);
      assertShares(counts, expectedShares(weights, distribution));
    });
  });
}
