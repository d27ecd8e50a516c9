import { type Picker, type ResponseTimes, shuffledStart } from '../balancer/index.ts';
import { RendezvousHasher } from '../balancer/rendezvous.ts';
import { SmoothWeightedRoundRobinPicker } from '../balancer/smooth-weighted-round-robin.ts';
import { toWeights } from '../balancer/weights.ts';
import type { KubernetesServiceRef } from '../config/dynamic/kubernetes-meta.ts';
import type { HashOnConfig } from '../config/dynamic/schema.ts';
import { inRanges } from '../config/dynamic/status-range.ts';
import type { StatusRange } from '../config/dynamic/status-ranges.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import { goHttpError } from '../middleware/http-error.ts';
import type { InFlightState } from '../middleware/in-flight-req.ts';
import type { Middleware } from '../middleware/middleware.ts';
import type { MirrorComparator } from '../observability/mirror-compare.ts';
import type { ServerHealth } from './server-health.ts';
import { readCookie, type StickyCookie } from './sticky.ts';
import type {
  FailoverErrors,
  FailoverNode,
  MirroringNode,
  MirrorTarget,
  ResolveSink,
  RouteTarget,
  ServerRuntime,
  ServiceNode,
  ServiceRuntime,
  ServiceStep,
  Timeouts,
} from './types.ts';
import { NO_TIMEOUTS } from './types.ts';

export interface LoadBalancerParts {
  readonly name: string;
  readonly servers: readonly ServerRuntime[];
  readonly picker: Picker;
  readonly inFlight: Int32Array;
  readonly responseTimes: ResponseTimes | null;
  readonly passHostHeader: boolean;
  readonly timeouts: Timeouts;
  readonly health: ServerHealth | null;
  readonly admission: InFlightState | null;
  readonly sticky: StickyCookie | null;
  /** For `hrw`: the hasher over the servers and what to hash. */
  readonly hrw: { readonly hasher: RendezvousHasher; readonly on: HashOnConfig } | null;
  /** The Kubernetes Service its servers come from, or null (runtime/types.ts ServiceRuntime). */
  readonly kubernetes?: KubernetesServiceRef | null;
}

/**
 * A load balancer over servers. With no health checks, no sticky cookie and nothing tried yet,
 * `pick` is the strategy's pick and allocates nothing.
 */
export class LoadBalancerNode implements ServiceNode, ServiceRuntime {
  readonly name: string;
  readonly servers: readonly ServerRuntime[];
  readonly inFlight: Int32Array;
  readonly responseTimes: ResponseTimes | null;
  readonly passHostHeader: boolean;
  readonly timeouts: Timeouts;
  readonly health: ServerHealth | null;
  readonly admission: InFlightState | null;
  readonly kubernetes: KubernetesServiceRef | null;
  readonly #picker: Picker;
  readonly #sticky: StickyCookie | null;
  readonly #hrw: LoadBalancerParts['hrw'];

  constructor(p: LoadBalancerParts) {
    this.name = p.name;
    this.servers = p.servers;
    this.inFlight = p.inFlight;
    this.responseTimes = p.responseTimes;
    this.passHostHeader = p.passHostHeader;
    this.timeouts = p.timeouts;
    this.health = p.health;
    this.admission = p.admission;
    this.kubernetes = p.kubernetes ?? null;
    this.#picker = p.picker;
    this.#sticky = p.sticky;
    this.#hrw = p.hrw;
  }

  /**
   * The status a parent with `healthCheck` follows (Traefik's balancers report a change of
   * status only, from up: pkg/server/service/loadbalancer/wrr SetStatus). One with a health
   * check and no server never has a server change status, so it stays up for its parent (a
   * failover stays on it, and it answers 503 `no available server`).
   */
  available(): boolean {
    const h = this.health;
    if (h === null) return this.servers.length > 0;
    return (this.servers.length === 0 && h.active) || h.available();
  }

  resolve(): ServiceRuntime {
    return this;
  }

