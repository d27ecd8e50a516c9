import type { RouterObservability } from '../config/dynamic/entry-point-model.ts';

/**
 * Whether a route's requests are access-logged, counted and traced, when the static
 * configuration turns each on (`accessLog`, `metrics`, `tracing`). Decided once per route when
 * the snapshot is built, as Traefik's ObservabilityMgr decides once per router handler
 * (pkg/server/middleware/observability.go shouldAccessLog, shouldMeter, shouldTrace): the
 * request path reads a flag.
 */
export interface Observe {
  readonly logged: boolean;
  /** Every request series (entry point, router, service), retries and tunnels. */
  readonly metered: boolean;
  readonly traced: boolean;
}

/** `addInternals` of `accessLog`, `metrics` and `tracing`: the proxy's own routers are observed. */
export interface AddInternals {
  readonly accessLog: boolean;
  readonly metrics: boolean;
  readonly tracing: boolean;
}

export const OBSERVE_ALL: Observe = { logged: true, metered: true, traced: true };

/**
 * A router's flags: a key its `observability` (merged with its entry point's by the entry-point
 * model) sets to false turns the signal off; a router whose service is internal (`<name>@internal`)
 * is observed only with the signal's `addInternals`.
 */
export function observeOf(
  o: RouterObservability | undefined,
  internal: boolean,
  internals: AddInternals,
): Observe {
  const logged = (!internal || internals.accessLog) && o?.accessLogs !== false;
  const metered = (!internal || internals.metrics) && o?.metrics !== false;
  const traced = (!internal || internals.tracing) && o?.tracing !== false;
  return logged && metered && traced ? OBSERVE_ALL : { logged, metered, traced };
}
