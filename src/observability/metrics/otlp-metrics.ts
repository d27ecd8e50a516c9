/**
 * OpenTelemetry metrics (`metrics.otlp`): the series of our text exposition, converted at push
 * time into an OTLP ExportMetricsServiceRequest (the protobuf JSON mapping's tree, written in
 * protobuf by otlp-proto.ts), as Traefik's
 * pkg/observability/metrics/otel.go RegisterOpenTelemetry exports them: the same names as
 * Prometheus, counters as cumulative monotonic sums, gauges as gauges, the request durations as
 * explicit-bucket histograms. Nothing here runs per request: the registry's typed arrays are read
 * through `render()` when a push is due, so the request path is the Prometheus one.
 */
import { type JsonKeyValue, type OtlpResource, SCOPE_NAME, unixNanos } from '../tracing/otlp-json.ts';
import { formatValue, parseValue } from './exposition.ts';
import { SEMCONV_ATTRIBUTES, SEMCONV_METRICS } from './semconv.ts';

/** opentelemetry-proto AggregationTemporality. */
const TEMPORALITY_CUMULATIVE = 2;

export interface ParsedSample {
  /** The sample's own name (`x_bucket` for a histogram's bucket). */
  readonly name: string;
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly value: number;
}

export interface ParsedFamily {
  readonly name: string;
  type: string;
  help: string;
  readonly samples: ParsedSample[];
}

/** Which request families go out, and which histogram bounds (Traefik's per-exporter switches). */
export interface FamilyFilter {
  readonly addEntryPointsLabels: boolean;
  readonly addRoutersLabels: boolean;
  readonly addServicesLabels: boolean;
  /** The upper bounds a request duration histogram keeps (+Inf always). */
  readonly buckets: readonly number[];
}

const REQUEST_LEVEL = /^traefik_(entrypoint|router|service)_/;
const SEMCONV_PREFIX = 'traefik_semconv_';

/**
 * Whether a family of the registry is one this exporter's switches leave out. The open
 * connections gauge under its v2 name is not a request family (Traefik v3 does not gate it).
 */
export function familyDisabled(name: string, f: FamilyFilter): boolean {
  const m = REQUEST_LEVEL.exec(name);
  if (m === null || name === 'traefik_entrypoint_open_connections') return false;
  const level = m[1];
  return level === 'entrypoint'
    ? !f.addEntryPointsLabels
    : level === 'router'
      ? !f.addRoutersLabels
      : !f.addServicesLabels;
}

/** The family a sample line belongs to, for the histogram suffixes. */
function baseName(name: string, families: ReadonlyMap<string, ParsedFamily>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (families.get(base)?.type === 'histogram') return base;
    }
  }
  return name;
}

/** `a="x",b="y"` (inside the braces) → pairs, unescaping `\\`, `\"` and `\n`. */
function parseLabels(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) break;
    const name = text.slice(i, eq).trim();
    let j = eq + 2; // past `="`
    let value = '';
    while (j < text.length && text[j] !== '"') {
      if (text[j] === '\\' && j + 1 < text.length) {
        const c = text[j + 1];
        value += c === 'n' ? '\n' : c;
        j += 2;
      } else {
        value += text[j];
        j++;
      }
    }
    out.push([name, value]);
    i = j + 1;
    if (text[i] === ',') i++;
  }
  return out;
}

/** The families of a text exposition (format 0.0.4), in order. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  const family = (name: string): ParsedFamily => {
    let f = families.get(name);
    if (f === undefined) {
      f = { name, type: 'untyped', help: '', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m === null) continue;
      const f = family(m[2]!);
      if (m[1] === 'TYPE') f.type = m[3]!;
      else f.help = m[3]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      continue;
    }
    const brace = line.indexOf('{');
    const space = brace < 0 ? line.indexOf(' ') : line.lastIndexOf('} ') + 1;
    if (space <= 0) continue;
    const name = brace < 0 ? line.slice(0, space) : line.slice(0, brace);
    const labels = brace < 0 ? [] : parseLabels(line.slice(brace + 1, space - 1));
    const value = parseValue(
      line
        .slice(space + 1)
        .trim()
        .split(' ')[0]!,
    );
    family(baseName(name, families)).samples.push({ name, labels, value });
  }
  return families;
}

function attributes(labels: ReadonlyArray<readonly [string, string]>): JsonKeyValue[] {
  return labels.map(([key, value]) => ({ key, value: { stringValue: value } }));
}

/** A semantic-convention histogram's labels as the attributes Go records (semconv.ts). */
function semconvAttributes(labels: ReadonlyArray<readonly [string, string]>): JsonKeyValue[] {
  return labels.map(([label, value]) => {
    const a = SEMCONV_ATTRIBUTES[label];
    if (a === undefined) return { key: label, value: { stringValue: value } };
    return { key: a.key, value: a.int ? { intValue: value } : { stringValue: value } };
  });
}

