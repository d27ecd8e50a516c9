// `--mode latency`: what the constant-rate client reports, each proxy's medians over rounds, the
// comparison with nginx of issue 15 §3 (p99 at half of nginx's maximum rate ≤ nginx's p99 + 1 ms),
// and the run lines and table.

import { formatGcRun } from './gc-trace.ts';
import type { LatencySummary } from './latency-histogram.ts';
import type { RunOk, RunRecord } from './run-record.ts';
import { median } from './summary.ts';
import { num, tableRow } from './table.ts';

/** What bench/lib/latency-client.ts prints (one JSON line). */
export interface LatencyReport {
  readonly rate: number;
  readonly connections: number;
  /** Requests due within the run. */
  readonly scheduled: number;
  /** Responses received (any status). */
  readonly completed: number;
  /** From the first due time to the last response, at least the run's duration. */
  readonly durationS: number;
  readonly achievedRate: number;
  /** From each request's due time to the end of its response. */
  readonly latency: LatencySummary;
  /** The client's own delay: from due time to when its scheduler handed the request out. */
  readonly lateness: LatencySummary;
  readonly statuses: Readonly<Record<string, number>>;
  readonly errors: Readonly<Record<string, number>>;
  /** The latency histogram's non-empty buckets, [upper bound ns, count]. */
  readonly histogram: ReadonlyArray<readonly [number, number]>;
}

/** Issue 15 §3: a proxy's p99 may exceed nginx's by this much at half of nginx's maximum rate. */
export const P99_MARGIN_MS = 1;
/**
 * A run whose client handed out its requests later than this at p99 was limited by the client:
 * its lateness is part of every latency it measured, which then says less about the proxy.
 */
export const CLIENT_LATE_LIMIT_MS = 0.25;
/** Below this share of the target rate the run did not carry the load it was meant to. */
const RATE_SHORTFALL = 0.98;

function isSummary(v: unknown): v is LatencySummary {
  const s = v as Record<string, unknown> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    ['count', 'p50Ms', 'p90Ms', 'p99Ms', 'p999Ms', 'maxMs', 'meanMs'].every((k) => typeof s[k] === 'number')
  );
}

/** The client's last stdout line, checked for the fields the runner uses. */
export function parseLatencyReport(out: string): LatencyReport {
  const line = out.trim().split('\n').at(-1) ?? '';
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new Error(`unrecognised latency client output:\n${out}`);
  }
  const r = raw as Record<string, unknown> | null;
  const counts = (v: unknown) =>
    typeof v === 'object' && v !== null && Object.values(v).every((n) => typeof n === 'number');
  if (
    r === null ||
    typeof r !== 'object' ||
    !['rate', 'connections', 'scheduled', 'completed', 'durationS', 'achievedRate'].every(
      (k) => typeof r[k] === 'number',
    ) ||
    !isSummary(r['latency']) ||
    !isSummary(r['lateness']) ||
    !counts(r['statuses']) ||
    !counts(r['errors']) ||
    !Array.isArray(r['histogram'])
  ) {
    throw new Error(`latency client report lacks its fields:\n${out}`);
  }
  return r as unknown as LatencyReport;
}

/** The latency report of a run of this mode (undefined for another client's run). */
function reportOf(r: RunOk): LatencyReport | undefined {
  return r.client.tool === 'latency-client' ? r.client.result : undefined;
}

export function clientLimited(r: LatencyReport): boolean {
  return r.lateness.p99Ms > CLIENT_LATE_LIMIT_MS;
}

export interface LatencyRow {
  readonly name: string;
  readonly runs: number;
  readonly failedRuns: number;
  readonly achievedRate: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly maxMs: number | null;
  readonly cpuUsPerRequest: number | null;
  /** Sum over rounds: one bad round stays visible. */
  readonly errors: number;
  /** Median of the client's p99 lateness. */
  readonly lateP99Ms: number | null;
  /** Rounds the client limited (see CLIENT_LATE_LIMIT_MS). */
  readonly clientLimitedRuns: number;
  /** This proxy's median p99 minus nginx's. */
  readonly p99VsNginxMs: number | null;
  /** p99VsNginxMs ≤ P99_MARGIN_MS; null without both p99s. */
  readonly withinMargin: boolean | null;
}

