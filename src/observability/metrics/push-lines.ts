/**
 * StatsD, DogStatsD and InfluxDB line formats for the push exporters (`metrics.statsD`,
 * `metrics.datadog`, `metrics.influxDB2`), made at push time from the text exposition of the one
 * registry (as otlp-metrics.ts does): the request path records into the Prometheus cells only.
 *
 * Traefik's exporters are go-kit's statsd, dogstatsd and influx clients
 * (pkg/observability/metrics/statsd.go, datadog.go, influxdb2.go), which keep what was observed
 * since the last push and send it at each tick: counters as the sum of that interval, gauges as
 * their last value, durations as the interval's observations. Here the interval's figures are the
 * differences between two readings of the cumulative registry (PushDeltas), and a duration
 * histogram's interval is turned back into observations by bucket (`durationSamples`).
 */
import { familyDisabled, type ParsedFamily, type ParsedSample, parseExposition } from './otlp-metrics.ts';

/**
 * The duration histogram's bounds (seconds) that the registry keeps for these exporters: the
 * observations each push sends are read back from them (durationSamples), to about half a bucket.
 */
export const PUSH_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60,
];

export type PushKind = 'counter' | 'gauge' | 'duration';

export interface PushMetric {
  /** Traefik's StatsD/Datadog name, without the prefix (`entrypoint.request.total`). */
  readonly statsd: string;
  /** Traefik's InfluxDB name (`traefik.entrypoint.requests.total`). */
  readonly influx: string;
  readonly kind: PushKind;
}

const LEVELS = ['entrypoint', 'router', 'service'] as const;

/** Our Prometheus family → Traefik's name in the push exporters (statsd.go, datadog.go, influxdb2.go). */
export const PUSH_METRICS: ReadonlyMap<string, PushMetric> = new Map<string, PushMetric>([
  ['traefik_config_reloads_total', m('config.reload.total', 'counter')],
  ['traefik_config_last_reload_success', m('config.reload.lastSuccessTimestamp', 'gauge')],
  ['traefik_open_connections', m('open.connections', 'gauge')],
  ['traefik_tls_certs_not_after', m('tls.certs.notAfterTimestamp', 'gauge')],
  ['traefik_service_retries_total', m('service.retries.total', 'counter')],
  ['traefik_service_server_up', m('service.server.up', 'gauge')],
  ...LEVELS.flatMap(
    (l): Array<[string, PushMetric]> => [
      // StatsD and Datadog say `request.total`, InfluxDB `requests.total` (Traefik's constants).
      [`traefik_${l}_requests_total`, m(`${l}.request.total`, 'counter', `${l}.requests.total`)],
      [`traefik_${l}_requests_tls_total`, m(`${l}.request.tls.total`, 'counter', `${l}.requests.tls.total`)],
      [`traefik_${l}_request_duration_seconds`, m(`${l}.request.duration`, 'duration')],
      [`traefik_${l}_requests_bytes_total`, m(`${l}.requests.bytes.total`, 'counter')],
      [`traefik_${l}_responses_bytes_total`, m(`${l}.responses.bytes.total`, 'counter')],
    ],
  ),
]);

function m(statsd: string, kind: PushKind, influx = statsd): PushMetric {
  return { statsd, influx: `traefik.${influx}`, kind };
}

type Labels = ReadonlyArray<readonly [string, string]>;

/** The labels of Traefik's request counters (the rest are Prometheus's headerLabels). */
const REQUEST_LABELS: ReadonlySet<string> = new Set([
  'entrypoint',
  'router',
  'service',
  'code',
  'method',
  'protocol',
]);

/** One series' figures for the interval, ready for a line format. */
export interface PushSeries {
  readonly metric: PushMetric;
  /**
   * Traefik's label order: the level's own (entrypoint; router, service; service), then
   * method, protocol and code last, as its metrics middleware appends them.
   */
  readonly labels: Labels;
  /** Counter: the interval's sum; gauge: the value now. */
  readonly value: number;
  /** Duration: (seconds, how many) pairs standing for the interval's observations. */
  readonly samples?: ReadonlyArray<readonly [number, number]>;
  /** Duration: the interval's p50, p90, p95 and p99, in seconds. */
  readonly quantiles?: readonly [number, number, number, number];
}

function seriesKey(name: string, labels: Labels): string {
  let k = name;
  for (const [n, v] of labels) k += `\u0000${n}\u0001${v}`;
  return k;
}

