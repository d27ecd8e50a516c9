/**
 * Active health checks of one load balancer's servers: one probe loop per server. The next probe
 * is scheduled when the previous one settles, so probes of one server never overlap (a slow
 * server is not hit by a pile of concurrent checks); its delay is the healthy or the unhealthy
 * interval according to the server's state at that moment.
 */
import type { Logger } from '../core/logger.ts';
import type { ActiveCheckOptions } from './active-options.ts';
import { HealthThresholds } from './active-threshold.ts';
import { type ProbeResult, type ProbeTarget, probe } from './probe.ts';

export interface MonitorTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ActiveMonitorDeps {
  readonly logger: Logger;
  /** Called on every up/down transition, after `thresholds` reflects it. */
  readonly onChange?: (index: number, healthy: boolean, reason: string) => void;
  readonly probe?: typeof probe;
  readonly timers?: MonitorTimers;
  /** [0, 1), for the initial offsets; Math.random by default. */
  readonly random?: () => number;
}

/** Health checks must never keep a draining process alive. */
const unrefTimers: MonitorTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class ActiveHealthMonitor {
  readonly thresholds: HealthThresholds;
  readonly #targets: readonly ProbeTarget[];
  readonly #opts: ActiveCheckOptions;
  readonly #logger: Logger;
  readonly #onChange: ((index: number, healthy: boolean, reason: string) => void) | undefined;
  readonly #probe: typeof probe;
  readonly #timers: MonitorTimers;
  readonly #random: () => number;
  /** Per server: the pending timer, or undefined while a probe runs (or when stopped). */
  readonly #pending: unknown[];
  /** Per server: the in-flight probe's controller. */
  readonly #inFlight: (AbortController | undefined)[];
  /** Bumped by start() and stop(): a probe settling under an older run is ignored. */
  #run = 0;
  #running = false;

  constructor(targets: readonly ProbeTarget[], opts: ActiveCheckOptions, deps: ActiveMonitorDeps) {
    this.#targets = targets;
    this.#opts = opts;
    this.#logger = deps.logger;
    this.#onChange = deps.onChange;
    this.#probe = deps.probe ?? probe;
    this.#timers = deps.timers ?? unrefTimers;
    this.#random = deps.random ?? Math.random;
    this.thresholds = new HealthThresholds(targets.length, opts.passes, opts.fails);
    this.#pending = new Array<unknown>(targets.length).fill(undefined);
    this.#inFlight = new Array<AbortController | undefined>(targets.length).fill(undefined);
  }

  /** Starts every server's loop; the first probes are spread over a tenth of the interval. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const run = ++this.#run;
    const spread = this.#opts.intervalMs / 10;
    for (let i = 0; i < this.#targets.length; i++) {
      this.#schedule(i, run, Math.floor(this.#random() * spread));
    }
  }

  /** Cancels timers and aborts in-flight probes; nothing is reported after this returns. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#run++;
    for (let i = 0; i < this.#targets.length; i++) {
      const handle = this.#pending[i];
      if (handle !== undefined) this.#timers.clearTimeout(handle);
      this.#pending[i] = undefined;
      const controller = this.#inFlight[i];
      this.#inFlight[i] = undefined;
      controller?.abort();
    }
  }

  #schedule(index: number, run: number, ms: number): void {
    this.#pending[index] = this.#timers.setTimeout(() => this.#fire(index, run), ms);
  }

  #fire(index: number, run: number): void {
    if (run !== this.#run) return;
    this.#pending[index] = undefined;
    const controller = new AbortController();
    this.#inFlight[index] = controller;
    // Each probe, before it is sent: what a test counts a server's probes against (which process
    // probes, and how many rounds ran), whatever the timing.
    if (this.#logger.enabled('debug')) {
      this.#logger.debug('health probe', { server: this.#targets[index]!.authority });
    }
    let result: Promise<ProbeResult>;
    try {
      result = this.#probe(this.#targets[index]!, this.#opts, controller.signal);
    } catch (e) {
      result = Promise.reject(e);
    }
    result.then(
      (r) => this.#settle(index, run, r.ok, r.reason),
      (e: unknown) =>
        this.#settle(index, run, false, `probe error: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  #settle(index: number, run: number, ok: boolean, reason: string): void {
    if (run !== this.#run) return;
    this.#inFlight[index] = undefined;
    const change = this.thresholds.report(index, ok);
    const server = this.#targets[index]!.authority;
    if (change === 'down') this.#logger.warn('server down', { server, reason });
    else if (change === 'up') this.#logger.info('server up', { server, reason });
    else if (!ok && this.#logger.enabled('debug'))
      this.#logger.debug('health probe failed', { server, reason });
    if (change !== undefined && this.#onChange !== undefined) {
      try {
        this.#onChange(index, change === 'up', reason);
      } catch (e) {
        this.#logger.error('health change listener failed', { server, error: e });
      }
      // The listener may have stopped (or restarted) the monitor.
      if (run !== this.#run) return;
    }
    const healthy = this.thresholds.isHealthy(index);
    this.#schedule(index, run, healthy ? this.#opts.intervalMs : this.#opts.unhealthyIntervalMs);
  }
}
