/**
 * Garbage collection of a proxy under the bench's load (`npm run bench -- --gc`, issue 15 §3):
 * our proxy runs with V8's `--trace-gc`, Caddy with Go's `GODEBUG=gctrace=1`; both print one line
 * per collection to the proxy's log. nginx and HAProxy have no garbage collector.
 *
 * What counts, for each runtime, is the time the thread that serves requests spends in GC:
 * - V8: each collection's main-thread pause, plus the incremental marking steps a Mark-Compact
 *   reports ("+ N ms in M steps"), which also run on the main thread between tasks. V8's
 *   concurrent marking and parallel scavenging threads are not in the trace (nor counted).
 * - Go: the two stop-the-world phases of each cycle (sweep termination and mark termination,
 *   wall clock), plus the mark assists that goroutines serving requests are made to do (CPU).
 *   The background mark workers run beside them and are not counted.
 *
 * Each line carries its time relative to its process's start (V8: ms since the isolate began; Go:
 * seconds since the runtime began); the measured window is known in the machine's uptime, and each
 * process's start from /proc/<pid>/stat, so a line is kept when it falls inside the window.
 */

import { readFileSync } from 'node:fs';
import { median } from './summary.ts';
import { num, tableRow } from './table.ts';

/** One collection as a trace line reports it. */
export interface GcEvent {
  /** Which process (V8 prints it; Go's line does not: the caller's pid). */
  readonly pid: number | null;
  /** Seconds since the process's runtime started. */
  readonly atS: number;
  readonly kind: string;
  /** Stop-the-world pauses of this collection, ms (V8: one; Go: two). */
  readonly pausesMs: readonly number[];
  /** Time the serving thread spent in this collection, ms (pauses + steps or assists). */
  readonly blockingMs: number;
}