/** Traefik's metrics middleware appends method, protocol, then code to the level's labels. */
function traefikOrder(labels: Labels): Labels {
  const rank = (n: string) => (n === 'method' ? 1 : n === 'protocol' ? 2 : n === 'code' ? 3 : 0);
  return labels.filter(([n]) => n !== 'le').sort((a, b) => rank(a[0]) - rank(b[0]));
}

export interface PushFilter {
  readonly addEntryPointsLabels: boolean;
  readonly addRoutersLabels: boolean;
  readonly addServicesLabels: boolean;
}

/**
 * The cumulative readings of the last push, to send each interval's share: a counter's line
 * carries what it gained since (go-kit's counters are reset at each write). A value below the
 * last reading (a series forgotten after a reload and started again) counts from zero.
 */
export class PushDeltas {
  #last = new Map<string, number>();
  #next = new Map<string, number>();

  #delta(key: string, value: number): number {
    this.#next.set(key, value);
    const before = this.#last.get(key) ?? 0;
    return value >= before ? value - before : value;
  }

  /** The series of `exposition` for this push, and the readings kept for the next one. */
  series(exposition: string, filter: PushFilter): PushSeries[] {
    const out: PushSeries[] = [];
    /** The (level, labels) whose request count moved: their bytes counters go out, even 0. */
    const moved = new Set<string>();
    const families = [...parseExposition(exposition).values()];
    // The request counters first, whose moves the bytes counters follow (`moved`).
    families.sort(
      (a, b) => Number(b.name.endsWith('_requests_total')) - Number(a.name.endsWith('_requests_total')),
    );
    for (const f of families) {
      const metric = PUSH_METRICS.get(f.name);
      if (metric === undefined || familyDisabled(f.name, { ...filter, buckets: [] })) continue;
      if (metric.kind === 'duration') this.#durations(f, metric, out);
      else if (metric.kind === 'gauge') {
        for (const s of f.samples) {
          if (s.name === f.name && Number.isFinite(s.value))
            out.push({ metric, labels: traefikOrder(s.labels), value: s.value });
        }
      } else this.#counters(f, metric, moved, out);
    }
    this.#last = this.#next;
    this.#next = new Map();
    return out;
  }

  /**
   * A counter's series with what each gained. The request counters lose Prometheus's header
   * labels (Traefik's NewCounterWithNoopHeaders wraps these exporters' counters), their series
   * adding up; the bytes counters of a (level, labels) that counted requests are sent even when
   * they gained 0, as Traefik's middleware adds the sizes of every request.
   */
  #counters(f: ParsedFamily, metric: PushMetric, moved: Set<string>, out: PushSeries[]): void {
    const requests = f.name.endsWith('_requests_total');
    const bytes = /_(?:requests|responses)_bytes_total$/.test(f.name);
    const level = metric.statsd.slice(0, metric.statsd.indexOf('.'));
    const sums = new Map<string, { labels: Labels; value: number }>();
    for (const s of f.samples) {
      if (s.name !== f.name || !Number.isFinite(s.value)) continue;
      const value = this.#delta(seriesKey(s.name, s.labels), s.value);
      const labels = requests ? s.labels.filter(([n]) => REQUEST_LABELS.has(n)) : s.labels;
      const key = seriesKey(level, labels);
      const e = sums.get(key);
      if (e === undefined) sums.set(key, { labels, value });
      else e.value += value;
    }
    for (const [key, { labels, value }] of sums) {
      if (requests && value !== 0) moved.add(key);
      if (value !== 0 || (bytes && moved.has(key))) out.push({ metric, labels: traefikOrder(labels), value });
    }
  }

  #durations(f: ParsedFamily, metric: PushMetric, out: PushSeries[]): void {
    const byLabels = new Map<string, { labels: Labels; samples: ParsedSample[] }>();
    for (const s of f.samples) {
      const labels = s.labels.filter(([n]) => n !== 'le');
      const key = seriesKey('', labels);
      let e = byLabels.get(key);
      if (e === undefined) {
        e = { labels, samples: [] };
        byLabels.set(key, e);
      }
      e.samples.push(s);
    }
    for (const { labels, samples } of byLabels.values()) {
      const bounds: number[] = [];
      const cumulative: number[] = [];
      let sum = 0;
      let count = 0;
      for (const s of samples) {
        const d = this.#delta(seriesKey(s.name, s.labels), s.value);
        if (s.name === `${f.name}_sum`) sum = d;
        else if (s.name === `${f.name}_count`) count = d;
        else if (s.name === `${f.name}_bucket`) {
          const le = Number(s.labels.find(([n]) => n === 'le')?.[1] ?? Number.NaN);
          if (Number.isFinite(le)) {
            bounds.push(le);
            cumulative.push(d);
          }
        }
      }
      if (!(count > 0)) continue;
      const perBucket: number[] = [];
      let below = 0;
      for (const c of cumulative) {
        perBucket.push(Math.max(0, c - below));
        below = Math.max(below, c);
      }
      perBucket.push(Math.max(0, count - below));
      const samplesOut = durationSamples(bounds, perBucket, sum, count);
      out.push({
        metric,
        labels: traefikOrder(labels),
        value: count,
        samples: samplesOut,
        quantiles: [0.5, 0.9, 0.95, 0.99].map((q) => quantile(q, bounds, perBucket, samplesOut)) as [
          number,
          number,
          number,
          number,
        ],
      });
    }
  }
}

