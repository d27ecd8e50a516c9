/**
 * Passive health checks (outlier detection) for the servers of one load balancer, indexes
 * 0..n-1. Traefik's `passiveHealthCheck` ejects a server after `maxFailedAttempts` consecutive
 * failures within `failureWindow` and keeps it out for `failureWindow`; this adds Envoy's
 * failure-ratio detection, growing ejection times for servers that keep failing, and a cap on
 * the share of servers ejected at once.
 *
 * All state lives in typed arrays so that `isEjected` (per candidate, per request) and `record`
 * (per response) allocate nothing.
 */
export interface OutlierOptions {
  /** Consecutive failures that eject a server (Traefik's key; default 1; 0 = off). */
  maxFailedAttempts: number;
  /** The consecutive failures must all fall within this window (default 10000). */
  failureWindowMs: number;
  /** 0 = off; else eject when failures / total in the window >= ratio and total >= minRequests. */
  failureRatio: number;
  /** Requests in the window before the ratio is trusted (default 5). */
  minRequests: number;
  /** First ejection time; default failureWindowMs, which is how long Traefik keeps a server out. */
  baseEjectionMs: number;
  /** Longest ejection (default 300000). */
  maxEjectionMs: number;
  /** Most servers ejected at once, as a percentage (default 50); one is always allowed when n >= 2. */
  maxEjectionPercent: number;
}

export type OutlierChange = (index: number, ejected: boolean, now: number, reason: string) => void;

/** Ratio counting uses a ring of buckets per server: the window slides in steps of window/10. */
const BUCKETS = 10;

export class OutlierDetector {
  /** 1 while the server is ejected (expiry is applied lazily by `isEjected` and `record`). */
  readonly ejected: Uint8Array;
  readonly #n: number;
  readonly #maxFailed: number;
  readonly #windowMs: number;
  readonly #ratio: number;
  readonly #minRequests: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #maxEjected: number;
  readonly #maxStreak: number;
  readonly #bucketMs: number;
  readonly #onChange: OutlierChange | undefined;
  readonly #consecutive: Uint32Array;
  readonly #runStart: Float64Array;
  readonly #until: Float64Array;
  /** Ejections in a row, the multiplier of the base ejection time. */
  readonly #streak: Float64Array;
  /** When the last ejection ended, from which the streak decays. */
  readonly #returnedAt: Float64Array;
  readonly #bucketEpoch: Float64Array;
  readonly #bucketTotal: Uint32Array;
  readonly #bucketFailed: Uint32Array;
  #ejectedCount = 0;

  constructor(serverCount: number, opts: Partial<OutlierOptions> = {}, onChange?: OutlierChange) {
    const n = Math.max(0, Math.floor(serverCount));
    this.#n = n;
    this.#maxFailed = Math.max(0, Math.floor(opts.maxFailedAttempts ?? 1));
    this.#windowMs = Math.max(1, opts.failureWindowMs ?? 10_000);
    this.#ratio = Math.max(0, opts.failureRatio ?? 0);
    this.#minRequests = Math.max(1, Math.floor(opts.minRequests ?? 5));
    this.#baseMs = Math.max(1, opts.baseEjectionMs ?? this.#windowMs);
    this.#maxMs = Math.max(this.#baseMs, opts.maxEjectionMs ?? 300_000);
    // A single-server service is never ejected: there is nothing to fail over to, so ejecting it
    // only turns the upstream's own errors (which may be partial, or about to clear) into our
    // 503s for every request, and hides the recovery until the ejection expires.
    const share = Math.floor((n * Math.max(0, opts.maxEjectionPercent ?? 50)) / 100);
    this.#maxEjected = n < 2 ? 0 : Math.min(n, Math.max(1, share));
    // Past this streak the ejection time is capped anyway; stopping the count here keeps the
    // decay back to the base time as short as the cap allows.
    this.#maxStreak = Math.ceil(this.#maxMs / this.#baseMs);
    this.#bucketMs = this.#windowMs / BUCKETS;
    this.#onChange = onChange;
    this.ejected = new Uint8Array(n);
    this.#consecutive = new Uint32Array(n);
    this.#runStart = new Float64Array(n);
    this.#until = new Float64Array(n);
    this.#streak = new Float64Array(n);
    this.#returnedAt = new Float64Array(n);
    const ratioSlots = this.#ratio > 0 ? n * BUCKETS : 0;
    this.#bucketEpoch = new Float64Array(ratioSlots).fill(-1);
    this.#bucketTotal = new Uint32Array(ratioSlots);
    this.#bucketFailed = new Uint32Array(ratioSlots);
  }

  /** Servers marked ejected, counting any whose ejection expired but was not yet observed. */
  get ejectedCount(): number {
    return this.#ejectedCount;
  }

