import type { DynamicConfig } from '../config/dynamic/schema.ts';
import type { StaticConfig } from '../config/static/schema.ts';

/**
 * The local limits of a configuration divided among `workers` data-plane processes, each of
 * which holds its own counters (processes share no memory): `inFlightReq.amount` and
 * `rateLimit.average`/`burst` become their share, so that the sum over the workers is the limit
 * the configuration names. Shares are rounded up (a worker never gets 0, which would refuse
 * everything): the whole admits at most `workers - 1` more than the configured figure.
 * A `rateLimit` with `redis` is global already (its buckets are in Redis) and is left alone.
 * The split is exact only when the kernel spreads a client's connections evenly over the
 * workers; docs/performance.md says when it does not.
 */
export function splitLocalLimits(config: DynamicConfig, workers: number): DynamicConfig {
  if (workers <= 1) return config;
  const mws = config.http.middlewares;
  let changed: Record<string, (typeof mws)[string]> | null = null;
  for (const [name, m] of Object.entries(mws)) {
    let next: (typeof mws)[string] | null = null;
    if (m.type === 'inFlightReq') {
      next = { ...m, config: { ...m.config, amount: share(m.config.amount, workers) } };
    } else if (m.type === 'rateLimit' && m.config.redis === undefined && m.config.average > 0) {
      next = {
        ...m,
        config: { ...m.config, average: m.config.average / workers, burst: share(m.config.burst, workers) },
      };
    }
    if (next === null) continue;
    changed ??= { ...mws };
    changed[name] = next;
  }
  return changed === null ? config : { ...config, http: { ...config.http, middlewares: changed } };
}

/**
 * The static caps a worker enforces alone, divided among `workers` as `splitLocalLimits` divides
 * the dynamic ones, so that the configured figure is the proxy's: each entry point's
 * `transport.maxConnections` and `maxConnectionsPerIP`, and `overload.maxRequestBodyBytes` (the
 * request-body memory all requests in flight may hold). 0 (no limit) stays 0. The same rounding
 * up (at most `workers - 1` connections more than configured) and the same caveat: a client
 * whose connections the kernel hashes unevenly meets its per-IP share sooner on one worker.
 * The overload manager's pressure signals (loop delay, heap ratio) are each process's own and are
 * not split.
 */
export function splitStaticLimits(config: StaticConfig, workers: number): StaticConfig {
  if (workers <= 1) return config;
  const entryPoints: Record<string, StaticConfig['entryPoints'][string]> = {};
  for (const [name, ep] of Object.entries(config.entryPoints)) {
    const t = ep.transport;
    entryPoints[name] = {
      ...ep,
      transport: {
        ...t,
        maxConnections: shareOrNone(t.maxConnections, workers),
        maxConnectionsPerIP: shareOrNone(t.maxConnectionsPerIP, workers),
      },
    };
  }
  const ov = config.overload;
  return {
    ...config,
    entryPoints,
    overload: { ...ov, maxRequestBodyBytes: shareOrNone(ov.maxRequestBodyBytes, workers) },
  };
}

function share(total: number, workers: number): number {
  return Math.max(1, Math.ceil(total / workers));
}

/** 0 is "no limit": it stays 0. */
function shareOrNone(total: number, workers: number): number {
  return total <= 0 ? 0 : share(total, workers);
}