  pick(
    req: RequestHead,
    tried: number,
    guard: ((server: ServerRuntime) => boolean) | null,
    sink: ResolveSink,
  ): number {
    const health = this.health;
    const degraded = health?.degraded;
    const sticky = this.#sticky;
    if (sticky !== null && tried === 0) {
      const found = sticky.lookup(req.headers.get('cookie'));
      const c = found >> 1;
      if (found >= 0 && (!degraded || health.isUp(c)) && (guard === null || guard(this.servers[c]!))) {
        if ((found & 1) === 1) sink.addSetCookie(sticky.setCookieLine(c));
        return c;
      }
    }
    let idx = this.#pickWith(req, this.#accept(tried, guard, degraded ? health.accept : null));
    if (idx < 0 && degraded && health.rampingSlowly) {
      // Slow start's gate is a coin toss per server: when it refused every one, take any healthy.
      idx = this.#pickWith(req, this.#accept(tried, guard, health.acceptHealthy));
    }
    if (idx >= 0 && sticky !== null) sink.addSetCookie(sticky.setCookieLine(idx));
    return idx;
  }

  #pickWith(req: RequestHead, accept: ((i: number) => boolean) | undefined): number {
    const hrw = this.#hrw;
    if (hrw === null) return this.#picker.pick(accept);
    return hrw.hasher.pick(hashKey(req, hrw.on), accept);
  }

  /** The acceptance test for this pick; a closure only when something must be excluded. */
  #accept(
    tried: number,
    guard: ((server: ServerRuntime) => boolean) | null,
    health: ((i: number) => boolean) | null,
  ): ((i: number) => boolean) | undefined {
    if (tried === 0 && guard === null) return health ?? undefined;
    const servers = this.servers;
    return (i) =>
      (i >= 31 || (tried & (1 << i)) === 0) &&
      (health === null || health(i)) &&
      (guard === null || guard(servers[i]!));
  }
}

function hashKey(req: RequestHead, on: HashOnConfig): string {
  switch (on.type) {
    case 'clientIP':
      return req.clientIp;
    case 'header':
      return req.headers.get(on.name!) ?? req.clientIp;
    case 'cookie': {
      const h = req.headers.get('cookie');
      return (h === undefined ? undefined : readCookie(h, on.name!)) ?? req.clientIp;
    }
    case 'query':
      return queryParam(req.query, on.name!) ?? req.clientIp;
  }
}

/** The raw value of the first `name=` parameter of a query string. */
function queryParam(query: string, name: string): string | undefined {
  let i = 0;
  while (i <= query.length) {
    let end = query.indexOf('&', i);
    if (end === -1) end = query.length;
    if (
      query.startsWith(name, i) &&
      (query.charCodeAt(i + name.length) === 0x3d || i + name.length === end)
    ) {
      return query.slice(Math.min(i + name.length + 1, end), end);
    }
    i = end + 1;
  }
  return undefined;
}

/**
 * A service that answers `fixedAnswer` with no server: a weighted child with `status` (no body:
 * Traefik's WRRService.Status, getWRRServiceHandler adds a handler that only writes the status,
 * always up), or a failover's own 503 (FailoverServiceNode). The exchange finds no server to pick
 * and answers it, after the router's middlewares ran.
 */
export class StatusNode implements ServiceNode, ServiceRuntime {
  readonly name: string;
  readonly fixedAnswer: DirectResponse;
  readonly servers: readonly ServerRuntime[] = [];
  readonly inFlight = new Int32Array(0);
  readonly responseTimes = null;
  readonly passHostHeader = true;
  readonly timeouts = NO_TIMEOUTS;
  readonly health = null;
  readonly admission = null;

  constructor(name: string, answer: DirectResponse) {
    this.name = name;
    this.fixedAnswer = answer;
  }

  available(): boolean {
    return true;
  }

  resolve(): ServiceRuntime {
    return this;
  }

  pick(): number {
    return -1;
  }
}

/** A weighted child's request headers (Traefik's WRRService.Headers), as name/value pairs. */
export type ChildHeaders = readonly (readonly [string, string])[] | null;

