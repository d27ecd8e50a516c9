import type { BalancerState, Picker } from './balancer.ts';
import { WeightedDraw } from './weighted-draw.ts';

/**
 * Power of two choices: draw two distinct acceptable servers at random, each draw weighted by
 * weight, and keep the one with the lower inFlight/weight. On a tie the first draw wins; since the
 * first draw alone is a weighted random pick, idle servers get exactly their weighted share.
 * Comparing two random candidates avoids the herd effect of a global least-loaded choice when many
 * proxies (or a stale in-flight view) would all pick the same server.
 */
export class PowerOfTwoPicker implements Picker {
  readonly #weights: Float64Array;
  readonly #state: BalancerState;
  readonly #random: () => number;
  readonly #draw: WeightedDraw;

  constructor(weights: Float64Array, state: BalancerState, random: () => number) {
    this.#weights = weights;
    this.#state = state;
    this.#random = random;
    this.#draw = new WeightedDraw(weights);
  }

  pick(accept?: (index: number) => boolean): number {
    const d = this.#draw;
    d.mark(accept);
    if (d.count <= 1) return d.last;

    const weights = this.#weights;
    const a = d.draw(d.total * this.#random(), -1);
    const wa = weights[a]!;
    // Second draw without replacement: the first server's weight is taken out of the range.
    const b = d.draw((d.total - wa) * this.#random(), a);
    const wb = weights[b]!;
    const inFlight = this.#state.inFlight;
    return (inFlight[b] ?? 0) * wa < (inFlight[a] ?? 0) * wb ? b : a;
  }
}
