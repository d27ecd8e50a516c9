import { formatSelfTime, PROFILE_TOP } from './cpu-profile.ts';
import type { ProfileSummary, RunRecord } from './run-record.ts';
import type { ProxySummary } from './summary.ts';

function num(v: number | null, digits: number): string {
  return v === null ? 'n/a' : v.toFixed(digits);
}

function mb(kb: number | null): string {
  return kb === null ? 'n/a' : (kb / 1024).toFixed(1);
}

/** One line per run, printed as soon as the run ends. */
export function formatRun(r: RunRecord): string {
  const head = `round ${r.round} ${r.name.padEnd(10)}`;
  if (!r.ok) return `${head} FAILED: ${r.error}`;
  const w = r.wrk;
  const errors = r.errorCount === 0 ? '' : `  ERRORS=${r.errorCount} ${JSON.stringify(w.errors)}`;
  return (
    `${head} rps=${w.rps.toFixed(0).padStart(7)}  p50=${w.latencyMs.p50.toFixed(2)}ms` +
    `  p99=${w.latencyMs.p99.toFixed(2)}ms  cpu=${r.cpuUsPerRequest.toFixed(1)}µs/req` +
    ` (${(r.cpuBusy * 100).toFixed(0)}% of a core)  rss idle=${mb(r.idleRssKb)}MB load=${mb(r.loadRssKb)}MB${errors}`
  );
}

const COLUMNS = [
  ['proxy', 10],
  ['req/s', 8],
  ['p50 ms', 7],
  ['p99 ms', 7],
  ['cpu µs/req', 10],
  ['idle MB', 7],
  ['load MB', 7],
  ['errors', 6],
  ['vs nginx', 8],
  ['vs caddy', 8],
] as const;

/** The medians table; "vs nginx"/"vs caddy" are CPU-per-request efficiency ratios (higher is better). */
export function formatSummary(rows: readonly ProxySummary[]): string {
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i]![1]) : c.padStart(COLUMNS[i]![1]))).join('  ');
  const out = [line(COLUMNS.map(([title]) => title))];
  for (const s of rows) {
    const failed = s.failedRuns > 0 ? `  (${s.failedRuns}/${s.runs} runs failed)` : '';
    out.push(
      line([
        s.name,
        num(s.rps, 0),
        num(s.p50Ms, 2),
        num(s.p99Ms, 2),
        num(s.cpuUsPerRequest, 1),
        mb(s.idleRssKb),
        mb(s.loadRssKb),
        String(s.errors),
        num(s.efficiencyVsNginx, 2),
        num(s.efficiencyVsCaddy, 2),
      ]) + failed,
    );
  }
  return out.join('\n');
}

export function formatProfile(p: ProfileSummary, repoRoot: string): string {
  if (!p.written) {
    return `no profile at ${p.path}: the proxy must exit normally on SIGTERM for --cpu-prof to write it`;
  }
  const table = formatSelfTime({ totalUs: p.totalUs, rows: p.top }, repoRoot);
  return `top ${PROFILE_TOP} functions by self time (share of all samples, idle included), ${p.path}\n${table}`;
}
