import { isIP } from 'node:net';
import { createPicker, ResponseTimes, shuffledStart } from '../balancer/index.ts';
import { RendezvousHasher } from '../balancer/rendezvous.ts';
import { applyEntryPointModel, type EntryPointModel } from '../config/dynamic/entry-point-model.ts';
import {
  type KubernetesServiceRef,
  kubernetesObjectOf,
  kubernetesServiceOf,
} from '../config/dynamic/kubernetes-meta.ts';
import type {
  DynamicConfig,
  LoadBalancerConfig,
  MiddlewareConfig,
  RouterConfig,
  ServersTransportConfig,
  ServiceConfig,
  TimeoutsConfig,
} from '../config/dynamic/schema.ts';
import { serverUrlPath, unusableServerUrl } from '../config/dynamic/server-url.ts';
import { failoverFollowsMain, parentHealthCheckRefusal } from '../config/dynamic/service-references.ts';
import type { TcpServersTransportConfig } from '../config/dynamic/tcp.ts';
import type { ConfigIssue } from '../config/issues.ts';
import { schemaDefaults } from '../config/schema-defaults.ts';
import type { Logger } from '../core/logger.ts';
import { providerOf, qualify } from '../core/qualified-name.ts';
import type { ProbeTls } from '../health/probe.ts';
import { InFlightState } from '../middleware/in-flight-req.ts';
import { flattenMiddlewares } from '../middleware/index.ts';
import type {
  BufferingSpec,
  BuildContext,
  Middleware,
  MiddlewareError,
  PluginMiddlewares,
  RetryPolicy,
  ServerGuard,
} from '../middleware/middleware.ts';
import { middlewareFactory } from '../middleware/registry.ts';
import { retryPoint } from '../middleware/retry.ts';
import { MirrorComparator } from '../observability/mirror-compare.ts';
import { HttpRouter, type RouteEntry } from '../router/index.ts';
import type { H2PoolOptions } from '../upstream/h2-pool.ts';
import type { PoolOptions } from '../upstream/pool.ts';
import type { ServerPool } from '../upstream/server-pool.ts';
import { loadUpstreamTls, type UpstreamTls } from '../upstream/transport-tls.ts';
import { UnusablePool } from '../upstream/unusable-pool.ts';
import { buildTcpSnapshot, type HttpRouteSpot } from './build-dispatch.ts';
import { buildTcpRoutes, NO_ENTRY_POINT } from './build-tcp.ts';
import type { TlsBuildOptions } from './build-tls.ts';
import { buildUdp } from './build-udp.ts';
import {
  acmeHttp01Route,
  httpsEntryPoints,
  NO_SERVICE,
  NOOP_MIDDLEWARE,
  type Redirection,
  redirectionRoute,
} from './internal-routes.ts';
import type { InternalServices } from './internal-services.ts';
import {
  type AddInternals,
  middlewareSpanName,
  nameMiddlewareSpan,
  type Observe,
  observeOf,
} from './observe.ts';
import type { HealthKeyOwner } from './reached.ts';
import type { ResourceCache } from './resource-cache.ts';
import { routerTree } from './router-tree.ts';
import { type ActiveHealthHub, type HealthTarget, ServerHealth } from './server-health.ts';
import {
  BelowMiddlewaresNode,
  FailoverServiceNode,
  HighestRandomWeightNode,
  LoadBalancerNode,
  MirroringServiceNode,
  PercentMirror,
  ServiceMiddlewareNode,
  StatusNode,
  WeightedNode,
} from './service-nodes.ts';
import { StickyCookie } from './sticky.ts';
import {
  type BufferingGate,
  type ChildRoutes,
  type DetailedSpan,
  type ErrorPage,
  NO_TIMEOUTS,
  PARENT_SERVICE,
  type RouteTarget,
  type RuntimeSnapshot,
  type ServerRuntime,
  type ServiceNode,
  type Timeouts,
} from './types.ts';

export interface BuildResult {
  readonly snapshot: RuntimeSnapshot;
  readonly issues: readonly ConfigIssue[];
  /** Pools the snapshot uses; the cache closes the others after the swap. */
  readonly pools: ReadonlySet<ServerPool>;
  /** Keys of the shared objects (health, limits, breakers) the snapshot uses. */
  readonly sharedKeys: ReadonlySet<string>;
  /**
   * Of those, the health checks, with their service: those of services no router reaches are
   * not kept (runtime/reached.ts withoutUnreachedHealth), as Traefik builds no other.
   */
  readonly healthKeys: ReadonlyMap<string, HealthKeyOwner>;
  readonly counts: { routers: number; services: number; middlewares: number };
}

const MAX_RESPONSE_HEADER_BYTES = 64 * 1024;

/**
 * A transport's maxIdleConnsPerHost as Go's http.Transport reads it (Traefik's
 * pkg/server/service/transport.go createRoundTripper hands it over as is): 0 = the default,
 * negative = no idle connection kept.
 */
function idleConnsPerHost(configured: number): number {
  if (configured > 0) return configured;
  return configured < 0 ? 0 : schemaDefaults().serversTransport.maxIdleConnsPerHost;
}
/** Traefik's default `forwardingTimeouts.pingTimeout`. */
const DEFAULT_PING_TIMEOUT_MS = 15_000;

/** What the static configuration adds to every build. */
export interface BuildOptions {
  /** TLS entry points and certificates; absent = no TLS anywhere. */
  readonly tls?: TlsBuildOptions;
  /** Entry point → where `http.redirections.entryPoint` sends its requests. */
  readonly redirections?: ReadonlyMap<string, Redirection>;
  /** ACME http-01: the entry points that answer challenges, and the answers. */
  readonly acmeHttp01?: {
    readonly entryPoints: readonly string[];
    /** The entry points with `allowACMEByPass`: the configuration's routers come first there. */
    readonly bypass?: ReadonlySet<string>;
    lookup(path: string): string | undefined;
  };
  /**
   * The entry points of a router without `entryPoints` (Traefik's default entry points: all but
   * `traefik`). Absent = every entry point.
   */
  readonly defaultEntryPoints?: readonly string[];
  /** `api@internal` and the other admin services: the proxy's own routers, and those routers may name. */
  readonly internal?: InternalServices;
  /** Default entry points and entry point middlewares (static `asDefault`, `http.middlewares`). */
  readonly entryPointModel?: EntryPointModel;
  /**
   * Router → the entry points whose `<ep>-<router>` copy a core.strictTLSOptions conflict
   * disabled (build-per-object.ts): those copies are not made, the others keep their names.
   */
  readonly droppedCopies?: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * `addInternals` of the access log, metrics and tracing: whether the proxy's own routers (and
   * routers to an `@internal` service) are observed. Absent = none is (Traefik's default).
   */
  readonly addInternals?: AddInternals;
  /** The static `serversTransport`: for services that name no transport of their own. */
  readonly defaultTransport?: ServersTransportConfig;
  /** The static `tcpServersTransport`: for TCP services that name no transport of their own. */
  readonly defaultTcpTransport?: TcpServersTransportConfig;
  /** The UDP entry points (`address: ":53/udp"`): UDP routers without entryPoints serve them all. */
  readonly udpEntryPoints?: readonly string[];
  /** Makes `plugin` middlewares from the local plugins (static `experimental.localPlugins`). */
  readonly plugins?: PluginMiddlewares;
  /** With data-plane workers: active health checks run in the control plane only (src/workers). */
  readonly activeHealth?: ActiveHealthHub;
  /**
   * The static `providers.precedence` (Traefik v3.7): of two HTTP (or TCP) routers with the
   * same priority, the one whose provider comes first is tried first. Absent = by name only.
   */
  readonly providersPrecedence?: readonly string[];
  /**
   * Static `hostResolver.cnameFlattening`: `Host` matchers also match the flattened name the
   * entry point resolved (proxy/cname-flattening.ts), and no route is filed under its hosts.
   */
  readonly cnameFlattening?: boolean;
}

