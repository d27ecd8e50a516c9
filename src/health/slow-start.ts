/**
 * Slow start: a server that just joined or just recovered gets a share of traffic that grows
 * linearly from `minFactor` to 1 over `windowMs`. A cold server (empty caches, JIT not warm,
 * connection pools empty) that receives its full share at once can fail again straight away and
 * flap in and out of rotation; Envoy's and NGINX Plus's slow start exist for that reason.
 *
 * The balancer scales the server's weight by `factor`, or, for algorithms without weights,
 * drops the pick when `admits` says no.
 */
export class SlowStart {
  readonly #windowMs: number;
  readonly #minFactor: number;
  /** When each server's ramp ends; 0 = not ramping. */
  readonly #endsAt: Float64Array;
  #rampingCount = 0;
  /** The latest end of all ramps: once `now` passes it, every ramp is over. */
  #lastEnd = 0;

  constructor(serverCount: number, windowMs: number, minFactor = 0.1) {
    this.#windowMs = Math.max(windowMs, 0);
    this.#minFactor = Math.min(1, Math.max(0, minFactor));
    this.#endsAt = new Float64Array(Math.max(0, Math.floor(serverCount)));
  }

  /**
   * Whether any server may still be ramping: when false, every factor is 1 and the caller can
   * skip the per-server check. Ramps end lazily, so this can stay true until the next `factor`
   * or `admits` call made after the last ramp ended.
   */
  get ramping(): boolean {
    return this.#rampingCount > 0;
  }

  /** Starts (or restarts) the ramp of server `index` at `now`. */
  begin(index: number, now: number): void {
    if (this.#windowMs === 0 || index < 0 || index >= this.#endsAt.length) return;
    const end = now + this.#windowMs;
    if (this.#endsAt[index] === 0) this.#rampingCount++;
    // A clock at exactly -windowMs would make the end 0, which means "not ramping".
    this.#endsAt[index] = end === 0 ? Number.MIN_VALUE : end;
    if (end > this.#lastEnd) this.#lastEnd = end;
  }

  /** Weight multiplier in [minFactor, 1]: 1 when not ramping. */
  factor(index: number, now: number): number {
    if (this.#rampingCount === 0) return 1;
    if (now >= this.#lastEnd) {
      this.#endAll();
      return 1;
    }
    const end = this.#endsAt[index];
    if (end === undefined || end === 0) return 1;
    if (now >= end) {
      this.#endsAt[index] = 0;
      this.#rampingCount--;
      return 1;
    }
    // Clamped: a `now` before the ramp began (a caller mixing clocks) must not go below minFactor.
    const progress = Math.max(0, 1 - (end - now) / this.#windowMs);
    return this.#minFactor + (1 - this.#minFactor) * progress;
  }

  /** For pickers without weights: admit a pick of `index` when `random` (in [0, 1)) < factor. */
  admits(index: number, now: number, random: number): boolean {
    return random < this.factor(index, now);
  }

  #endAll(): void {
    this.#endsAt.fill(0);
    this.#rampingCount = 0;
  }
}
