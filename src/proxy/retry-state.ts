import { inRanges } from '../config/dynamic/status-range.ts';
import type { HeaderList } from '../core/headers.ts';
import type { RequestHead } from '../core/request.ts';
import type { RetryPolicy } from '../middleware/middleware.ts';
import { backoffMs } from '../resilience/backoff.ts';
import type { RouteTarget } from '../runtime/types.ts';
import type { MirrorState } from './mirror-state.ts';

/** What a scheduled retry calls back when its backoff ran out. */
export interface Retrier {
  retryNow(): void;
}

/**
 * The methods whose answers a `status` retry may replay: all but POST, PATCH and LOCK, as
 * Traefik's retry ServeHTTP reads `isIdempotent` (PUT, DELETE, PROPFIND, a method of the
 * application's own… are all retried).
 */
export function retryableMethod(method: string): boolean {
  return method !== 'POST' && method !== 'PATCH' && method !== 'LOCK';
}

function retryLater(r: Retrier): void {
  r.retryNow();
}

/**
 * The wait before try `tries + 1`, as Traefik's retry newBackOff sets up cenkalti/backoff: from
 * `initialInterval`, multiplied by 2^(1/(attempts-1)) per retry (so that the interval would only
 * reach twice the initial one at the last attempt), ±50 % jitter, at most 60 s (the library's
 * MaxInterval); none without an initial interval.
 */
export function retryDelayMs(policy: RetryPolicy, tries: number, random: number): number {
  if (policy.attempts < 2) return 0;
  return backoffMs(tries, policy.initialIntervalMs, random, 60_000, 2 ** (1 / (policy.attempts - 1)));
}

/**
 * The retry policy of one request's route, applied around its tries: whether another try is
 * allowed, its backoff, and the retry budget it holds. Allocated only for routes with a `retry`
 * middleware; every other request pays nothing for retries.
 */
export class RetryState {
  readonly policy: RetryPolicy;
  /** Holds a retry slot of the budget (taken on the first retry, kept to the end). */
  #retrying = false;
  #timer: NodeJS.Timeout | null = null;
  #settled = false;
  /**
   * Where the middlewares that run once per attempt begin in the route's middlewares (the index
   * after the retry's marker, middleware/retry.ts retryPoint), or -1: none (only the service is
   * called again).
   */
  from = -1;
  /** The request as the retry got it (each attempt starts from it), kept when `from` >= 0. */
  #path = '';
  #query = '';
  #headers: HeaderList | null = null;
  #omitForwardedFor = false;
  hostOverride: string | undefined = undefined;
  /**
   * The request's leases (RequestControl.onEnd) that the current attempt's middlewares took:
   * `leaseFrom` up to `leaseTo` (-1: up to the last one), released when the attempt is retried.
   */
  leaseFrom = 0;
  leaseTo = -1;
  /** When the current attempt began (performance.now()), for its leases' outcome. */
  attemptAt = 0;
  /** An attempt is running the middlewares again: its dispatch resolves the service again. */
  again = false;
  /** The request was forwarded once (ExchangeTries.forward: recorder, timeouts, mirrors set up). */
  forwarded = false;
  /**
   * The route whose chain has this retry (the exchange's route when the retry was reached): each
   * attempt starts from it, its middlewares from `from` and then its whole service, the service
   * middlewares met in the tree (Traefik v3.7) and a parent's children included.
   */
  route: RouteTarget | undefined = undefined;
  /**
   * An attempt after the first met service middlewares while resolving the tree again: they run,
   * then the tree below them goes on that attempt (ExchangeTries.attemptAgain).
   */
  stepping = false;
  /**
   * The retry of the same chain this one is nested in (an earlier `retry` whose attempts each
   * call this one, as Traefik nests several retry middlewares of a chain), or null.
   */
  outer: RetryState | null = null;
  /**
   * Retries made, by this retry and those nested in it (kept by the outermost one): the access
   * log's `RetryAttempts` and the span's `traffic.retries`.
   */
  retried = 0;
  /**
   * While the attempt's connection that failed before anything was sent is answered: an error
   * page fetched then is `quiet` (ErrorPageRequest), Traefik's retry writer still set to retry.
   */
  quietCaught = false;
  /** The request's attempts made before this retry began (its own count from there). */
  base = 0;
  /** A retry with one nested in it: its own attempts (each a whole run of the inner one). */
  runs = 1;
  hasInner = false;
  /**
   * Later attempts' mirrorings whose copies are not sent yet (they go when their attempt ends,
   * and wait for the request body's end), or null: what a mirroring service met again by an
   * attempt sends (ExchangeTries #attemptMirror; kept on the outermost retry).
   */
  pendingMirrors: MirrorState[] | null = null;

