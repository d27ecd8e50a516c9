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
      if (bucket !== this.#newest) {
        this.#unlink(bucket);
        this.#append(bucket);
      }
      const elapsed = now - bucket.last;
      // A clock that steps back (it should not: callers pass monotonic time) must not drain tokens.
      if (elapsed > 0) {
        const tokens = bucket.tokens + elapsed * this.#ratePerMs;
        bucket.tokens = Math.min(tokens, this.#burst);
        bucket.last = now;
      }
    }
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
