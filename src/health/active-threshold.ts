/**
 * Per-server health from a stream of probe results: an up server goes down after `fails`
 * consecutive failures, a down server comes back after `passes` consecutive successes. One
 * flapping probe must not flap the server when the thresholds are above 1. Servers start up,
 * as in Traefik: a fresh config must not black-hole traffic until the first round of probes.
 */
export class HealthThresholds {
  /** 1 = up, 0 = down; read it, do not write it. */
  readonly healthy: Uint8Array;
  /** Consecutive results against the current state (failures while up, successes while down). */
  readonly #streak: Uint32Array;
  readonly #passes: number;
  readonly #fails: number;
  #healthyCount: number;

  constructor(count: number, passes: number, fails: number) {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`invalid server count ${count}`);
    if (!Number.isInteger(passes) || passes < 1) throw new RangeError(`passes must be ≥ 1, got ${passes}`);
    if (!Number.isInteger(fails) || fails < 1) throw new RangeError(`fails must be ≥ 1, got ${fails}`);
    this.healthy = new Uint8Array(count).fill(1);
    this.#streak = new Uint32Array(count);
    this.#passes = passes;
    this.#fails = fails;
    this.#healthyCount = count;
  }

  /** Records one probe result; returns the transition it caused, if any. */
  report(index: number, ok: boolean): 'up' | 'down' | undefined {
    this.#check(index);
    const up = this.healthy[index] === 1;
    if (up === ok) {
      // A result that agrees with the state breaks any streak towards the other state.
      this.#streak[index] = 0;
      return undefined;
    }
    const streak = this.#streak[index]! + 1;
    if (streak < (up ? this.#fails : this.#passes)) {
      this.#streak[index] = streak;
      return undefined;
    }
    this.#streak[index] = 0;
    this.healthy[index] = ok ? 1 : 0;
    this.#healthyCount += ok ? 1 : -1;
    return ok ? 'up' : 'down';
  }

  isHealthy(index: number): boolean {
    this.#check(index);
    return this.healthy[index] === 1;
  }

  get allHealthy(): boolean {
    return this.#healthyCount === this.healthy.length;
  }

  get healthyCount(): number {
    return this.#healthyCount;
  }

  #check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.healthy.length) {
      throw new RangeError(`server index ${index} out of range 0..${this.healthy.length - 1}`);
    }
  }
}
