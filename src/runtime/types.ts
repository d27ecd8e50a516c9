import type { ResponseTimes } from '../balancer/least-time.ts';
import type { DisabledObject } from '../config/dynamic/disabled.ts';
import type { KubernetesObjectRef, KubernetesServiceRef } from '../config/dynamic/kubernetes-meta.ts';
import type { DynamicConfig } from '../config/dynamic/schema.ts';
import type { StatusRange } from '../config/dynamic/status-ranges.ts';
import type { ConfigIssue } from '../config/issues.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import type { InFlightState } from '../middleware/in-flight-req.ts';
import type { BufferingSpec, ErrorPageSpec, Middleware, RetryPolicy } from '../middleware/middleware.ts';
import type { MirrorComparator } from '../observability/mirror-compare.ts';
import type { TcpRouter } from '../router/tcp/index.ts';
import type { ServerPool } from '../upstream/server-pool.ts';
import type { SnapshotTls } from './build-tls.ts';
import type { ServerHealth } from './server-health.ts';

/** One upstream server of a service, with the pool shared across snapshots (ResourceCache). */
export interface ServerRuntime {
  readonly url: string;
  /** host:port as sent in Host when passHostHeader is false. */
  readonly authority: string;
  /** Its HTTP/1.1 connections or HTTP/2 sessions (`http://`, `h2c://`, or `https://` by ALPN). */
  readonly pool: ServerPool;
  /** Position in its load balancer's `servers`. */
  readonly index: number;
  /** Idle limit of a WebSocket through this server (`forwardingTimeouts.tunnelIdleTimeout`); 0 = none. */
  readonly tunnelIdleMs: number;
  /**
   * `preservePath: true`: the server URL's path, which goes before the request's (`joinTargetPath`);
   * '' = none (no `preservePath`, or a URL without a path), the request's path as it is.
   */
  readonly pathPrefix: string;
}

/**
 * The request target sent to a server whose URL's path is kept (`preservePath`): Traefik's
 * `JoinURLPath` (pkg/proxy/httputil/proxy.go, Go's `singleJoiningSlash` on the escaped paths):
 * exactly one slash where the two meet, the request's query after. `prefix` is non-empty and
 * escaped as the URL had it; `target` is origin-form (`/path?query`).
 */
export function joinTargetPath(prefix: string, target: string): string {
  const endsWithSlash = prefix.charCodeAt(prefix.length - 1) === 0x2f;
  const startsWithSlash = target.charCodeAt(0) === 0x2f;
  if (endsWithSlash && startsWithSlash) return prefix + target.slice(1);
  if (!endsWithSlash && !startsWithSlash) return `${prefix}/${target}`;
  return prefix + target;
}

/** Timeouts in milliseconds, 0 = none (router values win over the service's). */
export interface Timeouts {
  readonly totalMs: number;
  readonly perTryMs: number;
}

export const NO_TIMEOUTS: Timeouts = { totalMs: 0, perTryMs: 0 };

/** What resolving a service tree tells the request beyond the load balancer it ends at. */
export interface ResolveSink {
  /** A sticky choice the client's cookie did not name: set this `Set-Cookie: …\r\n` line. */
  addSetCookie(line: string): void;
  /** The request went through a mirroring service. */
  mirrorThrough(node: MirroringNode): void;
  /** The request went through a failover service that also fails over on statuses. */
  failoverThrough(node: FailoverNode): void;
  /**
   * The request reached a service (or a child reference) with middlewares of its own (Traefik
   * v3.7's service middlewares): resolving stops there (`resolve` returns undefined) and the
   * exchange runs them, then goes on below it (`ServiceStep.targetAfter`).
   */
  serviceMiddlewares(step: ServiceStep): void;
  /** The step `serviceMiddlewares` recorded, not yet taken by the exchange; null otherwise. */
  readonly serviceStep: ServiceStep | null;
}

/** A service's middlewares, run after the service selection that led to it. */
export interface ServiceStep {
  /** The target that runs `route`'s middlewares, then these, then resolves what is below. */
  targetAfter(route: RouteTarget): RouteTarget;
  /** What is below the middlewares (a mirror's copy resolves it once they ran). */
  readonly inner: ServiceNode;
  /** The middlewares as built for the service (a mirror's copy runs their request phase). */
  readonly middlewares: readonly Middleware[];
}

