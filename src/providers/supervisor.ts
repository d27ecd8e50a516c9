import type { Logger } from '../core/logger.ts';
import type { Provider, ProviderUpdate } from './provider.ts';
import { sleep } from './sleep.ts';
import type { ProviderPhase, ProviderStatus } from './status.ts';

export interface SupervisorOptions {
  readonly logger: Logger;
  /**
   * `providers.providersThrottleDuration`: after an update is passed on, the next one waits this
   * long, and only the newest of those that arrived meanwhile is passed on. 0 = none.
   */
  readonly throttleMs?: number;
  /** Traefik's job package (pkg/job/job.go over cenkalti/backoff): 0.5 s, ×1.5, capped at 60 s. */
  readonly initialIntervalMs?: number;
  readonly multiplier?: number;
  readonly maxIntervalMs?: number;
  /** A watch that ran at least this long before failing starts the backoff over (30 s). */
  readonly minJobIntervalMs?: number;
  /** Uniform in [0, 1) for the backoff's jitter. */
  readonly random?: () => number;
  /** Monotonic ms (throttle, job duration). */
  readonly now?: () => number;
  /** Epoch ms (status). */
  readonly wallNow?: () => number;
}

/**
 * Runs a provider under supervision, as Traefik's provider aggregator does with each provider:
 *
 * - a watch that throws (engine unreachable, stream broken, bad answer) is restarted after an
 *   exponential backoff with jitter, forever; nothing is passed on meanwhile, so the watcher
 *   keeps the provider's last good configuration;
 * - an update equal to the last one passed on is dropped (a restarted provider sends its full
 *   state again, usually unchanged);
 * - updates are throttled per provider (the first passes at once; within the throttle window only
 *   the newest survives);
 * - its state is kept for the admin API and the metrics.
 *
 * The supervised provider is itself a Provider: the watcher does not know the difference.
 */
export class SupervisedProvider implements Provider {
  readonly name: string;
  readonly #inner: Provider;
  readonly #opts: SupervisorOptions;
  readonly #now: () => number;
  readonly #wallNow: () => number;
  #phase: ProviderPhase = 'starting';
  #since: number;
  #updates = 0;
  #unchanged = 0;
  #failures = 0;
  /** Whether any run has given an update (what the failure log line says serves). */
  #produced = false;
  #lastError: string | null = null;
  #lastErrorAt = 0;
  #lastUpdateAt = 0;
  #retryAt = 0;
  #lastOutcome: ProviderStatus['lastOutcome'] = null;
  readonly #phaseListeners: ((s: ProviderStatus) => void)[] = [];

  constructor(inner: Provider, opts: SupervisorOptions) {
    this.name = inner.name;
    this.#inner = inner;
    this.#opts = opts;
    this.#now = opts.now ?? (() => performance.now());
    this.#wallNow = opts.wallNow ?? Date.now;
    this.#since = this.#wallNow();
  }

  /** As the provider it runs says (the API provider's writes are all or nothing). */
  get wholeUpdates(): boolean {
    return this.#inner.wholeUpdates === true;
  }

  /** The provider it runs (for the composition root: the API provider's own methods). */
  get inner(): Provider {
    return this.#inner;
  }

  get status(): ProviderStatus {
    return {
      name: this.name,
      phase: this.#phase,
      since: this.#since,
      updates: this.#updates,
      unchanged: this.#unchanged,
      failures: this.#failures,
      lastError: this.#lastError,
      lastErrorAt: this.#lastErrorAt,
      lastUpdateAt: this.#lastUpdateAt,
      retryAt: this.#retryAt,
      throttleMs: this.#opts.throttleMs ?? 0,
      lastOutcome: this.#lastOutcome,
    };
  }

  /** Called at each phase change (tests, and whoever shows the state as it changes). */
  onPhase(fn: (s: ProviderStatus) => void): void {
    this.#phaseListeners.push(fn);
  }

