import type { Picker } from './balancer.ts';

/** Weighted random: each acceptable server is chosen with probability weight / total weight. */
export class WeightedRandomPicker implements Picker {
  readonly #weights: Float64Array;
  readonly #random: () => number;
  /** Acceptability of each server in the current pick, so `accept` runs once per server. */
  readonly #ok: Uint8Array;

  constructor(weights: Float64Array, random: () => number) {
    this.#weights = weights;
    this.#random = random;
    this.#ok = new Uint8Array(weights.length);
  }

  pick(accept?: (index: number) => boolean): number {
    const weights = this.#weights;
    const ok = this.#ok;
    const n = weights.length;
    let total = 0;
    let last = -1;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (w === 0 || (accept !== undefined && !accept(i))) {
        ok[i] = 0;
        continue;
      }
      ok[i] = 1;
      total += w;
      last = i;
    }
    if (last === -1) return -1;
    let r = this.#random() * total;
    for (let i = 0; i < last; i++) {
      if (ok[i] === 0) continue;
      r -= weights[i]!;
      if (r < 0) return i;
    }
    // Rounding in the running subtraction can leave r a hair above 0 at the end; the last
    // acceptable server owns that remainder.
    return last;
  }
}
