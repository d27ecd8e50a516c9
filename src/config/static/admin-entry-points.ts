import { type EntryPointModel, entryPointModelOf } from '../dynamic/entry-point-model.ts';
import type { InternalServiceName } from '../internal-services.ts';
import { defaultEntryPoint } from '../schema-defaults.ts';
import { parseAddress } from './address.ts';
import type { EntryPointConfig, StaticConfig } from './schema.ts';

/**
 * Traefik's name for the entry point of its own API, ping and metrics. Routers without
 * `entryPoints` are not attached to it (Traefik's default entry points are every entry point but
 * this one).
 */
export const INTERNAL_ENTRY_POINT = 'traefik';

/**
 * Where an admin entry point that is not declared under `entryPoints` listens. Traefik opens
 * `traefik` on `:8080` (every interface); ours stays on loopback.
 */
export const DEFAULT_ADMIN_ADDRESS = '127.0.0.1:8082';

/** Where the static configuration puts each enabled internal service by itself (its own router). */
export interface InternalRouting {
  readonly service: InternalServiceName;
  readonly entryPoint: string;
}

/**
 * The internal services the static configuration enables, each with the entry point its own
 * router serves it on: the API (and dashboard) on `api.entryPoint`, `/ping` on `ping.entryPoint`,
 * `/metrics` on `metrics.prometheus.entryPoint`, `/api/providers` on `traefik` with
 * `providers.rest.insecure`.
 */
export function internalRouting(config: StaticConfig): InternalRouting[] {
  const out: InternalRouting[] = [];
  if (config.api !== undefined) {
    out.push({ service: 'api', entryPoint: config.api.entryPoint });
    if (config.api.dashboard) out.push({ service: 'dashboard', entryPoint: config.api.entryPoint });
  }
  // manualRouting: no own router, and no entry point opened for it (Traefik's internal provider
  // and SetEffectiveConfiguration); the service stays for the configuration's routers.
  const ping = config.ping;
  if (ping !== undefined && !ping.manualRouting) out.push({ service: 'ping', entryPoint: ping.entryPoint });
  const prom = config.metrics?.prometheus;
  if (prom !== undefined && !prom.manualRouting)
    out.push({ service: 'prometheus', entryPoint: prom.entryPoint });
  // Traefik's restConfiguration (pkg/provider/traefik/internal.go): with `insecure`, its router
  // takes `/api/providers` on the `traefik` entry point.
  if (config.providers.rest?.insecure === true)
    out.push({ service: 'rest', entryPoint: INTERNAL_ENTRY_POINT });
  return out;
}

/** The names routers may give as `service: <name>@internal` (with manualRouting too). */
export function enabledInternalServices(config: StaticConfig): Set<InternalServiceName> {
  const out = new Set(internalRouting(config).map((r) => r.service));
  if (config.ping !== undefined) out.add('ping');
  if (config.metrics?.prometheus !== undefined) out.add('prometheus');
  if (config.providers.rest !== undefined) out.add('rest');
  return out;
}

/**
 * Every entry point the proxy listens on, in declaration order: the declared ones, then an admin
 * entry point that is named by `api`, `ping` or `metrics` but not declared, on
 * DEFAULT_ADMIN_ADDRESS with every default.
 */
export function listenedEntryPoints(config: StaticConfig): [string, EntryPointConfig][] {
  const out = Object.entries(config.entryPoints);
  for (const r of internalRouting(config)) {
    if (!out.some(([n]) => n === r.entryPoint))
      out.push([r.entryPoint, defaultEntryPoint(DEFAULT_ADMIN_ADDRESS)]);
  }
  return out;
}

/** Whether an entry point listens for UDP (`address: ":53/udp"`). */
export function isUdpEntryPoint(ep: { readonly address: string }): boolean {
  const a = parseAddress(ep.address);
  return !('error' in a) && a.udp === true;
}

/**
 * The entry points routers may be on by default: every declared entry point but `traefik` and
 * the UDP ones (Traefik's getDefaultsEntrypoints, cmd/traefik/traefik.go: `protocol != "udp"`).
 * An admin entry point of another name (`api.entryPoint: web`) keeps its routers: the API's own
 * paths are routed beside them.
 */
export function routableEntryPoints(config: StaticConfig): string[] {
  return Object.entries(config.entryPoints)
    .filter(([n, ep]) => n !== INTERNAL_ENTRY_POINT && !isUdpEntryPoint(ep))
    .map(([n]) => n);
}

/**
 * The entry points of an HTTP or TCP router without `entryPoints` (Traefik's
 * getDefaultsEntrypoints, cmd/traefik/traefik.go): when any entry point is marked `asDefault`,
 * the marked ones only, else every one; of those, not the UDP ones nor `traefik`. The HTTP
 * routers get them through the entry point model (applyEntryPointModel), the TCP routers and the
 * API's view of both through this list; sorted by name, as Traefik's (`slices.Sort`), so the API
 * shows them in its order. Empty when only a UDP or the `traefik` entry point is marked (or none
 * is routable): a router without `entryPoints` is then disabled, "no valid entryPoint for this
 * router", as Traefik's GetRoutersByEntryPoints.
 */
export function defaultEntryPoints(config: StaticConfig): string[] {
  const routable = routableEntryPoints(config);
  const marked = Object.values(config.entryPoints).some((ep) => ep.asDefault === true);
  return (marked ? routable.filter((n) => config.entryPoints[n]?.asDefault === true) : routable).sort();
}

/**
 * What the static entry points impose on routers: a router without `entryPoints` gets the
 * `asDefault` ones (else every default entry point, not `traefik`), and each entry point's
 * `http.middlewares`, `http.tls` and `observability` apply to its copy of the router
 * (dynamic/entry-point-model.ts).
 */
export function entryPointModelFor(config: StaticConfig): EntryPointModel {
  const routable = new Set(routableEntryPoints(config));
  const others = new Set(Object.keys(config.entryPoints).filter((n) => !routable.has(n)));
  return entryPointModelOf(
    config.entryPoints,
    others,
    config.core !== undefined,
    config.core?.defaultRuleSyntax,
  );
}

/**
 * Whether `name` is there for the admin features only, unless a router names it: `traefik`, or
 * an admin entry point that is not declared. `/` there redirects to the dashboard (below any
 * router of the configuration).
 */
export function isDedicatedAdminEntryPoint(config: StaticConfig, name: string): boolean {
  if (!internalRouting(config).some((r) => r.entryPoint === name)) return false;
  return name === INTERNAL_ENTRY_POINT || !Object.hasOwn(config.entryPoints, name);
}