/**
 * The acceptance test of a parent over `children`: with `healthCheck` on the parent, the children
 * with a usable server; without, none (every child gets its share, and one with no usable server
 * answers 503), as Traefik's balancers take their children's status only through the updaters
 * a parent with `healthCheck` registers (pkg/server/service/service.go getWRRServiceHandler,
 * getHRWServiceHandler: `if config.HealthCheck == nil { continue }`).
 */
function childrenAccept(
  children: readonly ServiceNode[],
  healthCheck: boolean,
): ((i: number) => boolean) | undefined {
  return healthCheck ? (i) => children[i]!.available() : undefined;
}

/**
 * The status of a parent over `children` as its own parent sees it: up while a child is, and up
 * with no child at all, as Traefik's wrr and hrw balancers report only a change of status and one
 * without children never has one (SetStatus).
 */
function childrenAvailable(children: readonly ServiceNode[]): boolean {
  if (children.length === 0) return true;
  for (const c of children) if (c.available()) return true;
  return false;
}

/**
 * Weighted services (canary, A/B): smooth WRR over the children (with `healthCheck`, those that
 * are available). `headers` (null when no child has any): per child, set on the request when it
 * is picked, as Traefik's getServiceHandler wraps such a child (req.Header.Set of each).
 */
export class WeightedNode implements ServiceNode {
  readonly name: string;
  readonly #children: readonly ServiceNode[];
  readonly #picker: SmoothWeightedRoundRobinPicker;
  readonly #sticky: StickyCookie | null;
  /** Undefined without `healthCheck`: the pick takes any child, as Traefik's wrr.Balancer. */
  readonly #accept: ((i: number) => boolean) | undefined;
  readonly #headers: readonly ChildHeaders[] | null;

  constructor(
    name: string,
    children: readonly ServiceNode[],
    weights: readonly number[],
    sticky: StickyCookie | null,
    headers: readonly ChildHeaders[] | null = null,
    healthCheck = true,
  ) {
    this.name = name;
    this.#children = children;
    // Traefik shuffles a weighted service's children when it builds it (service.go `shuffle`).
    this.#picker = shuffledStart(
      new SmoothWeightedRoundRobinPicker(toWeights(weights.map((weight) => ({ weight })))),
    );
    this.#sticky = sticky;
    this.#accept = childrenAccept(children, healthCheck);
    this.#headers = headers;
  }

  available(): boolean {
    return childrenAvailable(this.#children);
  }

  resolve(req: RequestHead, sink: ResolveSink): ServiceRuntime | undefined {
    const sticky = this.#sticky;
    if (sticky !== null) {
      const found = sticky.lookup(req.headers.get('cookie'));
      const c = found >> 1;
      const accept = this.#accept;
      if (found >= 0 && (accept === undefined || accept(c))) {
        if ((found & 1) === 1) sink.addSetCookie(sticky.setCookieLine(c));
        return this.#child(c, req, sink);
      }
    }
    const i = this.#picker.pick(this.#accept);
    if (i < 0) return undefined;
    if (sticky !== null) sink.addSetCookie(sticky.setCookieLine(i));
    return this.#child(i, req, sink);
  }

  #child(i: number, req: RequestHead, sink: ResolveSink): ServiceRuntime | undefined {
    const h = this.#headers?.[i];
    if (h !== undefined && h !== null) for (const [n, v] of h) req.headers.set(n, v);
    return this.#children[i]!.resolve(req, sink);
  }
}

/** Traefik's highestRandomWeight service: rendezvous hashing of the client IP over services. */
export class HighestRandomWeightNode implements ServiceNode {
  readonly name: string;
  readonly #children: readonly ServiceNode[];
  readonly #hasher: RendezvousHasher;
  /** Undefined without `healthCheck`: any child, as Traefik's hrw.Balancer. */
  readonly #accept: ((i: number) => boolean) | undefined;

