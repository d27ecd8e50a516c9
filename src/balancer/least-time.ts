import type { BalancerState, Picker } from './balancer.ts';
import { pickLowest } from './tie-break.ts';

/** Response times kept per server (Traefik's `sampleSize`). */
export const RESPONSE_TIME_SAMPLES = 100;

/**
 * Each server's last RESPONSE_TIME_SAMPLES response-head times (time to first byte, ms) in a ring,
 * with their running sum: the average is one division. Written when a response head arrives
 * (never for a try that failed without one), read by `LeastTimePicker`.
 */
export class ResponseTimes {
  readonly #samples: Float64Array;
  readonly #sums: Float64Array;
  readonly #counts: Int32Array;
  readonly #next: Int32Array;

  constructor(servers: number) {
    this.#samples = new Float64Array(servers * RESPONSE_TIME_SAMPLES);
    this.#sums = new Float64Array(servers);
    this.#counts = new Int32Array(servers);
    this.#next = new Int32Array(servers);
  }

  add(server: number, ms: number): void {
    const slot = server * RESPONSE_TIME_SAMPLES + this.#next[server]!;
    const count = this.#counts[server]!;
    // A full ring gives up its oldest sample, which is the one in this slot.
    this.#sums[server] =
      this.#sums[server]! + ms - (count === RESPONSE_TIME_SAMPLES ? this.#samples[slot]! : 0);
    this.#samples[slot] = ms;
    if (count < RESPONSE_TIME_SAMPLES) this.#counts[server] = count + 1;
    this.#next[server] = (this.#next[server]! + 1) % RESPONSE_TIME_SAMPLES;
  }

  /** The average of the kept samples, ms; 0 before the first (a new server is tried at once). */
  average(server: number): number {
    const count = this.#counts[server]!;
    return count === 0 ? 0 : this.#sums[server]! / count;
  }
}

/**
 * Traefik's `leasttime` strategy (pkg/server/service/loadbalancer/leasttime): the server with the
 * lowest average time to first byte × (1 + requests in flight) / weight wins, and servers tied on
 * that score share the pick by smooth weighted round robin (Traefik breaks ties by weighted EDF,
 * the same shares). One difference: Traefik keeps whole milliseconds, so servers that answer in
 * under one all score 0 and the strategy is weighted round robin among them; we keep the fraction
 * (performance.now()), so the faster of two sub-millisecond servers is preferred as well.
 */
export class LeastTimePicker implements Picker {
  readonly #weights: Float64Array;
  readonly #inFlight: ArrayLike<number>;
  readonly #times: ResponseTimes;
  readonly #current: Float64Array;
  /** This pick's score per acceptable server; NaN for the others. */
  readonly #scores: Float64Array;

  constructor(weights: Float64Array, state: BalancerState, times: ResponseTimes) {
    this.#weights = weights;
    this.#inFlight = state.inFlight;
    this.#times = times;
    this.#current = new Float64Array(weights.length);
    this.#scores = new Float64Array(weights.length);
  }

  pick(accept?: (index: number) => boolean): number {
    const weights = this.#weights;
    const scores = this.#scores;
    const times = this.#times;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]!;
      scores[i] =
        w === 0 || (accept !== undefined && !accept(i))
          ? Number.NaN
          : (times.average(i) * (1 + (this.#inFlight[i] ?? 0))) / w;
    }
    return pickLowest(weights, this.#current, scores);
  }
}
