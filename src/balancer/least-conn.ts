import type { BalancerState, Picker } from './balancer.ts';
import { pickLowest } from './tie-break.ts';

/**
 * Weighted least connections, as nginx's least_conn: the server with the lowest inFlight/weight
 * wins, and servers tied on that score share the pick by smooth weighted round robin.
 *
 * Why inFlight/weight with weighted tie-breaking, not (inFlight+1)/weight: under light traffic
 * every server is idle at pick time, so (inFlight+1)/weight would send every request to the
 * heaviest server and leave the others cold. With inFlight/weight all idle servers tie at 0 and
 * the tie-break spreads them by weight (3:1 weights give 75/25), while under load the score alone
 * steers requests to whoever has spare capacity relative to its weight.
 */
export class LeastConnPicker implements Picker {
  readonly #weights: Float64Array;
  readonly #state: BalancerState;
  readonly #current: Float64Array;
  /**
   * Each server's inFlight/weight in the current pick, NaN for one `accept` refused, so that
   * `accept` runs once per server. Equal quotients of integers are the same double (division is
   * correctly rounded), so ties are exact, as cross-multiplying made them.
   */
  readonly #scores: Float64Array;

  constructor(weights: Float64Array, state: BalancerState) {
    this.#weights = weights;
    this.#state = state;
    this.#current = new Float64Array(weights.length);
    this.#scores = new Float64Array(weights.length);
  }

  pick(accept?: (index: number) => boolean): number {
    const weights = this.#weights;
    const inFlight = this.#state.inFlight;
    const scores = this.#scores;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]!;
      scores[i] = w === 0 || (accept !== undefined && !accept(i)) ? Number.NaN : (inFlight[i] ?? 0) / w;
    }
    return pickLowest(weights, this.#current, scores);
  }
}
