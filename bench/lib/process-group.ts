import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export type Output = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'capture' };

export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly output: Output;
}

/**
 * A child started in its own process group (detached: setsid), so that stopping it also stops
 * everything it forked (nginx workers, shells), and a Ctrl-C on the terminal reaches only the
 * runner, which then stops the groups itself.
 */
export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  #exit: ExitInfo | undefined;
  #stdout = '';
  #stderr = '';

  constructor(name: string, child: ChildProcess) {
    if (child.pid === undefined) throw new Error(`${name}: spawn returned no pid`);
    this.name = name;
    this.pid = child.pid;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.#stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.#stderr += d;
    });
    // 'close', not 'exit': it comes after the pipes drained, so captured output is complete.
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#exit;
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** True while any process of the group exists (including the leader before it is reaped). */
  groupAlive(): boolean {
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}

/** Starts children and guarantees they are gone when the runner ends, however it ends. */
export class ProcessSupervisor {
  #live = new Set<ManagedProcess>();

  spawn(name: string, file: string, args: readonly string[], options: SpawnOptions): ManagedProcess {
    let fd: number | undefined;
    if (options.output.kind === 'file') fd = openSync(options.output.path, 'a');
    try {
      const child = spawn(file, args, {
        cwd: options.cwd,
        env: options.env ? { ...process.env, ...options.env } : process.env,
        detached: true,
        stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
      });
      // Without a listener a failed exec (ENOENT) would be an uncaught 'error' event; the exit
      // event still follows and carries the failure.
      child.on('error', () => {});
      if (child.pid === undefined) throw new Error(`${name}: cannot start ${file} (is it installed?)`);
      const managed = new ManagedProcess(name, child);
      this.#live.add(managed);
      return managed;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** SIGTERM to the group, then SIGKILL after `graceMs`; resolves once the group is gone (bounded). */
  async stop(p: ManagedProcess, graceMs = 5000): Promise<void> {
    p.signalGroup('SIGTERM');
    if (!(await this.#waitGone(p, graceMs))) {
      p.signalGroup('SIGKILL');
      await this.#waitGone(p, 3000);
    }
    this.#live.delete(p);
  }

  /** For process 'exit' handlers, where nothing asynchronous runs any more. */
  killAllSync(): void {
    for (const p of this.#live) p.signalGroup('SIGKILL');
    this.#live.clear();
  }

  async #waitGone(p: ManagedProcess, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (p.exitInfo !== undefined && !p.groupAlive()) return true;
      await sleep(25);
    }
    return p.exitInfo !== undefined && !p.groupAlive();
  }
}