/** A service of any kind, built per snapshot. */
export interface ServiceNode {
  /** Qualified name, `svc@file`. */
  readonly name: string;
  /** True when at least one server below can take a request now. */
  available(): boolean;
  /** The load balancer this request ends at, or undefined when nothing below is available. */
  resolve(req: RequestHead, sink: ResolveSink): ServiceRuntime | undefined;
}

export interface MirrorTarget {
  readonly node: ServiceNode;
  readonly name: string;
  /** True when this request should be copied to this mirror (percent, counted). */
  take(): boolean;
  /** Service middlewares are below it (Traefik v3.7): its copies run them. */
  readonly stepped?: boolean;
}

export interface MirroringNode extends ServiceNode {
  readonly mirrors: readonly MirrorTarget[];
  readonly mirrorBody: boolean;
  /** -1 = no limit. */
  readonly maxBodySize: number;
  readonly comparator: MirrorComparator | null;
  readonly compareHeaders: readonly string[];
  readonly compareBody: boolean;
}

export interface FailoverNode extends ServiceNode {
  readonly fallback: ServiceNode;
  /** The statuses of the main service's answer that send the request to the fallback. */
  readonly statusCodes: readonly StatusRange[];
  /**
   * Traefik v3.7's `errors` (pkg/server/service/loadbalancer/failover/failover.go, PR #12596):
   * the body is read whole before the main service gets it (413 past `maxRequestBodyBytes`,
   * < 0 = no limit), any method is replayed, and our own failures of the main service (502,
   * 503, 504) count as its statuses. Null for our `statusCodes` (idempotent requests only).
   */
  readonly errors: FailoverErrors | null;
  /**
   * The fallback's load balancer for this request, or, with the failover's `healthCheck` and a
   * fallback that reports down, the failover's own 503 (Traefik's failover.go ServeHTTP).
   */
  resolveFallback(req: RequestHead, sink: ResolveSink): ServiceRuntime | undefined;
}

export interface FailoverErrors {
  readonly maxRequestBodyBytes: number;
}

/** A load balancer over servers: the leaf every service tree ends at. */
export interface ServiceRuntime {
  /** Qualified name, `svc@file`. */
  readonly name: string;
  readonly servers: readonly ServerRuntime[];
  /** Requests in flight per server (same indexes); read by leastConn/p2c/leasttime pickers. */
  readonly inFlight: Int32Array;
  /** `leasttime`: each server's response-head times, which the exchange records; else null. */
  readonly responseTimes: ResponseTimes | null;
  readonly passHostHeader: boolean;
  readonly timeouts: Timeouts;
  /** Null when the service has no health checks and no slow start. */
  readonly health: ServerHealth | null;
  /** The service's own in-flight limit and queue (`maxInFlight`), or null. */
  readonly admission: InFlightState | null;
  /**
   * What a service without servers answers itself: a weighted child's status (Traefik's
   * WRRService.Status, which its Gateway provider gives a refused backendRef), a failover's 503
   * when its main and fallback are down. Read only when `pick` found none.
   */
  readonly fixedAnswer?: DirectResponse;
  /**
   * The Kubernetes Service its servers come from (a load balancer a Kubernetes provider made):
   * the access log's KubernetesService* fields (Traefik v3.8 PR #12985); null or absent otherwise.
   */
  readonly kubernetes?: KubernetesServiceRef | null;
  /**
   * Chooses a server: the sticky cookie's if it is usable, else the strategy's among usable
   * servers not in `tried` (bit i = server i) that `guard` accepts. -1 when none can take it.
   */
  pick(
    req: RequestHead,
    tried: number,
    guard: ((server: ServerRuntime) => boolean) | null,
    sink: ResolveSink,
  ): number;
}

/** Route-level guard on servers: a per-server circuit breaker. */
export interface ServerGuard {
  accept(server: ServerRuntime): boolean;
  /** One try's outcome (status 0 = network error or timeout). */
  record(server: ServerRuntime, status: number, headMs: number): void;
}

