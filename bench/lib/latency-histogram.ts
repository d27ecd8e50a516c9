// A log-linear latency histogram (the layout of HdrHistogram, written small): values are whole
// nanoseconds; below 256 ns each value has its own bucket, above it every power of two is split
// into 128 equal buckets, so a bucket is never wider than 1/128 of its values (< 0.8 %). Up to
// 10 s that is about 3,500 counters: recording is an index computation and one increment, with
// no allocation, so the latency client can record 20,000 values a second on one core.

/** Sub-buckets per power of two above the linear range: 2^SUB_BITS / 2 = 128. */
const SUB_BITS = 8;
const SUB_COUNT = 1 << SUB_BITS;
const SUB_HALF = SUB_COUNT >> 1;
/** The largest value kept as itself: 10 s. Larger values count as this (and as `clamped`). */
export const HISTOGRAM_MAX_NS = 10_000_000_000;

/** floor(log2(v)) for v ≥ 1 (Math.clz32 only reaches 2^32 ns = 4.3 s). */
function log2Floor(v: number): number {
  return v < 0x1_0000_0000 ? 31 - Math.clz32(v) : 32 + (31 - Math.clz32(Math.floor(v / 0x1_0000_0000)));
}

/** The bucket a value (whole ns, 0 ≤ v ≤ HISTOGRAM_MAX_NS) falls in. */
export function bucketOf(v: number): number {
  if (v < SUB_COUNT) return v;
  const shift = log2Floor(v) - (SUB_BITS - 1);
  // v / 2^shift lies in [128, 256): buckets 128..255 of each power of two, after the linear ones.
  return shift * SUB_HALF + Math.floor(v / 2 ** shift);
}

/** The largest value that falls in bucket `i` (what a percentile reports, as HdrHistogram does). */
export function bucketUpperNs(i: number): number {
  if (i < SUB_COUNT) return i;
  const shift = Math.floor(i / SUB_HALF) - 1;
  const sub = i - shift * SUB_HALF;
  return (sub + 1) * 2 ** shift - 1;
}

const BUCKETS = bucketOf(HISTOGRAM_MAX_NS) + 1;

/** Percentiles in milliseconds, as the reports print them. */
export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  /** Exact, not a bucket's bound. */
  readonly maxMs: number;
  readonly meanMs: number;
}

export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sumNs = 0;
  #maxNs = 0;
  #clamped = 0;

  /** Records one value in nanoseconds, rounded to a whole one; negatives count as 0. */
  record(ns: number): void {
    let v = ns > 0 ? Math.round(ns) : 0;
    if (v > HISTOGRAM_MAX_NS) {
      this.#clamped++;
      v = HISTOGRAM_MAX_NS;
    }
    this.#counts[bucketOf(v)]!++;
    this.#count++;
    this.#sumNs += v;
    if (v > this.#maxNs) this.#maxNs = v;
  }

  get count(): number {
    return this.#count;
  }

  /** Values above 10 s, recorded as 10 s. */
  get clamped(): number {
    return this.#clamped;
  }

  get maxNs(): number {
    return this.#maxNs;
  }

  /**
   * The value at percentile p (0–100] in ns: the upper bound of the bucket holding the
   * ceil(p/100 × count)-th smallest value, never above the exact maximum. 0 when empty.
   */
  percentileNs(p: number): number {
    if (this.#count === 0) return 0;
    // Less a hair: 0.999 × 1000 is 999.0000000000001 in floating point, and its ceiling 1000.
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count - 1e-9));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(bucketUpperNs(i), this.#maxNs);
    }
    return this.#maxNs;
  }

  /** Adds another histogram's values (e.g. every round's) to this one. */
  add(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.#counts[i]! += other.#counts[i]!;
    this.#count += other.#count;
    this.#sumNs += other.#sumNs;
    this.#clamped += other.#clamped;
    if (other.#maxNs > this.#maxNs) this.#maxNs = other.#maxNs;
  }

  summary(): LatencySummary {
    const ms = (ns: number) => ns / 1e6;
    return {
      count: this.#count,
      p50Ms: ms(this.percentileNs(50)),
      p90Ms: ms(this.percentileNs(90)),
      p99Ms: ms(this.percentileNs(99)),
      p999Ms: ms(this.percentileNs(99.9)),
      maxMs: ms(this.#maxNs),
      meanMs: this.#count === 0 ? 0 : ms(this.#sumNs / this.#count),
    };
  }

  /** The non-empty buckets as [upper bound ns, count]: enough to merge or re-read rounds later. */
  buckets(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++)
      if (this.#counts[i]! > 0) out.push([bucketUpperNs(i), this.#counts[i]!]);
    return out;
  }
}
