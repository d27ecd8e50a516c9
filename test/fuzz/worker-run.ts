/**
 * Runs a fuzzer's worker process over case seeds and gathers what it reported, for the fuzz
 * tests whose cases run in a child (config-fuzz-worker.ts, snapshot-fuzz-worker.ts) so that a
 * hang is caught and killed. The worker's protocol, one JSON line per event on stdout: `{start:
 * seed, …}` before a case, `{done: seed, …}` after it, `{exception, stack}` or `{bad}` for a case
 * that failed, `{end: true}` once every case ran.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface WorkerReport {
  /** The `done` events, in order. */
  readonly done: readonly Record<string, unknown>[];
  readonly failures: string[];
}

/** `describe(start)`: how a failure names the case (the seed and what the worker said of it). */
export async function runFuzzWorker(
  worker: string,
  seeds: readonly number[],
  hangMs: number,
  describe: (start: Record<string, unknown>) => string,
): Promise<WorkerReport> {
  const child = spawn(process.execPath, [worker, ...seeds.map(String)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const failures: string[] = [];
  const done: Record<string, unknown>[] = [];
  let current = '';
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      failures.push(`hang: ${current} took more than ${hangMs} ms`);
      child.kill('SIGKILL');
    }, hangMs);
  };
  arm();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  for await (const line of createInterface({ input: child.stdout! })) {
    arm();
    const o = JSON.parse(line) as Record<string, unknown>;
    if ('start' in o) current = describe(o);
    else if ('done' in o) done.push(o);
    else if ('exception' in o) {
      const config = typeof o['config'] === 'string' ? `\n${o['config']}` : '';
      failures.push(`exception at ${current}: ${o['exception']}\n${o['stack']}${config}`);
    } else if ('bad' in o) {
      const config = typeof o['config'] === 'string' ? `\n${o['config']}` : '';
      failures.push(`bad result at ${current}: ${o['bad']}${config}`);
    } else if ('end' in o) ended = true;
  }
  clearTimeout(timer);
  const code = await exited;
  if (!ended && failures.length === 0)
    failures.push(`worker died at ${current} (exit ${code}): ${stderr.slice(-2000)}`);
  return { done, failures };
}