/** Where a matched router sends a request: its middleware chain, then its service. */
export interface RouteTarget {
  readonly router: string;
  readonly middlewares: readonly Middleware[];
  readonly service: ServiceNode;
  /**
   * A parent router's children (Traefik's multi-layer routing), null for most routers: once the
   * middlewares ran, the request is matched against them, and the child's target (whose
   * middlewares begin with these same ones) carries it on. `service` is then PARENT_SERVICE.
   */
  readonly children: ChildRoutes | null;
  /** From the router; each field 0 falls back to the service's. */
  readonly timeouts: Timeouts;
  /**
   * True on a target made for a request whose service tree went through service middlewares
   * (ServiceStep.targetAfter): `service` resolves below them. A retry's attempt starts again from
   * the route that has the retry (RetryState.route), not from this one.
   */
  readonly afterServiceMiddlewares?: true;
  /**
   * The chain's last retry middleware (the innermost: an earlier one's attempts each run it,
   * RetryState.outer), or null.
   */
  readonly retry: RetryPolicy | null;
  /** Per-server guards of the chain; empty for most routes. */
  readonly guards: readonly ServerGuard[];
  /** Some middleware of the chain filters response bodies (onResponseBody): the exchange asks them. */
  readonly bodyPhase: boolean;
  /** The chain's error pages (`errors`), innermost first; null for most routes. */
  readonly errorPages: readonly ErrorPage[] | null;
  /**
   * The chain's last `buffering` (its retryExpression decides on the tries), or null: the request
   * body is read whole before the middlewares after the first one run.
   */
  readonly buffering: BufferingSpec | null;
  /**
   * Each `buffering` of the chain, in order, with its index in `middlewares` (null when there is
   * none, as `buffering`): the first reads the body, each checks its own limit there, as
   * Traefik's buffering middlewares each read it in turn.
   */
  readonly bufferings: readonly BufferingGate[] | null;
  /**
   * Whether its requests are access-logged, counted and traced when those are on (runtime/
   * observe.ts): its router's `observability` and its entry point's, `addInternals` for the
   * proxy's own routers.
   */
  readonly logged: boolean;
  readonly metered: boolean;
  readonly traced: boolean;
  /**
   * The `http.route` of `http.server.request.duration` (metrics.otlp): the rule of the router the
   * entry point matched (a child of multi-layer routing keeps its root's), as Traefik's router
   * manager puts it in the request's context above the router's observability chain
   * (pkg/middlewares/observability/route_context.go WithHTTPRoute, read by semconv.go).
   */
  readonly httpRoute: string;
  /**
   * With `traceVerbosity: detailed` (and `traced`): what the router's, middlewares' and
   * service's spans are called (Traefik's detailed spans); absent otherwise.
   */
  readonly detailed?: DetailedSpans | undefined;
  /**
   * The Ingress or IngressRoute its router was made from (the access log's KubernetesIngress*
   * and KubernetesIngressRoute* fields, Traefik v3.7 PR #12913 and v3.8 PR #12985); absent for
   * every other router.
   */
  readonly kubernetes?: KubernetesObjectRef | undefined;
}

/** The names of a route's detailed spans, worked out when the snapshot is built. */
export interface DetailedSpans {
  /** The router's rule: its span's `http.route`. */
  readonly rule: string;
  /**
   * The spans opened before each of `middlewares` runs (index for index), and after the last
   * (one more entry): the middleware's own, and those of the middlewares before it that have no
   * phase of their own (an `errors`, a `retry`), in the chain's order.
   */
  readonly middlewares: ReadonlyArray<ReadonlyArray<DetailedSpan>>;
}

/**
 * A middleware's span at detailed verbosity: its type's name (the span's) and its qualified name
 * (`traefik.middleware.name`); `retry`: the retry middleware, which makes one span per attempt.
 */
export interface DetailedSpan {
  readonly type: string;
  readonly name: string;
  readonly retry: boolean;
  /** A retry's: its policy (the exchange's RetryState.policy), to tell nested retries apart. */
  readonly policy?: RetryPolicy;
  /**
   * The route's first `buffering`: the spans after it wait until it has read the request's body
   * (RequestTrace.holdForBody), as Traefik's buffering runs what follows it only then.
   */
  readonly hold?: boolean;
}

