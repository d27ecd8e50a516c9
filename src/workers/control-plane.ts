/**
 * The control plane of a proxy run with `workers: N`: the primary process, which runs the
 * providers, the configuration watcher, ACME, the admin API and the active health checks once,
 * and N data-plane worker processes (node:cluster) that accept and proxy. It starts the workers,
 * hands them each configuration in two phases (every worker builds it, then every worker swaps
 * to it), forwards health verdicts, gathers their metrics for one `/metrics` answer, replaces a
 * worker that dies and drains them all at shutdown.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { DynamicConfig } from '../config/dynamic/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { Staple } from '../tls/ocsp/ocsp-stapler.ts';
import type { AcmeState, ChallengeChange } from './acme-mirror.ts';
import { HealthSource } from './health-hub.ts';
import { countersOnly, mergeExpositions, type WorkerExposition, workerFamilies } from './merge-metrics.ts';
import { type BridgeAddress, type FromWorker, type ToWorker, WORKER_SLOT_ENV } from './protocol.ts';

interface Slot {
  readonly slot: number;
  readonly worker: Worker;
  readonly startedAt: number;
  /** Its entry points are bound. */
  listening: boolean;
  /** The generation it serves (0 = none yet). */
  generation: number;
  /** Its counters and histograms as it last answered a scrape (countersOnly), '' before. */
  lastCounters: string;
}

interface Pending {
  readonly generation: number;
  /** Slots still building it. */
  readonly waiting: Set<number>;
  /** Slots that built it. */
  readonly prepared: Set<number>;
  errors: string[];
  /** A worker joining alone (started or replaced), not a reload of them all. */
  readonly join: boolean;
}

/** How long a scrape waits for the workers' answers; a worker that is late is counted as down. */
const METRICS_WAIT_MS = 2000;
/** How long an ACME challenge waits for the workers to have it before the CA is told to look. */
const CHALLENGE_WAIT_MS = 5000;
/** A worker that dies sooner than this after its start is restarted after a growing delay. */
const CRASH_LOOP_MS = 5000;

/**
 * The young generation a worker starts with (MB per semi-space). V8 grows it with the allocation
 * rate, and a worker sees 1/N of the proxy's: left alone, two workers on the HTTP/1.1 benchmark
 * kept semi-spaces about half the single process's and scavenged twice as often per request
 * (docs/performance.md, "Workers"). 4 MB is about what one process grows to under that load.
 */
const WORKER_MIN_SEMI_SPACE_MB = 4;

/** The node options of a worker: ours, plus its young-generation floor unless the operator set one. */
export function workerExecArgv(
  own: readonly string[],
  nodeOptions = process.env['NODE_OPTIONS'] ?? '',
): string[] {
  const set = [...own, ...nodeOptions.split(/\s+/)].some((a) =>
    /^--(min|max)[-_]semi[-_]space[-_]size/.test(a),
  );
  return set ? [...own] : [...own, `--min-semi-space-size=${WORKER_MIN_SEMI_SPACE_MB}`];
}

export interface ControlPlaneOptions {
  readonly workers: number;
  readonly logger: Logger;
  /** The metrics prefix of the per-worker families (`traffic`). */
  readonly metricsPrefix: string;
}

export class ControlPlane {
  readonly health: HealthSource;
  readonly #count: number;
  readonly #logger: Logger;
  readonly #prefix: string;
  readonly #slots = new Map<number, Slot>();
  readonly #pending = new Map<number, Pending>();
  readonly #metricsWaiters = new Map<number, (w: WorkerExposition | null) => void>();
  #bridge: BridgeAddress | null = null;
  /** Entry point → port, from the first worker to bind (it resolves `:0`). */
  #ports: Readonly<Record<string, number>> | null = null;
  #latest: { readonly generation: number; readonly config: DynamicConfig } | null = null;
  #stopping = false;
  #restarts = 0;
  #backoffMs = 100;
  #metricsId = 0;
  #acme: (() => AcmeState) | null = null;
  #ocsp: (() => Staple[]) | null = null;
  /** Every slot has served a configuration once (latched: a replacement later does not reset it). */
  #allServing = false;
  readonly #onAllServing: (() => void)[] = [];
  #challengeId = 0;
  /** Challenge id → the slots that have not confirmed it yet, and what to call when none is left. */
  readonly #challenges = new Map<number, { readonly waiting: Set<number>; readonly done: () => void }>();
  /**
   * The counters of the workers that exited, summed as they last answered a scrape: kept in
   * every later exposition, so a dead worker's requests do not vanish from the proxy's totals.
   */
  #retired = '';
  #onPorts: ((ports: Readonly<Record<string, number>>) => void) | null = null;
  #onFirstFailed: ((e: Error) => void) | null = null;
  /** Drawn once per start, as a single process draws its own (tls/session-tickets). */
  readonly #ticketSecret = randomBytes(32).toString('base64');

