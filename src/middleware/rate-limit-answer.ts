import { durationString } from '../core/go-duration.ts';
import type { DirectResponse } from '../core/request.ts';
import type { Lease, RequestControl } from './middleware.ts';

/* What rateLimit (local or with Redis) does with a request that must wait for its token. */

/** Holds a request whose token is reserved until the token's time comes, then lets it go on. */
class Delay implements Lease {
  readonly #timer: NodeJS.Timeout;
  readonly #ctl: RequestControl;
  #waiting = true;
  constructor(ctl: RequestControl, waitMs: number) {
    this.#ctl = ctl;
    this.#timer = setTimeout(() => {
      this.#waiting = false;
      ctl.resume();
    }, Math.ceil(waitMs));
  }
  /** The request ended: before its time came when the client went away, nothing left to resume. */
  release(): void {
    if (!this.#waiting) return;
    clearTimeout(this.#timer);
    // Traefik's rateLimiter.ServeHTTP, its context done while it waits:
    // observability.SetStatusErrorf(ctx, "Context canceled").
    this.#ctl.markSpanError?.('Context canceled');
  }
}

export function delayRequest(ctl: RequestControl, waitMs: number): void {
  ctl.onEnd(new Delay(ctl, waitMs));
}

/**
 * Traefik's ratelimiter serveDelayError: 429, `Retry-After` the wait in whole seconds rounded up,
 * `X-Retry-In` the wait as Go prints a time.Duration, and the status text as the body.
 */
export function tooManyRequests(waitMs: number): DirectResponse {
  return {
    status: 429,
    headers: [
      ['Retry-After', String(Math.max(1, Math.ceil(waitMs / 1000)))],
      ['X-Retry-In', goDuration(Math.round(waitMs * 1e6))],
    ],
    body: 'Too Many Requests',
  };
}

/** A duration in nanoseconds (an integer) as Go's time.Duration.String writes it: `1.5s`, `250ms`, `1m0.5s`. */
export function goDuration(ns: number): string {
  return durationString(BigInt(ns));
}