export function summarizeLatency(names: readonly string[], runs: readonly RunRecord[]): LatencyRow[] {
  const rows = names.map((name) => {
    const mine = runs.filter((r) => r.name === name);
    const ok = mine.filter((r): r is RunOk => r.ok && reportOf(r) !== undefined);
    const reports = ok.map((r) => reportOf(r)!);
    const m = (pick: (r: LatencyReport) => number) => median(reports.map(pick));
    return {
      name,
      runs: mine.length,
      failedRuns: mine.length - ok.length,
      achievedRate: m((r) => r.achievedRate),
      p50Ms: m((r) => r.latency.p50Ms),
      p99Ms: m((r) => r.latency.p99Ms),
      p999Ms: m((r) => r.latency.p999Ms),
      maxMs: m((r) => r.latency.maxMs),
      cpuUsPerRequest: median(ok.map((r) => r.cpuUsPerRequest)),
      errors: ok.reduce((sum, r) => sum + r.errorCount, 0),
      lateP99Ms: m((r) => r.lateness.p99Ms),
      clientLimitedRuns: reports.filter(clientLimited).length,
    };
  });
  const nginx = rows.find((r) => r.name === 'nginx')?.p99Ms ?? null;
  return rows.map((r) => {
    const diff = nginx === null || r.p99Ms === null ? null : r.p99Ms - nginx;
    // A nanosecond of slack: 2.2 − 1.2 is 1.0000000000000002 in floating point.
    return { ...r, p99VsNginxMs: diff, withinMargin: diff === null ? null : diff <= P99_MARGIN_MS + 1e-6 };
  });
}

const signed = (v: number | null, d: number) => (v === null ? 'n/a' : `${v >= 0 ? '+' : ''}${v.toFixed(d)}`);

/** One line per run, printed when it ends. */
export function formatLatencyRun(r: RunRecord, target: number): string {
  const head = `round ${r.round} ${r.name.padEnd(10)}`;
  if (!r.ok) return `${head} FAILED: ${r.error}`;
  const rep = reportOf(r);
  if (rep === undefined) return `${head} (not a latency run)`;
  const l = rep.latency;
  const flags = [
    ...(clientLimited(rep) ? [`CLIENT-LIMITED (late p99 ${rep.lateness.p99Ms.toFixed(2)}ms)`] : []),
    ...(rep.achievedRate < target * RATE_SHORTFALL
      ? [`RATE ${rep.achievedRate.toFixed(0)} < ${target}`]
      : []),
    ...(r.errorCount > 0 ? [`ERRORS=${r.errorCount} ${JSON.stringify(rep.errors)}`] : []),
  ];
  return (
    `${head} req/s=${rep.achievedRate.toFixed(0).padStart(6)}  p50=${l.p50Ms.toFixed(2)}ms  ` +
    `p99=${l.p99Ms.toFixed(2)}ms  p99.9=${l.p999Ms.toFixed(2)}ms  max=${l.maxMs.toFixed(2)}ms  ` +
    `late p99=${rep.lateness.p99Ms.toFixed(3)}ms max=${rep.lateness.maxMs.toFixed(2)}ms  ` +
    `cpu=${r.cpuUsPerRequest.toFixed(1)}µs/req (${(r.cpuBusy * 100).toFixed(0)}% of a core)` +
    formatGcRun(r.gc) +
    (flags.length > 0 ? `  ${flags.join('  ')}` : '')
  );
}

/**
 * The table of medians. `target` is the common rate, or each proxy's own (`--rate-scale`): a row
 * whose target differs from nginx's says so, since its p99 is then not comparable with nginx's.
 */
export function formatLatencySummary(
  rows: readonly LatencyRow[],
  target: number | ((name: string) => number),
): string {
  const targetOf = typeof target === 'number' ? () => target : target;
  const cols: Array<[string, number]> = [
    ['proxy', 10],
    ['target', 6],
    ['req/s', 6],
    ['p50 ms', 7],
    ['p99 ms', 7],
    ['p99.9 ms', 8],
    ['max ms', 7],
    ['cpu µs/req', 10],
    ['errors', 6],
    ['late p99', 8],
    ['p99 − nginx', 11],
    [`≤ +${P99_MARGIN_MS} ms`, 7],
  ];
  const line = (cells: readonly string[]) => tableRow(cols, cells);
  const out = [line(cols.map(([t]) => t))];
  for (const s of rows) {
    const own = targetOf(s.name);
    const common = targetOf('nginx');
    const notes = [
      ...(own !== common ? [`at ${own} req/s, nginx at ${common}`] : []),
      ...(s.failedRuns > 0 ? [`${s.failedRuns}/${s.runs} runs failed`] : []),
      ...(s.clientLimitedRuns > 0
        ? [`client-limited in ${s.clientLimitedRuns} of ${s.runs - s.failedRuns}`]
        : []),
    ];
    out.push(
      line([
        s.name,
        String(own),
        num(s.achievedRate, 0),
        num(s.p50Ms, 2),
        num(s.p99Ms, 2),
        num(s.p999Ms, 2),
        num(s.maxMs, 2),
        num(s.cpuUsPerRequest, 1),
        String(s.errors),
        num(s.lateP99Ms, 3),
        signed(s.p99VsNginxMs, 2),
        s.withinMargin === null ? 'n/a' : s.withinMargin ? 'yes' : 'NO',
      ]) + (notes.length > 0 ? `  (${notes.join('; ')})` : ''),
    );
  }
  return out.join('\n');
}
