/**
 * Traefik's circuitBreaker middleware, which is vulcand/oxy's cbreaker: a pure state machine over
 * the rolling metrics, driven by the caller's clock.
 *
 *   standby ──predicate true (checked ≤ once per checkPeriod, on record)──► tripped
 *   tripped ──fallbackDuration elapsed (seen on allow)──────────────────────► recovering
 *   recovering ──predicate true (on record)──► tripped
 *   recovering ──recoveryDuration elapsed (seen on allow)──► standby
 *
 * Transitions happen lazily, when a call with a later `now` observes them, as in oxy; there is no
 * timer. While recovering, the share of requests let through grows linearly from 0 to 1: oxy gets
 * there deterministically by keeping allowed/(allowed+denied) at 0.5·t/T (which lets through a
 * share t/T of the requests arriving at t); here the caller's random draw decides, which gives the
 * same expected share without counters that drift when the request rate changes.
 */
import type { BreakerPredicate } from './expression.ts';
import { RollingMetrics, type RollingWindowOptions } from './rolling-metrics.ts';

export type BreakerState = 'standby' | 'tripped' | 'recovering';

export const DEFAULT_CHECK_PERIOD_MS = 100;
export const DEFAULT_FALLBACK_DURATION_MS = 10_000;
export const DEFAULT_RECOVERY_DURATION_MS = 10_000;

export interface BreakerOptions {
  readonly predicate: BreakerPredicate;
  /** Least time between two evaluations of the predicate; default 100 ms. */
  readonly checkPeriodMs?: number;
  /** How long a tripped breaker rejects everything; default 10 000 ms. */
  readonly fallbackDurationMs?: number;
  /** How long the recovery ramp from 0 to all requests takes; default 10 000 ms. */
  readonly recoveryDurationMs?: number;
  /** The metrics window; default 10 s in 10 buckets. */
  readonly window?: RollingWindowOptions;
  /**
   * Called synchronously after every transition, once the new state is in place and the metrics
   * are reset. It runs inside allow()/record(), on the request path: keep it cheap, do not throw.
   */
  readonly onStateChange?: (from: BreakerState, to: BreakerState, now: number) => void;
}

function duration(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be ≥ 0, got ${value}`);
  return value;
}

export class CircuitBreaker {
  readonly #predicate: BreakerPredicate;
  readonly #checkPeriodMs: number;
  readonly #fallbackDurationMs: number;
  readonly #recoveryDurationMs: number;
  readonly #onStateChange: ((from: BreakerState, to: BreakerState, now: number) => void) | undefined;
  readonly #metrics: RollingMetrics;

  #state: BreakerState = 'standby';
  /** End of the current tripped or recovering period. */
  #until = 0;
  #recoveryStart = 0;
  /** The predicate is evaluated again only once `now` is past this instant. */
  #nextCheck: number;

  constructor(opts: BreakerOptions, now: number) {
    this.#predicate = opts.predicate;
    this.#checkPeriodMs = duration('checkPeriodMs', opts.checkPeriodMs, DEFAULT_CHECK_PERIOD_MS);
    this.#fallbackDurationMs = duration(
      'fallbackDurationMs',
      opts.fallbackDurationMs,
      DEFAULT_FALLBACK_DURATION_MS,
    );
    this.#recoveryDurationMs = duration(
      'recoveryDurationMs',
      opts.recoveryDurationMs,
      DEFAULT_RECOVERY_DURATION_MS,
    );
    this.#onStateChange = opts.onStateChange;
    this.#metrics = new RollingMetrics(opts.window);
    this.#metrics.advance(now);
    // The first response may already be checked (oxy starts with a zero lastCheck).
    this.#nextCheck = now - 1;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** The live metrics, for observability. Reads reflect the last allow/record call. */
  get metrics(): RollingMetrics {
    return this.#metrics;
  }

  /**
   * Whether a request may go to the service now; `random` is a draw in [0, 1) used only while
   * recovering. A request that is allowed must later be reported with record().
   */
  allow(now: number, random: number): boolean {
    if (this.#state === 'standby') return true;
    return this.#allowSlow(now, random);
  }

  /** Reports the outcome of an allowed request; may trip the breaker. */
  record(now: number, networkError: boolean, status: number, latencyMs: number): void {
    // A tripped breaker's metrics are cleared when it starts recovering, so responses still in
    // flight when it tripped would be counted only to be thrown away.
    if (this.#state === 'tripped') return;
    this.#metrics.record(now, networkError, status, latencyMs);
    if (!(now > this.#nextCheck)) return;
    this.#nextCheck = now + this.#checkPeriodMs;
    if (this.#predicate(this.#metrics)) this.#trip(now);
  }

  #allowSlow(now: number, random: number): boolean {
    if (this.#state === 'tripped') {
      if (now < this.#until) return false;
      this.#recoveryStart = now;
      this.#until = now + this.#recoveryDurationMs;
      this.#transition('recovering', now);
    }
    if (now > this.#until || this.#recoveryDurationMs === 0) {
      this.#transition('standby', now);
      return true;
    }
    return random < (now - this.#recoveryStart) / this.#recoveryDurationMs;
  }

  #trip(now: number): void {
    this.#until = now + this.#fallbackDurationMs;
    this.#transition('tripped', now);
  }

  #transition(to: BreakerState, now: number): void {
    const from = this.#state;
    this.#state = to;
    this.#metrics.reset();
    this.#metrics.advance(now);
    this.#onStateChange?.(from, to, now);
  }
}