/** Traefik's default: the proxy's own routers are neither logged, counted nor traced. */
const NO_INTERNALS: AddInternals = { accessLog: false, metrics: false, tracing: false };

/**
 * Turns a merged, schema-valid dynamic configuration (names already qualified `name@provider`)
 * into an immutable runtime snapshot: rules compiled, pickers built, middleware chains
 * instantiated, pools taken from the cache. Semantic problems come back as issues; the caller
 * decides whether to swap (a file provider's config with errors is rejected whole).
 */
export function buildSnapshot(
  config: DynamicConfig,
  generation: number,
  cache: ResourceCache,
  logger: Logger,
  opts: BuildOptions = {},
): BuildResult {
  const issues: ConfigIssue[] = [];
  const pools = new Set<ServerPool>();
  if (opts.entryPointModel !== undefined)
    config = applyEntryPointModel(config, opts.entryPointModel, opts.droppedCopies);
  const http = config.http;
  const internals = opts.addInternals ?? NO_INTERNALS;
  // A service without a serversTransport gets the schema's defaults, as an empty one would.
  const defaultTransport = opts.defaultTransport ?? schemaDefaults().serversTransport;
  const err = (path: (string | number)[], message: string) =>
    issues.push({ severity: 'error', message, path });

  // --- services (built on first use, so that parents find their children)
  const sharedKeys = new Set<string>();
  const healthKeys = new Map<string, HealthKeyOwner>();
  const shared = <T extends object>(key: string, create: () => T): T => {
    sharedKeys.add(key);
    return cache.shared(key, create);
  };
  const services = new Map<string, ServiceNode | null>();
  const buildingServices = new Set<string>();
  // Service middlewares (Traefik v3.7): a step node per service or reference that has some, its
  // chain built once the middlewares are (below); `stepped` holds every node whose tree has one.
  const stepChains = new Map<ServiceMiddlewareNode, readonly Middleware[]>();
  const pendingSteps: {
    step: ServiceMiddlewareNode;
    names: readonly string[];
    provider: string;
    path: (string | number)[];
    use: string;
  }[] = [];
  const stepped = new Set<ServiceNode>();
  /**
   * The mirrors whose tree has service middlewares, with where they are written: their copies
   * run them (MirrorState), which takes only the request phase; checked once the chains are.
   */
  const mirrorSteps: { node: ServiceNode; path: (string | number)[] }[] = [];
  /** Per node with steps below it, those steps (for the mirrors' check). */
  const stepsUnder = new Map<ServiceNode, readonly ServiceMiddlewareNode[]>();
  const under = (kids: readonly (ServiceNode | null)[]): ServiceMiddlewareNode[] => {
    const out: ServiceMiddlewareNode[] = [];
    for (const k of kids)
      if (k !== null) for (const s of stepsUnder.get(k) ?? []) if (!out.includes(s)) out.push(s);
    return out;
  };
  const withMiddlewares = (
    node: ServiceNode,
    names: readonly string[] | undefined,
    provider: string,
    path: (string | number)[],
    use: string,
  ): ServiceNode => {
    if (names === undefined || names.length === 0) return node;
    // Traefik's wrapMiddlewares: names are qualified with the provider of the service that
    // lists them (its BuildMiddlewareChain runs in that service's context).
    const step = new ServiceMiddlewareNode(
      node,
      (route, st) => targetAfterStep(route, st, stepChains.get(st) ?? [], services, stepped.has(st.inner)),
      (st) => stepChains.get(st) ?? [],
    );
    pendingSteps.push({ step, names, provider, path, use });
    stepped.add(step);
    stepsUnder.set(step, [step, ...(stepsUnder.get(node) ?? [])]);
    return step;
  };
  /**
   * A parent's `healthCheck` over its children (built first, as Traefik's getWRRServiceHandler
   * builds each child before registering with it): false, with Traefik's error, when a child
   * cannot report its health. Validation refused it already within a provider; this finds it
   * across providers.
   */
  const healthCheckTaken = (qualified: string, svc: ServiceConfig): boolean => {
    const provider = providerOf(qualified);
    const refused = parentHealthCheckRefusal(qualified, svc, (n) => http.services[qualify(n, provider)]);
    if (refused === undefined) return true;
    err(['http', 'services', qualified, ...refused.path], refused.message);
    return false;
  };
  const buildServiceNode = (qualified: string): ServiceNode | null => {
    const done = services.get(qualified);
    if (done !== undefined) return done;
    const svc = http.services[qualified];
    // Unknown and cyclic references were reported by validation; here they only disable.
    if (svc === undefined || buildingServices.has(qualified)) return null;
    buildingServices.add(qualified);
    const provider = providerOf(qualified);
    const child = (n: string) => buildServiceNode(qualify(n, provider));
    /** A reference to a child with its own middlewares, if it lists some (Traefik v3.7). */
    const childWith = (n: string, names: readonly string[] | undefined, key: (string | number)[]) => {
      const k = child(n);
      return k === null
        ? null
        : withMiddlewares(
            k,
            names,
            provider,
            ['http', 'services', qualified, ...key],
            `service:${qualified}/${key.join('.')}`,
          );
    };
    let node: ServiceNode | null = null;
    /** Some service middlewares are below it (`stepped`). */
    let hasStep = false;
    /** The children a request through it may take (for `stepsUnder`). */
    let kidsOf: readonly (ServiceNode | null)[] = [];
    switch (svc.kind) {
      case 'loadBalancer':
        node = buildLoadBalancer(
          qualified,
          svc.loadBalancer,
          http.serversTransports,
          defaultTransport,
          cache,
          pools,
          shared,
          logger,
          err,
          opts.activeHealth,
          kubernetesServiceOf(svc) ?? null,
          healthKeys,
        );
        break;
      case 'weighted': {
        // A child with `status` is no service: it answers that status (Traefik's WRRService.Status).
        const kids = svc.weighted.services.map((s, i) => {
          const k =
            s.status === undefined
              ? child(s.name)
              : new StatusNode(qualify(s.name, provider), { status: s.status });
          return k === null
            ? null
            : withMiddlewares(
                k,
                s.middlewares,
                provider,
                ['http', 'services', qualified, 'weighted', 'services', i, 'middlewares'],
                `service:${qualified}/weighted.services.${i}`,
              );
        });
        if (kids.every((k) => k !== null) && healthCheckTaken(qualified, svc)) {
          hasStep = kids.some((k) => stepped.has(k!));
          kidsOf = kids;
          // Only with a cookie (Traefik's wrr.New: `sticky.Cookie != nil`).
          const cookie = svc.weighted.sticky?.cookie;
          const sticky =
            cookie !== undefined
              ? new StickyCookie(
                  cookie,
                  qualified,
                  // The children's names as configured, as Traefik hashes them (wrr.go's Add).
                  svc.weighted.services.map((s) => s.name),
                )
              : null;
          const headers = svc.weighted.services.map((s) =>
            s.headers === undefined ? null : Object.entries(s.headers),
          );
          node = new WeightedNode(
            qualified,
            kids as ServiceNode[],
            svc.weighted.services.map((s) => s.weight),
            sticky,
            headers.some((h) => h !== null) ? headers : null,
            svc.weighted.healthCheck !== undefined,
          );
        }
        break;
      }
      case 'highestRandomWeight': {
        const kids = svc.highestRandomWeight.services.map((s, i) =>
          childWith(s.name, s.middlewares, ['highestRandomWeight', 'services', i, 'middlewares']),
        );
        if (kids.every((k) => k !== null) && healthCheckTaken(qualified, svc)) {
          hasStep = kids.some((k) => stepped.has(k!));
          kidsOf = kids;
          node = new HighestRandomWeightNode(
            qualified,
            kids as ServiceNode[],
            svc.highestRandomWeight.services.map((s) => s.weight),
            svc.highestRandomWeight.healthCheck !== undefined,
          );
        }
        break;
      }
      case 'failover': {
        const f = svc.failover;
        const main = childWith(f.service, f.middlewares, ['failover', 'middlewares']);
        const fallback = childWith(f.fallback, f.fallbackMiddlewares, ['failover', 'fallbackMiddlewares']);
        // Traefik v3.7's `errors` without `status` fails nothing over (failover.go New: the
        // ranges are set only when some are listed) and reads no body.
        const errorStatus = f.errors?.status ?? [];
        const statusCodes = errorStatus.length > 0 ? errorStatus : (f.statusCodes ?? []);
        // A fallback with service middlewares taken on a status: the exchange runs them then
        // (ExchangeCore.enterFallbackStep), above them only the middlewares above the failover.
        // Traefik's getFailoverServiceHandler: refused when the main service (or, with
        // `healthCheck`, the fallback) cannot report its health, unless `errors.status` is set.
        if (main !== null && fallback !== null && healthCheckTaken(qualified, svc)) {
          hasStep = stepped.has(main) || stepped.has(fallback);
          kidsOf = [main, fallback];
          const provider = providerOf(qualified);
          node = new FailoverServiceNode(
            qualified,
            main,
            fallback,
            statusCodes,
            errorStatus.length > 0 ? { maxRequestBodyBytes: f.errors!.maxRequestBodyBytes } : null,
            failoverFollowsMain(svc, (n) => http.services[qualify(n, provider)]),
            f.healthCheck !== undefined,
          );
        }
        break;
      }
      case 'mirroring': {
        const m = svc.mirroring;
        const main = childWith(m.service, m.middlewares, ['mirroring', 'middlewares']);
        // Traefik v3.7 (pkg/server/service/service.go getMirrorServiceHandler): a mirror is its
        // service's handler (its own middlewares included) wrapped in the entry's `middlewares`;
        // the copies run them (MirrorState).
        const mirrors = m.mirrors.map((x, i) => {
          const node = childWith(x.name, x.middlewares, ['mirroring', 'mirrors', i, 'middlewares']);
          if (node !== null && stepped.has(node))
            mirrorSteps.push({ node, path: ['http', 'services', qualified, 'mirroring', 'mirrors', i] });
          return { node, percent: x.percent };
        });
        if (main !== null && mirrors.every((x) => x.node !== null)) {
          hasStep = stepped.has(main);
          kidsOf = [main];
          const names = mirrors.map((x) => x.node!.name);
          const compareHeaders = (m.compare?.headers ?? []).map((h) => h.toLowerCase());
          const comparator =
            m.compare === undefined
              ? null
              : new MirrorComparator(
                  qualified,
                  names,
                  { headers: compareHeaders, body: m.compare.body, maxExamples: m.compare.maxExamples },
                  logger,
                );
          node = new MirroringServiceNode(
            qualified,
            main,
            mirrors.map((x) => new PercentMirror(x.node!, x.percent, stepped.has(x.node!))),
            {
              mirrorBody: m.mirrorBody,
              maxBodySize: m.maxBodySize,
              comparator,
              compareHeaders,
              compareBody: m.compare?.body ?? false,
            },
          );
        }
        break;
      }
    }
    if (node !== null) {
      if (hasStep) {
        stepped.add(node);
        stepsUnder.set(node, under(kidsOf));
      }
      node = withMiddlewares(
        node,
        svc.middlewares,
        provider,
        ['http', 'services', qualified, 'middlewares'],
        // Apart from a router of the same name (`web@docker` is often both).
        `service:${qualified}`,
      );
    }
    buildingServices.delete(qualified);
    services.set(qualified, node);
    return node;
  };
  for (const name of Object.keys(http.services)) buildServiceNode(name);

  // --- middlewares (built on first use, so `chain` can resolve its members with cycle checks).
  // Each is built once, unrouted, for its errors and for the middlewares that keep no state. One
  // that keeps state (`routerState`: rateLimit, inFlightReq, circuitBreaker), and a chain with
  // such a member, is built again for each use by a router: Traefik builds every router's chain
  // anew (pkg/server/middleware/middlewares.go BuildChain, per router from
  // pkg/server/router/router.go buildHTTPHandler; a chain's members again in chain.New), so each
  // use has a state of its own. All at build time: a request never looks a state up.
  const built = new Map<string, readonly Middleware[] | { error: string }>();
  /** Middlewares whose build (or a member's) took a `routerState`: built per use. */
  const perUse = new Set<string>();
  /** Per router, the instances of each middleware that keeps state (for metrics). */
  const uses = new Map<string, Map<string, Middleware[]>>();
  const building = new Set<string>();
  /** Set when the middleware being built, or one of its members, keeps a state per use. */
  let keepsState = false;
  const buildMiddleware = (
    qualified: string,
    use: MiddlewareUse | null = null,
  ): readonly Middleware[] | { error: string } => {
    const done = built.get(qualified);
    if (done !== undefined && (use === null || 'error' in done || !perUse.has(qualified))) {
      if (perUse.has(qualified)) keepsState = true;
      return done;
    }
    if (building.has(qualified)) return { error: `middleware cycle through ${qualified}` };
    const cfg: MiddlewareConfig | undefined = http.middlewares[qualified];
    if (cfg === undefined) return { error: `unknown middleware ${qualified}` };
    building.add(qualified);
    const provider = providerOf(qualified);
    // The nth use of this middleware in the router's chain (a middleware listed twice, or also
    // in a chain, is two uses): the state's key, so a reload that keeps them keeps the state.
    let at = '';
    if (use !== null) {
      const n = use.seen.get(qualified) ?? 0;
      use.seen.set(qualified, n + 1);
      at = `${use.router}#${n}`;
    }
    const outer = keepsState;
    keepsState = false;
    let own = false;
    const result = createMiddleware(cfg, {
      name: qualified,
      logger,
      ticker: cache.ticker,
      plugins: opts.plugins,
      router: use?.router,
      shared: (key, create) => shared(`mw|${qualified}|${key}`, create),
      routerState: (key, create) => {
        own = true;
        keepsState = true;
        return shared(`mw|${qualified}|@${at}|${key}`, create);
      },
      service: (n) => {
        const q = qualify(n, provider);
        if (services.has(q)) {
          const node = services.get(q);
          if (node === null) return { error: `service ${n} has errors of its own` };
          return q;
        }
        return { error: `unknown service ${n}` };
      },
      resolve: (names) => {
        const out: Middleware[] = [];
        for (const n of names) {
          const r = buildMiddleware(qualify(n, provider), use);
          if ('error' in r) return r;
          out.push(...r);
        }
        return out;
      },
    });
    building.delete(qualified);
    // The span a route with detailed tracing gives it (Traefik's WrapMiddleware).
    if (!('error' in result) && cfg.type !== 'chain') {
      for (const m of result) nameMiddlewareSpan(m, cfg.type, qualified);
    }
    if (keepsState) perUse.add(qualified);
    keepsState ||= outer;
    if (use !== null) {
      // Its errors were reported when it was first built.
      if ('error' in result) return { error: result.error };
      if (own) {
        let byName = uses.get(qualified);
        if (byName === undefined) {
          byName = new Map();
          uses.set(qualified, byName);
        }
        const list = byName.get(use.router);
        if (list === undefined) byName.set(use.router, [...result]);
        else list.push(...result);
      }
      return result;
    }
    if (!('error' in result)) {
      built.set(qualified, result);
      return result;
    }
    // Located at the key it names (a plugin's option); a chain using it reports it by name only.
    err(['http', 'middlewares', qualified, ...(result.path ?? [])], result.error);
    const failed = { error: result.error };
    built.set(qualified, failed);
    return failed;
  };
  for (const name of Object.keys(http.middlewares)) buildMiddleware(name);
  // Service middlewares: each list built once, for the service (or reference) that has it, with
  // a state of its own where a middleware keeps one (Traefik builds a service's handler once and
  // shares it between every router that uses it).
  for (const p of pendingSteps) {
    const use: MiddlewareUse = { router: p.use, seen: new Map() };
    const chain: Middleware[] = [];
    let ok = true;
    p.names.forEach((m, i) => {
      const r = buildMiddleware(qualify(m, p.provider), use);
      if ('error' in r) {
        err([...p.path, i], r.error);
        ok = false;
      } else chain.push(...r);
    });
    if (ok) stepChains.set(p.step, chain);
  }
  /**
   * The first of `node`'s service middlewares (below it) whose work the request phase alone
   * does not do (a retry, an error page, buffering, a per-server breaker; with `body`, a
   * response body phase too), and what it is; null when there is none.
   */
  const unsupportedBelow = (node: ServiceNode, body: boolean): { name: string; what: string } | null => {
    for (const step of stepsUnder.get(node) ?? []) {
      const p = pendingSteps.find((x) => x.step === step)!;
      for (const n of p.names) {
        const q = qualify(n, p.provider);
        const r = built.get(q);
        if (r === undefined || 'error' in r) continue;
        const what = r.some((m) => m.retry !== undefined)
          ? 'a retry'
          : r.some((m) => m.errorPage !== undefined)
            ? 'an error page'
            : r.some((m) => m.buffering !== undefined)
              ? 'buffering'
              : r.some((m) => m.guard !== undefined)
                ? 'a per-server circuit breaker'
                : body && r.some((m) => m.onResponseBody !== undefined)
                  ? 'a response body phase'
                  : null;
        if (what !== null) return { name: q, what };
      }
    }
    return null;
  };
  // A mirror's copy runs its service middlewares' request phase only (MirrorState): one whose
  // work is around the tries or on the answer, which Traefik's mirror would apply to a copy
  // (a retry of it, an error page, a buffered body, a per-server breaker), is refused by name.
  for (const { node, path } of mirrorSteps) {
    const bad = unsupportedBelow(node, false);
    if (bad !== null)
      err(
        [...path, 'name'],
        `middleware ${bad.name}: ${bad.what} on a mirror's copies (Traefik v3.7 service middlewares) is not supported yet`,
      );
  }
  // An error page's service middlewares run on the page request and its answer's head
  // (proxy/error-page-steps.ts); the rest is refused by name on the `errors` middleware.
  for (const [q, r] of built) {
    if ('error' in r) continue;
    for (const m of r) {
      const node = m.errorPage === undefined ? undefined : services.get(m.errorPage.service);
      if (node === undefined || node === null || !stepped.has(node)) continue;
      const bad = unsupportedBelow(node, true);
      if (bad !== null)
        err(
          ['http', 'middlewares', q],
          `middleware ${bad.name}: ${bad.what} on an error page's service (Traefik v3.7 service middlewares) is not supported yet`,
        );
    }
  }

  // --- routers: plain HTTP requests and HTTPS requests have separate tables (Traefik: a router
  // with `tls` serves HTTPS only; one without serves HTTP, and HTTPS on a TLS entry point).
  const routes: RouteEntry<RouteTarget>[] = [];
  const secureRoutes: RouteEntry<RouteTarget>[] = [];
  const tlsEps = opts.tls?.entryPoints ?? new Map<string, unknown>();
  // Multi-layer routing: children are routed inside their parent's target, not by themselves.
  const tree = routerTree(http.routers, issues);
  /** The children's targets (one per child, whichever parent built it), for the snapshot's routers. */
  const childTargets = new Map<string, RouteTarget>();
  /**
   * Routers below which a retry's attempt has something to run again beyond their own chain:
   * service middlewares in their service's tree, or, for a parent, a child's middlewares.
   */
  const rerunBelow = new Set<string>();
  /**
   * A router's own middlewares, then what its internal service adds last, and its service
   * (undefined for a parent); undefined once an error of theirs is reported.
   */
  const chainOf = (
    name: string,
    r: RouterConfig,
  ): { mws: Middleware[]; service: ServiceNode | undefined; internal: boolean } | undefined => {
    const provider = providerOf(name);
    let service: ServiceNode | undefined;
    // An internal service is served through the router's own chain, then the identity the admin
    // server checks access by: that middleware goes last, after the user's.
    let last: Middleware | undefined;
    let internal = false;
    if (r.service !== undefined) {
      const serviceName = qualify(r.service, provider);
      internal = providerOf(serviceName) === 'internal';
      service = services.get(serviceName) ?? undefined;
      if (serviceName === NO_SERVICE.name) {
        // Traefik's noop@internal, defined in every configuration: 418 once the chain lets the
        // request through (runtime/internal-routes.ts).
        service = NO_SERVICE;
        last = NOOP_MIDDLEWARE;
      } else if (service === undefined && internal) {
        const found = opts.internal?.serviceFor(
          serviceName.slice(0, -'@internal'.length),
          r.rule,
          cache,
          pools,
          r.ruleSyntax,
        );
        service = found?.node;
        last = found?.middleware;
      }
      if (service === undefined) {
        if (http.services[serviceName] === undefined)
          err(['http', 'routers', name, 'service'], `unknown service ${r.service}`);
        return undefined;
      }
    }
    const mws: Middleware[] = [];
    let ok = true;
    const use: MiddlewareUse = { router: name, seen: new Map() };
    r.middlewares.forEach((m, i) => {
      const chain = buildMiddleware(qualify(m, provider), use);
      if ('error' in chain) {
        err(['http', 'routers', name, 'middlewares', i], chain.error);
        ok = false;
      } else mws.push(...chain);
    });
    if (!ok) return undefined;
    if (last !== undefined) mws.push(last);
    return { mws, service, internal };
  };
  /**
   * A router's target; a parent's carries its children's table, each child's target with the
   * middlewares of the routers above it first (`above`), under the root's observability.
   */
  const targetOf = (
    name: string,
    r: RouterConfig,
    own: { mws: Middleware[]; service: ServiceNode | undefined; internal: boolean },
    above: readonly Middleware[],
    rootObservability: RouterConfig['observability'],
    rootRule: string,
  ): RouteTarget => {
    const all = above.length === 0 ? own.mws : [...above, ...own.mws];
    const observe = observeOf(rootObservability, own.internal, internals);
    if (own.service !== undefined) {
      // Service middlewares below (Traefik v3.7): a retry of the chain runs them per attempt.
      const steps = stepped.has(own.service);
      if (steps) rerunBelow.add(name);
      return routeTarget(name, all, own.service, r, services, observe, rootRule, null, steps);
    }
    const entries: RouteEntry<RouteTarget>[] = [];
    // Something in a child's chain (or its service middlewares) runs per attempt of this
    // router's retry: the child router is inside the parent's chain in Traefik (its handler is
    // the parent's chain's `next`), so the parent's retry calls it again for each attempt.
    let childRerun = false;
    for (const child of tree.children.get(name) ?? []) {
      const c = http.routers[child]!;
      const chain = chainOf(child, c);
      if (chain === undefined) continue;
      const value = targetOf(child, c, chain, all, rootObservability, rootRule);
      if (rerunBelow.has(child) || chain.mws.some((m) => m.onRequest !== undefined || m.retry !== undefined))
        childRerun = true;
      childTargets.set(child, value);
      entries.push({
        name: child,
        rule: c.rule,
        syntax: c.ruleSyntax,
        ...(c.priority !== 0 ? { priority: c.priority } : {}),
        entryPoints: [],
        value,
      });
    }
    const children = HttpRouter.build(entries, cache.rules, opts.providersPrecedence, opts.cnameFlattening);
    for (const e of children.errors) {
      err(['http', 'routers', e.name, 'rule'], `${e.error.message} (at offset ${e.error.offset})`);
    }
    if (childRerun) rerunBelow.add(name);
    return routeTarget(
      name,
      all,
      PARENT_SERVICE,
      r,
      services,
      observe,
      rootRule,
      children.router,
      childRerun,
    );
  };
  for (const [name, r] of Object.entries(http.routers)) {
    if (tree.nested.has(name) || tree.left.has(name)) continue;
    // Traefik's mergeConfiguration: a router naming no entry point (an empty list too) gets the
    // default ones; with none (getDefaultsEntrypoints: only UDP entry points or `traefik` marked
    // `asDefault`), GetRoutersByEntryPoints disables it.
    const eps =
      r.entryPoints !== undefined && r.entryPoints.length > 0 ? r.entryPoints : opts.defaultEntryPoints;
    if (eps !== undefined && eps.length === 0) {
      err(['http', 'routers', name], NO_ENTRY_POINT);
      continue;
    }
    const own = chainOf(name, r);
    if (own === undefined) continue;
    // `r.observability` has its entry point's keys already (applyEntryPointModel).
    const entry = {
      name,
      rule: r.rule,
      syntax: r.ruleSyntax,
      ...(r.priority !== 0 ? { priority: r.priority } : {}),
      entryPoints: eps ?? [],
      value: targetOf(name, r, own, [], r.observability, r.rule),
    };
    // Traefik: a router with `tls` serves HTTPS only, on every entry point it names; `http.tls`
    // on an entry point gives the routers there without one a default `tls` (its applyModel),
    // so they serve HTTPS there and cleartext HTTP on their other entry points.
    if (r.tls !== undefined) secureRoutes.push(entry);
    else {
      const secureEps = httpsEntryPoints(r, tlsEps, opts.defaultEntryPoints);
      if (secureEps.length > 0) secureRoutes.push({ ...entry, entryPoints: secureEps });
      const all = eps ?? opts.entryPointModel?.all;
      if (all === undefined || tlsEps.size === 0) routes.push(entry);
      else {
        const plainEps = all.filter((e) => !tlsEps.has(e));
        // An empty list would mean every entry point: a router left with none serves no cleartext.
        if (plainEps.length > 0) routes.push({ ...entry, entryPoints: plainEps });
      }
    }
  }
  // The proxy's own routers: internal, under their entry point's model like any router.
  const internalObserve = (ep: string): Observe =>
    observeOf(opts.entryPointModel?.observability.get(ep), true, internals);
  if (opts.internal !== undefined) {
    for (const e of opts.internal.routes(cache, pools, internalObserve)) {
      // Traefik's applyModel (pkg/server/aggregator.go) gives the internal routers too the
      // `http.tls` of their entry point: /ping or the API there is served over HTTPS only.
      const secureEps = e.entryPoints.filter((ep) => tlsEps.has(ep));
      if (secureEps.length === 0) {
        routes.push(e);
        continue;
      }
      secureRoutes.push({ ...e, entryPoints: secureEps });
      const plainEps = e.entryPoints.filter((ep) => !tlsEps.has(ep));
      if (plainEps.length > 0) routes.push({ ...e, entryPoints: plainEps });
    }
    issues.push(...opts.internal.shadowedRouters(config, opts.defaultEntryPoints));
  }
  for (const [ep, red] of opts.redirections ?? [])
    routes.push(redirectionRoute(ep, red, internalObserve(ep)));
  const acme = opts.acmeHttp01;
  if (acme !== undefined)
    for (const ep of acme.entryPoints)
      routes.push(
        acmeHttp01Route(ep, (p) => acme.lookup(p), internalObserve(ep), acme.bypass?.has(ep) === true),
      );
  cache.rules.nextGeneration();
  const { router, errors } = HttpRouter.build(
    routes,
    cache.rules,
    opts.providersPrecedence,
    opts.cnameFlattening,
  );
  const refused = new Set<string>();
  for (const e of errors) {
    refused.add(e.name);
    err(['http', 'routers', e.name, 'rule'], `${e.error.message} (at offset ${e.error.offset})`);
  }
  // The HTTPS table: a rule in both tables was reported above; a router with `tls` is in this one
  // only, and its rule's error disables it as well (Traefik's router manager builds every router
  // of an entry point alike: a rule that does not parse disables it, TLS or not).
  let secure: HttpRouter<RouteTarget> | null = null;
  if (secureRoutes.length > 0) {
    const built = HttpRouter.build(secureRoutes, cache.rules, opts.providersPrecedence, opts.cnameFlattening);
    secure = built.router;
    for (const e of built.errors) {
      if (refused.has(e.name)) continue;
      refused.add(e.name);
      err(['http', 'routers', e.name, 'rule'], `${e.error.message} (at offset ${e.error.offset})`);
    }
  }
  // TCP objects with a problem are left out by build-tcp itself, the others built: their issues
  // are warnings, so that the per-object build (build-per-object.ts, which knows HTTP objects)
  // does not refuse the whole configuration for them, logged at ERROR as Traefik's TCP and UDP
  // managers log a router they leave out (pkg/server/router/tcp/manager.go addTCPHandlers,
  // `logger.Error().Err(err)`, a service that does not exist among them; udp/router.go).
  // Validation reports most of them as errors before any build (validate-l4.ts): what is left
  // here is what needs another provider's objects.
  const l4Issue = (path: (string | number)[], message: string, traefik?: string): void => {
    issues.push({
      severity: 'warning',
      message: `${message}; it is left out`,
      path,
      logAs: 'error',
      ...(traefik === undefined ? {} : { traefik }),
    });
  };
  const tcpBuild = buildTcpRoutes(config.tcp, {
    logger,
    shared,
    defaultEntryPoints: opts.defaultEntryPoints,
    err: l4Issue,
    warn: (path, message) => issues.push({ severity: 'warning', message, path }),
    healthKey: (key, service) => healthKeys.set(key, { kind: 'tcp', service }),
    ...(opts.activeHealth !== undefined ? { activeHealth: opts.activeHealth } : {}),
    ...(opts.defaultTcpTransport !== undefined ? { defaultTransport: opts.defaultTcpTransport } : {}),
  });
  // Certificates without a router terminating TLS too: Traefik's tlsManager holds them whatever
  // the routers (the API's /api/certificates, traefik_tls_certs_not_after, handshakes that no TLS
  // router takes: pkg/tls/tlsmanager.go UpdateConfigs).
  const defaultStore = config.tls.stores['default'];
  const tlsWanted =
    secureRoutes.length > 0 ||
    tcpBuild.terminates ||
    config.tls.certificates.length > 0 ||
    defaultStore?.defaultCertificate !== undefined ||
    defaultStore?.defaultGeneratedCert !== undefined;
  const tls = opts.tls === undefined ? null : opts.tls.build(config, opts.tls, issues);
  // A TCP router that terminates TLS with an options set that does not exist keeps its rule and
  // priority, and closes the connections it matches, as Traefik's addTCPHandlers gives it a
  // brokenTLSRouter (pkg/server/router/tcp/manager.go): they never fall to another router.
  const tcpSpots = tcpBuild.spots.map((s) => {
    const t = s.entry.value.tls;
    if (t.kind !== 'terminate' || tls === null || tls.options.has(t.options)) return s;
    issues.push({
      severity: 'warning',
      message: `${Object.hasOwn(config.tls.options, t.options) ? 'unusable' : 'unknown'} TLS options \`${t.options}\`; the connections this router matches are closed`,
      path: ['tcp', 'routers', s.entry.name, 'tls', 'options'],
    });
    const value = { ...s.entry.value, tls: { kind: 'broken' as const, options: t.options } };
    return { ...s, entry: { ...s.entry, value } };
  });
  const udp = buildUdp(config.udp, {
    udpEntryPoints: opts.udpEntryPoints ?? [],
    issue: l4Issue,
    warn: (path, message) => issues.push({ severity: 'warning', message, path }),
  });
  const spot = (r: RouteEntry<RouteTarget>): HttpRouteSpot => ({
    rule: r.rule,
    syntax: r.syntax,
    entryPoints: r.entryPoints,
  });
  const tcp = buildTcpSnapshot(
    routes.map(spot),
    secureRoutes.map(spot),
    tcpSpots,
    tcpBuild.services,
    opts.providersPrecedence,
  );
  const builtServices = new Map<string, ServiceNode>();
  // A service with middlewares is listed as itself (its load balancer for health and metrics).
  for (const [n, node] of services) {
    if (node !== null) builtServices.set(n, node instanceof ServiceMiddlewareNode ? node.inner : node);
  }
  const builtMiddlewares = new Map<string, readonly Middleware[]>();
  for (const [n, m] of built) if (!('error' in m)) builtMiddlewares.set(n, m);
  const snapshot: RuntimeSnapshot = {
    generation,
    routes:
      secure === null
        ? // No HTTPS router: a TLS connection (Traefik's HTTPS forwarder takes every ClientHello
          // no TLS router wants) meets an HTTPS handler with no router, 404.
          {
            match: (ep, req) => (req.scheme === 'https' ? undefined : router.match(ep, req)),
            http: (ep, req) => router.match(ep, req),
            https: () => undefined,
            explain: (ep, req) => (req.scheme === 'https' ? [] : router.explain(ep, req)),
          }
        : {
            match: (ep, req) => (req.scheme === 'https' ? secure : router).match(ep, req),
            http: (ep, req) => router.match(ep, req),
            https: (ep, req) => secure.match(ep, req),
            explain: (ep, req) => (req.scheme === 'https' ? secure : router).explain(ep, req),
          },
    tls,
    tlsWanted,
    tcp,
    udp,
    config,
    issues,
    disabled: new Map(),
    services: builtServices,
    middlewares: builtMiddlewares,
    middlewareUses: uses,
    // Child routers too: metrics keep their series, the API shows them enabled.
    routers: new Map([
      ...routes.map((r) => [r.name, r.value] as const),
      ...secureRoutes.map((r) => [r.name, r.value] as const),
      ...childTargets,
    ]),
    builtAt: Date.now(),
  };
  return {
    snapshot,
    issues,
    pools,
    sharedKeys,
    healthKeys,
    counts: { routers: routes.length, services: services.size, middlewares: built.size },
  };
}

