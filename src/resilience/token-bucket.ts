/**
 * Per-key token buckets with Traefik `rateLimit` semantics: `average` requests per `period`
 * refill the bucket continuously, `burst` is its size, and a new key starts with a full bucket
 * (golang.org/x/time/rate, which Traefik uses, starts full too).
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
 * Rounding of `elapsed * rate` must not turn "exactly one period later" into "one millisecond
 * short of a token": a client pacing itself at the advertised rate would get spurious 429s.
 */
const EPSILON = 1e-9;

class Bucket {
  tokens: number;
  last: number;
  constructor(tokens: number, last: number) {
    this.tokens = tokens;
    this.last = last;
  }
}

export class TokenBucketLimiter {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #unlimited: boolean;
  /** Insertion order is recency order: a key is re-inserted when used, so the first key is the LRU. */
  readonly #buckets = new Map<string, Bucket>();
  /** The most recently used key is already last in the map; skipping its re-insertion saves two hash operations for a client sending a run of requests. */
  #lastKey: string | undefined;

  constructor(opts: TokenBucketOptions) {
    if (!(opts.average >= 0)) throw new RangeError(`rate limit average must be >= 0, got ${opts.average}`);
    if (!(opts.periodMs >= 0)) throw new RangeError(`rate limit period must be >= 0, got ${opts.periodMs}`);
    const periodMs = opts.periodMs === 0 ? 1000 : opts.periodMs;
    this.#unlimited = opts.average === 0;
    this.#ratePerMs = opts.average / periodMs;
    this.#burst = Math.max(opts.burst, 1);
    this.#maxKeys = Math.max(1, Math.floor(opts.maxKeys ?? 65536));
  }

  /** Number of keys currently remembered. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one token for `key`. Returns 0 when the request may pass, else the whole milliseconds
   * (at least 1) until a token will be available, for Retry-After.
   */
  take(key: string, now: number): number {
    if (this.#unlimited) return 0;
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = this.#insert(key, now);
    } else {
      if (key !== this.#lastKey) {
        this.#buckets.delete(key);
        this.#buckets.set(key, bucket);
      }
      const elapsed = now - bucket.last;
      // A clock that steps back (it should not: callers pass monotonic time) must not drain tokens.
      if (elapsed > 0) {
        const tokens = bucket.tokens + elapsed * this.#ratePerMs;
        bucket.tokens = Math.min(tokens, this.#burst);
        bucket.last = now;
      }
    }
    this.#lastKey = key;
    if (bucket.tokens >= 1 - EPSILON) {
      bucket.tokens = bucket.tokens > 1 ? bucket.tokens - 1 : 0;
      return 0;
    }
    const wait = Math.ceil((1 - bucket.tokens) / this.#ratePerMs - EPSILON);
    return Math.max(wait, 1);
  }

  /**
   * Forgets every key whose bucket has refilled completely: a fresh bucket is identical, so this
   * loses nothing, and it gives memory back after a key-spraying burst. O(keys); meant for a
   * periodic sweep, not the request path. Returns how many keys were dropped.
   */
  sweep(now: number): number {
    if (this.#unlimited) return 0;
    let dropped = 0;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.last) * this.#ratePerMs >= this.#burst - EPSILON) {
        this.#buckets.delete(key);
        dropped++;
      }
    }
    if (this.#lastKey !== undefined && !this.#buckets.has(this.#lastKey)) this.#lastKey = undefined;
    return dropped;
  }

  #insert(key: string, now: number): Bucket {
    let bucket: Bucket | undefined;
    // Bounded memory under key spraying (one bucket per spoofed header value or source address):
    // the least recently used key goes. Its bucket object is reused, so a spray allocates nothing
    // beyond the map entry.
    if (this.#buckets.size >= this.#maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done !== true) {
        bucket = this.#buckets.get(oldest.value);
        this.#buckets.delete(oldest.value);
      }
    }
    if (bucket === undefined) {
      bucket = new Bucket(this.#burst, now);
    } else {
      bucket.tokens = this.#burst;
      bucket.last = now;
    }
    this.#buckets.set(key, bucket);
    return bucket;
  }
}