  constructor(
    name: string,
    children: readonly ServiceNode[],
    weights: readonly number[],
    healthCheck = true,
  ) {
    this.name = name;
    this.#children = children;
    this.#hasher = new RendezvousHasher(
      children.map((c) => c.name),
      weights,
    );
    this.#accept = childrenAccept(children, healthCheck);
  }

  available(): boolean {
    return childrenAvailable(this.#children);
  }

  resolve(req: RequestHead, sink: ResolveSink): ServiceRuntime | undefined {
    const i = this.#hasher.pick(req.clientIp, this.#accept);
    return i < 0 ? undefined : this.#children[i]!.resolve(req, sink);
  }
}

/**
 * What a failover answers when neither side may take the request (Traefik's failover.go
 * ServeHTTP: http.Error(w, http.StatusText(503), 503)).
 */
const FAILOVER_DOWN = goHttpError(503, 'Service Unavailable');

/**
 * Failover: the main service while it reports a usable server, else the fallback (Traefik's
 * failover.go ServeHTTP on handlerStatus). `followsMain` false (a main that cannot report its
 * health, built only with `errors.status`: getFailoverServiceHandler ignores the refused
 * registration): the main's status stays up and only its answers send a request to the fallback.
 * `followsFallback` (the failover has `healthCheck`: getFailoverServiceHandler registers with the
 * fallback only then): a fallback that reports down is not used either, and the failover answers
 * 503 `Service Unavailable` itself; without, the fallback always takes what the main does not.
 */
export class FailoverServiceNode implements FailoverNode {
  readonly name: string;
  readonly fallback: ServiceNode;
  readonly statusCodes: readonly StatusRange[];
  readonly errors: FailoverErrors | null;
  readonly #main: ServiceNode;
  readonly #followsMain: boolean;
  /** The failover's own answer, with `healthCheck` only (null: the fallback is always taken). */
  readonly #down: StatusNode | null;

  constructor(
    name: string,
    main: ServiceNode,
    fallback: ServiceNode,
    statusCodes: readonly StatusRange[],
    errors: FailoverErrors | null = null,
    followsMain = true,
    followsFallback = false,
  ) {
    this.name = name;
    this.#main = main;
    this.fallback = fallback;
    this.statusCodes = statusCodes;
    this.errors = errors;
    this.#followsMain = followsMain;
    this.#down = followsFallback ? new StatusNode(name, FAILOVER_DOWN) : null;
  }

  available(): boolean {
    return !this.#followsMain || this.#main.available() || this.fallback.available();
  }

  resolve(req: RequestHead, sink: ResolveSink): ServiceRuntime | undefined {
    const follows = this.#followsMain;
    if (!follows || this.#main.available()) {
      if (this.statusCodes.length > 0) sink.failoverThrough(this);
      const lb = this.#main.resolve(req, sink);
      // Stopped at the main service's middlewares: the exchange runs them, then goes on below.
      // Not following the main's health: its own answer (Traefik calls the main handler).
      if (lb !== undefined || sink.serviceStep !== null || !follows) return lb;
      // Reported up with nothing to pick (a weighted service without children): Traefik's main
      // handler answers 503 `no available server`, which only `errors` listing 503 sends on.
      if (this.errors === null || !inRanges(this.statusCodes, 503)) return undefined;
    }
    return this.resolveFallback(req, sink);
  }

  resolveFallback(req: RequestHead, sink: ResolveSink): ServiceRuntime | undefined {
    const down = this.#down;
    if (down !== null && !this.fallback.available()) return down;
    return this.fallback.resolve(req, sink);
  }
}

/** Counts requests and takes `percent` of them, evenly spread (Traefik counts the same way). */
export class PercentMirror implements MirrorTarget {
  readonly node: ServiceNode;
  readonly name: string;
  readonly #percent: number;
  #total = 0;
  #sent = 0;

  /** Service middlewares below it (Traefik v3.7): its copies run them (MirrorState). */
  readonly stepped: boolean;

  constructor(node: ServiceNode, percent: number, stepped = false) {
    this.node = node;
    this.name = node.name;
    this.#percent = percent;
    this.stepped = stepped;
  }