  isEjected(index: number, now: number): boolean {
    if (this.ejected[index] !== 1) return false;
    if (now < this.#until[index]!) return true;
    this.#return(index, now);
    return false;
  }

  /** The outcome of one request to server `index`. */
  record(index: number, failed: boolean, now: number): void {
    if (index < 0 || index >= this.#n) return;
    if (this.ejected[index] === 1) {
      // Outcomes of requests sent before the ejection say nothing new about the server.
      if (now < this.#until[index]!) return;
      this.#return(index, now);
    }
    let overRatio = false;
    if (this.#ratio > 0) overRatio = this.#countInWindow(index, failed, now);
    if (!failed) {
      this.#consecutive[index] = 0;
      return;
    }
    // Traefik counts the failures "within the failure window": a run that started longer ago
    // than the window starts over with this failure.
    if (this.#consecutive[index] === 0 || now - this.#runStart[index]! > this.#windowMs) {
      this.#consecutive[index] = 0;
      this.#runStart[index] = now;
    }
    const count = ++this.#consecutive[index]!;
    if (this.#maxFailed > 0 && count >= this.#maxFailed) this.#eject(index, now, 'consecutive-failures');
    else if (overRatio) this.#eject(index, now, 'failure-ratio');
  }

  /** Adds the outcome to the current bucket; on a failure, says whether the ratio is reached. */
  #countInWindow(index: number, failed: boolean, now: number): boolean {
    const epoch = Math.floor(now / this.#bucketMs);
    const base = index * BUCKETS;
    const slot = base + (epoch % BUCKETS);
    if (this.#bucketEpoch[slot] !== epoch) {
      this.#bucketEpoch[slot] = epoch;
      this.#bucketTotal[slot] = 0;
      this.#bucketFailed[slot] = 0;
    }
    this.#bucketTotal[slot]!++;
    if (!failed) return false;
    this.#bucketFailed[slot]!++;
    let total = 0;
    let failures = 0;
    const oldest = epoch - BUCKETS;
    for (let k = base; k < base + BUCKETS; k++) {
      if (this.#bucketEpoch[k]! > oldest) {
        total += this.#bucketTotal[k]!;
        failures += this.#bucketFailed[k]!;
      }
    }
    // Division, not `ratio * total`: 3/10 and the literal 0.3 are the same double, 0.3*10 is not 3.
    return total >= this.#minRequests && failures / total >= this.#ratio;
  }

  #eject(index: number, now: number, reason: string): void {
    if (this.#ejectedCount >= this.#maxEjected) {
      if (this.#maxEjected === 0) return;
      this.#returnExpired(now);
      // Over the cap the failures stay counted, so the next one ejects once room frees up.
      if (this.#ejectedCount >= this.#maxEjected) return;
    }
    let streak = this.#streak[index]!;
    if (streak > 0) {
      const healthyPeriods = Math.floor((now - this.#returnedAt[index]!) / this.#baseMs);
      streak = healthyPeriods >= streak ? 0 : streak - healthyPeriods;
    }
    if (streak < this.#maxStreak) streak++;
    this.#streak[index] = streak;
    this.#until[index] = now + Math.min(this.#maxMs, this.#baseMs * streak);
    this.ejected[index] = 1;
    this.#ejectedCount++;
    // A server comes back with a clean slate: failures from before the ejection are not held
    // against it a second time.
    this.#consecutive[index] = 0;
    if (this.#ratio > 0) this.#bucketEpoch.fill(-1, index * BUCKETS, index * BUCKETS + BUCKETS);
    this.#onChange?.(index, true, now, reason);
  }

  /**
   * Ejects server `index` until `now + ms` on another process's decision (workers: the worker
   * that saw the failures decided; src/workers/health-hub.ts). Its own streak is left alone: the
   * deciding process's ejection time already counts it. A server already ejected here keeps the
   * later of the two ends; the cap on ejected servers applies as to its own decisions.
   */
  ejectFor(index: number, ms: number, now: number): void {
    if (index < 0 || index >= this.#n || ms <= 0) return;
    if (this.ejected[index] === 1) {
      this.#until[index] = Math.max(this.#until[index]!, now + ms);
      return;
    }
    if (this.#ejectedCount >= this.#maxEjected) {
      if (this.#maxEjected === 0) return;
      this.#returnExpired(now);
      if (this.#ejectedCount >= this.#maxEjected) return;
    }
    this.#until[index] = now + ms;
    this.ejected[index] = 1;
    this.#ejectedCount++;
    this.#consecutive[index] = 0;
    if (this.#ratio > 0) this.#bucketEpoch.fill(-1, index * BUCKETS, index * BUCKETS + BUCKETS);
    this.#onChange?.(index, true, now, 'shared');
  }

  /** How long server `index` stays ejected from `now` (0 = not ejected). */
  ejectedFor(index: number, now: number): number {
    return this.ejected[index] === 1 ? Math.max(0, this.#until[index]! - now) : 0;
  }

  #returnExpired(now: number): void {
    for (let i = 0; i < this.#n; i++) {
      if (this.ejected[i] === 1 && now >= this.#until[i]!) this.#return(i, now);
    }
  }

  #return(index: number, now: number): void {
    this.ejected[index] = 0;
    this.#ejectedCount--;
    // Healthy time counts from the end of the ejection, not from when someone noticed it.
    this.#returnedAt[index] = this.#until[index]!;
    this.#onChange?.(index, false, now, 'ejection-expired');
  }
}