/**
 * The interval's observations of one series, from its histogram: (seconds, how many) per bucket
 * that gained any. All in one bucket: their mean, exact for one request. Otherwise each bucket's
 * middle, and for the last (above every bound) what the sum leaves for it, at least its lower
 * bound. Traefik sends every observation; this keeps a line per bucket at most.
 */
export function durationSamples(
  bounds: readonly number[],
  perBucket: readonly number[],
  sum: number,
  count: number,
): Array<[number, number]> {
  const used = perBucket.filter((c) => c > 0).length;
  if (used <= 1) return count > 0 ? [[Math.max(0, sum / count), count]] : [];
  const out: Array<[number, number]> = [];
  let finiteSum = 0;
  for (let b = 0; b < bounds.length; b++) {
    const c = perBucket[b]!;
    if (c === 0) continue;
    const mid = ((b === 0 ? 0 : bounds[b - 1]!) + bounds[b]!) / 2;
    finiteSum += mid * c;
    out.push([mid, c]);
  }
  const over = perBucket[bounds.length] ?? 0;
  if (over > 0) {
    const lo = bounds.length === 0 ? 0 : bounds[bounds.length - 1]!;
    out.push([Math.max(lo, (sum - finiteSum) / over), over]);
  }
  return out;
}

/** The q-quantile: linear within its bucket (as PromQL's histogram_quantile); one bucket: the mean. */
function quantile(
  q: number,
  bounds: readonly number[],
  perBucket: readonly number[],
  samples: ReadonlyArray<readonly [number, number]>,
): number {
  if (samples.length === 1) return samples[0]![0];
  const total = perBucket.reduce((a, b) => a + b, 0);
  const rank = q * total;
  let seen = 0;
  for (let b = 0; b < perBucket.length; b++) {
    const c = perBucket[b]!;
    if (c === 0) continue;
    if (seen + c >= rank) {
      if (b === bounds.length) return samples[samples.length - 1]![0];
      const lo = b === 0 ? 0 : bounds[b - 1]!;
      return lo + (bounds[b]! - lo) * ((rank - seen) / c);
    }
    seen += c;
  }
  return samples[samples.length - 1]![0];
}

/** Go's `%f`, which go-kit's statsd and dogstatsd clients write values with. */
export function goFloat(v: number): string {
  return v.toFixed(6);
}

/** A sample rate: `1/n`, the n observations one line stands for (StatsD's `|@rate`). */
function rate(n: number): string {
  return n > 1 ? `|@${String(1 / n)}` : '';
}

/**
 * StatsD lines (go-kit's statsd client: no labels, so every series of a name adds up into one
 * line): `<prefix>.<name>:<value>|c`, `|g`, and the durations as timings in milliseconds (`|ms`,
 * Traefik's NewHistogramWithScale(…, time.Millisecond)). A gauge of several series: their sum
 * (open connections of all entry points, servers up), the earliest for the certificates' expiry.
 */
