import { formatValue, parseValue } from '../observability/metrics/exposition.ts';

/** One process's exposition, as a worker answered a scrape. */
export interface WorkerExposition {
  /** The worker's slot (1..N): stable across replacements. */
  readonly slot: number;
  readonly pid: number;
  readonly text: string;
}

interface Family {
  help: string | null;
  type: string | null;
  /** Series (`name{labels}`) → value, in first-seen order. */
  readonly samples: Map<string, number>;
}

/**
 * Gauges whose sum over processes means nothing: the oldest start time, the largest limit, the
 * most pressed worker. (`traffic_overload_max_request_body_bytes` is summed: each worker holds
 * its share of the budget, split-limits.ts.)
 * Every other sample (counters, histogram buckets, sums and counts, open connections, resident
 * memory, CPU seconds) adds up to the figure of the whole proxy.
 */
const COMBINE: Readonly<Record<string, (a: number, b: number) => number>> = {
  process_start_time_seconds: Math.min,
  process_max_fds: Math.max,
  process_virtual_memory_max_bytes: Math.max,
  // Each worker's own pressure and the limits it compares it with: the worst worker's figure.
  traffic_overload_shedding: Math.max,
  traffic_overload_event_loop_utilization: Math.max,
  traffic_overload_event_loop_cpu_share: Math.max,
  traffic_overload_event_loop_delay_seconds: Math.max,
  traffic_overload_max_event_loop_delay_seconds: Math.max,
  traffic_overload_max_heap_used_ratio: Math.max,
};

/**
 * One exposition for the whole proxy: the control plane's own text and every worker's, series
 * with the same name and labels summed (text format 0.0.4). Families keep the order in which
 * they first appear, so the control plane's come first. Runs at scrape time only.
 */
export function mergeExpositions(texts: readonly string[]): string {
  const families = new Map<string, Family>();
  for (const text of texts) {
    let current: Family | null = null;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('#')) {
        const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
        if (m === null) continue;
        current = family(families, m[2]!);
        if (m[1] === 'HELP') current.help ??= m[3]!;
        else current.type ??= m[3]!;
        continue;
      }
      const space = line.lastIndexOf(' ');
      if (space <= 0) continue;
      const series = line.slice(0, space);
      const value = parseValue(line.slice(space + 1));
      if (Number.isNaN(value)) continue;
      const brace = series.indexOf('{');
      const name = brace === -1 ? series : series.slice(0, brace);
      // A sample without a family line of its own (`_bucket`, `_sum`, `_count`) is its family's.
      const f = current ?? family(families, name);
      const before = f.samples.get(series);
      const combine = COMBINE[name];
      f.samples.set(
        series,
        before === undefined ? value : combine === undefined ? before + value : combine(before, value),
      );
    }
  }
  let out = '';
  for (const [name, f] of families) {
    if (f.samples.size === 0) continue;
    if (f.help !== null) out += `# HELP ${name} ${f.help}\n`;
    if (f.type !== null) out += `# TYPE ${name} ${f.type}\n`;
    for (const [series, value] of f.samples) out += `${series} ${formatValue(value)}\n`;
  }
  return out;
}

/** Families whose samples only grow while a process lives (the rest are gauges). */
const MONOTONIC = new Set(['counter', 'histogram']);

/**
 * The counters and histograms of one exposition, its gauges left out: what a worker that died
 * (or did not answer a scrape) still contributes to the sums, so that no counter of the whole
 * proxy goes backwards (Prometheus would read a drop as a reset).
 */
export function countersOnly(text: string): string {
  let out = '';
  let keep = false;
  let help: string | null = null;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const parts = line.split(' ');
      keep = MONOTONIC.has(parts[3] ?? '');
      // HELP comes first in our expositions: written once the TYPE says the family is kept.
      if (keep && help !== null) out += `${help}\n`;
      help = null;
    } else if (line.startsWith('# HELP ')) {
      help = line;
      keep = false;
      continue;
    }
    if (keep) out += `${line}\n`;
  }
  return out;
}

/**
 * Per-worker families, from the workers' own texts: whether each slot answered, and how many
 * requests it counted on its entry points (what tells how evenly the kernel spreads the load).
 */
export function workerFamilies(
  prefix: string,
  slots: readonly number[],
  answered: readonly WorkerExposition[],
  restarts: number,
): string {
  const up = `${prefix}_worker_up`;
  const requests = `${prefix}_worker_requests_total`;
  const restartsName = `${prefix}_worker_restarts_total`;
  let out = `# HELP ${up} Whether a data-plane worker answered this scrape (1) or not (0), by slot.\n# TYPE ${up} gauge\n`;
  for (const slot of slots) {
    const a = answered.find((w) => w.slot === slot);
    out += `${up}{worker="${slot}"${a === undefined ? '' : `,pid="${a.pid}"`}} ${a === undefined ? 0 : 1}\n`;
  }
  out += `# HELP ${requests} Requests a data-plane worker served, over its entry points, by slot (since that worker started).\n# TYPE ${requests} counter\n`;
  for (const w of answered)
    out += `${requests}{worker="${w.slot}"} ${formatValue(entryPointRequests(w.text))}\n`;
  const open = `${prefix}_worker_open_connections`;
  out += `# HELP ${open} Client connections open on a data-plane worker, over its entry points, by slot.\n# TYPE ${open} gauge\n`;
  for (const w of answered)
    out += `${open}{worker="${w.slot}"} ${formatValue(sumOf(w.text, 'traefik_open_connections'))}\n`;
  out += `# HELP ${restartsName} Data-plane workers that exited and were replaced.\n# TYPE ${restartsName} counter\n`;
  out += `${restartsName} ${restarts}\n`;
  return out;
}

/** The sum of `traefik_entrypoint_requests_total` over every label set. */
export function entryPointRequests(text: string): number {
  return sumOf(text, 'traefik_entrypoint_requests_total');
}

/** The sum of one family's samples (`name{…} v` or `name v`) over every label set. */
function sumOf(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const next = line.charCodeAt(name.length);
    // `{` or a space: not a longer name that starts the same.
    if (next !== 123 && next !== 32) continue;
    const v = parseValue(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isNaN(v)) sum += v;
  }
  return sum;
}

function family(families: Map<string, Family>, name: string): Family {
  let f = families.get(name);
  if (f === undefined) {
    f = { help: null, type: null, samples: new Map() };
    families.set(name, f);
  }
  return f;
}
