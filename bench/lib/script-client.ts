import { join } from 'node:path';
import type { ProcessSupervisor } from './process-group.ts';

/**
 * What a load generator of ours (a Node script under bench/lib, run as its own process) prints
 * as its last line: units completed, the run's length, latency, and failures by kind.
 */
export interface ScriptClientReport {
  completed: number;
  durationS: number;
  meanMs: number;
  maxMs: number;
  errors: Record<string, number>;
}

/** The last JSON line of the client's stdout, validated. */
export function parseScriptReport(out: string): ScriptClientReport {
  const line = out.trim().split('\n').at(-1) ?? '';
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new Error(`unrecognised client output:\n${out}`);
  }
  const r = raw as Partial<ScriptClientReport> | null;
  if (
    r === null ||
    typeof r !== 'object' ||
    ![r.completed, r.durationS, r.meanMs, r.maxMs].every((n) => typeof n === 'number') ||
    typeof r.errors !== 'object' ||
    r.errors === null ||
    !Object.values(r.errors).every((n) => typeof n === 'number')
  ) {
    throw new Error(`client report lacks its totals:\n${out}`);
  }
  return r as ScriptClientReport;
}

export interface ScriptRun {
  readonly cpu: string;
  readonly nodePath: string;
  readonly repoRoot: string;
  /** Relative to the repository: `bench/lib/ws-client.ts`. */
  readonly script: string;
  readonly args: readonly string[];
  readonly durationS: number;
}

/** Runs a client script pinned to `cpu` and returns its stdout (the report line). */
export async function runScriptClient(supervisor: ProcessSupervisor, run: ScriptRun): Promise<string> {
  const args = ['-c', String(run.cpu), run.nodePath, join(run.repoRoot, run.script), ...run.args];
  const client = supervisor.spawn('script-client', 'taskset', args, { output: { kind: 'capture' } });
  const watchdog = setTimeout(() => client.signalGroup('SIGKILL'), (run.durationS + 30) * 1000);
  try {
    const exit = await client.exited;
    if (exit.code !== 0) {
      throw new Error(
        `${run.script} failed (${exit.signal ?? `exit ${exit.code}`}): ${client.stderr.trim() || client.stdout}`,
      );
    }
    return client.stdout;
  } finally {
    clearTimeout(watchdog);
    await supervisor.stop(client, 1000);
  }
}