export function statsdLines(series: readonly PushSeries[], prefix: string): string[] {
  const sums = new Map<string, { kind: PushKind; value: number; min: boolean }>();
  const timings: string[] = [];
  for (const s of series) {
    const name = `${prefix}.${s.metric.statsd}`;
    if (s.metric.kind === 'duration') {
      for (const [seconds, n] of s.samples ?? [])
        timings.push(`${name}:${goFloat(seconds * 1000)}|ms${rate(n)}`);
      continue;
    }
    const min = s.metric.statsd === 'tls.certs.notAfterTimestamp';
    const e = sums.get(name);
    if (e === undefined) sums.set(name, { kind: s.metric.kind, value: s.value, min });
    else e.value = min ? Math.min(e.value, s.value) : e.value + s.value;
  }
  const out: string[] = [];
  for (const [name, { kind, value }] of sums)
    out.push(`${name}:${goFloat(value)}|${kind === 'counter' ? 'c' : 'g'}`);
  return out.concat(timings);
}

/** DogStatsD's tags (go-kit dogstatsd tagValues): `|#k:v,k:v`. */
function tags(labels: Labels): string {
  if (labels.length === 0) return '';
  let t = '|#';
  for (let i = 0; i < labels.length; i++) t += `${i === 0 ? '' : ','}${labels[i]![0]}:${labels[i]![1]}`;
  return t;
}

/**
 * DogStatsD lines (go-kit's dogstatsd client): one per series with its labels as tags, the
 * durations as histograms in seconds (`|h`, Traefik's datadog.go NewHistogram with time.Second).
 */
export function dogstatsdLines(series: readonly PushSeries[], prefix: string): string[] {
  const out: string[] = [];
  for (const s of series) {
    const name = `${prefix}.${s.metric.statsd}`;
    const t = tags(s.labels);
    if (s.metric.kind === 'duration') {
      for (const [seconds, n] of s.samples ?? []) out.push(`${name}:${goFloat(seconds)}|h${rate(n)}${t}`);
    } else out.push(`${name}:${goFloat(s.value)}|${s.metric.kind === 'counter' ? 'c' : 'g'}${t}`);
  }
  return out;
}

function escapeMeasurement(s: string): string {
  return s.replace(/[\\, ]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
}

function escapeTag(s: string): string {
  return s.replace(/[\\,= ]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
}

/** A float field as Go's line protocol writes one (no exponent, no trailing zeros). */
function influxFloat(v: number): string {
  const s = String(v);
  if (!/e/i.test(s)) return s;
  return v.toFixed(20).replace(/\.?0+$/, '');
}

/**
 * InfluxDB line protocol (go-kit's influx client, written by influxdb-client-go): labels and
 * `additionalLabels` as tags, sorted by key; counters `count=`, gauges `value=`, durations
 * `p50=,p90=,p95=,p99=` in seconds; one timestamp in nanoseconds for the whole push.
 */
export function influxLines(
  series: readonly PushSeries[],
  additional: Readonly<Record<string, string>>,
  nowMs: number,
): string[] {
  const time = `${Math.trunc(nowMs)}000000`;
  const out: string[] = [];
  for (const s of series) {
    const tagMap = new Map<string, string>(Object.entries(additional));
    for (const [n, v] of s.labels) tagMap.set(n, v);
    let line = escapeMeasurement(s.metric.influx);
    for (const k of [...tagMap.keys()].sort()) {
      const v = tagMap.get(k)!;
      // Line protocol has no empty tag value: such a tag is left out, as the client does.
      if (v !== '' && k !== '') line += `,${escapeTag(k)}=${escapeTag(v)}`;
    }
    if (s.metric.kind === 'duration') {
      const [p50, p90, p95, p99] = s.quantiles!;
      line += ` p50=${influxFloat(p50)},p90=${influxFloat(p90)},p95=${influxFloat(p95)},p99=${influxFloat(p99)}`;
    } else line += ` ${s.metric.kind === 'counter' ? 'count' : 'value'}=${influxFloat(s.value)}`;
    out.push(`${line} ${time}`);
  }
  return out;
}

/**
 * Lines packed into datagrams of at most `max` bytes (a longer line goes alone), each line ended
 * by `\n` as go-kit writes them. go-kit writes each line on its own (one datagram per line);
 * StatsD servers and the Datadog agent read several lines from one.
 */
export function packDatagrams(lines: readonly string[], max: number): Buffer[] {
  const out: Buffer[] = [];
  let cur = '';
  let bytes = 0;
  for (const line of lines) {
    const n = Buffer.byteLength(line) + 1;
    if (cur !== '' && bytes + n > max) {
      out.push(Buffer.from(cur));
      cur = '';
      bytes = 0;
    }
    cur += `${line}\n`;
    bytes += n;
  }
  if (cur !== '') out.push(Buffer.from(cur));
  return out;
}