/** The router whose chain is being built, and how many times it used each middleware so far. */
interface MiddlewareUse {
  readonly router: string;
  readonly seen: Map<string, number>;
}

function createMiddleware(cfg: MiddlewareConfig, ctx: BuildContext): readonly Middleware[] | MiddlewareError {
  // The registry is typed per key; the tagged union narrows it here.
  const factory = middlewareFactory(cfg.type) as {
    create(c: unknown, x: typeof ctx): Middleware | MiddlewareError;
  };
  const m = factory.create(cfg.config, ctx);
  if ('error' in m && typeof m.error === 'string') return m;
  // A chain splices its members into the route's list: no nesting cost per request.
  return flattenMiddlewares([m as Middleware]);
}

function timeoutsOf(t: TimeoutsConfig | undefined): Timeouts {
  return t === undefined || (t.total === 0 && t.perTry === 0)
    ? NO_TIMEOUTS
    : { totalMs: t.total, perTryMs: t.perTry };
}

/** What a route's target lifts out of a list of middlewares (see routeTarget). */
interface LiftedChain {
  readonly middlewares: Middleware[];
  readonly retry: RetryPolicy | null;
  readonly guards: ServerGuard[];
  /** Innermost first; `at` counts in `middlewares`. */
  readonly errorPages: ErrorPage[] | null;
  readonly buffering: BufferingSpec | null;
  readonly bufferings: BufferingGate[] | null;
  readonly bodyPhase: boolean;
  /** Detailed tracing only: the spans before each kept middleware, and after the last. */
  readonly spans: DetailedSpan[][] | null;
}