const V8_LINE =
  /^\[(\d+):0x[0-9a-f]+\]\s+(\d+) ms: (Scavenge|Mark-Compact|Minor Mark-Sweep)[^,]*, pooled: [\d.]+ MB, ([\d.]+) \/ [\d.]+ ms(?:\s+\(\+ ([\d.]+) ms in \d+ steps)?/;

/** A `--trace-gc` line of V8 (Node 24), or null. */
export function parseV8GcLine(line: string): GcEvent | null {
  const m = V8_LINE.exec(line);
  if (m === null) return null;
  const pause = Number(m[4]);
  return {
    pid: Number(m[1]),
    atS: Number(m[2]) / 1000,
    kind: m[3]!,
    pausesMs: [pause],
    blockingMs: pause + (m[5] === undefined ? 0 : Number(m[5])),
  };
}

const GO_LINE =
  /^gc \d+ @([\d.]+)s \d+%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock, ([\d.]+)\+([\d.]+)\/([\d.]+)\/([\d.]+)\+([\d.]+) ms cpu/;

/**
 * A `GODEBUG=gctrace=1` line of Go's runtime, or null: `gc N @T s P%: A+B+C ms clock,
 * a+assist/background/idle+c ms cpu, …` (A and C are the stop-the-world phases).
 */
export function parseGoGcLine(line: string): GcEvent | null {
  const m = GO_LINE.exec(line);
  if (m === null) return null;
  const sweepTerm = Number(m[2]);
  const markTerm = Number(m[4]);
  const assist = Number(m[6]);
  return {
    pid: null,
    atS: Number(m[1]),
    kind: 'go',
    pausesMs: [sweepTerm, markTerm],
    blockingMs: sweepTerm + markTerm + assist,
  };
}

/** Every GC line of a proxy's log, V8's or Go's, in order. */
export function parseGcLog(text: string): GcEvent[] {
  const out: GcEvent[] = [];
  for (const line of text.split('\n')) {
    const e = parseV8GcLine(line) ?? parseGoGcLine(line);
    if (e !== null) out.push(e);
  }
  return out;
}

/** The measured window, in seconds of the machine's uptime, and when each process started. */
export interface GcWindow {
  readonly fromS: number;
  readonly toS: number;
  /** Start of each process of the proxy's tree (uptime seconds), from /proc/<pid>/stat. */
  readonly startS: Readonly<Record<string, number>>;
  /** The pid that Go's lines (which name none) belong to: the proxy's own. */
  readonly mainPid: number;
}

export interface GcStats {
  /** Collections inside the window. */
  readonly count: number;
  /** Processes whose collections were counted (workers each have a heap). */
  readonly processes: number;
  readonly pauseP50Ms: number | null;
  readonly pauseP99Ms: number | null;
  readonly pauseMaxMs: number | null;
  /** Serving-thread time in GC over the window, per process: 0.02 = 2 % of its time. */
  readonly share: number;
  readonly blockingMs: number;
}

function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** What fell inside the window. A process that logged nothing there counts as one without GC. */
export function gcStats(events: readonly GcEvent[], w: GcWindow): GcStats {
  const pauses: number[] = [];
  const pids = new Set<number>();
  let blocking = 0;
  let count = 0;
  for (const e of events) {
    const pid = e.pid ?? w.mainPid;
    const start = w.startS[String(pid)];
    if (start === undefined) continue;
    const at = start + e.atS;
    if (at < w.fromS || at > w.toS) continue;
    count++;
    pids.add(pid);
    pauses.push(...e.pausesMs);
    blocking += e.blockingMs;
  }
  pauses.sort((a, b) => a - b);
  const windowMs = (w.toS - w.fromS) * 1000;
  return {
    count,
    processes: pids.size,
    pauseP50Ms: quantile(pauses, 0.5),
    pauseP99Ms: quantile(pauses, 0.99),
    pauseMaxMs: pauses.at(-1) ?? null,
    share: pids.size === 0 || windowMs <= 0 ? 0 : blocking / (windowMs * pids.size),
    blockingMs: blocking,
  };
}

/** Seconds since boot, to 10 ms (/proc/uptime). */
export function uptimeS(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}

/** When `pid` started, in seconds of uptime (/proc/<pid>/stat field 22), or undefined if gone. */
export function processStartS(pid: number, clkTck: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name, which may hold spaces and parentheses: from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Field 22 (starttime) is the 20th after the name (state is field 3).
  return Number(fields[19]) / clkTck;
}

/** The medians over rounds of one proxy's `--gc` numbers; null where no round traced any GC. */
export interface GcRow {
  readonly name: string;
  /** Rounds with GC numbers, of the proxy's successful rounds. */
  readonly traced: number;
  readonly rounds: number;
  readonly count: number | null;
  readonly processes: number | null;
  readonly pauseP50Ms: number | null;
  readonly pauseP99Ms: number | null;
  readonly pauseMaxMs: number | null;
  readonly share: number | null;
  /** Serving-thread GC time per completed request, µs (comparable with CPU per request). */
  readonly usPerRequest: number | null;
}

/** One row per proxy, from its successful runs. */
export function summarizeGc(
  names: readonly string[],
  runs: readonly { ok: boolean; name: string; gc?: GcStats; load?: { completed: number } }[],
): GcRow[] {
  return names.map((name) => {
    const ok = runs.filter((r) => r.ok && r.name === name);
    const traced = ok.filter((r) => r.gc !== undefined);
    const m = (pick: (g: GcStats) => number | null) =>
      median(traced.map((r) => pick(r.gc!)).filter((v) => v !== null));
    return {
      name,
      traced: traced.length,
      rounds: ok.length,
      count: m((g) => g.count),
      processes: m((g) => g.processes),
      pauseP50Ms: m((g) => g.pauseP50Ms),
      pauseP99Ms: m((g) => g.pauseP99Ms),
      pauseMaxMs: m((g) => g.pauseMaxMs),
      share: m((g) => g.share),
      usPerRequest: median(
        traced.flatMap((r) =>
          r.load === undefined || r.load.completed === 0
            ? []
            : [(r.gc!.blockingMs * 1000) / r.load.completed],
        ),
      ),
    };
  });
}

/** The GC table: a proxy without a collector (nginx, HAProxy) says so instead of zeros. */
export function formatGcTable(rows: readonly GcRow[]): string {
  const cols: Array<[string, number]> = [
    ['proxy', 10],
    ['GCs', 6],
    ['procs', 5],
    ['p50 ms', 7],
    ['p99 ms', 7],
    ['max ms', 7],
    ['in GC', 6],
    ['gc µs/req', 9],
  ];
  const line = (cells: readonly string[]) => tableRow(cols, cells);
  const out = [line(cols.map(([t]) => t))];
  for (const r of rows) {
    if (r.traced === 0) {
      out.push(
        line([r.name, ...Array(7).fill('-')]) + (r.rounds === 0 ? '  (no successful run)' : '  (no GC)'),
      );
      continue;
    }
    out.push(
      line([
        r.name,
        num(r.count, 0),
        num(r.processes, 0),
        num(r.pauseP50Ms, 2),
        num(r.pauseP99Ms, 2),
        num(r.pauseMaxMs, 2),
        r.share === null ? 'n/a' : `${(r.share * 100).toFixed(1)}%`,
        num(r.usPerRequest, 2),
      ]) + (r.traced < r.rounds ? `  (traced in ${r.traced} of ${r.rounds} rounds)` : ''),
    );
  }
  return out.join('\n');
}

/** The run line's GC part, e.g. ` gc=41 p99=0.62ms 1.9%`. */
export function formatGcRun(g: GcStats | undefined): string {
  if (g === undefined) return '';
  const p99 = g.pauseP99Ms === null ? 'n/a' : `${g.pauseP99Ms.toFixed(2)}ms`;
  return `  gc=${g.count} p99=${p99} ${(g.share * 100).toFixed(1)}%`;
}
