/** Runs the `traffic` command as a child process to completion and reports what it printed. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { infoUnlessSet, MAIN, selfReading } from './proxy-process.ts';
import { within } from './wait.ts';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly cwd?: string;
  /** Added to (and overriding) this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** The entry script: src/main.ts (default) or bin/traffic.js. */
  readonly script?: string;
  readonly timeoutMs?: number;
  /**
   * A `--config` file with dynamic sections (`http:` …) and no file provider gets
   * `TRAFFIC_PROVIDERS_FILE_FILENAME` naming it, so that they are read (Traefik reads them only
   * through a provider), as startProxy does; false: run it as it is.
   */
  readonly selfRead?: boolean;
}

export async function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const at = args.indexOf('--config');
  const config = at === -1 ? undefined : args[at + 1];
  let extra: Record<string, string> = {};
  let text: string | undefined;
  let file: string | undefined;
  if (config !== undefined) {
    try {
      file = resolve(opts.cwd ?? process.cwd(), config);
      // A regular file only: a test's FIFO would block this read.
      if (statSync(file).isFile()) text = readFileSync(file, 'utf8');
    } catch {
      // Not a readable file: a test of that.
    }
    if (text !== undefined && file !== undefined && opts.selfRead !== false)
      extra = selfReading(text, file, false);
  }
  // `run` (the default command) with a `--config` file: at INFO unless something sets the level.
  const isRun = args[0] === undefined || args[0] === 'run' || args[0].startsWith('-');
  if (isRun && text !== undefined) extra = { ...extra, ...infoUnlessSet(text, file, args, opts.env) };
  const child = spawn(process.execPath, [opts.script ?? MAIN, ...args], {
    cwd: opts.cwd,
    // Servers keep their listed order (see proxy-process.ts).
    env: { ...process.env, TM_SERVER_ORDER: 'listed', ...extra, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  try {
    // 'close' (not 'exit'): every byte of stdout and stderr has been read by then.
    const [code, signal] = (await within(
      once(child, 'close'),
      `traffic ${args.join(' ')}`,
      opts.timeoutMs ?? 20_000,
    )) as [number | null, NodeJS.Signals | null];
    return { code, signal, stdout, stderr };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
}