/**
 * The route's view of its middlewares: phases stay in order (only middlewares with a phase run
 * per request), retry and guards are lifted out for the exchange.
 */
function liftChain(
  all: readonly Middleware[],
  services: ReadonlyMap<string, ServiceNode | null>,
  detailed: boolean,
  offset = 0,
  tail = false,
): LiftedChain {
  let retry: RetryPolicy | null = null;
  // Where the middlewares with a request phase end: a retry before it has some after it, which
  // run once per attempt (its marker, middleware/retry.ts retryPoint, says from where). `tail`:
  // something after the chain does too (service middlewares in the service's tree, a parent's
  // children's middlewares), so every retry of it has.
  let lastRequestPhase = tail ? all.length : -1;
  // Several retries: each one's attempts run the next (Traefik nests them), whose marker must be
  // reached again, so every marker keeps the request.
  let retries = 0;
  for (let k = 0; k < all.length; k++) if (all[k]!.retry !== undefined) retries++;
  if (retries > 1) lastRequestPhase = all.length;
  if (lastRequestPhase < all.length)
    for (let k = 0; k < all.length; k++) if (all[k]!.onRequest !== undefined) lastRequestPhase = k;
  // Detailed tracing only: the spans opened before each kept middleware runs (its own, and those
  // of the middlewares without a phase before it, which the exchange does not run), and after.
  const spans: DetailedSpan[][] | null = detailed ? [[]] : null;
  const guards: ServerGuard[] = [];
  const middlewares: Middleware[] = [];
  let errorPages: ErrorPage[] | null = null;
  let buffering: BufferingSpec | null = null;
  let bufferings: BufferingGate[] | null = null;
  let bodyPhase = false;
  for (let k = 0; k < all.length; k++) {
    const m = all[k]!;
    if (m.retry !== undefined) retry = m.retry;
    // This middleware's span entry (detailed): an error page's calls go under its span.
    let entry: DetailedSpan | undefined;
    if (spans !== null) {
      const names = middlewareSpanName(m);
      const group = spans[spans.length - 1]!;
      if (m.retry !== undefined) {
        // Each retry makes a span per attempt (nested ones under the attempts of the one before).
        group.push({ type: 'Retry', name: names?.name ?? '', retry: true, policy: m.retry });
      } else if (names !== undefined) {
        entry =
          m.buffering !== undefined && buffering === null
            ? { type: names.type, name: names.name, retry: false, hold: true }
            : { type: names.type, name: names.name, retry: false };
        group.push(entry);
      }
    }
    if (m.buffering !== undefined) {
      buffering = m.buffering;
      const gate: BufferingGate = { at: offset + middlewares.length, spec: m.buffering };
      if (bufferings === null) bufferings = [gate];
      else bufferings.push(gate);
    }
    if (m.guard !== undefined) guards.push(m.guard);
    if (m.errorPage !== undefined) {
      const node = services.get(m.errorPage.service);
      // The middleware's factory checked that the service exists and built.
      if (node !== undefined && node !== null) {
        if (errorPages === null) errorPages = [];
        // Innermost first: the exchange takes the first one that catches a status.
        errorPages.unshift({
          at: middlewares.length,
          spec: m.errorPage,
          service: node,
          ...(entry === undefined ? {} : { span: entry }),
          ...(retry === null ? {} : { within: retry }),
        });
      }
    }
    if (m.onResponseBody !== undefined) bodyPhase = true;
    if (m.onRequest !== undefined || m.onResponse !== undefined || m.onResponseBody !== undefined) {
      middlewares.push(m);
      spans?.push([]);
    }
    if (m.retry !== undefined) {
      // After every retry (a later one is nested in it, ExchangeCore.nestRetry), so that a parent
      // router's chain stays a prefix of its children's, whose own middlewares may follow.
      middlewares.push(retryPoint(offset + middlewares.length + 1, m.retry, lastRequestPhase > k));
      spans?.push([]);
    }
  }
  return { middlewares, retry, guards, errorPages, buffering, bufferings, bodyPhase, spans };
}

