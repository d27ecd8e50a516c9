import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * The young generation (V8's new space) a proxy lets grow: 16 MB, the size
 * `--max-semi-space-size=8` gives. Under HTTP/2 load V8 grows it to 128 MB and keeps it
 * committed (half of the RSS under `h2load -c50 -m10`), for no measurable CPU gain (the
 * scavenges stay short: docs/performance.md, "Garbage collection").
 */
export const YOUNG_GENERATION_CAP_BYTES = 16 * 1024 * 1024;

/**
 * Keeps the young generation at or under `capBytes` from now on, from inside the process.
 *
 * The heap's size limits are fixed when the isolate is created (`--max-semi-space-size` set
 * later does nothing, checked), but the growth factor V8 applies after a scavenge is read each
 * time: after every collection, growth is turned off (factor 1) once the new space has reached
 * the cap, and on again (V8's default, 2) when V8 has shrunk it below. One check per garbage
 * collection, nothing per request. An operator's own young-generation flag wins: then nothing is
 * done and null is returned; otherwise the function that stops the cap.
 */
export function capYoungGeneration(
  capBytes = YOUNG_GENERATION_CAP_BYTES,
  nodeFlags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`,
): (() => void) | null {
  if (setsYoungGeneration(nodeFlags)) return null;
  let growing = true;
  const check = (): void => {
    const grow = newSpaceBytes() < capBytes;
    if (grow === growing) return;
    growing = grow;
    setFlagsFromString(`--semi-space-growth-factor=${grow ? 2 : 1}`);
  };
  const observer = new PerformanceObserver(check);
  observer.observe({ entryTypes: ['gc'] });
  check();
  return () => {
    observer.disconnect();
    if (!growing) setFlagsFromString('--semi-space-growth-factor=2');
  };
}

/** V8's flags that size the young generation (node and V8 accept `_` for `-` in them). */
const YOUNG_GENERATION_FLAGS = [
  '--max-semi-space-size',
  '--min-semi-space-size',
  '--semi-space-growth-factor',
  '--scavenger-max-new-space-capacity-mb',
];

function setsYoungGeneration(nodeFlags: string): boolean {
  return nodeFlags
    .split(/\s+/)
    .map((t) => t.replaceAll('_', '-'))
    .some((t) => YOUNG_GENERATION_FLAGS.some((f) => t === f || t.startsWith(`${f}=`)));
}

export function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}