/** A parent router's children: the child a request (as the parent's middlewares left it) matches. */
export interface ChildRoutes {
  match(entryPoint: string, req: RequestHead): RouteTarget | undefined;
}

/** The service of a parent router's target: never used, the request goes to a child's. */
export const PARENT_SERVICE: ServiceNode = {
  name: '',
  available: () => false,
  resolve: () => undefined,
};

/** An `errors` middleware of a route, with its service resolved. */
export interface ErrorPage {
  /**
   * How many of the route's `middlewares` come before it: it catches answers from the upstream
   * and from the middlewares at or after this index, and only those before it see its page.
   */
  readonly at: number;
  readonly spec: ErrorPageSpec;
  readonly service: ServiceNode;
  /** Detailed tracing: its middleware's span entry (route.detailed), the parent of its calls. */
  readonly span?: DetailedSpan | undefined;
  /**
   * The retry it comes after in the chain (the nearest before it): it is inside each of its
   * attempts, so it fetches its page before that retry (and those it is nested in) sees the
   * status, which then decides on the page's, as Traefik's retry calls the errors middleware per
   * attempt; retries after it decide first (absent: before any retry).
   */
  readonly within?: RetryPolicy;
}

export interface RouteTable {
  /** The route of a request of either scheme (by `req.scheme`). */
  match(entryPoint: string, req: RequestHead): RouteTarget | undefined;
  /**
   * What `match` gives, for a scheme the caller knows: the exchange's entry point context says
   * it, so neither tests `req.scheme` again (the cleartext one is the plain path's only lookup).
   */
  http(entryPoint: string, req: RequestHead): RouteTarget | undefined;
  https(entryPoint: string, req: RequestHead): RouteTarget | undefined;
  /**
   * Every candidate router the index yields for this request, in evaluation order, each with
   * whether its rule matched (the first match is what `match` returns).
   */
  explain(entryPoint: string, req: RequestHead): readonly RouteExplanation[];
}

export interface RouteExplanation {
  readonly name: string;
  readonly priority: number;
  readonly matched: boolean;
}

/** The HTTPS routers of one entry point, as the dispatcher sees them before anything is decrypted. */
export interface HttpsHosts {
  /** Host names their rules require, lower-cased. */
  readonly exact: ReadonlySet<string>;
  /** Parents of their `*.parent` hosts (one label under it). */
  readonly wildcardParents: ReadonlySet<string>;
  /** Suffixes of their `**.suffix` hosts (Traefik v3.8: one label or more under it); null: none. */
  readonly suffixes: readonly string[] | null;
  /** One of them requires no host (PathPrefix alone, HostRegexp…): any server name may reach it. */
  readonly catchAll: boolean;
}

/** How a TCP router treats TLS: none (cleartext), passthrough (bytes as they come), or terminate. */
export type TcpRouteTls =
  | { readonly kind: 'none' }
  | { readonly kind: 'passthrough' }
  /** `options`: the qualified name of its TLS options set. */
  | { readonly kind: 'terminate'; readonly options: string }
  /**
   * Terminates TLS with an options set that does not exist: it keeps its rule and closes what it
   * matches (Traefik's brokenTLSRouter, pkg/server/router/tcp/manager.go addTCPHandlers).
   */
  | { readonly kind: 'broken'; readonly options: string };

/** How connections reach one TCP server (its service's serversTransport). */
export interface TcpTransport {
  /** 0 = no limit. */
  readonly dialTimeoutMs: number;
  /** TCP keep-alive probes on the backend connection after this idle time; -1 = off. */
  readonly keepAliveMs: number;
  /** After one side's FIN, how long the other may keep sending; -1 = as long as it wants. */
  readonly terminationDelayMs: number;
  /** PROXY protocol header sent first: 0 = none, 1 (text) or 2 (binary). */
  readonly proxyProtocol: 0 | 1 | 2;
  /** Close a connection through which nothing passed for this long; 0 = never. */
  readonly idleTimeoutMs: number;
}

