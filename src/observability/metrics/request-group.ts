import { bySeriesLabels, formatValue, type SeriesLabels, seriesLabels } from './exposition.ts';
import type { FamilySet } from './family-set.ts';
import type { HeaderLabels } from './header-labels.ts';
import {
  BYTES_IN_AFTER_BUCKETS,
  BYTES_OUT_AFTER_BUCKETS,
  keyCode,
  keyMethod,
  keyProtocol,
  RequestCell,
  SUM_AFTER_BUCKETS,
} from './request-cells.ts';
import { METHODS, PROTOCOLS } from './request-labels.ts';
import type { TlsPairs } from './tls-labels.ts';

export interface RequestGroupNames {
  /** e.g. 'traefik_entrypoint'; the families are `${base}_requests_total` and so on. */
  readonly base: string;
  /** The level, for Traefik's HELP texts. */
  readonly level: RequestLevel;
  /** Render `${base}_retries_total` (services only). */
  readonly retries: boolean;
}

export type RequestLevel = 'entrypoint' | 'router' | 'service';

interface LevelHelp {
  readonly requests: string;
  readonly tls: string;
  readonly duration: string;
  readonly bytesIn: string;
  readonly bytesOut: string;
}

/**
 * Traefik's HELP texts, word for word (pkg/observability/metrics/prometheus.go
 * initStandardRegistry), which its OTLP instruments share as descriptions (otel.go).
 */
const HELP: Readonly<Record<RequestLevel, LevelHelp>> = {
  entrypoint: {
    requests:
      'How many HTTP requests processed on an entrypoint, partitioned by status code, protocol, and method.',
    tls: 'How many HTTP requests with TLS processed on an entrypoint, partitioned by TLS Version and TLS cipher Used.',
    duration:
      'How long it took to process the request on an entrypoint, partitioned by status code, protocol, and method.',
    bytesIn:
      'The total size of requests in bytes handled by an entrypoint, partitioned by status code, protocol, and method.',
    bytesOut:
      'The total size of responses in bytes handled by an entrypoint, partitioned by status code, protocol, and method.',
  },
  router: {
    requests:
      'How many HTTP requests are processed on a router, partitioned by service, status code, protocol, and method.',
    tls: 'How many HTTP requests with TLS are processed on a router, partitioned by service, TLS Version, and TLS cipher Used.',
    duration:
      'How long it took to process the request on a router, partitioned by service, status code, protocol, and method.',
    bytesIn:
      'The total size of requests in bytes handled by a router, partitioned by service, status code, protocol, and method.',
    bytesOut:
      'The total size of responses in bytes handled by a router, partitioned by service, status code, protocol, and method.',
  },
  service: {
    requests:
      'How many HTTP requests processed on a service, partitioned by status code, protocol, and method.',
    tls: 'How many HTTP requests with TLS processed on a service, partitioned by TLS version and TLS cipher.',
    duration:
      'How long it took to process the request on a service, partitioned by status code, protocol, and method.',
    bytesIn:
      'The total size of requests in bytes received by a service, partitioned by status code, protocol, and method.',
    bytesOut:
      'The total size of responses in bytes returned by a service, partitioned by status code, protocol, and method.',
  },
};

/**
 * The request families of one level (entry point, router or service) with Traefik's names and
 * labels: `code` (the status), `method`, `protocol`, and the level's own (`entrypoint`; `router`
 * and `service`; `service`), written sorted by name as client_golang does.
 */
export class RequestGroup {
  readonly #names: RequestGroupNames;
  readonly #bounds: Float64Array;
  readonly #cells = new Map<string, RequestCell>();
  /** Traefik's headerLabels: labels of `${base}_requests_total` only; null when none. */
  readonly #headerLabels: HeaderLabels | null;

  constructor(names: RequestGroupNames, bounds: Float64Array, headerLabels: HeaderLabels | null = null) {
    this.#names = names;
    this.#bounds = bounds;
    this.#headerLabels = headerLabels;
  }

