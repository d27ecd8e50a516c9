import type { DynamicConfig } from '../config/dynamic/schema.ts';

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

function share(total: number, workers: number): number {
  return Math.max(1, Math.ceil(total / workers));
}
