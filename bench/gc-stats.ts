/**
 * GC pauses of a process run with `--trace-gc`: count by kind, p50/p99/max of the main-thread
 * pauses, and the share of a time window spent in them (pauses plus incremental marking steps).
 *
 *   node bench/gc-stats.ts <trace-gc log> [from ms] [to ms]
 *
 * Times are V8's (ms since the isolate started, the number before "ms:" on each line); give the
 * window of the measured load to leave start-up and warm-up out. See docs/performance.md.
 */
import { readFileSync } from 'node:fs';
import { parseV8GcLine } from './lib/gc-trace.ts';

const [file, fromArg, toArg] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node bench/gc-stats.ts <trace-gc log> [from ms] [to ms]');
  process.exit(2);
}
const from = Number(fromArg ?? 0);
const to = toArg === undefined ? Number.POSITIVE_INFINITY : Number(toArg);
const pauses: number[] = [];
const kinds: Record<string, number> = {};
let steps = 0;
let first = Number.POSITIVE_INFINITY;
let last = 0;
for (const line of readFileSync(file, 'utf8').split('\n')) {
  const e = parseV8GcLine(line);
  if (e === null) continue;
  const t = e.atS * 1000;
  if (t < from || t > to) continue;
  first = Math.min(first, t);
  last = Math.max(last, t);
  pauses.push(e.pausesMs[0]!);
  kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
  steps += e.blockingMs - e.pausesMs[0]!;
}
pauses.sort((a, b) => a - b);
const q = (p: number): number | null =>
  pauses.length === 0 ? null : pauses[Math.min(pauses.length - 1, Math.floor(p * pauses.length))]!;
const sum = pauses.reduce((a, b) => a + b, 0);
const windowMs = Number.isFinite(to) ? to - from : last - first;
console.log(
  JSON.stringify({
    count: pauses.length,
    kinds,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    maxMs: pauses.at(-1) ?? null,
    pauseSumMs: Number(sum.toFixed(1)),
    incrementalStepsMs: Number(steps.toFixed(1)),
    windowMs,
    gcShare: windowMs > 0 ? Number(((sum + steps) / windowMs).toFixed(4)) : null,
  }),
);
