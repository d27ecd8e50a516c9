import { median } from './summary.ts';
import { mb, num, tableRow } from './table.ts';

/** What bench/lib/overload-probe.ts prints. */
export interface ProbeReport {
  readonly sent: number;
  readonly ok: number;
  readonly failures: Readonly<Record<string, number>>;
  readonly durationS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** What bench/lib/overload-attacker.ts prints when stopped. */
export interface AttackReport {
  readonly opened: number;
  readonly closedByProxy: number;
  readonly timeouts408: number;
  readonly errors: number;
  readonly bytes: number;
  readonly openAtEnd: number;
}

export type OverloadRecord =
  | {
      readonly ok: true;
      readonly name: string;
      readonly round: number;
      readonly startedAt: string;
      readonly unloaded: ProbeReport;
      readonly attacked: ProbeReport;
      readonly attack: AttackReport;
      /** Attacking connections open when the probe under attack began. */
      readonly attackOpen: number;
      readonly rssIdleKb: number;
      readonly rssUnloadedKb: number;
      readonly rssAttackKb: number;
      readonly rssAfterKb: number;
      readonly fdsBefore: number;
      readonly fdsAttack: number;
      readonly fdsAfter: number;
    }
  | {
      readonly ok: false;
      readonly name: string;
      readonly round: number;
      readonly startedAt: string;
      readonly error: string;
      readonly logTail: string;
    };

export interface OverloadSummary {
  readonly name: string;
  readonly runs: number;
  readonly failedRuns: number;
  readonly p99UnloadedMs: number | null;
  readonly p99AttackedMs: number | null;
  /** p99 under attack over p99 unloaded, the median of each round's ratio. */
  readonly ratio: number | null;
  readonly p50UnloadedMs: number | null;
  readonly p50AttackedMs: number | null;
  readonly rssIdleKb: number | null;
  readonly rssAttackKb: number | null;
  readonly rssAfterKb: number | null;
  /** Probe requests that failed, all rounds summed. */
  readonly probeErrors: number;
  /** Attacking connections the proxy cut during the attack (median). */
  readonly cut: number | null;
}

/** The p99 criterion of issue 15 §2: under attack within this factor of the unloaded p99. */
export const P99_FACTOR = 2;

export function summarizeOverload(
  names: readonly string[],
  runs: readonly OverloadRecord[],
): OverloadSummary[] {
  return names.map((name) => {
    const mine = runs.filter((r) => r.name === name);
    const ok = mine.filter((r): r is Extract<OverloadRecord, { ok: true }> => r.ok);
    const m = (pick: (r: (typeof ok)[number]) => number) => median(ok.map(pick));
    const failed = (p: ProbeReport) => Object.values(p.failures).reduce((a, b) => a + b, 0);
    return {
      name,
      runs: mine.length,
      failedRuns: mine.length - ok.length,
      p99UnloadedMs: m((r) => r.unloaded.p99Ms),
      p99AttackedMs: m((r) => r.attacked.p99Ms),
      ratio: m((r) => r.attacked.p99Ms / r.unloaded.p99Ms),
      p50UnloadedMs: m((r) => r.unloaded.p50Ms),
      p50AttackedMs: m((r) => r.attacked.p50Ms),
      rssIdleKb: m((r) => r.rssIdleKb),
      rssAttackKb: m((r) => r.rssAttackKb),
      rssAfterKb: m((r) => r.rssAfterKb),
      probeErrors: ok.reduce((s, r) => s + failed(r.unloaded) + failed(r.attacked), 0),
      cut: m((r) => r.attack.closedByProxy),
    };
  });
}

export function formatOverloadRun(r: OverloadRecord): string {
  const head = `round ${r.round} ${r.name.padEnd(10)}`;
  if (!r.ok) return `${head} FAILED: ${r.error}`;
  const errs = (p: ProbeReport) => Object.values(p.failures).reduce((a, b) => a + b, 0);
  return (
    `${head} p99 ${r.unloaded.p99Ms.toFixed(2)} → ${r.attacked.p99Ms.toFixed(2)} ms ` +
    `(×${(r.attacked.p99Ms / r.unloaded.p99Ms).toFixed(2)})  p50 ${r.unloaded.p50Ms.toFixed(2)} → ${r.attacked.p50Ms.toFixed(2)} ms  ` +
    `rss idle=${mb(r.rssIdleKb)} attack=${mb(r.rssAttackKb)} after=${mb(r.rssAfterKb)} MB  ` +
    `fds ${r.fdsBefore}/${r.fdsAttack}/${r.fdsAfter}  attack open=${r.attackOpen} cut=${r.attack.closedByProxy} ` +
    `408=${r.attack.timeouts408}${errs(r.unloaded) + errs(r.attacked) > 0 ? `  PROBE ERRORS ${JSON.stringify([r.unloaded.failures, r.attacked.failures])}` : ''}`
  );
}

export function formatOverloadSummary(rows: readonly OverloadSummary[]): string {
  const cols: [string, number][] = [
    ['proxy', 10],
    ['p99 ms', 7],
    ['attacked', 8],
    ['×', 5],
    [`≤${P99_FACTOR}×`, 4],
    ['p50 ms', 7],
    ['attacked', 8],
    ['idle MB', 7],
    ['attack MB', 9],
    ['after MB', 8],
    ['cut', 5],
    ['errors', 6],
  ];
  const line = (cells: readonly string[]) => tableRow(cols, cells);
  const out = [line(cols.map(([t]) => t))];
  for (const s of rows) {
    const failed = s.failedRuns > 0 ? `  (${s.failedRuns}/${s.runs} runs failed)` : '';
    out.push(
      line([
        s.name,
        num(s.p99UnloadedMs, 2),
        num(s.p99AttackedMs, 2),
        num(s.ratio, 2),
        s.ratio === null ? 'n/a' : s.ratio <= P99_FACTOR ? 'yes' : 'NO',
        num(s.p50UnloadedMs, 2),
        num(s.p50AttackedMs, 2),
        mb(s.rssIdleKb),
        mb(s.rssAttackKb),
        mb(s.rssAfterKb),
        num(s.cut, 0),
        String(s.probeErrors),
      ]) + failed,
    );
  }
  return out.join('\n');
}
