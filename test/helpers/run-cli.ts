/** Runs the `traffic` command as a child process to completion and reports what it printed. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { MAIN } from './proxy-process.ts';
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
}

export async function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [opts.script ?? MAIN, ...args], {
    cwd: opts.cwd,
    // Servers keep their listed order (see proxy-process.ts).
    env: { ...process.env, TM_SERVER_ORDER: 'listed', ...opts.env },
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
