import { createPicker } from '../balancer/index.ts';
import type {
  DynamicConfig,
  MiddlewareConfig,
  ServersTransportConfig,
  ServiceConfig,
} from '../config/dynamic/schema.ts';
import type { ConfigIssue } from '../config/issues.ts';
import type { Logger } from '../core/logger.ts';
import { flattenMiddlewares } from '../middleware/index.ts';
import type { Middleware } from '../middleware/middleware.ts';
import { middlewareFactories } from '../middleware/registry.ts';
import { HttpRouter, type RouteEntry } from '../router/index.ts';
import type { PoolOptions, UpstreamPool } from '../upstream/pool.ts';
import type { ResourceCache } from './resource-cache.ts';
import type { RouteTarget, RuntimeSnapshot, ServerRuntime, ServiceRuntime } from './types.ts';

export interface BuildResult {
  readonly snapshot: RuntimeSnapshot;
  readonly issues: readonly ConfigIssue[];
  /** Pools the snapshot uses; the cache closes the others after the swap. */
  readonly pools: ReadonlySet<UpstreamPool>;
  readonly counts: { routers: number; services: number; middlewares: number };
}

const DEFAULT_TRANSPORT: ServersTransportConfig = {
  maxIdleConnsPerHost: 200,
  maxConnsPerHost: 0,
  forwardingTimeouts: { dialTimeout: 30_000, responseHeaderTimeout: 0, idleConnTimeout: 90_000 },
};

const MAX_RESPONSE_HEADER_BYTES = 64 * 1024;

/** `name@provider` → provider; names without one belong to `fallback`. */
function qualify(name: string, provider: string): string {
  return name.includes('@') ? name : `${name}@${provider}`;
}

function providerOf(qualified: string): string {
  const at = qualified.lastIndexOf('@');
  return at === -1 ? '' : qualified.slice(at + 1);
}

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
): BuildResult {
  const issues: ConfigIssue[] = [];
  const pools = new Set<UpstreamPool>();
  const http = config.http;
  const err = (path: (string | number)[], message: string) =>
    issues.push({ severity: 'error', message, path });

  // --- services
  const services = new Map<string, ServiceRuntime>();
  for (const [name, svc] of Object.entries(http.services)) {
    const built = buildService(name, svc, http.serversTransports, cache, pools, err);
    if (built !== undefined) services.set(name, built);
  }

  // --- middlewares (built on first use, so `chain` can resolve its members with cycle checks)
  const built = new Map<string, readonly Middleware[] | { error: string }>();
  const building = new Set<string>();
  const buildMiddleware = (qualified: string): readonly Middleware[] | { error: string } => {
    const done = built.get(qualified);
    if (done !== undefined) return done;
    if (building.has(qualified)) return { error: `middleware cycle through ${qualified}` };
    const cfg: MiddlewareConfig | undefined = http.middlewares[qualified];
    if (cfg === undefined) return { error: `unknown middleware ${qualified}` };
    building.add(qualified);
    const provider = providerOf(qualified);
    const result = createMiddleware(cfg, {
      name: qualified,
      logger,
      resolve: (names) => {
        const out: Middleware[] = [];
        for (const n of names) {
          const r = buildMiddleware(qualify(n, provider));
          if ('error' in r) return r;
          out.push(...r);
        }
        return out;
      },
    });
    building.delete(qualified);
    built.set(qualified, result);
    if ('error' in result) err(['http', 'middlewares', qualified], result.error);
    return result;
  };
  for (const name of Object.keys(http.middlewares)) buildMiddleware(name);

  // --- routers
  const routes: RouteEntry<RouteTarget>[] = [];
  for (const [name, r] of Object.entries(http.routers)) {
    const provider = providerOf(name);
    const serviceName = qualify(r.service, provider);
    const service = services.get(serviceName);
    if (service === undefined) {
      if (http.services[serviceName] === undefined)
        err(['http', 'routers', name, 'service'], `unknown service ${r.service}`);
      continue;
    }
    const mws: Middleware[] = [];
    let ok = true;
    r.middlewares.forEach((m, i) => {
      const chain = buildMiddleware(qualify(m, provider));
      if ('error' in chain) {
        err(['http', 'routers', name, 'middlewares', i], chain.error);
        ok = false;
      } else mws.push(...chain);
    });
    if (!ok) continue;
    routes.push({
      name,
      rule: r.rule,
      ...(r.priority !== 0 ? { priority: r.priority } : {}),
      entryPoints: r.entryPoints ?? [],
      value: { router: name, middlewares: mws, service },
    });
  }
  const { router, errors } = HttpRouter.build(routes);
  for (const e of errors) {
    err(['http', 'routers', e.name, 'rule'], `${e.error.message} (at offset ${e.error.offset})`);
  }
  const snapshot: RuntimeSnapshot = {
    generation,
    routes: { match: (ep, req) => router.match(ep, req) },
  };
  return {
    snapshot,
    issues,
    pools,
    counts: { routers: routes.length, services: services.size, middlewares: built.size },
  };
}

function createMiddleware(
  cfg: MiddlewareConfig,
  ctx: Parameters<(typeof middlewareFactories)['chain']['create']>[1],
): readonly Middleware[] | { error: string } {
  // The registry is typed per key; the tagged union narrows it here.
  const factory = middlewareFactories[cfg.type] as {
    create(c: unknown, x: typeof ctx): Middleware | { error: string };
  };
  const m = factory.create(cfg.config, ctx);
  if ('error' in m && typeof m.error === 'string') return { error: m.error };
  // A chain splices its members into the route's list: no nesting cost per request.
  return flattenMiddlewares([m as Middleware]);
}

function buildService(
  name: string,
  svc: ServiceConfig,
  transports: Readonly<Record<string, ServersTransportConfig>>,
  cache: ResourceCache,
  pools: Set<UpstreamPool>,
  err: (path: (string | number)[], message: string) => void,
): ServiceRuntime | undefined {
  const lb = svc.loadBalancer;
  let transport = DEFAULT_TRANSPORT;
  if (lb.serversTransport !== undefined) {
    const tname = qualify(lb.serversTransport, providerOf(name));
    const t = transports[tname];
    if (t === undefined) {
      err(
        ['http', 'services', name, 'loadBalancer', 'serversTransport'],
        `unknown serversTransport ${lb.serversTransport}`,
      );
      return undefined;
    }
    transport = t;
  }
  const servers: ServerRuntime[] = [];
  for (const s of lb.servers) {
    const url = new URL(s.url);
    const port = url.port === '' ? 80 : Number(url.port);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const options: PoolOptions = {
      host,
      port,
      maxIdle: transport.maxIdleConnsPerHost,
      maxConns: transport.maxConnsPerHost,
      idleTimeoutMs: transport.forwardingTimeouts.idleConnTimeout,
      connectTimeoutMs: transport.forwardingTimeouts.dialTimeout,
      responseHeaderTimeoutMs: transport.forwardingTimeouts.responseHeaderTimeout,
      maxResponseHeaderBytes: MAX_RESPONSE_HEADER_BYTES,
    };
    const pool = cache.pool(options);
    pools.add(pool);
    servers.push({ url: s.url.replace(/\/$/, ''), authority: url.host, pool });
  }
  const inFlight = new Int32Array(servers.length);
  const picker = createPicker(
    lb.strategy,
    lb.servers.map((s) => ({ weight: s.weight })),
    { inFlight },
  );
  return { name, servers, picker, inFlight, passHostHeader: lb.passHostHeader };
}
