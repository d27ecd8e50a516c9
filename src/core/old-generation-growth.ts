import { setFlagsFromString } from 'node:v8';

/**
 * How far past its live size the old generation may grow before V8 starts the next
 * mark-compact: 50 %, a factor of 1.5 instead of V8's own (1.1–4, from its GC and mutator
 * speeds; under load it picks 4). Under HTTP/2 (`h2load -c50 -m10`, 500 requests in flight)
 * the requests in flight outlive two scavenges of the 16 MB young generation, so ~2.5 MB are
 * promoted per scavenge: a 24 MB live old space grew to ~100 MB of garbage before each
 * mark-compact, and V8 kept those pages (peak RSS ~200 MB). With 1.5 it peaks at ~35 MB; the
 * mark-compacts, ~8× as many, are short with a ~25 MB live heap and took no more time in GC
 * than the scavenges saved (docs/performance.md, "Garbage collection").
 */
export const OLD_GENERATION_GROWING_PERCENT = 50;

/**
 * Sets V8's heap growing factor (`--heap-growing-percent`), which V8 reads each time it sizes
 * the old generation's next limit (after a mark-compact), so setting it from inside the process
 * works. An operator's own flag wins: then nothing is done and false is returned.
 */
export function limitOldGenerationGrowth(
  percent = OLD_GENERATION_GROWING_PERCENT,
  nodeFlags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`,
): boolean {
  if (setsOldGenerationGrowth(nodeFlags)) return false;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}

function setsOldGenerationGrowth(nodeFlags: string): boolean {
  return nodeFlags
    .split(/\s+/)
    .map((t) => t.replaceAll('_', '-'))
    .some((t) => t === '--heap-growing-percent' || t.startsWith('--heap-growing-percent='));
}
