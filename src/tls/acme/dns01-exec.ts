/**
 * lego's `exec` DNS provider: the user's program publishes the record. It is run as
 * `<program> present <fqdn> <value>` and `<program> cleanup <fqdn> <value>` (lego's default
 * mode), directly and never through a shell, so a record name or value can never become shell
 * syntax. Exit status 0 is success; anything else fails the challenge with the end of the
 * program's stderr in the error, which is what an operator needs to see in the log.
 */
import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../../core/logger.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { type Scheduler, systemScheduler } from './scheduler.ts';

export interface ExecDnsProviderOptions {
  /** `EXEC_PATH`: a path, or a name looked up in PATH as execvp does. */
  readonly program: string;
  /** A run that takes longer is killed (with everything it started) and fails. */
  readonly timeoutMs: number;
  /** The program's environment (lego passes its own: the program may read its credentials there). */
  readonly env?: NodeJS.ProcessEnv;
  /** The program's output lines go to `debug`. */
  readonly logger?: Logger;
  readonly scheduler?: Scheduler;
}

/** How much of the program's stderr an error carries: enough for a few lines of explanation. */
const TAIL_BYTES = 1024;
/** After the kill, how long a descendant that left the process group may hold the pipes open. */
const PIPE_GRACE_MS = 1000;

export class ExecDnsProvider implements Dns01Provider {
  readonly #opts: ExecDnsProviderOptions;
  readonly #scheduler: Scheduler;

  constructor(opts: ExecDnsProviderOptions) {
    this.#opts = opts;
    this.#scheduler = opts.scheduler ?? systemScheduler;
  }

  present(fqdn: string, value: string): Promise<void> {
    return this.#run(['present', fqdn, value]);
  }

  cleanup(fqdn: string, value: string): Promise<void> {
    return this.#run(['cleanup', fqdn, value]);
  }

  #run(args: readonly string[]): Promise<void> {
    const { spawn } = process.getBuiltinModule('node:child_process');
    const { program, timeoutMs } = this.#opts;
    const what = `exec: ${program} ${args[0]} ${args[1]}`;
    return new Promise<void>((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(program, args, {
          stdio: ['ignore', 'pipe', 'pipe'],
          // Its own process group, so that a timeout kills the curl or sleep a script is
          // waiting for too, and those do not keep the pipes (and this run) open.
          detached: true,
          ...(this.#opts.env === undefined ? {} : { env: this.#opts.env }),
        });
      } catch (e) {
        reject(new Error(`${what}: cannot run it: ${(e as Error).message}`));
        return;
      }
      const stderr = new Tail();
      const stdout = new Tail();
      this.#forward(child, stdout, stderr);
      let settled = false;
      let timedOut = false;
      let grace: unknown;
      const settle = (err: Error | undefined): void => {
        if (settled) return;
        settled = true;
        this.#scheduler.clearTimeout(timer);
        if (grace !== undefined) this.#scheduler.clearTimeout(grace);
        if (err === undefined) resolve();
        else reject(err);
      };
      const timer = this.#scheduler.setTimeout(() => {
        timedOut = true;
        killGroup(child);
      }, timeoutMs);
      child.on('error', (e: NodeJS.ErrnoException) => {
        killGroup(child);
        settle(new Error(`${what}: cannot run it: ${e.code ?? e.message}`));
      });
      child.on('exit', () => {
        if (!timedOut) return;
        // Everything in the group is dead; 'close' follows once the pipes are drained, unless
        // a descendant moved to a session of its own and still holds them.
        grace = this.#scheduler.setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          settle(new Error(`${what}: no result within ${timeoutMs / 1000} s (killed)${stderr.suffix()}`));
        }, PIPE_GRACE_MS);
      });
      // 'close', not 'exit': by then every byte the program wrote has been read.
      child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
        if (timedOut) {
          settle(new Error(`${what}: no result within ${timeoutMs / 1000} s (killed)${stderr.suffix()}`));
        } else if (code === 0) {
          settle(undefined);
        } else {
          const how = code === null ? `was killed by ${signal}` : `exited with status ${code}`;
          // A program that reports on stdout only is still better quoted than not at all.
          const tail = stderr.suffix() || stdout.suffix();
          settle(new Error(`${what}: ${how}${tail}`));
        }
      });
    });
  }

  #forward(child: ChildProcess, stdout: Tail, stderr: Tail): void {
    const log = this.#opts.logger;
    const lines = (stream: 'stdout' | 'stderr', tail: Tail) => {
      let partial = '';
      return (chunk: Buffer): void => {
        tail.add(chunk);
        if (log === undefined || !log.enabled('debug')) return;
        const text = partial + chunk.toString('utf8');
        const parts = text.split('\n');
        partial = (parts.pop() ?? '').slice(-TAIL_BYTES);
        for (const line of parts) if (line !== '') log.debug('acme dns exec output', { stream, line });
      };
    };
    child.stdout?.on('data', lines('stdout', stdout));
    child.stderr?.on('data', lines('stderr', stderr));
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

/** The last TAIL_BYTES bytes of a stream, without keeping the rest. */
class Tail {
  #chunks: Buffer[] = [];
  #bytes = 0;

  add(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#chunks.length > 1 && this.#bytes - this.#chunks[0]!.length >= TAIL_BYTES) {
      this.#bytes -= this.#chunks.shift()!.length;
    }
  }

  /** `: <tail>` for an error message, '' when the stream said nothing. */
  suffix(): string {
    const all = Buffer.concat(this.#chunks);
    const text = all
      .subarray(Math.max(0, all.length - TAIL_BYTES))
      .toString('utf8')
      .trim();
    return text === '' ? '' : `: ${text}`;
  }
}
