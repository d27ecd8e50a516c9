import type { HealthCheckConfig, PassiveHealthCheckConfig } from '../config/dynamic/schema.ts';
import { loadModule } from '../core/lazy-module.ts';
import type { Logger } from '../core/logger.ts';
import type { Ticker } from '../core/ticker.ts';
import {
  type ActiveCheckOptions,
  DEFAULT_HEALTH_CHECK_INTERVAL_MS,
  DEFAULT_HEALTH_CHECK_TIMEOUT_MS,
} from '../health/active-options.ts';
import { OutlierDetector } from '../health/outlier-detector.ts';
import type { ProbeTarget } from '../health/probe.ts';
import { SlowStart } from '../health/slow-start.ts';

type ActiveMonitorModule = typeof import('../health/active-monitor.ts');

/** The prober (HTTP, HTTP/2 and gRPC probes) is loaded by the first active health check built. */
export const activeMonitorModule = (): ActiveMonitorModule =>
  loadModule<ActiveMonitorModule>(import.meta.url, '../health/active-monitor.ts');

/** A server as its health checks see it: where a probe goes (ProbeTarget), and its URL. */
export interface HealthTarget extends ProbeTarget {
  readonly url: string;
}

export interface ServerHealthOptions {
  readonly service: string;
  readonly targets: readonly HealthTarget[];
  readonly active: HealthCheckConfig | undefined;
  readonly passive: PassiveHealthCheckConfig | undefined;
  readonly slowStartMs: number;
  /** Servers that are new in this generation (a reload added them): they start slow. */
  readonly fresh: ReadonlySet<number>;
  /**
   * With data-plane workers: where active checks run (the control plane probes and reports each
   * change; a worker mirrors those verdicts instead of probing), under this cache key.
   */
  readonly activeHub?: { readonly hub: ActiveHealthHub; readonly key: string };
}

/** What ServerHealth reads of an active monitor: the verdict per server. */
export interface ActiveMonitorLike {
  readonly thresholds: { readonly healthy: Uint8Array };
  start(): void;
  stop(): void;
}

/** Active health shared between processes (src/workers/health-hub.ts). */
export interface ActiveHealthHub {
  /** A monitor mirroring verdicts made elsewhere, or null to probe in this process. */
  monitor(
    key: string,
    count: number,
    onChange: (index: number, healthy: boolean) => void,
  ): ActiveMonitorLike | null;
  /** This process probes `key`: its verdicts (null when it stops). */
  track(key: string, thresholds: { readonly healthy: Uint8Array } | null): void;
  /** A verdict changed here. */
  changed(key: string, index: number, healthy: boolean): void;
  /**
   * Passive health shared between workers: this process ejected server `index` of `key` for
   * `ms`; the hub tells the others. Absent where nothing is shared (the control plane serves no
   * request).
   */
  ejected?(key: string, index: number, ms: number): void;
  /** Ejections decided elsewhere for `key` are applied with `apply`; returns the unsubscribe. */
  followEjections?(key: string, apply: (index: number, ms: number) => void): () => void;
}

/**
 * The health of one load balancer's servers: active probes, passive outlier detection and slow
 * start combined. Lives in the ResourceCache across reloads while the service's servers and
 * health settings stay the same, so a reload neither forgets a dead server nor restarts probes.
 *
 * `degraded` is the hot path's one check: while every server is up and none is ramping, the
 * picker runs without an acceptance test and nothing here is called per request.
 */
export class ServerHealth {
  readonly service: string;
  readonly targets: readonly HealthTarget[];
  /** Bound once: handed to pickers when some server is down. */
  readonly accept: (index: number) => boolean;
  /** Like `accept` without slow start's gate (the second chance when the gate refused all). */
  readonly acceptHealthy: (index: number) => boolean;
  readonly #ticker: Ticker;
  readonly #logger: Logger;
  readonly #monitor: ActiveMonitorLike | null;
  readonly #hub: { readonly hub: ActiveHealthHub; readonly key: string } | null;
  readonly #outlier: OutlierDetector | null;
  readonly #slow: SlowStart | null;
  readonly #passive: PassiveHealthCheckConfig | undefined;
  #activeDown = 0;
  #closed = false;
  /** An active health check (`healthCheck`): the service reports its status to a parent. */
  readonly active: boolean;
  /** Passive verdicts shared with the other workers through the hub, or null. */
  readonly #passiveHub: { readonly hub: ActiveHealthHub; readonly key: string } | null;
  #unfollow: (() => void) | null = null;
  /** Applying another worker's ejection: not reported back. */
  #applyingShared = false;

