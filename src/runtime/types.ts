import type { DisabledObject } from '../config/dynamic/disabled.ts';
import type { DynamicConfig } from '../config/dynamic/schema.ts';
import type { StatusRange } from '../config/dynamic/status-ranges.ts';
import type { ConfigIssue } from '../config/issues.ts';
import type { RequestHead } from '../core/request.ts';
import type { InFlightState } from '../middleware/in-flight-req.ts';
import type { BufferingSpec, ErrorPageSpec, Middleware, RetryPolicy } from '../middleware/middleware.ts';
import type { MirrorComparator } from '../observability/mirror-compare.ts';
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
  readonly statusCodes: readonly StatusRange[];
}

/** A load balancer over servers: the leaf every service tree ends at. */
export interface ServiceRuntime {
  /** Qualified name, `svc@file`. */
  readonly name: string;
  readonly servers: readonly ServerRuntime[];
  /** Requests in flight per server (same indexes); read by leastConn/p2c pickers. */
  readonly inFlight: Int32Array;
  readonly passHostHeader: boolean;
  readonly timeouts: Timeouts;
  /** Null when the service has no health checks and no slow start. */
  readonly health: ServerHealth | null;
  /** The service's own in-flight limit and queue (`maxInFlight`), or null. */
  readonly admission: InFlightState | null;
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
  /** From the router; each field 0 falls back to the service's. */
  readonly timeouts: Timeouts;
  /** The retry middleware of the chain (the last one wins), or null. */
  readonly retry: RetryPolicy | null;
  /** Per-server guards of the chain; empty for most routes. */
  readonly guards: readonly ServerGuard[];
  /** Some middleware of the chain filters response bodies (onResponseBody): the exchange asks them. */
  readonly bodyPhase: boolean;
  /** The chain's error pages (`errors`), innermost first; null for most routes. */
  readonly errorPages: readonly ErrorPage[] | null;
  /** The chain's `buffering` (the last one wins), or null: the request body is read whole first. */
  readonly buffering: BufferingSpec | null;
}

/** An `errors` middleware of a route, with its service resolved. */
export interface ErrorPage {
  /**
   * How many of the route's `middlewares` come before it: it catches answers from the upstream
   * and from the middlewares at or after this index, and only those before it see its page.
   */
  readonly at: number;
  readonly spec: ErrorPageSpec;
  readonly service: ServiceNode;
}

export interface RouteTable {
  match(entryPoint: string, req: RequestHead): RouteTarget | undefined;
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

/**
 * Everything a request needs, built once per configuration generation and never mutated. A
 * request reads `SnapshotRef.current` once and keeps that snapshot to the end.
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
  /** Built routes by router name. */
  readonly routers: ReadonlyMap<string, RouteTarget>;
  /** When it was swapped in (epoch ms). */
  readonly builtAt: number;
  /** Certificates and TLS options; null when no entry point terminates TLS. */
  readonly tls: SnapshotTls | null;
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

export const EMPTY_SNAPSHOT: RuntimeSnapshot = {
  generation: 0,
  routes: { match: () => undefined, explain: () => [] },
  config: {
    http: { routers: {}, services: {}, middlewares: {}, serversTransports: {} },
    tls: { certificates: [], options: {}, stores: {} },
  },
  issues: [],
  disabled: new Map(),
  services: new Map(),
  middlewares: new Map(),
  routers: new Map(),
  builtAt: 0,
  tls: null,
};
