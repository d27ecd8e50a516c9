import type { ProxySummary } from './summary.ts';
import { num, tableRow } from './table.ts';

/** `--mode workers`: one proxy family's medians with one worker (`x`) and with two (`x-2`). */
export interface WorkersPair {
  readonly family: string;
  readonly rps1: number | null;
  readonly rps2: number | null;
  readonly cpuUsPerRequest1: number | null;
  readonly cpuUsPerRequest2: number | null;
  /** CPU per request of two workers over one's, minus 1: 0.14 means two workers cost 14 % more. */
  readonly cpuChange: number | null;
  /** Requests/s of two workers over one's. */
  readonly rpsRatio: number | null;
}

/** The name `x-2` pairs with `x`; every other name is its own family's one-worker run. */
function familyOf(name: string): { readonly family: string; readonly two: boolean } {
  return name.endsWith('-2') && name.length > 2
    ? { family: name.slice(0, -2), two: true }
    : { family: name, two: false };
}

function over(a: number | null, b: number | null): number | null {
  return a === null || b === null || a <= 0 || b <= 0 ? null : a / b;
}

/** One row per family, in the order the families first appear; a side that did not run is null. */
export function pairWorkers(rows: readonly ProxySummary[]): WorkersPair[] {
  const families = new Map<string, { one?: ProxySummary; two?: ProxySummary }>();
  for (const row of rows) {
    const { family, two } = familyOf(row.name);
    const entry = families.get(family) ?? {};
    if (two) entry.two = row;
    else entry.one = row;
    families.set(family, entry);
  }
  return [...families].map(([family, { one, two }]) => {
    const cpu1 = one?.cpuUsPerRequest ?? null;
    const cpu2 = two?.cpuUsPerRequest ?? null;
    const cpuRatio = over(cpu2, cpu1);
    return {
      family,
      rps1: one?.rps ?? null,
      rps2: two?.rps ?? null,
      cpuUsPerRequest1: cpu1,
      cpuUsPerRequest2: cpu2,
      cpuChange: cpuRatio === null ? null : cpuRatio - 1,
      rpsRatio: over(two?.rps ?? null, one?.rps ?? null),
    };
  });
}

/** +14 %, -3 %, +0 %: a change as a signed whole percentage. */
function signedPercent(change: number | null): string {
  if (change === null) return 'n/a';
  const p = Math.round(change * 100);
  return `${p < 0 ? '-' : '+'}${Math.abs(p)} %`;
}

const COLUMNS: ReadonlyArray<readonly [string, number]> = [
  ['proxy', 10],
  ['req/s 1', 8],
  ['req/s 2', 8],
  ['cpu µs/req 1', 12],
  ['cpu µs/req 2', 12],
  ['cpu 2 vs 1', 10],
  ['req/s 2 vs 1', 12],
];

/** The pairs as a table: requests/s and CPU per request with one and two workers, and their change. */
export function formatWorkersTable(pairs: readonly WorkersPair[]): string {
  const line = (cells: readonly string[]) => tableRow(COLUMNS, cells);
  return [
    line(COLUMNS.map(([title]) => title)),
    ...pairs.map((p) =>
      line([
        p.family,
        num(p.rps1, 0),
        num(p.rps2, 0),
        num(p.cpuUsPerRequest1, 1),
        num(p.cpuUsPerRequest2, 1),
        signedPercent(p.cpuChange),
        p.rpsRatio === null ? 'n/a' : `${p.rpsRatio.toFixed(2)}×`,
      ]),
    ),
  ].join('\n');
}
