import { setFlagsFromString } from 'node:v8';

/**
 * How far past its live size the old generation may grow before V8 starts the next
 * mark-compact: 100 %, a factor of 2, instead of V8's own (1.1 to 4, from its GC and mutator
 * speeds; under load it picks 4). Under HTTP/2 (`h2load -c50 -m10`, 500 requests in flight) the
 * requests in flight outlive two scavenges of the 16 MB young generation and are promoted: a
 * ~24 MB live old space grew to ~100 MB before each mark-compact, and V8 kept those pages. A
 * lower factor is a trade of memory for CPU (more mark-compacts, each marking the whole live
 * heap, on V8's helper threads too): 50 % peaks ~12 MB lower and costs ~3 µs more per HTTP/2
 * request; an operator who prefers that starts node with `--heap-growing-percent=50` (on its
 * command line: Node refuses this V8 flag in NODE_OPTIONS; docs/performance.md, "Memory under
 * HTTP/2").
 */
export const OLD_GENERATION_GROWING_PERCENT = 100;

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
