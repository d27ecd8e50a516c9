/**
 * The admin internal services (`api@internal`, `dashboard@internal`, `ping@internal`,
 * `prometheus@internal`) as routes of the proxy, Traefik's model: the admin entry point is an
 * entry point like any other, whose own routers send the API's paths to `api@internal`; any
 * router of the configuration may name one of these services too, on any entry point.
 *
 * The admin server is node:http (JSON, bodies, the dashboard's files) while entry points run our
 * codec, so the services forward, like any load balancer, to the admin server listening on a
 * private loopback port (the "bridge"). What the admin server must know to decide access (the
 * client's address as the entry point saw it, which service the router named, whether the router
 * pins the Host) travels in one header that the route's last middleware sets, carrying a secret
 * made per process: a local process that finds the bridge port cannot pose as the proxy.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createPicker } from '../balancer/index.ts';
import type { DynamicConfig } from '../config/dynamic/schema.ts';
import { type InternalServiceName, isInternalServiceName } from '../config/internal-services.ts';
import type { ConfigIssue } from '../config/issues.ts';
import {
  enabledInternalServices,
  internalRouting,
  isDedicatedAdminEntryPoint,
} from '../config/static/admin-entry-points.ts';
import type { StaticConfig } from '../config/static/schema.ts';
import type { RequestHead } from '../core/request.ts';
import type { Middleware } from '../middleware/middleware.ts';
import { compileRule, type RouteEntry } from '../router/index.ts';
import type { ServerPool } from '../upstream/server-pool.ts';
import { internalRoute } from './internal-routes.ts';
import type { Observe } from './observe.ts';
import type { ResourceCache } from './resource-cache.ts';
import { LoadBalancerNode } from './service-nodes.ts';
import { NO_TIMEOUTS, type RouteTarget, type ServiceNode } from './types.ts';

/** The header the bridge reads; whatever a client sends under this name is replaced. */
export const INTERNAL_IDENTITY_HEADER = 'X-Traffic-Internal';

/** How a request reached an internal service, as the admin server learns it. */
export interface InternalOrigin {
  readonly service: InternalServiceName;
  /** The client's socket address at the entry point (never X-Forwarded-For). */
  readonly clientIp: string;
  /**
   * `entryPoint`: the proxy's own router on `api.entryPoint` (`ping.entryPoint`, …);
   * `router`: a router of the configuration names the service.
   */
  readonly via: 'entryPoint' | 'router';
  /** The router's rule can only match given Host names: the operator chose them. */
  readonly hostPinned: boolean;
}

/** `api.basePath` as the admin server and the own routes use it: no trailing `/`, '' for `/`. */
export function apiBasePath(basePath: string): string {
  return basePath.replace(/\/+$/, '');
}

/** A per-process secret for the identity header. */
export function newBridgeSecret(): string {
  return randomBytes(32).toString('base64url');
}

const VIA = { entryPoint: 'entrypoint', router: 'router' } as const;

/** `<secret> <service> <via>[+host] <clientIp>`: no field holds a space. */
function identityPrefix(
  secret: string,
  service: InternalServiceName,
  via: InternalOrigin['via'],
  pinned: boolean,
) {
  return `${secret} ${service} ${VIA[via]}${pinned ? '+host' : ''} `;
}

/**
 * The identity a bridged request carries, or undefined when the header is absent, malformed or
 * not signed with `secret` (compared in constant time).
 */
export function decodeIdentity(value: string | undefined, secret: string): InternalOrigin | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(' ');
  if (parts.length !== 4) return undefined;
  const [given, service, via, clientIp] = parts as [string, string, string, string];
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
  if (!isInternalServiceName(service)) return undefined;
  const pinned = via.endsWith('+host');
  const kind = pinned ? via.slice(0, -5) : via;
  if (kind !== VIA.entryPoint && kind !== VIA.router) return undefined;
  return {
    service,
    clientIp: clientIp === '-' ? '' : clientIp,
    via: kind === VIA.router ? 'router' : 'entryPoint',
    hostPinned: pinned,
  };
}

