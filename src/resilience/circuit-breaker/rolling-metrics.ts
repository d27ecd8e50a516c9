/**
 * The numbers a circuit breaker decides on, over a rolling window (oxy's RTMetrics: 10 buckets of
 * 1 s by default). Each bucket keeps counts only, in typed arrays allocated once, and the window's
 * sums are kept alongside so that a read does not walk every bucket; recording a response is a
 * handful of integer increments and never allocates.
 */
import type { BreakerMetricsView } from './expression.ts';
import { binLatency, LATENCY_BINS, latencyBin } from './latency-bins.ts';

/** Status codes 0–999 are counted one by one (HTTP/1.1 status codes are three digits, RFC 9112 §4). */
const STATUS_SLOTS = 1000;

export const DEFAULT_WINDOW_MS = 10_000;
export const DEFAULT_WINDOW_BUCKETS = 10;

export interface RollingWindowOptions {
  /** Length of the window in milliseconds; default 10 000. */
  readonly windowMs?: number;
  /** Number of buckets the window slides by; default 10. */
  readonly buckets?: number;
}

export class RollingMetrics implements BreakerMetricsView {
  readonly #buckets: number;
  readonly #bucketMs: number;
  /** Absolute number (floor(now / bucketMs)) of the newest bucket, and its index in the ring. */
  #head = Number.NEGATIVE_INFINITY;
  #headIndex = 0;

  readonly #total: Uint32Array;
  readonly #netErrors: Uint32Array;
  readonly #status: Uint32Array;
  readonly #latency: Uint32Array;

  #sumTotal = 0;
  #sumNetErrors = 0;
  readonly #sumStatus = new Uint32Array(STATUS_SLOTS);
  readonly #sumLatency = new Uint32Array(LATENCY_BINS);

  constructor(options: RollingWindowOptions = {}) {
    const buckets = options.buckets ?? DEFAULT_WINDOW_BUCKETS;
    const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    if (!Number.isInteger(buckets) || buckets < 1)
      throw new RangeError(`buckets must be ≥ 1, got ${buckets}`);
    if (!(windowMs > 0) || !Number.isFinite(windowMs)) {
      throw new RangeError(`windowMs must be a positive number, got ${windowMs}`);
    }
    this.#buckets = buckets;
    this.#bucketMs = windowMs / buckets;
    this.#total = new Uint32Array(buckets);
    this.#netErrors = new Uint32Array(buckets);
    this.#status = new Uint32Array(buckets * STATUS_SLOTS);
    this.#latency = new Uint32Array(buckets * LATENCY_BINS);
  }

  /** Counts one finished exchange. A status outside 0–999 counts in the total but in no status range. */
  record(now: number, networkError: boolean, status: number, latencyMs: number): void {
    this.advance(now);
    const b = this.#headIndex;
    this.#total[b]!++;
    this.#sumTotal++;
    if (networkError) {
      this.#netErrors[b]!++;
      this.#sumNetErrors++;
    }
    if (status >= 0 && status < STATUS_SLOTS) {
      const s = status | 0;
      this.#status[b * STATUS_SLOTS + s]!++;
      this.#sumStatus[s]!++;
    }
    const bin = latencyBin(latencyMs);
    this.#latency[b * LATENCY_BINS + bin]!++;
    this.#sumLatency[bin]!++;
  }

  /** Slides the window to `now`, dropping buckets that fell out of it. A clock going back is ignored. */
  advance(now: number): void {
    const slot = Math.floor(now / this.#bucketMs);
    if (slot <= this.#head) return;
    const gap = slot - this.#head;
    if (gap >= this.#buckets) {
      if (this.#sumTotal !== 0) this.reset();
    } else {
      for (let k = 1; k <= gap; k++) this.#expire((this.#headIndex + k) % this.#buckets);
    }
    this.#head = slot;
    this.#headIndex = ((slot % this.#buckets) + this.#buckets) % this.#buckets;
  }

  /** Forgets everything; the breaker calls this on every state change. */
  reset(): void {
    this.#total.fill(0);
    this.#netErrors.fill(0);
    this.#status.fill(0);
    this.#latency.fill(0);
    this.#sumStatus.fill(0);
    this.#sumLatency.fill(0);
    this.#sumTotal = 0;
    this.#sumNetErrors = 0;
  }

  /** Exchanges in the window as of `now`. */
  total(now: number): number {
    this.advance(now);
    return this.#sumTotal;
  }

  networkErrorRatio(): number {
    return this.#sumTotal === 0 ? 0 : this.#sumNetErrors / this.#sumTotal;
  }

  /** Responses with a status in [from, to) over those in [dFrom, dTo); 0 when the divisor is 0 (as oxy). */
  responseCodeRatio(from: number, to: number, dFrom: number, dTo: number): number {
    const divisor = this.#statusCount(dFrom, dTo);
    return divisor === 0 ? 0 : this.#statusCount(from, to) / divisor;
  }

  /** Latency in ms at quantile `q` percent (50 = median), within ~2.5 %; 0 with no data. */
  latencyAtQuantileMs(q: number): number {
    if (this.#sumTotal === 0) return 0;
    const clamped = Math.min(100, Math.max(0, q || 0));
    const target = Math.max(1, Math.round((clamped / 100) * this.#sumTotal));
    let seen = 0;
    for (let bin = 0; bin < LATENCY_BINS; bin++) {
      seen += this.#sumLatency[bin]!;
      if (seen >= target) return binLatency(bin);
    }
    return binLatency(LATENCY_BINS - 1);
  }

  #statusCount(from: number, to: number): number {
    const lo = Math.max(0, Math.ceil(from));
    const hi = Math.min(STATUS_SLOTS, Math.ceil(to));
    let n = 0;
    for (let s = lo; s < hi; s++) n += this.#sumStatus[s]!;
    return n;
  }

  #expire(b: number): void {
    if (this.#total[b] === 0) return;
    this.#sumTotal -= this.#total[b]!;
    this.#sumNetErrors -= this.#netErrors[b]!;
    this.#total[b] = 0;
    this.#netErrors[b] = 0;
    const statusBase = b * STATUS_SLOTS;
    for (let s = 0; s < STATUS_SLOTS; s++) {
      const n = this.#status[statusBase + s]!;
      if (n !== 0) {
        this.#sumStatus[s]! -= n;
        this.#status[statusBase + s] = 0;
      }
    }
    const latencyBase = b * LATENCY_BINS;
    for (let i = 0; i < LATENCY_BINS; i++) {
      const n = this.#latency[latencyBase + i]!;
      if (n !== 0) {
        this.#sumLatency[i]! -= n;
        this.#latency[latencyBase + i] = 0;
      }
    }
  }
}