  take(): boolean {
    this.#total++;
    if (this.#sent * 100 < this.#percent * this.#total) {
      this.#sent++;
      return true;
    }
    return false;
  }
}

export class MirroringServiceNode implements MirroringNode {
  readonly name: string;
  readonly mirrors: readonly MirrorTarget[];
  readonly mirrorBody: boolean;
  readonly maxBodySize: number;
  readonly comparator: MirrorComparator | null;
  readonly compareHeaders: readonly string[];
  readonly compareBody: boolean;
  readonly #main: ServiceNode;

  constructor(
    name: string,
    main: ServiceNode,
    mirrors: readonly MirrorTarget[],
    opts: {
      mirrorBody: boolean;
      maxBodySize: number;
      comparator: MirrorComparator | null;
      compareHeaders: readonly string[];
      compareBody: boolean;
    },
  ) {
    this.name = name;
    this.#main = main;
    this.mirrors = mirrors;
    this.mirrorBody = opts.mirrorBody;
    this.maxBodySize = opts.maxBodySize;
    this.comparator = opts.comparator;
    this.compareHeaders = opts.compareHeaders;
    this.compareBody = opts.compareBody;
  }

  available(): boolean {
    return this.#main.available();
  }

  resolve(req: RequestHead, sink: ResolveSink): ServiceRuntime | undefined {
    if (this.mirrors.length > 0) sink.mirrorThrough(this);
    return this.#main.resolve(req, sink);
  }
}

/**
 * A service with middlewares of its own, or a child reference with some (Traefik v3.7: Service.
 * Middlewares, WRRService/HRWService.Middlewares, Failover.Middlewares and FallbackMiddlewares,
 * Mirroring.Middlewares; pkg/server/service/service.go wrapMiddlewares). Traefik wraps the
 * service's handler with them, so they run once the services above chose this one. Resolving
 * stops here: the sink (the exchange) records this step, runs them after the route's (and the
 * steps' above), then resolves `inner`. Requests whose tree has no such node never meet it.
 */
export class ServiceMiddlewareNode implements ServiceNode, ServiceStep {
  readonly name: string;
  readonly inner: ServiceNode;
  readonly #derive: (route: RouteTarget, step: ServiceMiddlewareNode) => RouteTarget;
  readonly #chain: (step: ServiceMiddlewareNode) => readonly Middleware[];
  /** Per route reaching it, the target made for it: built on first use, once per snapshot. */
  readonly #targets = new Map<RouteTarget, RouteTarget>();

  constructor(
    inner: ServiceNode,
    derive: (route: RouteTarget, step: ServiceMiddlewareNode) => RouteTarget,
    chain: (step: ServiceMiddlewareNode) => readonly Middleware[] = () => [],
  ) {
    this.name = inner.name;
    this.inner = inner;
    this.#derive = derive;
    this.#chain = chain;
  }

  /** The middlewares as built for this service (a mirror's copy runs their request phase). */
  get middlewares(): readonly Middleware[] {
    return this.#chain(this);
  }

  available(): boolean {
    return this.inner.available();
  }

  resolve(_req: RequestHead, sink: ResolveSink): ServiceRuntime | undefined {
    sink.serviceMiddlewares(this);
    return undefined;
  }

  targetAfter(route: RouteTarget): RouteTarget {
    let t = this.#targets.get(route);
    if (t === undefined) {
      t = this.#derive(route, this);
      this.#targets.set(route, t);
    }
    return t;
  }
}

/**
 * The service of a target made past service middlewares: resolves what is below them, under the
 * name of the router's own service (its metrics labels, its 503 message stay the router's).
 */
export class BelowMiddlewaresNode implements ServiceNode {
  readonly name: string;
  readonly #inner: ServiceNode;

  constructor(name: string, inner: ServiceNode) {
    this.name = name;
    this.#inner = inner;
  }

  available(): boolean {
    return this.#inner.available();
  }

  resolve(req: RequestHead, sink: ResolveSink): ServiceRuntime | undefined {
    return this.#inner.resolve(req, sink);
  }
}
