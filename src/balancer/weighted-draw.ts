/**
 * The acceptable servers of one pick and a weighted draw among them, shared by the random and
 * power-of-two pickers. Preallocated per picker: `mark` and `draw` allocate nothing.
 */
export class WeightedDraw {
  readonly #weights: Float64Array;
  /** Acceptability of each server in the current pick, so `accept` runs once per server. */
  readonly #ok: Uint8Array;
  /** Sum of the acceptable servers' weights, after `mark`. */
  total = 0;
  /** How many servers are acceptable, after `mark`. */
  count = 0;
  /** The last acceptable server, or -1, after `mark`. */
  last = -1;

  constructor(weights: Float64Array) {
    this.#weights = weights;
    this.#ok = new Uint8Array(weights.length);
  }

  /** Records which servers may be picked now: weight above 0 and admitted by `accept`. */
  mark(accept?: (index: number) => boolean): void {
    const weights = this.#weights;
    const ok = this.#ok;
    let total = 0;
    let count = 0;
    let last = -1;
    for (let i = 0; i < weights.length; i++) {
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
    this.total = total;
    this.count = count;
    this.last = last;
  }

  /**
   * The acceptable server (other than `skip`) where `r` falls in the cumulative weights;
   * `r` is in [0, total − weight of skip). Needs at least one such server.
   */
  draw(r: number, skip: number): number {
    const weights = this.#weights;
    const ok = this.#ok;
    let last = -1;
    for (let i = 0; i < weights.length; i++) {
      if (ok[i] === 0 || i === skip) continue;
      r -= weights[i]!;
      if (r < 0) return i;
      last = i;
    }
    // Rounding in the running subtraction can leave r a hair above 0 after the last candidate;
    // that candidate owns the remainder.
    return last;
  }
}