  constructor(opts: ControlPlaneOptions) {
    this.#count = opts.workers;
    this.#logger = opts.logger;
    this.#prefix = opts.metricsPrefix;
    this.health = new HealthSource((key, index, healthy) =>
      this.#broadcast({ t: 'health', key, index, healthy }),
    );
    // Structured clone: the configuration crosses as it is (undefined members, Maps).
    cluster.setupPrimary({ serialization: 'advanced', execArgv: workerExecArgv(process.execArgv) });
  }

  /**
   * Starts the workers: the first alone (it binds the entry points, `:0` included), then the
   * others on the ports it bound. Resolves with those ports once the first listens; rejects when
   * the first exits before it could bind (a port in use, a bad address): the single process
   * would have stopped there too, so the control plane does not fork it again and again.
   */
  start(bridge: BridgeAddress | null): Promise<Readonly<Record<string, number>>> {
    this.#bridge = bridge;
    return new Promise((resolve, reject) => {
      this.#onPorts = resolve;
      this.#onFirstFailed = reject;
      this.#fork(1);
    });
  }

  /** A configuration was applied here: every worker builds it, then all swap to it. */
  publish(generation: number, config: DynamicConfig): void {
    this.#latest = { generation, config };
    const targets = [...this.#slots.values()].filter((s) => s.listening);
    // Anything older still building is superseded: its workers swap to this one instead.
    for (const [g, p] of this.#pending) if (!p.join) this.#pending.delete(g);
    const pending: Pending = { generation, waiting: new Set(), prepared: new Set(), errors: [], join: false };
    this.#pending.set(generation, pending);
    for (const s of targets) this.#prepare(s, pending);
    this.#settle(pending);
  }

  /** One exposition: this process's `own` text and every worker's, summed, plus per-worker families. */
  async renderMetrics(own: string): Promise<string> {
    const slots = [...this.#slots.values()].filter((s) => s.listening);
    const answers = await Promise.all(slots.map((s) => this.#scrape(s)));
    const answered = answers.filter((a): a is WorkerExposition => a !== null);
    const texts = [own, this.#retired];
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      const a = answers[i];
      if (a !== null && a !== undefined) {
        s.lastCounters = countersOnly(a.text);
        texts.push(a.text);
      } else {
        // Late (busy, or dying): its counters as last seen, rather than a drop.
        texts.push(s.lastCounters);
      }
    }
    const merged = mergeExpositions(texts);
    const all = Array.from({ length: this.#count }, (_, i) => i + 1);
    return merged + workerFamilies(this.#prefix, all, answered, this.#restarts);
  }

  /**
   * Resolves once every worker serves a configuration: what must wait for the entry points to
   * answer (an ACME validation: the CA connects to them) waits for this.
   */
  whenServing(): Promise<void> {
    if (this.#allServing) return Promise.resolve();
    return new Promise((resolve) => this.#onAllServing.push(resolve));
  }

  #checkAllServing(): void {
    if (this.#allServing) return;
    for (let slot = 1; slot <= this.#count; slot++) {
      if ((this.#slots.get(slot)?.generation ?? 0) === 0) return;
    }
    this.#allServing = true;
    for (const fn of this.#onAllServing.splice(0)) fn();
  }

  /** Where each configuration's OCSP responses come from (the stapler fetches here). */
  ocspSource(staples: () => Staple[]): void {
    this.#ocsp = staples;
  }

  /** An OCSP response fetched here: every worker staples it from now on. */
  staple(staple: Staple): void {
    this.#broadcast({ t: 'ocsp', staple });
  }

  /** Where each configuration's ACME state comes from (the resolvers run here). */
  acmeSource(state: () => AcmeState): void {
    this.#acme = state;
  }

  /**
   * An ACME challenge presented or withdrawn here: every worker gets it. Resolves once each has
   * it in place (or has exited, or after CHALLENGE_WAIT_MS: the validation may still succeed on
   * the workers that have it, and the CA retries), never rejects.
   */
  challenge(change: ChallengeChange): Promise<void> {
    const id = ++this.#challengeId;
    const slots = [...this.#slots.values()];
    return new Promise((resolve) => {
      const waiting = new Set<number>();
      const timer = setTimeout(() => done(), CHALLENGE_WAIT_MS);
      const done = (): void => {
        clearTimeout(timer);
        this.#challenges.delete(id);
        resolve();
      };
      this.#challenges.set(id, { waiting, done });
      for (const s of slots) if (this.#send(s, { t: 'challenge', id, change })) waiting.add(s.slot);
      if (waiting.size === 0) done();
    });
  }

  #challenged(slot: number, id: number): void {
    const c = this.#challenges.get(id);
    if (c === undefined) return;
    c.waiting.delete(slot);
    if (c.waiting.size === 0) c.done();
  }

  /** SIGUSR1: every worker reopens its access log. */
  reopenLogs(): void {
    this.#broadcast({ t: 'reopen' });
  }

  /** Graceful shutdown: each worker drains (its entry points' graceTimeOut) and exits. */
  async stop(signal: string, graceMs: number): Promise<void> {
    this.#stopping = true;
    const exits = [...this.#slots.values()].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.worker.isDead()) return resolve();
          // A worker stuck past its grace period is killed: shutdown must end.
          const timer = setTimeout(() => s.worker.process.kill('SIGKILL'), graceMs + 5000);
          s.worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          this.#send(s, { t: 'shutdown', signal });
        }),
    );
    await Promise.all(exits);
  }

  #fork(slot: number): void {
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot) });
    const s: Slot = {
      slot,
      worker,
      startedAt: Date.now(),
      listening: false,
      generation: 0,
      lastCounters: '',
    };
    this.#slots.set(slot, s);
    worker.on('message', (m: FromWorker | { t: 'hello' }) => this.#message(s, m));
    worker.on('exit', (code, signal) => this.#exited(s, code, signal));
    // An IPC error (the worker died mid-send) is followed by its exit, which handles it.
    worker.on('error', () => {});
  }

  #message(s: Slot, m: FromWorker | { t: 'hello' }): void {
    switch (m.t) {
      case 'hello':
        this.#send(s, {
          t: 'init',
          ports: this.#ports ?? {},
          bridge: this.#bridge,
          ticketSecret: this.#ticketSecret,
        });
        return;
      case 'listening':
        this.#listening(s, m.ports);
        return;
      case 'prepared':
        this.#prepared(s, m.generation, m.error);
        return;
      case 'committed':
        if (s.generation === 0) {
          this.#logger.info('worker serving', {
            worker: s.slot,
            pid: s.worker.process.pid,
            generation: m.generation,
          });
        }
        s.generation = m.generation;
        this.#checkAllServing();
        return;
      case 'ejected':
        // Relayed to the others: the one that decided has ejected the server already.
        for (const o of this.#slots.values()) {
          if (o !== s) this.#send(o, { t: 'eject', key: m.key, index: m.index, ms: m.ms });
        }
        return;
      case 'challenged':
        this.#challenged(s.slot, m.id);
        return;
      case 'metrics':
        this.#metricsWaiters.get(m.id)?.({ slot: s.slot, pid: s.worker.process.pid ?? 0, text: m.text });
        return;
    }
  }

  #listening(s: Slot, ports: Readonly<Record<string, number>>): void {
    s.listening = true;
    if (this.#ports === null) {
      this.#ports = ports;
      this.#onPorts?.(ports);
      this.#onPorts = null;
      this.#onFirstFailed = null;
      for (let slot = 2; slot <= this.#count; slot++) this.#fork(slot);
    }
    const latest = this.#latest;
    if (latest === null) return;
    // A reload in progress for the latest configuration takes it in; else it joins alone.
    const current = this.#pending.get(latest.generation);
    if (current !== undefined && !current.join) this.#prepare(s, current);
    else {
      const pending: Pending = {
        generation: latest.generation,
        waiting: new Set(),
        prepared: new Set(),
        errors: [],
        join: true,
      };
      this.#pending.set(latest.generation + 0.5 + s.slot / 1e6, pending);
      this.#prepare(s, pending);
    }
  }

  #prepare(s: Slot, p: Pending): void {
    const latest = this.#latest;
    if (latest === null) return;
    p.waiting.add(s.slot);
    this.#send(s, {
      t: 'prepare',
      generation: p.generation,
      config: latest.config,
      health: this.health.table(),
      acme: this.#acme?.() ?? null,
      ocsp: this.#ocsp?.() ?? null,
    });
  }

  #prepared(s: Slot, generation: number, error: string | null): void {
    for (const p of this.#pending.values()) {
      if (p.generation !== generation || !p.waiting.has(s.slot)) continue;
      p.waiting.delete(s.slot);
      if (error === null) p.prepared.add(s.slot);
      else p.errors.push(`worker ${s.slot}: ${error}`);
      this.#settle(p);
    }
  }

  /** Every worker asked has answered: all swap, or (one could not build it) none does. */
  #settle(p: Pending): void {
    if (p.waiting.size > 0) return;
    for (const [k, v] of this.#pending) if (v === p) this.#pending.delete(k);
    if (p.errors.length > 0) {
      this.#logger.error('workers could not build the configuration: they keep the previous one', {
        generation: p.generation,
        errors: p.errors,
      });
      return;
    }
    for (const slot of p.prepared) {
      const s = this.#slots.get(slot);
      if (s !== undefined) this.#send(s, { t: 'commit', generation: p.generation });
    }
    if (!p.join) {
      this.#logger.info('workers applied configuration', {
        generation: p.generation,
        workers: p.prepared.size,
      });
    }
  }

  #exited(s: Slot, code: number | null, signal: string | null): void {
    if (this.#slots.get(s.slot) === s) this.#slots.delete(s.slot);
    // What it counted since its last scrape is lost with it; what Prometheus saw is kept.
    if (s.lastCounters !== '') this.#retired = mergeExpositions([this.#retired, s.lastCounters]);
    for (const p of [...this.#pending.values()]) {
      if (p.waiting.delete(s.slot)) this.#settle(p);
      p.prepared.delete(s.slot);
    }
    for (const id of [...this.#challenges.keys()]) this.#challenged(s.slot, id);
    if (this.#stopping) return;
    if (this.#onFirstFailed !== null) {
      this.#onFirstFailed(
        new Error(`the first worker exited (code ${code}, signal ${signal}) before it listened`),
      );
      this.#onFirstFailed = null;
      return;
    }
    this.#restarts++;
    const crashLoop = Date.now() - s.startedAt < CRASH_LOOP_MS;
    const delay = crashLoop ? this.#backoffMs : 0;
    this.#backoffMs = crashLoop ? Math.min(this.#backoffMs * 2, 10_000) : 100;
    this.#logger.warn('worker exited: replacing it', {
      worker: s.slot,
      pid: s.worker.process.pid,
      code,
      signal,
      ...(delay > 0 ? { delayMs: delay } : {}),
    });
    const timer = setTimeout(() => {
      if (!this.#stopping) this.#fork(s.slot);
    }, delay);
    timer.unref();
  }

  #scrape(s: Slot): Promise<WorkerExposition | null> {
    const id = ++this.#metricsId;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(null), METRICS_WAIT_MS);
      const done = (w: WorkerExposition | null): void => {
        clearTimeout(timer);
        this.#metricsWaiters.delete(id);
        resolve(w);
      };
      this.#metricsWaiters.set(id, done);
      if (!this.#send(s, { t: 'metrics', id })) done(null);
    });
  }

  #broadcast(m: ToWorker): void {
    for (const s of this.#slots.values()) this.#send(s, m);
  }

  #send(s: Slot, m: ToWorker): boolean {
    if (!s.worker.isConnected()) return false;
    try {
      s.worker.send(m);
      return true;
    } catch {
      return false;
    }
  }
}
