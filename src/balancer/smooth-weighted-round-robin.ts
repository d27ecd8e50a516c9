import type { Picker } from './balancer.ts';

/**
 * Smooth weighted round robin, nginx's algorithm (ngx_http_upstream_get_peer): every participant
 * adds its weight to its current weight, the largest current weight wins (first index on ties),
 * and the winner gives back the round's total. For weights {5,1,1} the cycle is a a b a c a a:
 * interleaved rather than a burst of five a's.
 *
 * Only acceptable servers take part in a round, as nginx skips down peers. Because each round adds
 * and removes the same total among its participants, the sum of all current weights stays 0 and an
 * excluded server's current weight is merely frozen until it is readmitted; the others carry on
 * with the sequence they would have had without it. Weights are static here (nginx's
 * effective_weight also decays on failures; passive health checking does that job in this
 * project by excluding the server through `accept`).
 */
export class SmoothWeightedRoundRobinPicker implements Picker {
  readonly #weights: Float64Array;
  readonly #current: Float64Array;

  constructor(weights: Float64Array) {
    this.#weights = weights;
    this.#current = new Float64Array(weights.length);
  }

  pick(accept?: (index: number) => boolean): number {
    const weights = this.#weights;
    const current = this.#current;
    let best = -1;
    let bestCurrent = 0;
    let total = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]!;
      if (w === 0 || (accept !== undefined && !accept(i))) continue;
      const c = current[i]! + w;
      current[i] = c;
      total += w;
      if (best === -1 || c > bestCurrent) {
        best = i;
        bestCurrent = c;
      }
    }
    if (best !== -1) current[best] = bestCurrent - total;
    return best;
  }
}