  constructor(policy: RetryPolicy) {
    this.policy = policy;
    // Counted among the requests in flight: the budget caps retries as a share of them.
    policy.budget.requestStarted();
  }

  /**
   * The request reached the retry (its marker): the middlewares from `from` on run per attempt,
   * each time on the request as it is now (Traefik's retry gives each attempt a clone of it,
   * req.Clone: what a middleware after the retry changed never carries over to the next one).
   */
  keep(from: number, req: RequestHead, hostOverride: string | undefined): void {
    this.from = from;
    this.#path = req.path;
    this.#query = req.query;
    this.#headers = req.headers.clone();
    this.#omitForwardedFor = req.omitForwardedFor;
    this.hostOverride = hostOverride;
  }

  /** Puts the request back as `keep` saw it, for the next attempt. */
  restore(req: RequestHead): void {
    req.path = this.#path;
    req.query = this.#query;
    req.omitForwardedFor = this.#omitForwardedFor;
    const saved = this.#headers!;
    const h = req.headers;
    h.names.length = 0;
    h.lnames.length = 0;
    h.values.length = 0;
    h.names.push(...saved.names);
    h.lnames.push(...saved.lnames);
    h.values.push(...saved.values);
    h.unsettled = saved.unsettled;
    h.raw = null;
  }

  /** How many attempts of this retry were made, the request having made `attempts` in all. */
  count(attempts: number): number {
    return this.hasInner ? this.runs : attempts - this.base;
  }

  get retrying(): boolean {
    return this.#retrying;
  }

  /**
   * Whether try number `tries + 1` is allowed: 'retry', 'no', or 'no-budget' (the policy would
   * allow it, the retry budget does not). As Traefik's retry middleware (pkg/middlewares/retry/
   * retry.go, responseWriter.WriteHeader) decides:
   * - `kind` 'connect': a network failure before any request byte reached a server (its
   *   WroteHeaders hook had not fired): retried for any method unless `disableRetryOnNetworkError`;
   * - `kind` 'status': an answer with `status` (a server's, or ours for a failure after the
   *   request was sent, a reset: 502, a response timeout: 504): retried only when `status` lists
   *   it, for any method but POST, PATCH and LOCK (all with `retryNonIdempotentMethod`), with the
   *   body kept whole (`maxRequestBodyBytes`);
   * - `kind` 'perTry' (ours, `timeouts.perTry`): retried as a network failure, for those methods
   *   and a body kept whole.
   * `bodyRead` says request body bytes were read (a body can only be sent again if kept whole);
   * `bodyReplayable` that it was kept whole.
   */
  allows(
    tries: number,
    method: string,
    kind: 'connect' | 'status' | 'perTry',
    status: number,
    bodyRead: boolean,
    bodyReplayable: boolean,
    pastDeadline: boolean,
  ): 'retry' | 'no' | 'no-budget' {
    const p = this.policy;
    if (tries >= p.attempts || pastDeadline) return 'no';
    if (kind === 'connect' && p.onNetworkError) {
      if (bodyRead && !bodyReplayable) return 'no';
    } else {
      if (kind === 'perTry' ? !p.onNetworkError : !inRanges(p.status, status)) return 'no';
      if (!p.nonIdempotent && !retryableMethod(method)) return 'no';
      if (!bodyReplayable) return 'no';
    }
    if (!this.#retrying) {
      // The budget caps retries among the requests in flight, so retries never multiply an outage.
      if (!p.budget.tryStartRetry()) return 'no-budget';
      this.#retrying = true;
    }
    return 'retry';
  }

  /**
   * Waits the backoff for try `tries + 1`, then calls `r.retryNow()`. Returns false when there
   * is no wait: the caller tries again at once.
   */
  schedule(r: Retrier, tries: number): boolean {
    const delay = retryDelayMs(this.policy, tries, Math.random());
    if (delay <= 0) return false;
    this.#timer = setTimeout(retryLater, delay, r);
    return true;
  }

  /** The backoff timer fired. */
  fired(): void {
    this.#timer = null;
  }

  cancel(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  /** The request ended: its budget slots are given back (once). */
  settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.cancel();
    // The request ended before its body did: those attempts' copies are not sent.
    const p = this.pendingMirrors;
    if (p !== null) {
      this.pendingMirrors = null;
      for (let i = 0; i < p.length; i++) p[i]!.skip();
    }
    const b = this.policy.budget;
    if (this.#retrying) b.retryEnded();
    b.requestEnded();
  }
}
