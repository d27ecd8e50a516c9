/**
 * One label set's request counters (an entry point, a router and its service, or a service):
 * one Float64Array per (status code, method, protocol) seen, so that recording a request is a
 * handful of indexed adds on memory the series already points at: no strings, no allocation
 * once the combination has been seen. Float64 counts stay exact up to 2^53.
 *
 * Row layout: [count per bucket ×(bounds+1), sum of durations, request bytes, response bytes].
 * The request count is the sum of the bucket counts, so it is not stored twice.
 */
export const SUM_AFTER_BUCKETS = 0;
export const BYTES_IN_AFTER_BUCKETS = 1;
export const BYTES_OUT_AFTER_BUCKETS = 2;
const EXTRA = 3;

/** Ascending, finite, positive, without duplicates; the implicit last bucket is +Inf. */
export function normalizeBuckets(buckets: readonly number[]): Float64Array {
  const finite = buckets.filter((b) => Number.isFinite(b) && b > 0);
  return Float64Array.from([...new Set(finite)].sort((a, b) => a - b));
}

/** (code, method index, protocol index) as one small integer; code is 0–999. */
export function rowKey(code: number, method: number, protocol: number): number {
  return ((code << 4) | method) * 8 + protocol;
}

export function keyCode(key: number): number {
  return key >>> 7;
}

export function keyMethod(key: number): number {
  return (key >>> 3) & 15;
}

export function keyProtocol(key: number): number {
  return key & 7;
}

export class RequestCell {
  readonly labelValues: readonly string[];
  /** Its own labels (`[name, value]`, unescaped), which render sorts with the row's. */
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly rows = new Map<number, Float64Array>();
  readonly #stride: number;
  /** Attempts after the first (services only). */
  retries = 0;
  /**
   * With header labels: request counts by row key (code, method, protocol), then by the
   * header values' key (HeaderLabels.key). null when none are configured.
   */
  readonly byHeaders: Map<number, Map<string, number>> | null;
  /** HTTPS requests by (TLS version, cipher) pair index (TlsPairs); 0 for a pair not seen here. */
  readonly tls: number[] = [];

  constructor(labels: ReadonlyArray<readonly [string, string]>, bucketCount: number, byHeaders: boolean) {
    this.byHeaders = byHeaders ? new Map() : null;
    this.labels = labels;
    this.labelValues = labels.map((l) => l[1]);
    this.#stride = bucketCount + 1;
  }

  /** The counts by header values of row `key` (header labels only), made on first use. */
  headerRow(key: number): Map<string, number> {
    const byHeaders = this.byHeaders!;
    let r = byHeaders.get(key);
    if (r === undefined) {
      r = new Map();
      byHeaders.set(key, r);
    }
    return r;
  }

  /** The row for `key`, made on first use (the one allocation, once per combination). */
  row(key: number): Float64Array {
    let r = this.rows.get(key);
    if (r === undefined) {
      r = new Float64Array(this.#stride + EXTRA);
      this.rows.set(key, r);
    }
    return r;
  }
}

/** One HTTPS request of the pair `pair` (TlsPairs' index). */
export function countTls(cell: RequestCell, pair: number): void {
  const t = cell.tls;
  while (t.length <= pair) t.push(0);
  t[pair]!++;
}

/** The per-request write, shared by every label set a request counts in. */
export function record(
  row: Float64Array,
  bucket: number,
  stride: number,
  seconds: number,
  bytesIn: number,
  bytesOut: number,
): void {
  row[bucket]!++;
  row[stride + SUM_AFTER_BUCKETS]! += seconds;
  row[stride + BYTES_IN_AFTER_BUCKETS]! += bytesIn;
  row[stride + BYTES_OUT_AFTER_BUCKETS]! += bytesOut;
}
