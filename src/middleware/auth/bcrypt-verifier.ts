import { Worker } from 'node:worker_threads';

/** Told the outcome of one check: true/false, or null when the worker failed (answer 500). */
export interface BcryptWaiter {
  onBcrypt(ok: boolean | null): void;
}

interface Pending {
  readonly key: string;
  readonly waiters: BcryptWaiter[];
}

interface Reply {
  readonly id: number;
  readonly ok: boolean;
}

const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './bcrypt-worker.ts' : './bcrypt-worker.js',
  import.meta.url,
);

/**
 * Runs bcrypt checks on a worker thread, one at a time, in order. bcrypt is slow by design
 * (cost 10: ~50 ms native, ~100–300 ms in JS): on the main thread one check would stall every
 * other request. The worker starts on the first check and exits after `idleMs` without work.
 * Identical checks in flight (same credentials, same hash: `key`) share one run, as Traefik's
 * singleflight does. At most `maxPending` distinct checks wait: beyond that `verify` refuses, so
 * that a flood of guesses costs a bounded amount of memory and the caller answers 503.
 */
export class BcryptVerifier {
  readonly #maxPending: number;
  readonly #idleMs: number;
  #worker: Worker | null = null;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #byKey = new Map<string, number>();
  #idleTimer: NodeJS.Timeout | null = null;
  /** Checks run (not shared), for tests and metrics. */
  runs = 0;

  constructor(maxPending = 256, idleMs = 30_000) {
    this.#maxPending = maxPending;
    this.#idleMs = idleMs;
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** Queues a check; false when too many are waiting (the waiter is not called). */
  verify(key: string, password: string, hash: string, waiter: BcryptWaiter): boolean {
    const running = this.#byKey.get(key);
    if (running !== undefined) {
      this.#pending.get(running)!.waiters.push(waiter);
      return true;
    }
    if (this.#pending.size >= this.#maxPending) return false;
    const id = this.#nextId++;
    this.#pending.set(id, { key, waiters: [waiter] });
    this.#byKey.set(key, id);
    if (this.#idleTimer !== null) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = null;
    }
    this.runs++;
    this.#ensureWorker().postMessage({ id, password, hash });
    return true;
  }

  #ensureWorker(): Worker {
    if (this.#worker !== null) return this.#worker;
    const w = new Worker(WORKER_URL);
    // Never keeps the process alive by itself (shutdown does not wait for an idle worker).
    w.unref();
    w.on('message', (r: Reply) => this.#settle(r.id, r.ok));
    w.on('error', () => this.#failAll(w));
    w.on('exit', () => this.#failAll(w));
    this.#worker = w;
    return w;
  }

  #settle(id: number, ok: boolean | null): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    this.#byKey.delete(p.key);
    for (const w of p.waiters) w.onBcrypt(ok);
    if (this.#pending.size === 0 && this.#worker !== null && this.#idleTimer === null) {
      this.#idleTimer = setTimeout(() => this.close(), this.#idleMs);
      this.#idleTimer.unref();
    }
  }

  /** The worker died (or was closed): every check it had fails with null. */
  #failAll(w: Worker): void {
    if (this.#worker !== w) return;
    this.#worker = null;
    for (const id of [...this.#pending.keys()]) this.#settle(id, null);
  }

  /** Ends the worker; checks in flight fail with null. A later verify starts a new one. */
  close(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    const w = this.#worker;
    if (w === null) return;
    this.#failAll(w);
    void w.terminate();
  }
}