  /** The watcher applied or rejected this provider's update. */
  noteOutcome(applied: boolean, errors: number): void {
    this.#lastOutcome = { applied, errors, at: this.#wallNow() };
  }

  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
    return this.#run(signal);
  }

  async *#run(outer: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    // Ours, so that a consumer that stops iterating also stops the provider.
    const ctl = new AbortController();
    const abort = (): void => ctl.abort();
    outer.addEventListener('abort', abort, { once: true });
    const signal = ctl.signal;
    const box = new Mailbox<ProviderUpdate>();
    const producing = this.#produce(signal, box);
    const throttleMs = this.#opts.throttleMs ?? 0;
    let lastKey: string | undefined;
    let lastAt = Number.NEGATIVE_INFINITY;
    try {
      while (!signal.aborted) {
        if (!(await box.ready(signal))) break;
        const wait = lastAt + throttleMs - this.#now();
        if (wait > 0 && !(await sleep(wait, signal))) break;
        const update = box.take();
        if (update === undefined) continue;
        const key = fingerprint(update);
        if (key === lastKey) {
          this.#unchanged++;
          continue;
        }
        lastKey = key;
        lastAt = this.#now();
        this.#updates++;
        this.#lastUpdateAt = this.#wallNow();
        yield update;
      }
    } finally {
      outer.removeEventListener('abort', abort);
      ctl.abort();
      await producing;
      this.#setPhase('stopped');
    }
  }

  /** Runs the provider's watch, restarting it after failures; never rejects. */
  async #produce(signal: AbortSignal, box: Mailbox<ProviderUpdate>): Promise<void> {
    const o = this.#opts;
    let attempt = 0;
    while (!signal.aborted) {
      const started = this.#now();
      try {
        for await (const update of this.#inner.watch(signal)) {
          if (signal.aborted) return;
          if (this.#phase !== 'ready') this.#setPhase('ready');
          this.#produced = true;
          box.put(update);
        }
        if (signal.aborted) return;
        // Ended by itself (a provider that does not watch): its configuration stays.
        this.#setPhase('done');
        return;
      } catch (e) {
        if (signal.aborted) return;
        // Traefik's job backoff: a watch that ran long enough before failing starts over.
        if (this.#now() - started >= (o.minJobIntervalMs ?? 30_000)) attempt = 0;
        attempt++;
        const delay = jobBackoffMs(
          attempt,
          o.initialIntervalMs ?? 500,
          o.multiplier ?? 1.5,
          o.maxIntervalMs ?? 60_000,
          (o.random ?? Math.random)(),
        );
        this.#failures++;
        this.#lastError = e instanceof Error ? e.message : String(e);
        this.#lastErrorAt = this.#wallNow();
        this.#retryAt = this.#lastErrorAt + delay;
        this.#setPhase('down');
        // Traefik logs `Provider error, retrying in …` (the providers' backoff notify, e.g.
        // pkg/provider/kv/kv.go watchKv; `KV connection error, retrying in …` at start); ours says
        // what still serves: nothing when the provider never gave a
        // configuration (a wrong password or endpoint at start), where "its last configuration
        // keeps serving" would have a newcomer look for one.
        o.logger.error(this.#produced ? FAILED_SERVING : FAILED_BEFORE_FIRST, {
          provider: this.name,
          error: this.#lastError,
          retryInMs: Math.round(delay),
        });
        if (!(await sleep(delay, signal))) return;
        this.#retryAt = 0;
        this.#setPhase('starting');
      }
    }
  }

  #setPhase(phase: ProviderPhase): void {
    if (phase === this.#phase) return;
    if (phase === 'ready' && this.#phase === 'starting' && this.#failures > 0) {
      this.#opts.logger.info('provider recovered', { provider: this.name, failures: this.#failures });
    }
    this.#phase = phase;
    this.#since = this.#wallNow();
    const status = this.status;
    for (const fn of this.#phaseListeners) fn(status);
  }
}

/** The failure's log line once the provider has given a configuration. */
export const FAILED_SERVING = 'provider failed: its last configuration keeps serving';
/** The failure's log line before it has given any. */
export const FAILED_BEFORE_FIRST =
  'provider failed before giving any configuration: none of its routers serve yet';

/**
 * cenkalti/backoff's exponential interval for attempt `n` (1 = first retry): the initial interval
 * times the multiplier per earlier attempt, capped, then ±50 % jitter (randomization factor 0.5),
 * the result kept within the cap.
 */
function jobBackoffMs(n: number, initial: number, multiplier: number, max: number, random: number): number {
  const interval = Math.min(initial * multiplier ** (n - 1), max);
  return Math.min(interval * (0.5 + random), max);
}

/** What identifies an update's content (a function-valued `locate` is not content). */
function fingerprint(u: ProviderUpdate): string {
  return JSON.stringify([u.config ?? null, u.issues]);
}

/** One slot: a newer value replaces an unread one (only the newest configuration matters). */
class Mailbox<T> {
  #value: T | undefined;
  #has = false;
  #wake: (() => void) | undefined;

  put(v: T): void {
    this.#value = v;
    this.#has = true;
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** Resolves true once a value is there, false if `signal` aborts first. */
  async ready(signal: AbortSignal): Promise<boolean> {
    while (!this.#has) {
      if (signal.aborted) return false;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.#wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    return !signal.aborted;
  }

  take(): T | undefined {
    if (!this.#has) return undefined;
    const v = this.#value;
    this.#value = undefined;
    this.#has = false;
    return v;
  }
}