/** Sets the identity header; the last middleware of an internal route, after the user's ones. */
class IdentityMiddleware implements Middleware {
  readonly #prefix: string;
  constructor(prefix: string) {
    this.#prefix = prefix;
  }
  onRequest(req: RequestHead): undefined {
    req.headers.set(INTERNAL_IDENTITY_HEADER, this.#prefix + (req.clientIp === '' ? '-' : req.clientIp));
    return undefined;
  }
}

/** One of the proxy's own routers for an internal service. */
export interface InternalRoute {
  readonly service: InternalServiceName;
  readonly entryPoint: string;
  /** Only admin features there: `/` redirects to the dashboard too. */
  readonly dedicated: boolean;
  /** `api.basePath` without its trailing `/` ('' for `/`): the API's and dashboard's paths are under it. */
  readonly basePath?: string;
  /** `api.debug`: the API's router takes `/debug…` too (Traefik's `debug` router). */
  readonly debug?: boolean;
}

export interface InternalServicesOptions {
  /** Where the admin server's bridge listens (loopback). */
  readonly bridge: { readonly host: string; readonly port: number };
  readonly secret: string;
  /** The services routers may name (what the static configuration enables). */
  readonly enabled: ReadonlySet<InternalServiceName>;
  /** The proxy's own routers, per the static configuration. */
  readonly routes: readonly InternalRoute[];
}

/**
 * Priorities of the proxy's own routers (higher wins). Ping and metrics sit above an entry
 * point's redirection (MAX_SAFE_INTEGER - 1), as in Traefik (health checks and scrapes work on
 * a port that redirects to HTTPS); the API and dashboard below it, so that a redirecting entry
 * point never serves them in clear text.
 */
const PRIORITY: Record<InternalServiceName, number> = {
  ping: Number.MAX_SAFE_INTEGER,
  prometheus: Number.MAX_SAFE_INTEGER,
  // Traefik's MaxInt: above the API's `/api`, so `/api/providers` is the REST provider's.
  rest: Number.MAX_SAFE_INTEGER,
  api: Number.MAX_SAFE_INTEGER - 2,
  dashboard: Number.MAX_SAFE_INTEGER - 3,
};

/**
 * Only the paths each service answers: the rest of the entry point is routed as usual. Ping's and
 * Prometheus's are Traefik's `PathPrefix(\`/ping\`)` and `PathPrefix(\`/metrics\`)`
 * (pkg/provider/traefik/internal.go pingConfiguration, prometheusConfiguration): `/ping/live`
 * and `/metrics/` answer too.
 */
function ownRule(r: InternalRoute): string {
  const p = ownPath(r);
  switch (r.service) {
    case 'api':
    case 'dashboard':
      return `Path(\`${p}\`) || PathPrefix(\`${p}/\`)`;
    case 'ping':
      return 'PathPrefix(`/ping`)';
    case 'prometheus':
      return 'PathPrefix(`/metrics`)';
    case 'rest':
      return 'PathPrefix(`/api/providers`)';
  }
}

/** The own routers whose rule is a bare `PathPrefix` of their path. */
const PREFIX_RULE: ReadonlySet<InternalServiceName> = new Set(['ping', 'prometheus', 'rest']);

/** The path each own router takes (and everything under it). */
const OWN_PATH: Record<InternalServiceName, string> = {
  api: '/api',
  dashboard: '/dashboard',
  ping: '/ping',
  prometheus: '/metrics',
  rest: '/api/providers',
};

/** OWN_PATH under `api.basePath` for the API and the dashboard. */
function ownPath(r: InternalRoute): string {
  const own = OWN_PATH[r.service];
  return r.service === 'api' || r.service === 'dashboard' ? `${r.basePath ?? ''}${own}` : own;
}

const BRIDGE_POOL = {
  maxIdle: 16,
  maxConns: 0,
  // Below the bridge server's keep-alive timeout: the pool lets a socket go before the server does.
  idleTimeoutMs: 30_000,
  connectTimeoutMs: 5_000,
  // An API write answers once applied (within 10 s); the admin server bounds it itself.
  responseHeaderTimeoutMs: 0,
  maxResponseHeaderBytes: 64 * 1024,
} as const;

/** Built once per process; `serviceFor` and `routes` are called by each snapshot build. */
export class InternalServices {
  readonly #opts: InternalServicesOptions;

  constructor(opts: InternalServicesOptions) {
    this.#opts = opts;
  }

  get enabled(): ReadonlySet<InternalServiceName> {
    return this.#opts.enabled;
  }