/** An infinite or NaN point says nothing a backend could use (and OTLP JSON could not carry it). */
function finite(v: number): boolean {
  return Number.isFinite(v);
}

interface HistogramPoint {
  labels: ReadonlyArray<readonly [string, string]>;
  /** le → cumulative count, as the exposition has them. */
  readonly cumulative: Map<number, number>;
  sum: number;
  count: number;
}

function histogramPoints(
  f: ParsedFamily,
  allowed: ReadonlySet<number> | null,
  start: string,
  time: string,
  toAttributes: (labels: ReadonlyArray<readonly [string, string]>) => JsonKeyValue[] = attributes,
): unknown[] {
  const points = new Map<string, HistogramPoint>();
  for (const s of f.samples) {
    const le = s.labels.find(([n]) => n === 'le');
    const labels = s.labels.filter(([n]) => n !== 'le');
    const key = JSON.stringify(labels);
    let p = points.get(key);
    if (p === undefined) {
      p = { labels, cumulative: new Map(), sum: 0, count: 0 };
      points.set(key, p);
    }
    if (s.name === `${f.name}_bucket` && le !== undefined) p.cumulative.set(parseValue(le[1]), s.value);
    else if (s.name === `${f.name}_sum`) p.sum = s.value;
    else if (s.name === `${f.name}_count`) p.count = s.value;
  }
  const out: unknown[] = [];
  for (const p of points.values()) {
    const bounds = [...p.cumulative.keys()]
      .filter((b) => finite(b) && (allowed === null || allowed.has(b)))
      .sort((a, b) => a - b);
    // OTLP's bucketCounts are per bucket (bounds.length + 1 of them, the last one above every
    // bound), where the exposition's are cumulative: each is the difference with the one before.
    const bucketCounts: string[] = [];
    let below = 0;
    for (const b of bounds) {
      const c = p.cumulative.get(b)!;
      bucketCounts.push(String(Math.max(0, c - below)));
      below = c;
    }
    bucketCounts.push(String(Math.max(0, p.count - below)));
    out.push({
      attributes: toAttributes(p.labels),
      startTimeUnixNano: start,
      timeUnixNano: time,
      count: String(p.count),
      ...(finite(p.sum) ? { sum: p.sum } : {}),
      bucketCounts,
      explicitBounds: bounds,
    });
  }
  return out;
}

function numberPoints(f: ParsedFamily, start: string | null, time: string): unknown[] {
  const out: unknown[] = [];
  for (const s of f.samples) {
    if (s.name !== f.name || !finite(s.value)) continue;
    out.push({
      attributes: attributes(s.labels),
      ...(start === null ? {} : { startTimeUnixNano: start }),
      timeUnixNano: time,
      asDouble: s.value,
    });
  }
  return out;
}

/**
 * The units of Traefik's own instruments (otel.go RegisterOpenTelemetry): newOTLPCounterFrom
 * gives every counter "1" (the byte counters too), the request histograms "s", and the gauges
 * their own: "ms" for the last reload's success (whose value is Unix seconds all the same), "1"
 * for open connections and a server's state, "s" for the certificates' expiry. A collector's
 * Prometheus exporter names series by unit, so these are what Traefik's dashboards see.
 */
const TRAEFIK_GAUGE_UNITS: Readonly<Record<string, string>> = {
  traefik_config_last_reload_success: 'ms',
  traefik_open_connections: '1',
  traefik_service_server_up: '1',
  traefik_tls_certs_not_after: 's',
};

/**
 * Where Traefik's OTLP instrument says otherwise than its Prometheus HELP (the descriptions are
 * the HELP texts, request-group.ts): the router byte counters leave `service` out (otel.go).
 */
const OTLP_DESCRIPTIONS: Readonly<Record<string, string>> = {
  traefik_router_requests_bytes_total:
    'The total size of requests in bytes handled by a router, partitioned by status code, protocol, and method.',
  traefik_router_responses_bytes_total:
    'The total size of responses in bytes handled by a router, partitioned by status code, protocol, and method.',
};

