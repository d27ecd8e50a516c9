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

  /**
   * Starts the cycle at a random point, as Traefik shuffles a load balancer's servers (and a
   * weighted service's children) when it builds it (pkg/server/service/service.go `shuffle`):
   * ties between current weights go to the servers in a random order instead of the listed one,
   * so that the first requests after a build (every reload builds the pickers again) are not all
   * the first server's. Each server's current weight gets a distinct offset below 1, a multiple
   * of 2^-20 (exact in a double beside integer weights): the offsets only break ties and keep
   * their sum through every round, so the shares are unchanged. Called once, at build time.
   */
  shuffleStart(random: () => number): void {
    const n = this.#current.length;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    for (let rank = 0; rank < n; rank++) this.#current[order[rank]!] = -rank * 2 ** -20;
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
