/**
 * Traefik's `metrics.prometheus.headerLabels` (pkg/observability/metrics/prometheus.go
 * newCounterWithHeadersFrom, counterWithHeaders.With): label name → request header, whose value
 * on each request becomes a label of the `*_requests_total` families only (not the durations,
 * the byte counters nor the TLS ones). Go's `Header.Get`: the first value, "" when absent.
 */
import type { RequestHead } from '../../core/request.ts';

/** Joins the values of several header labels into one key; header values never hold a NUL. */
const SEP = '\u0000';

export class HeaderLabels {
  /** The label names, in configuration order. */
  readonly names: readonly string[];
  /** The header of each label, lowercased. */
  readonly #headers: readonly string[];

  constructor(labels: Readonly<Record<string, string>>) {
    this.names = Object.keys(labels);
    this.#headers = this.names.map((n) => labels[n]!.toLowerCase());
  }

  /**
   * The request's values as one string (the only per-request work, and only when configured).
   * `Host` is always "": Go's server moves it out of the request's header map into req.Host,
   * so Traefik's label for it is empty (traefik/traefik#10169).
   */
  key(req: RequestHead): string {
    const headers = this.#headers;
    let key = '';
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      const v = h === 'host' ? '' : (req.headers.get(h) ?? '');
      key = i === 0 ? v : `${key}${SEP}${v}`;
    }
    return key;
  }

  /** The key's values, one per label name. */
  values(key: string): string[] {
    return this.names.length === 1 ? [key] : key.split(SEP);
  }
}