/** TLS to one TCP server (`servers[].tls: true`). */
export interface TcpServerTls {
  readonly secureContext: import('node:tls').SecureContext;
  /** SNI and the name checked; undefined for an IP literal without serverName. */
  readonly servername: string | undefined;
  readonly rejectUnauthorized: boolean;
  /** The transport's `tls.peerCertURI` check; undefined = Node's hostname check. */
  readonly checkServerIdentity: import('../upstream/transport-tls.ts').IdentityCheck | undefined;
  /** Go's refusal of the handshake, when Traefik's could not start (build-tcp.ts says when). */
  readonly refusal: string | undefined;
}

/** One server of a TCP load balancer. */
export interface TcpServerRuntime {
  /** `host:port` as configured. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** The load balancer's qualified name. */
  readonly service: string;
  readonly transport: TcpTransport;
  readonly tls: TcpServerTls | null;
  /** Set: the address cannot be dialled (config/dynamic/server-address.ts); every dial fails with this. */
  readonly unusable: string | undefined;
}

/** A TCP service of any kind (load balancer, weighted), built per snapshot. */
export interface TcpServiceNode {
  readonly name: string;
  /** At least one server below may take a connection. */
  available(): boolean;
  /** The server for a new connection; undefined when none is available. */
  pick(): TcpServerRuntime | undefined;
  /**
   * A load balancer's servers, each with whether its health check has it up now (always up
   * without a health check); null for a weighted service. Read by the admin API, not per connection
   * (optional: test doubles of the dispatcher need not have it).
   */
  serverStates?(): readonly { readonly address: string; readonly up: boolean }[] | null;
}

/** A TCP middleware: decides once per connection (ipAllowList, inFlightConn). */
export interface TcpMiddleware {
  /** Whether a connection from `clientIp` may go on; an admitted one is `release`d when it ends. */
  admit(clientIp: string): boolean;
  release?(clientIp: string): void;
  /** What a refused connection is logged with: 403 (not allowed), 429 (too many). */
  readonly refusal: number;
}

/** Where a matched TCP router sends a connection. */
export interface TcpRoute {
  readonly router: string;
  readonly tls: TcpRouteTls;
  readonly middlewares: readonly TcpMiddleware[];
  readonly service: TcpServiceNode;
}

/**
 * What one entry point's connections may be given to, for the dispatcher (listeners/dispatcher):
 * read once per connection, never per request.
 */
export interface EntryPointRoutes {
  /** Cleartext HTTP routes (the configuration's or the proxy's own) exist on it. */
  readonly http: boolean;
  /** Its HTTPS routers; null when it has none. */
  readonly https: HttpsHosts | null;
  /** TCP routers without TLS (``HostSNI(`*`)``, ClientIP): for cleartext connections. */
  readonly tcp: TcpRouter<TcpRoute> | null;
  /** TCP routers with TLS (passthrough or termination): for ClientHellos. */
  readonly tcpTls: TcpRouter<TcpRoute> | null;
  /**
   * Nothing to look at: no HTTPS and no TCP router, so a connection goes to the HTTP codec at once
   * (no peek, no cost beyond today's).
   */
  readonly httpOnly: boolean;
}

/** The layer-4 part of a snapshot: per entry point routes, TCP routers. */
export interface TcpSnapshot {
  /** Cached per entry point name. */
  entryPoint(name: string): EntryPointRoutes;
  /** Built TCP routers by qualified name. */
  readonly routers: ReadonlyMap<string, TcpRoute>;
  /** Built TCP services (those a built router uses) by qualified name, for the admin API. */
  readonly services: ReadonlyMap<string, TcpServiceNode>;
}

/** One server of a UDP load balancer. */
export interface UdpServerRuntime {
  /** `host:port` as configured. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** The load balancer's qualified name. */
  readonly service: string;
  /** Set: the address cannot be dialled (config/dynamic/server-address.ts); sessions end at once. */
  readonly unusable: string | undefined;
}

/** A UDP service (load balancer or weighted), built per snapshot. */
export interface UdpServiceNode {
  readonly name: string;
  /** The server for a new session; undefined when the service has none. */
  pick(): UdpServerRuntime | undefined;
}

/** The router of one UDP entry point and its service. */
export interface UdpRoute {
  readonly router: string;
  readonly service: UdpServiceNode;
}

