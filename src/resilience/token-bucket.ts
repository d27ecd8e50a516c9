/**
 * Per-key token buckets with Traefik `rateLimit` semantics (pkg/middlewares/ratelimiter, over
 * golang.org/x/time/rate): `average` requests per `period` refill the bucket continuously, `burst`
 * is its size, and a new key starts with a full bucket. A request that would have to wait no more
 * than `maxDelayMs` reserves its token now and is served after the wait (the bucket goes below
 * zero, as a rate.Reservation does); a longer wait is refused without taking a token.
 */
export interface TokenBucketOptions {
  /** Requests per period; 0 disables the limit, as in Traefik. */
  average: number;
  /** 0 means one second, as in Traefik. */
  periodMs: number;
  /** Bucket size; anything below 1 becomes 1, as in Traefik. */
  burst: number;
  /** Most keys remembered at once (default 65536). */
  maxKeys?: number;
}

/**
 * Traefik's ratelimiter `New`, for `average` per `periodMs` (> 0): the longest delay a request is
 * held for rather than refused, half the interval between two requests at that rate with the rate
 * truncated to whole requests per second, 500 ms below one per second; and the ttl of a bucket
 * after its last request, 2 s at one request per second or more, 1 + 1/rate s below. A bucket idle
 * that long is dropped (Traefik's ttlmap, or the Redis key's expiry), and the source's next
 * request finds a full one, even when the refill alone would give it less.
 */
export function traefikTimings(average: number, periodMs: number): { maxDelayMs: number; idleMs: number } {
  const perSecond = (average * 1000) / periodMs;
  if (!(perSecond > 0)) return { maxDelayMs: 0, idleMs: 1000 };
  const maxDelayMs = perSecond < 1 ? 500 : Math.trunc(1e9 / (Math.trunc(perSecond) * 2)) / 1e6;
  const idleMs = 1000 * (1 + (perSecond >= 1 ? 1 : Math.trunc(1 / perSecond)));
  return { maxDelayMs, idleMs };
}

/**
 * Rounding of `elapsed * rate` must not turn "exactly one period later" into "one millisecond
 * short of a token": a client pacing itself at the advertised rate would get spurious 429s.
 */
const EPSILON = 1e-9;

class Bucket {
  key: string;
  tokens: number;
  last: number;
  /** Recency list: toward the least recently used, toward the most recently used. */
  older: Bucket | null = null;
  newer: Bucket | null = null;
  constructor(key: string, tokens: number, last: number) {
    this.key = key;
    this.tokens = tokens;
    this.last = last;
  }
}

export class TokenBucketLimiter {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #unlimited: boolean;
  /** A bucket unused for this long is forgotten, so it starts full again (Traefik's ttl). */
  readonly #idleMs: number;
  /**
   * The longest wait a request is delayed by rather than refused. Traefik's ratelimiter `New`:
   * half the interval between two requests at the average rate, the rate truncated to whole
   * requests per second; 500 ms for rates below one per second.
   */
  readonly maxDelayMs: number;
  /**
   * Buckets by key; recency is a list through the buckets themselves (`#oldest` is the one to
   * evict). Not the Map's insertion order (delete and set again per request): a long-lived Map
   * rebuilds its hash table every few dozen deletions, in the old generation, and with clients
   * taking turns that was old-space garbage per request (docs/performance.md, "Old-space
   * garbage from hash-table churn"). The map changes only when a key comes or goes.
   */
  readonly #buckets = new Map<string, Bucket>();
  #oldest: Bucket | null = null;
  #newest: Bucket | null = null;

  constructor(opts: TokenBucketOptions) {
    if (!(opts.average >= 0)) throw new RangeError(`rate limit average must be >= 0, got ${opts.average}`);
    // The rateLimit schema has already made Traefik's 0 period one second and a burst below 1 one.
    if (!(opts.periodMs > 0)) throw new RangeError(`rate limit period must be > 0, got ${opts.periodMs}`);
    if (!(opts.burst >= 1)) throw new RangeError(`rate limit burst must be >= 1, got ${opts.burst}`);
    const periodMs = opts.periodMs;
    this.#unlimited = opts.average === 0;
    this.#ratePerMs = opts.average / periodMs;
    this.#burst = opts.burst;
    this.#maxKeys = Math.max(1, Math.floor(opts.maxKeys ?? 65536));
    const t = traefikTimings(opts.average, periodMs);
    this.maxDelayMs = t.maxDelayMs;
    this.#idleMs = t.idleMs;
  }

  /** Number of keys currently remembered. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one token for `key`. Returns 0 when the request may pass now; else the milliseconds
   * (fractional) until its token. A wait up to `maxDelayMs` has its token reserved already: the
   * request passes after that wait. A longer one took nothing: the request is refused.
   */
  take(key: string, now: number): number {
    if (this.#unlimited) return 0;
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = this.#insert(key, now);
    } else {
      if (bucket !== this.#newest) {
        this.#unlink(bucket);
        this.#append(bucket);
      }
      const elapsed = now - bucket.last;
      // A clock that steps back (it should not: callers pass monotonic time) must not drain tokens.
      if (elapsed > 0) {
        if (elapsed >= this.#idleMs) bucket.tokens = this.#burst;
        else bucket.tokens = Math.min(bucket.tokens + elapsed * this.#ratePerMs, this.#burst);
        bucket.last = now;
      }
    }
    if (bucket.tokens >= 1 - EPSILON) {
      bucket.tokens = bucket.tokens > 1 ? bucket.tokens - 1 : 0;
      return 0;
    }
    const wait = (1 - bucket.tokens) / this.#ratePerMs;
    if (wait <= this.maxDelayMs) bucket.tokens -= 1;
    return wait;
  }

  /**
   * Forgets every key whose bucket has refilled completely or sat idle past the ttl: a fresh
   * bucket is what its next request would find anyway, so this
   * loses nothing, and it gives memory back after a key-spraying burst. O(keys); meant for a
   * periodic sweep, not the request path. Returns how many keys were dropped.
   */
  sweep(now: number): number {
    if (this.#unlimited) return 0;
    let dropped = 0;
    for (const [key, bucket] of this.#buckets) {
      const idle = now - bucket.last;
      if (idle >= this.#idleMs || bucket.tokens + idle * this.#ratePerMs >= this.#burst - EPSILON) {
        this.#buckets.delete(key);
        this.#unlink(bucket);
        dropped++;
      }
    }
    return dropped;
  }

  #insert(key: string, now: number): Bucket {
    let bucket: Bucket | null = null;
    // Bounded memory under key spraying (one bucket per spoofed header value or source address):
    // the least recently used key goes. Its bucket object is reused, so a spray allocates nothing
    // beyond the map entry.
    if (this.#buckets.size >= this.#maxKeys && this.#oldest !== null) {
      bucket = this.#oldest;
      this.#buckets.delete(bucket.key);
      this.#unlink(bucket);
    }
    if (bucket === null) {
      bucket = new Bucket(key, this.#burst, now);
    } else {
      bucket.key = key;
      bucket.tokens = this.#burst;
      bucket.last = now;
    }
    this.#buckets.set(key, bucket);
    this.#append(bucket);
    return bucket;
  }

  #unlink(b: Bucket): void {
    if (b.older === null) this.#oldest = b.newer;
    else b.older.newer = b.newer;
    if (b.newer === null) this.#newest = b.older;
    else b.newer.older = b.older;
    b.older = null;
    b.newer = null;
  }

  #append(b: Bucket): void {
    b.older = this.#newest;
    if (this.#newest === null) this.#oldest = b;
    else this.#newest.newer = b;
    this.#newest = b;
  }
}
