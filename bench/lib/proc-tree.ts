import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat the bench needs (proc(5)); times are in clock ticks. */
export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly utime: number;
  readonly stime: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself contain
 * spaces or ')', so fields are counted from the last ')'.
 */
export function parseStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc stat line: ${text.slice(0, 80)}`);
  const pid = Number(text.slice(0, text.indexOf(' ')));
  // After ")": field 3 (state) is index 0, so field n is index n - 3.
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (![pid, ppid, utime, stime].every(Number.isFinite)) {
    throw new Error(`not a /proc stat line: ${text.slice(0, 80)}`);
  }
  return { pid, ppid, utime, stime };
}

/** VmRSS from /proc/<pid>/status in kB; 0 when absent (kernel threads, zombies). */
export function parseVmRssKb(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) : 0;
}

/** Root plus every descendant in `stats`, following ppid links (breadth first). */
export function descendants(rootPid: number, stats: readonly ProcStat[]): number[] {
  const children = new Map<number, number[]>();
  for (const s of stats) {
    const list = children.get(s.ppid);
    if (list) list.push(s.pid);
    else children.set(s.ppid, [s.pid]);
  }
  const out = [rootPid];
  for (let i = 0; i < out.length; i++) {
    for (const c of children.get(out[i]!) ?? []) out.push(c);
  }
  return out;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // The process exited between listing and reading: it simply no longer counts.
    return undefined;
  }
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const text = readText(`/proc/${name}/stat`);
    if (text !== undefined) out.push(parseStat(text));
  }
  return out;
}

/**
 * A process and all its descendants, read from /proc. This kernel has no
 * /proc/<pid>/task/<tid>/children, so the tree comes from every process's ppid (what `pgrep -P`
 * does, without spawning a process on the measured CPU).
 */
export interface TreeSample {
  readonly pids: readonly number[];
  /** utime + stime of every process in the tree (all threads), in clock ticks. */
  readonly cpuTicks: number;
  readonly rssKb: number;
}

export function sampleTree(rootPid: number): TreeSample {
  const stats = allStats();
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const pids = byPid.has(rootPid) ? descendants(rootPid, stats) : [];
  let cpuTicks = 0;
  let rssKb = 0;
  for (const pid of pids) {
    const s = byPid.get(pid);
    if (s) cpuTicks += s.utime + s.stime;
    const status = readText(`/proc/${pid}/status`);
    if (status !== undefined) rssKb += parseVmRssKb(status);
  }
  return { pids, cpuTicks, rssKb };
}