/** The UDP part of a snapshot: one router per UDP entry point (Traefik's rule). */
export interface UdpSnapshot {
  /** The router serving entry point `name`, or null. */
  entryPoint(name: string): UdpRoute | null;
  readonly routers: ReadonlyMap<string, UdpRoute>;
  /** Built UDP services by qualified name, for the admin API. */
  readonly services: ReadonlyMap<string, UdpServiceNode>;
}

/**
 * Everything a request needs, built once per configuration generation and never mutated. A
 * request reads `SnapshotRef.current` once and keeps that snapshot to the end. The shape is
 * `{ http (routes, routers, services, middlewares), tcp, udp, tls }`; the HTTP fields stay at the
 * top level, where the request path has always read them.
 */
export interface RuntimeSnapshot {
  readonly generation: number;
  readonly routes: RouteTable;
  /** The merged configuration it was built from (names qualified `name@provider`). */
  readonly config: DynamicConfig;
  /**
   * Every issue of the configuration it was built from (names qualified): warnings, and the
   * errors of the objects in `disabled`.
   */
  readonly issues: readonly ConfigIssue[];
  /** Objects left out because of errors, by `section/name@provider` (for the admin API). */
  readonly disabled: ReadonlyMap<string, DisabledObject>;
  /** Built services by qualified name (for the admin API and metrics). */
  readonly services: ReadonlyMap<string, ServiceNode>;
  /** Built middlewares by qualified name (a chain as its flattened members). */
  readonly middlewares: ReadonlyMap<string, readonly Middleware[]>;
  /**
   * The instances each router built of a middleware that keeps state (rateLimit, inFlightReq,
   * circuitBreaker), by middleware then router: a router's chain has its own (Traefik's), and
   * `middlewares` holds the unrouted one, which serves nothing (for metrics).
   */
  readonly middlewareUses: ReadonlyMap<string, ReadonlyMap<string, readonly Middleware[]>>;
  /** Built routes by router name. */
  readonly routers: ReadonlyMap<string, RouteTarget>;
  /** When it was swapped in (epoch ms). */
  readonly builtAt: number;
  /** Certificates and TLS options; null when nothing terminates TLS, or TLS is not loaded yet. */
  readonly tls: SnapshotTls | null;
  /**
   * Some router terminates TLS (an HTTP router with `tls`, on an entry point with `http.tls`, or
   * a TCP router with `tls` and no passthrough), or the configuration has certificates
   * (`tls.certificates`, a default store's default): a proxy started without TLS loads it.
   */
  readonly tlsWanted: boolean;
  /** Entry point dispatch and TCP routers. */
  readonly tcp: TcpSnapshot;
  /** UDP routers by entry point. */
  readonly udp: UdpSnapshot;
}

export class SnapshotRef {
  #current: RuntimeSnapshot;
  constructor(initial: RuntimeSnapshot) {
    this.#current = initial;
  }
  get current(): RuntimeSnapshot {
    return this.#current;
  }
  /** One assignment: requests already running keep the snapshot they started with. */
  swap(next: RuntimeSnapshot): RuntimeSnapshot {
    const prev = this.#current;
    this.#current = next;
    return prev;
  }
}

/** An entry point with HTTP routers only (or none): connections go straight to the HTTP codec. */
export const HTTP_ONLY: EntryPointRoutes = {
  http: true,
  https: null,
  tcp: null,
  tcpTls: null,
  httpOnly: true,
};

export const EMPTY_SNAPSHOT: RuntimeSnapshot = {
  generation: 0,
  routes: { match: () => undefined, http: () => undefined, https: () => undefined, explain: () => [] },
  config: {
    http: { routers: {}, services: {}, middlewares: {}, serversTransports: {} },
    tls: { certificates: [], options: {}, stores: {} },
  },
  issues: [],
  disabled: new Map(),
  services: new Map(),
  middlewares: new Map(),
  middlewareUses: new Map(),
  routers: new Map(),
  builtAt: 0,
  tls: null,
  tlsWanted: false,
  tcp: {
    entryPoint: () => HTTP_ONLY,
    routers: new Map(),
    services: new Map(),
  },
  udp: { entryPoint: () => null, routers: new Map(), services: new Map() },
};

/** A `buffering` middleware in a route's chain: its index in `middlewares`, and its settings. */
export interface BufferingGate {
  readonly at: number;
  readonly spec: BufferingSpec;
}
