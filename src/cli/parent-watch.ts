/**
 * A proxy started by a supervising parent stops when that parent is gone. Linux would kill a
 * child with its parent (PR_SET_PDEATHSIG), but Node has no way to ask for it, and npm makes
 * the case common: `npx traffic` and `npm start` run us under `sh -c`, and when npm is killed
 * the shell dies and leaves the proxy running, orphaned, holding its ports. So:
 *
 * - started with an IPC channel (`fork`, or `spawn` with 'ipc'): the channel closing is the
 *   parent's death, whatever killed it;
 * - started by npm (`npm_command` in the environment) or with `TRAFFIC_EXIT_WITH_PARENT=1`: the
 *   parent process id is checked every second, and a change (the process was re-parented to
 *   init or a subreaper) is the parent's death.
 *
 * Not otherwise: `nohup traffic run &` or a shell that starts the proxy and exits must leave it
 * running, and under init, systemd or a container runtime the parent never goes away.
 * `TRAFFIC_EXIT_WITH_PARENT=0` turns both off.
 */

export interface ParentWatchHost {
  readonly env: NodeJS.ProcessEnv;
  /**
   * The parent process id when the process started: read as early as possible, since a parent
   * that dies while the proxy is still starting must count too.
   */
  readonly initialPpid: number;
  /** The current parent process id (process.ppid reads it anew each time). */
  ppid(): number;
  /** process.channel: present when the parent opened an IPC channel. */
  readonly channel: { unref(): void } | undefined;
  onDisconnect(fn: () => void): void;
  setInterval(fn: () => void, ms: number): { unref(): void };
  clearInterval(handle: { unref(): void }): void;
}

export const PARENT_POLL_MS = 1000;

/** How the parent is watched, if at all. */
export function parentWatchMode(env: NodeJS.ProcessEnv, hasChannel: boolean): 'ipc' | 'ppid' | 'off' {
  const opt = env['TRAFFIC_EXIT_WITH_PARENT'];
  if (opt === '0' || opt === 'false') return 'off';
  if (hasChannel) return 'ipc';
  if (opt === '1' || opt === 'true' || (env['npm_command'] ?? '') !== '') return 'ppid';
  return 'off';
}

/**
 * Calls `gone` once when the parent is gone (see above); returns what stops the watch. Neither
 * the channel nor the timer keeps the process alive.
 */
export function watchParent(host: ParentWatchHost, gone: (why: string) => void): () => void {
  const mode = parentWatchMode(host.env, host.channel !== undefined);
  let fired = false;
  const fire = (why: string): void => {
    if (fired) return;
    fired = true;
    gone(why);
  };
  if (mode === 'ipc') {
    host.channel?.unref();
    host.onDisconnect(() => fire('parent process exited (IPC channel closed)'));
    return () => {};
  }
  const first = host.initialPpid;
  // Started by init (or a runtime that is PID 1): there is no parent to outlive.
  if (mode === 'off' || first <= 1) return () => {};
  const check = (): boolean => {
    const now = host.ppid();
    if (now === first) return false;
    fire(`parent process ${first} exited (now ${now})`);
    return true;
  };
  // A parent already gone is reported on the next tick, never from within this call: the caller's
  // `gone` may use what this call returns (main's shutdown stops the watch; called synchronously,
  // it met that binding before its initialisation and the process crashed instead of stopping).
  if (host.ppid() !== first) {
    queueMicrotask(() => check());
    return () => {};
  }
  const timer = host.setInterval(() => {
    if (check()) host.clearInterval(timer);
  }, PARENT_POLL_MS);
  timer.unref();
  return () => host.clearInterval(timer);
}

/** The real process; `initialPpid` is process.ppid read when the process started. */
export function processHost(initialPpid: number): ParentWatchHost {
  return {
    env: process.env,
    initialPpid,
    ppid: () => process.ppid,
    channel: process.channel,
    onDisconnect: (fn) => process.on('disconnect', fn),
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  };
}