  /**
   * For a router whose service is `<name>@internal`: the service and the middleware to put last
   * in its chain; undefined when `name` is not enabled (validation reported it).
   */
  serviceFor(
    name: string,
    rule: string,
    cache: ResourceCache,
    pools: Set<ServerPool>,
    /** The router's `ruleSyntax`. */
    syntax?: string,
  ): { node: ServiceNode; middleware: Middleware } | undefined {
    if (!isInternalServiceName(name) || !this.#opts.enabled.has(name)) return undefined;
    const c = compileRule(rule, undefined, syntax);
    const pinned = c.ok && c.hints.hosts.kind === 'hosts';
    return {
      node: this.#node(name, cache, pools),
      middleware: new IdentityMiddleware(identityPrefix(this.#opts.secret, name, 'router', pinned)),
    };
  }

  /** The proxy's own routers: each service's paths on its entry point, above the user's routers. */
  routes(
    cache: ResourceCache,
    pools: Set<ServerPool>,
    observeOn: (entryPoint: string) => Observe,
  ): RouteEntry<RouteTarget>[] {
    const out: RouteEntry<RouteTarget>[] = [];
    for (const r of this.#opts.routes) {
      const observe = observeOn(r.entryPoint);
      const mw = new IdentityMiddleware(identityPrefix(this.#opts.secret, r.service, 'entryPoint', false));
      const service = this.#node(r.service, cache, pools);
      const entry = (name: string, rule: string, priority: number): RouteEntry<RouteTarget> =>
        internalRoute(name, rule, priority, r.entryPoint, mw, observe, service);
      out.push(entry(`${r.service}@internal`, ownRule(r), PRIORITY[r.service]));
      // api.debug: Traefik's `debug` router (pkg/provider/traefik/internal.go apiConfiguration),
      // PathPrefix(`/debug`) to api@internal, here under api.basePath as the API's own paths.
      if (r.service === 'api' && r.debug === true)
        out.push(entry('debug@internal', `PathPrefix(\`${r.basePath ?? ''}/debug\`)`, PRIORITY.api));
      // `/` to the dashboard on an entry point that is there for it, below every router of the
      // configuration: one placed there for `/` keeps it.
      if (r.service === 'dashboard' && r.dedicated) {
        const base = r.basePath ?? '';
        const rule = base === '' ? 'Path(`/`)' : `Path(\`/\`) || Path(\`${base}\`) || Path(\`${base}/\`)`;
        out.push(entry('dashboard-redirect@internal', rule, Number.MIN_SAFE_INTEGER));
      }
    }
    return out;
  }

  /**
   * Routers that ask for a path the proxy's own router answers first on the same entry point
   * (`PathPrefix(\`/api\`)` on `api.entryPoint`): their requests there go to the internal
   * service. Warnings, so that such a router is not silently starved.
   */
  shadowedRouters(config: DynamicConfig, defaults: readonly string[] | undefined): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    for (const [name, r] of Object.entries(config.http.routers)) {
      const c = compileRule(r.rule, undefined, r.ruleSyntax);
      if (!c.ok || c.hints.paths.kind !== 'prefixes') continue;
      const eps = r.entryPoints ?? defaults;
      for (const own of this.#opts.routes) {
        // Undefined: a router without entryPoints is on every entry point.
        if (eps !== undefined && !eps.includes(own.entryPoint)) continue;
        const path = ownPath(own);
        // A bare PathPrefix (ping's) takes every path that starts with it, `/pingdom` too.
        const bare = PREFIX_RULE.has(own.service);
        const hit = c.hints.paths.prefixes.find((p) => p === path || p.startsWith(bare ? path : `${path}/`));
        if (hit === undefined) continue;
        issues.push({
          severity: 'warning',
          message: `the rule asks for \`${hit}\` on entry point \`${own.entryPoint}\`, where \`${own.service}@internal\` answers \`${path}\` first (the static configuration puts it there): those requests never reach this router`,
          path: ['http', 'routers', name, 'rule'],
        });
      }
    }
    return issues;
  }

  #node(name: InternalServiceName, cache: ResourceCache, pools: Set<ServerPool>): LoadBalancerNode {
    const { host, port } = this.#opts.bridge;
    const pool = cache.pool({ host, port, ...BRIDGE_POOL });
    pools.add(pool);
    const authority = `${host}:${port}`;
    const inFlight = new Int32Array(1);
    return new LoadBalancerNode({
      name: `${name}@internal`,
      servers: [{ url: `http://${authority}`, authority, pool, index: 0, tunnelIdleMs: 0, pathPrefix: '' }],
      picker: createPicker('wrr', [{ weight: 1 }], { inFlight }),
      inFlight,
      responseTimes: null,
      // The admin server checks the Host the client sent (DNS rebinding), not the bridge's.
      passHostHeader: true,
      timeouts: NO_TIMEOUTS,
      health: null,
      admission: null,
      sticky: null,
      hrw: null,
    });
  }
}

/**
 * The internal services of a static configuration, forwarding to `bridge`; undefined when it
 * enables none (no `api`, `ping`, `metrics.prometheus` nor `providers.rest`).
 */
export function internalServicesFor(
  config: StaticConfig,
  bridge: { readonly host: string; readonly port: number },
  secret: string,
): InternalServices | undefined {
  const routing = internalRouting(config);
  if (enabledInternalServices(config).size === 0) return undefined;
  return new InternalServices({
    bridge,
    secret,
    enabled: enabledInternalServices(config),
    routes: routing.map((r) => ({
      ...r,
      dedicated: isDedicatedAdminEntryPoint(config, r.entryPoint),
      ...(config.api === undefined
        ? {}
        : { basePath: apiBasePath(config.api.basePath), debug: config.api.debug }),
    })),
  });
}
