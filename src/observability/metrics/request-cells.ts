import { escapeLabelValue } from './exposition.ts';

/**
 * One label set's request counters live in one Float64Array, so that recording a request is a
 * handful of indexed adds on memory that the series already points at: no lookups, no strings,
 * no allocation. Float64 counts stay exact up to 2^53.
 *
 * Layout: [bytesIn, bytesOut, retries, sum per class ×6, buckets per class ×6×(bounds+1)].
 * The per-class request count is the sum of that class's bucket row, so it is not stored twice.
 */
export const BYTES_IN = 0;
export const BYTES_OUT = 1;
export const RETRIES = 2;
export const SUMS = 3;
export const CLASSES = 6;
export const BUCKETS = SUMS + CLASSES;

/** Index 0 collects statuses outside 100–599 (e.g. a request that ended before any response). */
export const CODE_LABELS: readonly string[] = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** Ascending, finite, positive, without duplicates; the implicit last bucket is +Inf. */
export function normalizeBuckets(buckets: readonly number[]): Float64Array {
  const finite = buckets.filter((b) => Number.isFinite(b) && b > 0);
  return Float64Array.from([...new Set(finite)].sort((a, b) => a - b));
}

export class RequestCell {
  readonly labelValues: readonly string[];
  /** `name="value",` pairs, escaped once when the cell is made. */
  readonly pairs: string;
  readonly values: Float64Array;

  constructor(labels: ReadonlyArray<readonly [string, string]>, bucketCount: number) {
    let pairs = '';
    for (const [name, value] of labels) pairs += `${name}="${escapeLabelValue(value)}",`;
    this.pairs = pairs;
    this.labelValues = labels.map((l) => l[1]);
    this.values = new Float64Array(BUCKETS + CLASSES * (bucketCount + 1));
  }
}

/**
 * The per-request write, shared by every label set a request counts in. `slot` and `sum` are
 * offsets already computed from the status class and the duration's bucket.
 */
export function record(
  v: Float64Array,
  slot: number,
  sum: number,
  seconds: number,
  bytesIn: number,
  bytesOut: number,
): void {
  v[slot]!++;
  v[sum]! += seconds;
  v[BYTES_IN]! += bytesIn;
  v[BYTES_OUT]! += bytesOut;
}
