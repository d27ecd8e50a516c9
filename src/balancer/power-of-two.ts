import type { BalancerState, Picker } from './balancer.ts';

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
  /** Acceptability of each server in the current pick, so `accept` runs once per server. */
  readonly #ok: Uint8Array;

  constructor(weights: Float64Array, state: BalancerState, random: () => number) {
    this.#weights = weights;
    this.#state = state;
    this.#random = random;
    this.#ok = new Uint8Array(weights.length);
  }

  pick(accept?: (index: number) => boolean): number {
    const weights = this.#weights;
    const ok = this.#ok;
    const n = weights.length;
    let total = 0;
    let count = 0;
    let last = -1;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (w === 0 || (accept !== undefined && !accept(i))) {
        ok[i] = 0;
        continue;
      }
      ok[i] = 1;
      total += w;
      count++;
      last = i;
    }
    if (count <= 1) return last;

    const a = this.#draw(total * this.#random(), -1);
    const wa = weights[a]!;
    // Second draw without replacement: the first server's weight is taken out of the range.
    const b = this.#draw((total - wa) * this.#random(), a);
    const wb = weights[b]!;
    const inFlight = this.#state.inFlight;
    return (inFlight[b] ?? 0) * wa < (inFlight[a] ?? 0) * wb ? b : a;
  }

  /** The acceptable server (other than `skip`) where `r` falls in the cumulative weights. */
  #draw(r: number, skip: number): number {
    const weights = this.#weights;
    const ok = this.#ok;
    let last = -1;
    for (let i = 0; i < weights.length; i++) {
      if (ok[i] === 0 || i === skip) continue;
      r -= weights[i]!;
      if (r < 0) return i;
      last = i;
    }
    // Rounding can leave r a hair above 0 after the last candidate; it owns that remainder.
    return last;
  }
}