function unitOf(name: string, type: string): string {
  const traefik = TRAEFIK_GAUGE_UNITS[name];
  if (traefik !== undefined) return traefik;
  if (type === 'counter' && (REQUEST_LEVEL.test(name) || name === 'traefik_config_reloads_total')) return '1';
  // Ours (process, runtime, traffic_*): by their names' suffixes.
  if (name.endsWith('_seconds') || name.endsWith('_seconds_total')) return 's';
  if (name.endsWith('_bytes') || name.endsWith('_bytes_total')) return 'By';
  return type === 'counter' ? '1' : '';
}

export interface OtlpMetricsEncoding {
  /** From `encodeResource` (service.name and the resource attributes). */
  readonly resource: OtlpResource;
  readonly filter: FamilyFilter;
  /** Epoch milliseconds: the cumulative sums' start (the process's start) and now. */
  readonly startEpochMs: number;
  readonly nowEpochMs: number;
  /** The scope's version (Traefik's meter has WithInstrumentationVersion(version.Version)). */
  readonly scopeVersion?: string | undefined;
}

/** An ExportMetricsServiceRequest (JSON mapping's tree) for the families of `exposition`. */
export function encodeMetrics(exposition: string, opts: OtlpMetricsEncoding): object {
  const start = unixNanos(opts.startEpochMs);
  const time = unixNanos(opts.nowEpochMs);
  const allowed = new Set(opts.filter.buckets);
  const metrics: unknown[] = [];
  for (const f of parseExposition(exposition).values()) {
    const semconv = SEMCONV_METRICS[f.name];
    if (semconv !== undefined) {
      // Traefik's httpconv instruments: their own name, description and unit, typed attributes.
      const dataPoints = histogramPoints(f, null, start, time, semconvAttributes);
      if (dataPoints.length > 0)
        metrics.push({
          name: semconv.name,
          description: semconv.description,
          unit: 's',
          histogram: { dataPoints, aggregationTemporality: TEMPORALITY_CUMULATIVE },
        });
      continue;
    }
    if (familyDisabled(f.name, opts.filter)) continue;
    const unit = unitOf(f.name, f.type);
    const description = OTLP_DESCRIPTIONS[f.name] ?? f.help;
    const head = { name: f.name, description, ...(unit === '' ? {} : { unit }) };
    if (f.type === 'counter') {
      const dataPoints = numberPoints(f, start, time);
      if (dataPoints.length > 0)
        metrics.push({
          ...head,
          sum: { dataPoints, aggregationTemporality: TEMPORALITY_CUMULATIVE, isMonotonic: true },
        });
    } else if (f.type === 'histogram') {
      const dataPoints = histogramPoints(f, REQUEST_LEVEL.test(f.name) ? allowed : null, start, time);
      if (dataPoints.length > 0)
        metrics.push({ ...head, histogram: { dataPoints, aggregationTemporality: TEMPORALITY_CUMULATIVE } });
    } else {
      const dataPoints = numberPoints(f, null, time);
      if (dataPoints.length > 0) metrics.push({ ...head, gauge: { dataPoints } });
    }
  }
  return {
    resourceMetrics: [
      {
        resource: opts.resource,
        scopeMetrics: [{ scope: { name: SCOPE_NAME, version: opts.scopeVersion }, metrics }],
      },
    ],
  };
}

/**
 * The Prometheus exposition when `metrics.otlp` is configured beside it: the registry then holds
 * both exporters' buckets and label switches, and this keeps Prometheus's own (its families,
 * and only its `le` bounds on the request duration histograms).
 */
export function filterExposition(exposition: string, f: FamilyFilter): string {
  const allowed = new Set(f.buckets.map(formatValue));
  const out: string[] = [];
  for (const line of exposition.split('\n')) {
    if (line === '') continue;
    const name = line.startsWith('# ') ? (line.split(' ')[2] ?? '') : line.split(/[{ ]/, 1)[0]!;
    if (familyDisabled(name, f)) continue;
    // The semantic-convention histograms are the OTLP exporter's only (Traefik's registry).
    if (name.startsWith(SEMCONV_PREFIX)) continue;
    if (
      !line.startsWith('#') &&
      REQUEST_LEVEL.test(name) &&
      name.endsWith('_request_duration_seconds_bucket')
    ) {
      const le = /[{,]le="([^"]*)"/.exec(line)?.[1];
      if (le !== undefined && le !== '+Inf' && !allowed.has(le)) continue;
    }
    out.push(line);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
