/**
 * Event-driven waits for e2e tests: on the proxy's log lines, on counters that backends bump,
 * on socket events. Each wait has a deadline so that a missing event fails the test instead of
 * hanging it; the deadline is never what the test synchronises on.
 */
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import type { LogLine, ProxyProcess } from './proxy-process.ts';

export const DEFAULT_WAIT_MS = 10_000;

/** Rejects with `what` when `p` has not settled within `ms`. */
export function within<T>(p: Promise<T>, what: string, ms = DEFAULT_WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** The first log line written at or after index `from` (see `proxy.logs.length`) that satisfies `pred`. */
export function waitForLogFrom(
  proxy: ProxyProcess,
  from: number,
  pred: (l: LogLine) => boolean,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<LogLine> {
  return proxy.waitForLog((l) => pred(l) && proxy.logs.indexOf(l) >= from, timeoutMs);
}

/**
 * Waits, from log index `from`, through the configurations the proxy applies until `check`
 * holds (at most `tries` of them): a provider's change may take a throttled burst or two.
 */
export async function untilApplied(
  proxy: ProxyProcess,
  from: number,
  check: () => Promise<boolean>,
  timeoutMs = DEFAULT_WAIT_MS,
  tries = 6,
): Promise<void> {
  let at = from;
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    const l = await waitForLogFrom(proxy, at, (x: LogLine) => x.msg === 'configuration applied', timeoutMs);
    at = proxy.logs.indexOf(l) + 1;
  }
  if (!(await check())) throw new Error('the change was not applied');
}

/** Waits for "configuration applied" with exactly this generation. */
export function waitApplied(
  proxy: ProxyProcess,
  generation: number,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<LogLine> {
  return proxy.waitForLog((l) => l.msg === 'configuration applied' && l.generation === generation, timeoutMs);
}

/** The generation of the latest "configuration applied" line so far (0 when none). */
export function currentGeneration(proxy: ProxyProcess): number {
  let g = 0;
  for (const l of proxy.logs)
    if (l.msg === 'configuration applied' && typeof l.generation === 'number') g = l.generation;
  return g;
}

/** Every "configuration rejected" issue text logged at or after index `from`. */
export function rejectedIssues(proxy: ProxyProcess, from: number): string[] {
  return proxy.logs
    .slice(from)
    .filter((l) => l.msg === 'configuration rejected')
    .map((l) => String(l.issue));
}

/**
 * Every "configuration error" issue text logged at or after index `from`: errors of an update
 * that was applied anyway (each disabled its object, or names a file serving its last good text).
 */
export function errorIssues(proxy: ProxyProcess, from: number): string[] {
  return proxy.logs
    .slice(from)
    .filter((l) => l.msg === 'configuration error')
    .map((l) => String(l.issue));
}

/** A counter whose value can be awaited: backends bump it per request. */
export class Counter {
  #n = 0;
  readonly #waiters: { target: number; resolve: () => void }[] = [];

  get value(): number {
    return this.#n;
  }

  inc(): void {
    this.#n++;
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (this.#n >= w.target) {
        this.#waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** Resolves once the counter reaches `target`. */
  reach(target: number, what = `counter to reach ${target}`, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    if (this.#n >= target) return Promise.resolve();
    return within(new Promise<void>((resolve) => this.#waiters.push({ target, resolve })), what, timeoutMs);
  }

  /** Resolves after `times` more increments from now. */
  more(times = 1, what?: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.reach(this.#n + times, what, timeoutMs);
  }
}

/** A promise with its resolve function outside, for "answer when the test says so" backends. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/**
 * Resolves with the file's complete lines once it has at least `n` of them, re-reading on every
 * change the folder reports (the file may not exist yet).
 */
export function waitForFileLines(path: string, n: number, timeoutMs = DEFAULT_WAIT_MS): Promise<string[]> {
  const read = (): string[] => {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return [];
    }
    const lines = text.split('\n');
    lines.pop(); // the part after the last newline is not a complete line yet
    return lines;
  };
  let watcher: FSWatcher | undefined;
  const found = new Promise<string[]>((resolve, reject) => {
    const check = (): void => {
      const lines = read();
      if (lines.length >= n) resolve(lines);
    };
    try {
      watcher = watch(dirname(path), check);
    } catch (e) {
      reject(e);
      return;
    }
    check();
  });
  return within(found, `${n} lines in ${path}`, timeoutMs).finally(() => watcher?.close());
}
