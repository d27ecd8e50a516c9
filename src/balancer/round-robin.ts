import type { Picker } from './balancer.ts';
import { SmoothWeightedRoundRobinPicker } from './smooth-weighted-round-robin.ts';

/**
 * Plain round robin: every server with weight > 0 takes one turn per cycle, in index order;
 * other weights are ignored.
 *
 * Built as smooth weighted round robin over unit weights rather than a cursor. With all weights
 * equal the sequence is the same (a b c a b c), but exclusions behave better: a cursor that skips
 * an excluded server hands its turn to the next one, so when a failing server's retry excludes
 * it, the retry eats its neighbour's turn and the failing server comes round again sooner (with
 * three servers, one failing gets half of all first attempts instead of a third). Unit-weight
 * smooth round robin keeps every server's share of first attempts exact.
 */
export class RoundRobinPicker implements Picker {
  readonly #inner: SmoothWeightedRoundRobinPicker;

  constructor(weights: Float64Array) {
    const unit = new Float64Array(weights.length);
    for (let i = 0; i < weights.length; i++) unit[i] = weights[i]! > 0 ? 1 : 0;
    this.#inner = new SmoothWeightedRoundRobinPicker(unit);
  }

  shuffleStart(random: () => number): void {
    this.#inner.shuffleStart(random);
  }

  pick(accept?: (index: number) => boolean): number {
    return this.#inner.pick(accept);
  }
}
