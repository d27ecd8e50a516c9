import type { DirectResponse } from '../core/request.ts';
import type { Lease, RequestControl } from './middleware.ts';

/* What rateLimit (local or with Redis) does with a request that must wait for its token. */

/** Holds a request whose token is reserved until the token's time comes, then lets it go on. */
class Delay implements Lease {
  readonly #timer: NodeJS.Timeout;
  constructor(ctl: RequestControl, waitMs: number) {
    this.#timer = setTimeout(() => ctl.resume(), Math.ceil(waitMs));
  }
  /** The request ended first (the client went away): nothing left to resume. */
  release(): void {
    clearTimeout(this.#timer);
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

/** A duration in nanoseconds as Go's time.Duration.String writes it: `1.5s`, `250ms`, `1m0.5s`. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${fixed(ns, 1e3)}µs`;
  if (ns < 1e9) return `${fixed(ns, 1e6)}ms`;
  const h = Math.floor(ns / 3.6e12);
  const m = Math.floor((ns % 3.6e12) / 6e10);
  const s = `${fixed(ns % 6e10, 1e9)}s`;
  if (h > 0) return `${h}h${m}m${s}`;
  return m > 0 ? `${m}m${s}` : s;
}

/** `n / unit` with the fraction's trailing zeros dropped (both integers). */
function fixed(n: number, unit: number): string {
  const whole = Math.floor(n / unit);
  const frac = n % unit;
  if (frac === 0) return String(whole);
  const digits = String(unit).length - 1;
  return `${whole}.${String(frac).padStart(digits, '0').replace(/0+$/, '')}`;
}