function routeTarget(
  router: string,
  all: readonly Middleware[],
  service: ServiceNode,
  config: RouterConfig,
  services: ReadonlyMap<string, ServiceNode | null>,
  observe: Observe,
  httpRoute: string,
  children: ChildRoutes | null = null,
  tail = false,
): RouteTarget {
  const c = liftChain(all, services, observe.detailed, 0, tail);
  const rule = config.rule;
  return {
    router,
    middlewares: c.middlewares,
    service,
    children,
    timeouts: timeoutsOf(config.timeouts),
    retry: c.retry,
    guards: c.guards,
    bodyPhase: c.bodyPhase,
    errorPages: c.errorPages,
    buffering: c.buffering,
    bufferings: c.bufferings,
    logged: observe.logged,
    metered: observe.metered,
    traced: observe.traced,
    httpRoute,
    // The Kubernetes object its provider made it from, read here once for the access log; the
    // key always set, so that every route of the configuration keeps one shape.
    kubernetes: kubernetesObjectOf(config),
    ...(c.spans === null ? {} : { detailed: { rule, middlewares: c.spans } }),
  };
}

/**
 * The target a request of `route` goes on with once its service tree reached `step`: the route's
 * middlewares, then the step's (Traefik v3.7's service middlewares wrap the service's handler, so
 * they run inside the router's chain: after its middlewares on the way in, before them on the
 * way out), then the tree below the step, under the router's own service's name. A retry,
 * buffering or error page among them applies from there, as a later middleware of the chain
 * would; the router's own stay for what they catch.
 */
