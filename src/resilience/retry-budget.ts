/**
 * Envoy-style retry budget: retries in flight may not exceed a share of the requests in flight,
 * with a floor so that a quiet service can still retry. A fixed per-request retry count alone
 * multiplies load on an upstream that is already failing (3 attempts each = 3× the traffic at
 * the worst moment); the budget bounds the extra load to `percent`.
 */
export interface RetryBudgetOptions {
  /** Retries in flight as a percentage of requests in flight (default 20). */
  percent?: number;
  /** Retries allowed in flight whatever the request count (default 3). */
  minConcurrent?: number;
}

export class RetryBudget {
  readonly #percent: number;
  readonly #minConcurrent: number;
  #requests = 0;
  #retries = 0;

  constructor(opts: RetryBudgetOptions = {}) {
    this.#percent = Math.max(0, opts.percent ?? 20);
    this.#minConcurrent = Math.max(0, Math.floor(opts.minConcurrent ?? 3));
  }

  get activeRequests(): number {
    return this.#requests;
  }

  get activeRetries(): number {
    return this.#retries;
  }

  /** An original request (not a retry) started. */
  requestStarted(): void {
    this.#requests++;
  }

  /** An original request finished, whatever the outcome. */
  requestEnded(): void {
    // Floors at 0 so that an unbalanced end (a bug elsewhere) cannot widen the budget later.
    if (this.#requests > 0) this.#requests--;
  }

  /** Reserves a retry slot; the caller must call `retryEnded` once that retry is over. */
  tryStartRetry(): boolean {
    // Integer arithmetic first: 0.2 * 15 is 3.0000000000000004 but 20 * 15 / 100 is exactly 3.
    const share = Math.floor((this.#percent * this.#requests) / 100);
    const max = Math.max(share, this.#minConcurrent);
    if (this.#retries >= max) return false;
    this.#retries++;
    return true;
  }

  retryEnded(): void {
    if (this.#retries > 0) this.#retries--;
  }
}