  constructor(opts: ServerHealthOptions, ticker: Ticker, logger: Logger) {
    this.service = opts.service;
    this.targets = opts.targets;
    this.#ticker = ticker;
    this.#logger = logger;
    this.#passive = opts.passive;
    this.active = opts.active !== undefined;
    const n = opts.targets.length;
    this.#slow = opts.slowStartMs > 0 ? new SlowStart(n, opts.slowStartMs) : null;
    for (const i of opts.fresh) this.#slow?.begin(i, ticker.now);
    const p = opts.passive;
    this.#outlier =
      p === undefined
        ? null
        : new OutlierDetector(
            n,
            {
              maxFailedAttempts: p.maxFailedAttempts,
              failureWindowMs: p.failureWindow,
              failureRatio: p.failureRatio,
              minRequests: p.minRequests,
              baseEjectionMs: p.ejectionTime ?? p.failureWindow,
              maxEjectionMs: p.maxEjectionTime,
              maxEjectionPercent: p.maxEjectionPercent,
            },
            (index, ejected, now, reason) => this.#onEjection(index, ejected, now, reason),
          );
    const hub = opts.activeHub ?? null;
    this.#hub = opts.active === undefined ? null : hub;
    this.#passiveHub = this.#outlier === null || hub?.hub.ejected === undefined ? null : hub;
    const onChange = (index: number, healthy: boolean) => this.#onActive(index, healthy);
    const mirror = opts.active === undefined || hub === null ? null : hub.hub.monitor(hub.key, n, onChange);
    this.#monitor =
      opts.active === undefined
        ? null
        : (mirror ??
          new (activeMonitorModule().ActiveHealthMonitor)(opts.targets, activeOptions(opts.active), {
            logger: logger.child({ service: opts.service }),
            onChange:
              hub === null
                ? onChange
                : (index, healthy) => {
                    onChange(index, healthy);
                    if (!this.#closed) hub.hub.changed(hub.key, index, healthy);
                  },
          }));
    this.accept = (i) => this.#usable(i, true);
    this.acceptHealthy = (i) => this.#usable(i, false);
  }

  #started = false;

  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    if (this.#monitor !== null) this.#hub?.hub.track(this.#hub.key, this.#monitor.thresholds);
    this.#monitor?.start();
    const ph = this.#passiveHub;
    const outlier = this.#outlier;
    if (ph !== null && outlier !== null) {
      this.#unfollow =
        ph.hub.followEjections?.(ph.key, (index, ms) => {
          this.#applyingShared = true;
          try {
            outlier.ejectFor(index, ms, this.#ticker.now);
          } finally {
            this.#applyingShared = false;
          }
        }) ?? null;
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#monitor !== null) this.#hub?.hub.track(this.#hub.key, null);
    this.#monitor?.stop();
    this.#unfollow?.();
    this.#unfollow = null;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True when some server is down, ejected or ramping: picks must consult `accept`. */
  get degraded(): boolean {
    return (
      this.#activeDown > 0 ||
      (this.#outlier !== null && this.#outlier.ejectedCount > 0) ||
      this.#slow?.ramping === true
    );
  }

  get rampingSlowly(): boolean {
    return this.#slow?.ramping === true;
  }

  /** Any server usable: what a weighted or failover parent asks of its children. */
  available(): boolean {
    if (!this.degraded) return this.targets.length > 0;
    for (let i = 0; i < this.targets.length; i++) if (this.#usable(i, false)) return true;
    return false;
  }

  isUp(index: number): boolean {
    return this.#usable(index, false);
  }

  /** True when passive checks want to hear about each try. */
  get recordsOutcomes(): boolean {
    return this.#outlier !== null;
  }

  /** Passive health: one try's outcome (status 0 = a network error or timeout). */
  record(index: number, status: number, headMs: number): void {
    const o = this.#outlier;
    if (o === null) return;
    const p = this.#passive!;
    let failed = status === 0;
    if (!failed) {
      const ranges = p.statusCodes;
      for (let i = 0; i < ranges.length; i++) {
        const r = ranges[i]!;
        if (status >= r.from && status <= r.to) {
          failed = true;
          break;
        }
      }
    }
    if (!failed && p.maxLatency > 0 && headMs > p.maxLatency) failed = true;
    o.record(index, failed, this.#ticker.now);
  }

  #usable(i: number, gate: boolean): boolean {
    if (this.#monitor !== null && this.#monitor.thresholds.healthy[i] === 0) return false;
    if (this.#outlier?.isEjected(i, this.#ticker.now)) return false;
    if (gate && this.#slow !== null) return this.#slow.admits(i, this.#ticker.now, Math.random());
    return true;
  }

  #onActive(index: number, healthy: boolean): void {
    if (this.#closed) return;
    this.#activeDown += healthy ? -1 : 1;
    if (healthy) this.#slow?.begin(index, this.#ticker.now);
  }

  #onEjection(index: number, ejected: boolean, now: number, reason: string): void {
    const server = this.targets[index]!.url;
    const ph = this.#passiveHub;
    if (ejected && ph !== null && !this.#applyingShared && !this.#closed) {
      // This worker decided: every other worker ejects the server for as long.
      ph.hub.ejected?.(ph.key, index, this.#outlier?.ejectedFor(index, now) ?? 0);
    }
    if (ejected) this.#logger.warn('server ejected', { service: this.service, server, reason });
    else {
      this.#logger.info('server returned after ejection', { service: this.service, server });
      this.#slow?.begin(index, now);
    }
  }
}

/**
 * The probe's options. A zero or negative interval or timeout loads and means Traefik's default
 * (pkg/healthcheck/healthcheck.go NewServiceHealthChecker): 30s, 5s; a non-positive
 * unhealthyInterval is 30s too, not `interval`.
 */
export function activeOptions(c: HealthCheckConfig): ActiveCheckOptions {
  const interval = c.interval > 0 ? c.interval : DEFAULT_HEALTH_CHECK_INTERVAL_MS;
  const unhealthy =
    c.unhealthyInterval === undefined
      ? interval
      : c.unhealthyInterval > 0
        ? c.unhealthyInterval
        : DEFAULT_HEALTH_CHECK_INTERVAL_MS;
  return {
    mode: c.mode,
    path: c.path ?? '',
    method: c.method,
    hostname: c.hostname,
    port: c.port,
    headers: Object.entries(c.headers),
    status: c.status ?? [],
    followRedirects: c.followRedirects,
    intervalMs: interval,
    unhealthyIntervalMs: unhealthy,
    timeoutMs: c.timeout > 0 ? c.timeout : DEFAULT_HEALTH_CHECK_TIMEOUT_MS,
    passes: c.passes,
    fails: c.fails,
  };
}
