import { formatSelfTime, PROFILE_TOP } from './cpu-profile.ts';
import { formatGcRun } from './gc-trace.ts';
import { type BenchMode, MODE_INFO } from './modes.ts';
import type { ProfileSummary, RunRecord } from './run-record.ts';
import type { ProxySummary } from './summary.ts';
import { mb, num, tableRow } from './table.ts';
import { formatTlsFacts } from './tls-probe.ts';

/** One line per run, printed as soon as the run ends. */
export function formatRun(r: RunRecord): string {
  const head = `round ${r.round} ${r.name.padEnd(10)}`;
  if (!r.ok) return `${head} FAILED: ${r.error}`;
  const info = MODE_INFO[r.mode];
  const l = r.load;
  const errors = r.errorCount === 0 ? '' : `  ERRORS=${r.errorCount} ${JSON.stringify(l.errors)}`;
  const latency =
    info.latency === 'percentiles'
      ? `p50=${num(l.latencyMs.p50, 2)}ms  p99=${num(l.latencyMs.p99, 2)}ms`
      : `mean=${num(l.latencyMs.mean, 2)}ms  max=${num(l.latencyMs.max, 2)}ms`;
  const rate = rateLabel(info.unit, 'rps');
  return (
    `${head} ${rate}=${l.perSecond.toFixed(0).padStart(7)}  ${latency}  cpu=${r.cpuUsPerRequest.toFixed(1)}µs/${info.unit}` +
    ` (${(r.cpuBusy * 100).toFixed(0)}% of a core)  rss idle=${mb(r.idleRssKb)}MB load=${mb(r.loadRssKb)}MB${errors}` +
    formatGcRun(r.gc)
  );
}

/** Column titles and widths; the rate, latency and CPU titles depend on the mode. */
function columns(mode: BenchMode): ReadonlyArray<readonly [string, number]> {
  const info = MODE_INFO[mode];
  const [lat1, lat2] = info.latency === 'percentiles' ? ['p50 ms', 'p99 ms'] : ['mean ms', 'max ms'];
  return [
    ['proxy', 10],
    [rateLabel(info.unit, 'req/s'), 8],
    [lat1, 7],
    [lat2, 7],
    [`cpu µs/${info.unit}`, 10],
    ['idle MB', 7],
    ['load MB', 7],
    ['errors', 6],
    ['vs nginx', 8],
    [info.client === 'l4-client' ? 'vs haproxy' : 'vs caddy', 10],
  ];
}

/** What one unit per second is called in a mode's tables. */
function rateLabel(unit: string, requests: string): string {
  switch (unit) {
    case 'hs':
      return 'hs/s';
    case 'msg':
      return 'msg/s';
    case 'MiB':
      return 'MiB/s';
    case 'conn':
      return 'conn/s';
    case 'dgram':
      return 'dgram/s';
    default:
      return requests;
  }
}

/** The medians table; "vs nginx"/"vs caddy" are CPU-per-request efficiency ratios (higher is better). */
export function formatSummary(rows: readonly ProxySummary[], mode: BenchMode = 'http'): string {
  const cols = columns(mode);
  const percentiles = MODE_INFO[mode].latency === 'percentiles';
  const line = (cells: readonly string[]) => tableRow(cols, cells);
  const out = [line(cols.map(([title]) => title))];
  for (const s of rows) {
    const failed = s.failedRuns > 0 ? `  (${s.failedRuns}/${s.runs} runs failed)` : '';
    out.push(
      line([
        s.name,
        num(s.rps, 0),
        num(percentiles ? s.p50Ms : s.meanMs, 2),
        num(percentiles ? s.p99Ms : s.maxMs, 2),
        num(s.cpuUsPerRequest, 1),
        mb(s.idleRssKb),
        mb(s.loadRssKb),
        String(s.errors),
        num(s.efficiencyVsNginx, 2),
        num(MODE_INFO[mode].client === 'l4-client' ? s.efficiencyVsHaproxy : s.efficiencyVsCaddy, 2),
      ]) + failed,
    );
  }
  const negotiated = rows.filter((s) => s.tls !== null);
  if (negotiated.length > 0) {
    out.push('', 'negotiated (probe handshake after readiness):');
    for (const s of negotiated) out.push(`  ${s.name.padEnd(10)} ${formatTlsFacts(s.tls!)}`);
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