function targetAfterStep(
  route: RouteTarget,
  step: ServiceMiddlewareNode,
  chain: readonly Middleware[],
  services: ReadonlyMap<string, ServiceNode | null>,
  stepsBelow: boolean,
): RouteTarget {
  // A retry among these runs those after it, and the tree below (its service middlewares too,
  // `stepsBelow`), once per attempt, as Traefik's retry calls its `next` per attempt.
  // A retry among them nested in the route's (Traefik's retries nest) is reached again per attempt.
  const c = liftChain(
    chain,
    services,
    route.detailed !== undefined,
    route.middlewares.length,
    stepsBelow || (route.retry !== null && chain.some((m) => m.retry !== undefined)),
  );
  const n = route.middlewares.length;
  // These come after the route's middlewares: one before any retry of theirs is inside the
  // route's last retry's attempts (if any).
  const routeRetry = route.retry;
  const pages =
    c.errorPages === null
      ? route.errorPages
      : [
          ...c.errorPages.map((p) =>
            p.within === undefined && routeRetry !== null
              ? { ...p, at: p.at + n, within: routeRetry }
              : { ...p, at: p.at + n },
          ),
          ...(route.errorPages ?? []),
        ];
  let detailed = route.detailed;
  if (detailed !== undefined && c.spans !== null) {
    const before = detailed.middlewares;
    detailed = {
      rule: detailed.rule,
      middlewares: [...before.slice(0, n), [...before[n]!, ...c.spans[0]!], ...c.spans.slice(1)],
    };
  }
  return {
    ...route,
    middlewares: c.middlewares.length === 0 ? route.middlewares : [...route.middlewares, ...c.middlewares],
    service: new BelowMiddlewaresNode(route.service.name, step.inner),
    children: null,
    retry: c.retry ?? route.retry,
    guards: c.guards.length === 0 ? route.guards : [...route.guards, ...c.guards],
    bodyPhase: route.bodyPhase || c.bodyPhase,
    errorPages: pages,
    buffering: c.buffering ?? route.buffering,
    bufferings:
      c.bufferings === null
        ? route.bufferings
        : route.bufferings === null
          ? c.bufferings
          : [...route.bufferings, ...c.bufferings],
    afterServiceMiddlewares: true,
    ...(detailed === undefined ? {} : { detailed }),
  };
}

