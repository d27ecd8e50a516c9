/** How many functions `--profile` prints per run. */
export const PROFILE_TOP = 25;

/** The parts of V8's .cpuprofile (the Chrome DevTools Profiler.Profile shape) that we read. */
interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTimeRow {
  readonly functionName: string;
  readonly url: string;
  /** 1-based, as editors count; 0 when V8 gave none. */
  readonly line: number;
  readonly selfUs: number;
  readonly share: number;
}

export interface SelfTimeSummary {
  readonly totalUs: number;
  readonly rows: readonly SelfTimeRow[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}

/** Validates the JSON text of a .cpuprofile file. */
export function parseCpuProfile(text: string): CpuProfile {
  const raw: unknown = JSON.parse(text);
  if (!isRecord(raw) || !Array.isArray(raw['nodes'])) throw new Error('not a .cpuprofile: no nodes');
  const nodes: ProfileNode[] = [];
  for (const n of raw['nodes'] as unknown[]) {
    const cf = isRecord(n) ? n['callFrame'] : undefined;
    if (!isRecord(n) || typeof n['id'] !== 'number' || !isRecord(cf)) {
      throw new Error('not a .cpuprofile: malformed node');
    }
    nodes.push({
      id: n['id'],
      callFrame: {
        functionName: typeof cf['functionName'] === 'string' ? cf['functionName'] : '',
        url: typeof cf['url'] === 'string' ? cf['url'] : '',
        lineNumber: typeof cf['lineNumber'] === 'number' ? cf['lineNumber'] : -1,
      },
    });
  }
  const { startTime, endTime, samples, timeDeltas } = raw;
  if (typeof startTime !== 'number' || typeof endTime !== 'number') {
    throw new Error('not a .cpuprofile: no startTime/endTime');
  }
  if (!isNumberArray(samples) || !isNumberArray(timeDeltas) || samples.length !== timeDeltas.length) {
    throw new Error('not a .cpuprofile: samples and timeDeltas missing or of different lengths');
  }
  return { nodes, startTime, endTime, samples, timeDeltas };
}

/**
 * Self time per function (functionName + url + line), largest first. As in DevTools, sample i
 * lasted from its timestamp to the next sample's (the last one until endTime); timestamps are
 * startTime plus the running sum of timeDeltas.
 */
export function topSelfTime(profile: CpuProfile, limit: number): SelfTimeSummary {
  const frameById = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byKey = new Map<string, { frame: CallFrame; us: number }>();
  const { samples, timeDeltas } = profile;
  let t = profile.startTime;
  let totalUs = 0;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i]!;
    const next = i + 1 < samples.length ? t + timeDeltas[i + 1]! : profile.endTime;
    const us = Math.max(0, next - t);
    const frame = frameById.get(samples[i]!);
    if (frame === undefined) continue;
    const key = `${frame.functionName}\0${frame.url}\0${frame.lineNumber}`;
    const entry = byKey.get(key);
    if (entry) entry.us += us;
    else byKey.set(key, { frame, us });
    totalUs += us;
  }
  const rows = [...byKey.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map(({ frame, us }) => ({
      functionName: frame.functionName,
      url: frame.url,
      line: frame.lineNumber + 1,
      selfUs: us,
      share: totalUs > 0 ? us / totalUs : 0,
    }));
  return { totalUs, rows };
}

/** The table `--profile` prints; `root` is stripped from file URLs to keep lines short. */
export function formatSelfTime(summary: SelfTimeSummary, root: string): string {
  const prefix = `file://${root.endsWith('/') ? root : `${root}/`}`;
  const lines = [
    `  self ms   share  function (location)   [total ${(summary.totalUs / 1000).toFixed(0)} ms]`,
  ];
  for (const r of summary.rows) {
    const url = r.url.startsWith(prefix) ? r.url.slice(prefix.length) : r.url;
    const where = url === '' ? '' : ` (${url}${r.line > 0 ? `:${r.line}` : ''})`;
    const name = r.functionName === '' ? '(anonymous)' : r.functionName;
    lines.push(
      `${(r.selfUs / 1000).toFixed(1).padStart(9)}  ${(r.share * 100).toFixed(1).padStart(5)}%  ${name}${where}`,
    );
  }
  return lines.join('\n');
}
