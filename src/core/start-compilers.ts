import { setFlagsFromString } from 'node:v8';

/**
 * V8's optimizing compilers (Maglev, TurboFan) held off while the proxy's ~400 modules load.
 *
 * Resolving and linking them calls Node's loader functions (`resolve`, `URL`, path
 * normalization) and zod's schema constructors often enough to get ~100 of them optimized
 * before the first request, and the first optimizing compilation touches most of the compilers'
 * code in the `node` binary: ~7 MB of file-backed pages that then stay resident in a proxy at
 * rest (docs/performance.md, "Memory at rest"). None of these functions is hot again once the
 * modules are loaded, so nothing is lost by interpreting them.
 *
 * `bin/traffic.js` (the `traffic` command) pauses before it imports `main`; `main()` resumes as its
 * first statement, before any configuration is read, so configurations are built and requests are
 * served with both compilers as before. The flags can only be changed from JavaScript once V8
 * runs (Node accepts neither in `NODE_OPTIONS`); Node's own start-up has then already run.
 * `node dist/main.js` directly does not pause: resuming is a no-op then.
 */

/** Set by `pause()`: `resume()` turns back on exactly what was turned off. */
let paused = false;

/**
 * Turns Maglev and TurboFan off, unless the command line or `NODE_OPTIONS` already says what V8
 * compiles (`--jitless`, `--no-maglev`, `--max-lazy`, …): the operator's choice is left alone,
 * and `resume()` would otherwise turn on a compiler they turned off.
 */
export function pauseOptimizingCompilers(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): boolean {
  if (paused) return true;
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  if (given.some((a) => COMPILER_FLAG.test(a))) return false;
  setFlagsFromString('--no-maglev');
  setFlagsFromString('--no-turbofan');
  paused = true;
  return true;
}

/** Turns them back on after `pauseOptimizingCompilers()`; nothing otherwise. */
export function resumeOptimizingCompilers(): void {
  if (!paused) return;
  paused = false;
  setFlagsFromString('--maglev');
  setFlagsFromString('--turbofan');
}

/** A V8 flag about what gets compiled and how (`--jitless`, `--[no-]maglev`, `--no-opt`, …). */
const COMPILER_FLAG = /^--(?:no-)?(?:jitless|maglev|turbofan|opt|sparkplug|max-lazy|lazy)(?:$|[-_=])/;