  /** The cell for these label values, made on first use. Not for the hot path: it builds a key. */
  cell(labels: ReadonlyArray<readonly [string, string]>): RequestCell {
    const key = JSON.stringify(labels.map((l) => l[1]));
    let cell = this.#cells.get(key);
    if (cell === undefined) {
      cell = new RequestCell(labels, this.#bounds.length, this.#headerLabels !== null);
      this.#cells.set(key, cell);
    }
    return cell;
  }

  /** Forgets the cells `keep` rejects; their series restart from zero if they come back. */
  prune(keep: (cell: RequestCell) => boolean): void {
    for (const [key, cell] of this.#cells) if (!keep(cell)) this.#cells.delete(key);
  }

  /**
   * `${base}_requests_tls_total{…, tls_cipher, tls_version}`: Traefik's counter of the requests
   * that came over TLS (pkg/observability/metrics/prometheus.go; no header labels there).
   */
  #renderTls(set: FamilySet, pairs: TlsPairs): void {
    if (![...this.#cells.values()].some((c) => c.tls.length > 0)) return;
    const { base, level } = this.#names;
    const name = `${base}_requests_tls_total`;
    const lines = set.lines(name, 'counter', HELP[level].tls);
    if (lines === null) return;
    const series: Array<{ labels: SeriesLabels; n: number }> = [];
    for (const cell of this.#cells.values()) {
      const t = cell.tls;
      for (let pair = 0; pair < t.length; pair++) {
        if (t[pair] === 0) continue;
        const labels = seriesLabels([
          ...cell.labels,
          ['tls_version', pairs.versions[pair]!],
          ['tls_cipher', pairs.ciphers[pair]!],
        ]);
        series.push({ labels, n: t[pair]! });
      }
    }
    pushCounts(lines, name, series);
  }

  get size(): number {
    return this.#cells.size;
  }

  /**
   * Each family's series with their labels sorted by name and the series sorted by label values,
   * as client_golang writes them (MakeLabelPairs; Gather's metricSorter; expfmt puts `le` last).
   */
  render(set: FamilySet, tlsPairs: TlsPairs): void {
    if (this.#cells.size === 0) return;
    const { base, level } = this.#names;
    const help = HELP[level];
    this.#renderTls(set, tlsPairs);
    const retries = this.#names.retries
      ? set.lines(`${base}_retries_total`, 'counter', 'How many request retries happened on a service.')
      : null;
    if (retries !== null) {
      const series = [...this.#cells.values()].map((cell) => ({
        labels: seriesLabels([...cell.labels]),
        n: cell.retries,
      }));
      pushCounts(retries, `${base}_retries_total`, series);
    }
    if (![...this.#cells.values()].some((c) => c.rows.size > 0)) return;
    const requests = set.lines(`${base}_requests_total`, 'counter', help.requests);
    const durationName = `${base}_request_duration_seconds`;
    const duration = set.lines(durationName, 'histogram', help.duration);
    const bytesIn = set.lines(`${base}_requests_bytes_total`, 'counter', help.bytesIn);
    const bytesOut = set.lines(`${base}_responses_bytes_total`, 'counter', help.bytesOut);
    const stride = this.#bounds.length + 1;
    const headerLabels = this.#headerLabels;
    const les = Array.from(this.#bounds, (b) => `le="${formatValue(b)}"`);
    les.push('le="+Inf"');
    const rows: Array<{ labels: SeriesLabels; v: Float64Array; count: number }> = [];
    const counted: Array<{ labels: SeriesLabels; n: number }> = [];
    for (const cell of this.#cells.values()) {
      for (const [key, v] of cell.rows) {
        let count = 0;
        for (let b = 0; b < stride; b++) count += v[b]!;
        const own: Array<readonly [string, string]> = [
          ...cell.labels,
          ['code', String(keyCode(key))],
          ['method', METHODS[keyMethod(key)]!],
          ['protocol', PROTOCOLS[keyProtocol(key)]!],
        ];
        const labels = seriesLabels(own.slice());
        rows.push({ labels, v, count });
        if (headerLabels === null) counted.push({ labels, n: count });
        else {
          for (const [values, n] of cell.byHeaders!.get(key) ?? []) {
            const all = own.slice();
            const vs = headerLabels.values(values);
            for (let i = 0; i < vs.length; i++) all.push([headerLabels.names[i]!, vs[i]!]);
            counted.push({ labels: seriesLabels(all), n });
          }
        }
      }
    }
    rows.sort((a, b) => bySeriesLabels(a.labels, b.labels));
    if (requests !== null) pushCounts(requests, `${base}_requests_total`, counted);
    for (const { labels: l, v, count } of rows) {
      const labels = l.text;
      bytesIn?.push(
        `${base}_requests_bytes_total{${labels}} ${formatValue(v[stride + BYTES_IN_AFTER_BUCKETS]!)}`,
      );
      bytesOut?.push(
        `${base}_responses_bytes_total{${labels}} ${formatValue(v[stride + BYTES_OUT_AFTER_BUCKETS]!)}`,
      );
      if (duration === null) continue;
      let cumulative = 0;
      for (let b = 0; b < stride; b++) {
        cumulative += v[b]!;
        duration.push(`${durationName}_bucket{${labels},${les[b]}} ${formatValue(cumulative)}`);
      }
      duration.push(
        `${durationName}_sum{${labels}} ${formatValue(v[stride + SUM_AFTER_BUCKETS]!)}`,
        `${durationName}_count{${labels}} ${formatValue(count)}`,
      );
    }
  }
}

/** A counter family's `name{labels} n` lines, its series in client_golang's order. */
function pushCounts(lines: string[], name: string, series: Array<{ labels: SeriesLabels; n: number }>): void {
  series.sort((a, b) => bySeriesLabels(a.labels, b.labels));
  for (const { labels, n } of series) lines.push(`${name}{${labels.text}} ${formatValue(n)}`);
}