function buildLoadBalancer(
  name: string,
  lb: LoadBalancerConfig,
  transports: Readonly<Record<string, ServersTransportConfig>>,
  defaultTransport: ServersTransportConfig,
  cache: ResourceCache,
  pools: Set<ServerPool>,
  shared: <T extends object>(key: string, create: () => T) => T,
  logger: Logger,
  err: (path: (string | number)[], message: string) => void,
  hub: ActiveHealthHub | undefined,
  kubernetes: KubernetesServiceRef | null,
  healthKeys: Map<string, HealthKeyOwner>,
): LoadBalancerNode | null {
  let transport = defaultTransport;
  let tname = '';
  // `default@internal` is the static serversTransport, as Traefik's internal provider defines it
  // (pkg/provider/traefik/internal.go serverTransport): the one a service naming none gets.
  const named = lb.serversTransport === undefined ? '' : qualify(lb.serversTransport, providerOf(name));
  if (named !== '' && named !== 'default@internal') {
    tname = named;
    const t = transports[tname];
    if (t === undefined) {
      err(
        ['http', 'services', name, 'loadBalancer', 'serversTransport'],
        `unknown serversTransport ${lb.serversTransport}`,
      );
      return null;
    }
    transport = t;
  }
  const servers: ServerRuntime[] = [];
  const targets: HealthTarget[] = [];
  // Loaded once per service, on its first https server (or https health check): every pool of
  // the service shares it.
  let tls: UpstreamTls | undefined;
  // An http check that follows redirects may be sent to an https:// URL: Go's client goes on with
  // the service's transport and its TLS (Traefik's pkg/healthcheck/healthcheck.go client), so do
  // we, with the transport's TLS loaded on the first such redirect (never for most services).
  const hc = lb.healthCheck;
  let redirectTls: ((host: string) => ProbeTls | string) | undefined;
  if (hc !== undefined && hc.mode === 'http' && hc.followRedirects) {
    let loaded: UpstreamTls | string | undefined;
    redirectTls = (host) => {
      if (loaded === undefined) {
        const r = tls === undefined ? loadUpstreamTls(transport) : { ok: true as const, tls };
        loaded = r.ok ? r.tls : `serversTransport ${tname || 'default'}: ${r.message}`;
      }
      return typeof loaded === 'string' ? loaded : probeTlsOf(loaded, host);
    };
  }
  for (const s of lb.servers) {
    const unusable = unusableServerUrl(s.url);
    if (unusable !== undefined) {
      // Loaded as Traefik loads it (validate.ts warned): a server that fails every request.
      const pool = new UnusablePool(unusable);
      pools.add(pool);
      servers.push({
        url: s.url,
        authority: '',
        pool,
        index: servers.length,
        tunnelIdleMs: 0,
        pathPrefix: '',
      });
      targets.push({ url: s.url, host: '', port: 0, authority: '', unusable });
      continue;
    }
    const url = new URL(s.url);
    const https = url.protocol === 'https:';
    const h2c = url.protocol === 'h2c:';
    // The health check's `scheme` replaces the server URL's (Traefik's newRequest), and the
    // transport speaks it: https with the transport's TLS, h2c with prior knowledge.
    const checkScheme = lb.healthCheck?.scheme ?? (https ? 'https' : h2c ? 'h2c' : 'http');
    const checkTls = lb.healthCheck !== undefined && checkScheme === 'https';
    if (transport.proxyProtocol !== undefined && (h2c || (https && transport.disableHTTP2 !== true))) {
      // A PROXY header names one client per connection; an HTTP/2 session carries many clients'
      // requests, so it cannot tell the server whose each one is (HAProxy sends it on h1 only too).
      err(
        ['http', 'services', name, 'loadBalancer', 'servers', servers.length, 'url'],
        `serversTransport ${tname} sends a PROXY protocol header, which needs HTTP/1.1 connections: ` +
          `use an http:// server, or disableHTTP2: true for an https:// one`,
      );
      return null;
    }
    const port = url.port === '' ? (https ? 443 : 80) : Number(url.port);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if ((https || checkTls) && tls === undefined) {
      const r = loadUpstreamTls(transport);
      if (!r.ok) {
        err(
          tname === ''
            ? ['http', 'services', name, 'loadBalancer', 'servers']
            : ['http', 'serversTransports', tname, ...r.path],
          r.message,
        );
        return null;
      }
      tls = r.tls;
      if (tls.insecureSkipVerify) {
        // A shared object lives as long as generations use it: one warning per transport, not per reload.
        shared(`insecure-tls|${tname}`, () => {
          logger.warn('serversTransport skips TLS certificate verification (insecureSkipVerify)', {
            serversTransport: tname,
          });
          return {};
        });
      }
    }
    const ft = transport.forwardingTimeouts;
    const options: PoolOptions = {
      host,
      port,
      maxIdle: idleConnsPerHost(transport.maxIdleConnsPerHost),
      maxConns: transport.maxConnsPerHost,
      idleTimeoutMs: ft.idleConnTimeout,
      connectTimeoutMs: ft.dialTimeout,
      responseHeaderTimeoutMs: ft.responseHeaderTimeout,
      maxResponseHeaderBytes: MAX_RESPONSE_HEADER_BYTES,
      // Traefik v3.8's per-operation deadlines (upstream/rw-deadlines.ts); only when set, so that
      // pools without them keep the options (and keys) they had.
      ...(ft.readTimeout ? { readTimeoutMs: ft.readTimeout } : {}),
      ...(ft.writeTimeout ? { writeTimeoutMs: ft.writeTimeout } : {}),
      ...(https ? { tls: tls! } : {}),
      // A connection that told a server whose it is serves that client only: none is kept idle.
      ...(transport.proxyProtocol === undefined
        ? {}
        : { proxyProtocol: transport.proxyProtocol.version, maxIdle: 0 }),
    };
    // The pool kind is chosen here, once: http:// servers keep the HTTP/1.1 pool and its path.
    let pool: ServerPool;
    if (!h2c && !(https && transport.disableHTTP2 !== true)) pool = cache.pool(options);
    else {
      const h2: H2PoolOptions = {
        ...options,
        readIdleTimeoutMs: ft.readIdleTimeout ?? 0,
        pingTimeoutMs: ft.pingTimeout ?? DEFAULT_PING_TIMEOUT_MS,
      };
      pool = h2c ? cache.h2Pool(h2) : cache.alpnPool(options, h2);
    }
    pools.add(pool);
    const clean = s.url.replace(/\/$/, '');
    servers.push({
      url: clean,
      authority: url.host,
      pool,
      index: servers.length,
      tunnelIdleMs: transport.forwardingTimeouts.tunnelIdleTimeout,
      // Traefik forwards the request's path alone unless preservePath is set (its proxy
      // director): then the URL's path goes first. A query or fragment in the URL is never sent.
      pathPrefix: s.preservePath ? serverUrlPath(s.url) : '',
    });
    const probeTls = checkTls && tls !== undefined ? { tls: probeTlsOf(tls, host) } : {};
    targets.push({
      url: clean,
      host,
      // A URL without a port is probed on the check's scheme's (Go's dial of the rewritten URL).
      port: url.port !== '' ? port : checkScheme === 'https' ? 443 : 80,
      authority: url.host,
      // h2c: URLs are not special: their path is '' when the URL has none.
      path: `${url.pathname === '' ? '/' : url.pathname}${url.search}`,
      ...probeTls,
      ...(redirectTls !== undefined ? { redirectTls } : {}),
      ...(checkScheme === 'h2c' ? { h2c: true } : {}),
    });
  }
  const urls = servers.map((s) => s.url);
  const previous = cache.swapServerUrls(name, new Set(urls));
  let health: ServerHealth | null = null;
  if (lb.healthCheck !== undefined || lb.passiveHealthCheck !== undefined || lb.slowStart > 0) {
    // The transport's TLS settings matter to an http service's checks too, for redirects to https.
    const tlsKey = tls?.id ?? (redirectTls === undefined ? null : transportTlsKey(transport));
    const key = `health|${name}|${JSON.stringify([urls, tlsKey, lb.healthCheck, lb.passiveHealthCheck, lb.slowStart])}`;
    // Servers a reload added start slow; at boot nobody does (they would only ramp together).
    const fresh = new Set<number>();
    if (previous !== undefined) {
      for (let i = 0; i < urls.length; i++) if (!previous.has(urls[i]!)) fresh.add(i);
    }
    healthKeys.set(key, { kind: 'http', service: name });
    health = shared(
      key,
      () =>
        new ServerHealth(
          {
            service: name,
            targets,
            active: lb.healthCheck,
            passive: lb.passiveHealthCheck,
            slowStartMs: lb.slowStart,
            fresh,
            ...(hub !== undefined ? { activeHub: { hub, key } } : {}),
          },
          cache.ticker,
          logger,
        ),
    );
  }
  const inFlight = new Int32Array(servers.length);
  const weights = lb.servers.map((s) => ({ weight: s.weight }));
  // leasttime learns each server's response times from the exchanges (recordTry).
  const responseTimes = lb.strategy === 'leasttime' ? new ResponseTimes(servers.length) : null;
  // As Traefik shuffles the servers when it builds a load balancer: a wrr (or roundRobin)
  // cycle starts at a random server.
  const picker = shuffledStart(
    createPicker(
      lb.strategy === 'hrw' ? 'wrr' : lb.strategy,
      weights,
      responseTimes === null ? { inFlight } : { inFlight, responseTimes },
    ),
  );
  const hrw =
    lb.strategy === 'hrw'
      ? {
          hasher: new RendezvousHasher(
            urls,
            lb.servers.map((s) => s.weight),
          ),
          // Header names are matched lowercased (HeaderList); cookie and query names are case-sensitive.
          on:
            lb.hashOn === undefined
              ? { type: 'clientIP' as const }
              : lb.hashOn.type === 'header' && lb.hashOn.name !== undefined
                ? { type: 'header' as const, name: lb.hashOn.name.toLowerCase() }
                : lb.hashOn,
        }
      : null;
  return new LoadBalancerNode({
    name,
    servers,
    picker,
    inFlight,
    responseTimes,
    passHostHeader: lb.passHostHeader,
    timeouts: timeoutsOf(lb.timeouts),
    health,
    admission:
      lb.maxInFlight === 0
        ? null
        : shared(
            `admission|${name}|${lb.maxInFlight}|${lb.queue?.size ?? 0}|${lb.queue?.timeout ?? 0}`,
            () => new InFlightState({ amount: lb.maxInFlight, queue: lb.queue }, cache.ticker),
          ),
    // Only with a cookie: `sticky: {}` is no sticky session (Traefik's wrr.New, `sticky.Cookie != nil`).
    sticky: lb.sticky?.cookie === undefined ? null : new StickyCookie(lb.sticky.cookie, name, urls),
    hrw,
    kubernetes,
  });
}

/** How an active check speaks TLS to `host` with a transport's settings (SNI: its serverName, else the host). */
function probeTlsOf(tls: UpstreamTls, host: string): ProbeTls {
  return {
    // Read at each probe: a SPIFFE transport's context follows the SVID's rotations.
    get secureContext() {
      return tls.secureContext;
    },
    servername: tls.serverName ?? (isIP(host) === 0 ? host : undefined),
    rejectUnauthorized: !tls.insecureSkipVerify,
    ...(tls.checkServerIdentity === undefined ? {} : { checkServerIdentity: tls.checkServerIdentity }),
  };
}

/** What of a transport makes its TLS, for a cache key (the files are named, not read). */
function transportTlsKey(t: ServersTransportConfig): string {
  return JSON.stringify([
    t.serverName,
    t.rootCAs,
    t.certificates,
    t.insecureSkipVerify,
    t.minVersion,
    t.maxVersion,
    t.peerCertURI,
    t.cipherSuites,
    t.spiffe,
  ]);
}
