import type { BalancerState, Picker } from './balancer.ts';

/**
 * Weighted least connections, as nginx's least_conn: the server with the lowest inFlight/weight
 * wins, and servers tied on that score share the pick by smooth weighted round robin.
 *
 * Why inFlight/weight with weighted tie-breaking, not (inFlight+1)/weight: under light traffic
 * every server is idle at pick time, so (inFlight+1)/weight would send every request to the
 * heaviest server and leave the others cold. With inFlight/weight all idle servers tie at 0 and
 * the tie-break spreads them by weight (3:1 weights give 75/25), while under load the score alone
 * steers requests to whoever has spare capacity relative to its weight. Scores are compared by
 * cross-multiplying, so integer in-flight counts and weights tie exactly.
 */
export class LeastConnPicker implements Picker {
  readonly #weights: Float64Array;
  readonly #state: BalancerState;
  readonly #current: Float64Array;
  /** Acceptability of each server in the current pick, so `accept` runs once per server. */
  readonly #ok: Uint8Array;

  constructor(weights: Float64Array, state: BalancerState) {
    this.#weights = weights;
    this.#state = state;
    this.#current = new Float64Array(weights.length);
    this.#ok = new Uint8Array(weights.length);
  }

  pick(accept?: (index: number) => boolean): number {
    const weights = this.#weights;
    const inFlight = this.#state.inFlight;
    const ok = this.#ok;
    const n = weights.length;

    let best = -1;
    let bestLoad = 0;
    let bestWeight = 1;
    let tied = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (w === 0 || (accept !== undefined && !accept(i))) {
        ok[i] = 0;
        continue;
      }
      ok[i] = 1;
      const load = inFlight[i] ?? 0;
      if (best === -1 || load * bestWeight < bestLoad * w) {
        best = i;
        bestLoad = load;
        bestWeight = w;
        tied = 1;
      } else if (load * bestWeight === bestLoad * w) {
        tied++;
      }
    }
    if (tied <= 1) return best;

    // Smooth weighted round robin among the tied servers only; see smooth-weighted-round-robin.ts.
    const current = this.#current;
    let chosen = -1;
    let chosenCurrent = 0;
    let total = 0;
    for (let i = best; i < n; i++) {
      if (ok[i] === 0) continue;
      const w = weights[i]!;
      if ((inFlight[i] ?? 0) * bestWeight !== bestLoad * w) continue;
      const c = current[i]! + w;
      current[i] = c;
      total += w;
      if (chosen === -1 || c > chosenCurrent) {
        chosen = i;
        chosenCurrent = c;
      }
    }
    current[chosen] = chosenCurrent - total;
    return chosen;
  }
}
