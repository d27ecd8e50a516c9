import type {
  LiveNames,
  MetricLevels,
  RequestSeries,
  TrafficMetrics,
  TunnelMetrics,
} from '../observability/metrics/index.ts';
import type { SemConvMetrics } from '../observability/metrics/semconv.ts';
import type { RouteTarget, RuntimeSnapshot, ServiceRuntime } from '../runtime/types.ts';

const NO_SERVICE = {};

/**
 * The metrics series of one entry point, found per request by object identity (route, then the
 * load balancer it resolved to): two WeakMap lookups, no string is built. A reload brings new
 * route objects, whose series are looked up once and cached; the old ones go with their routes.
 */
export class EntryPointMetrics {
  readonly #metrics: TrafficMetrics;
  readonly #entryPoint: string;
  readonly #byRoute = new WeakMap<RouteTarget, WeakMap<object, RequestSeries>>();
  #noRoute: RequestSeries | null = null;
  /** Traefik's semantic-convention histograms (`metrics.otlp` only), else null. */
  readonly semconv: SemConvMetrics | null;

  constructor(metrics: TrafficMetrics, entryPoint: string) {
    this.#metrics = metrics;
    this.#entryPoint = entryPoint;
    this.semconv = metrics.semconv;
  }

  connectionOpened(): void {
    this.#metrics.entryPoint(this.#entryPoint).connectionOpened();
  }

  connectionClosed(): void {
    this.#metrics.entryPoint(this.#entryPoint).connectionClosed();
  }

  /** The levels the registry counts (the `Metrics` spans of detailed tracing stand there). */
  get levels(): MetricLevels {
    return this.#metrics.levels;
  }

  get tunnels(): TunnelMetrics {
    return this.#metrics.tunnels;
  }

  series(target: RouteTarget | undefined, service: ServiceRuntime | undefined): RequestSeries {
    if (target === undefined) {
      if (this.#noRoute === null) this.#noRoute = this.#metrics.requestSeries(this.#entryPoint, '', '');
      return this.#noRoute;
    }
    let byService = this.#byRoute.get(target);
    if (byService === undefined) {
      byService = new WeakMap();
      this.#byRoute.set(target, byService);
    }
    const key = service ?? NO_SERVICE;
    let s = byService.get(key);
    if (s === undefined) {
      // The router's labels name its own service; the service's, the one whose load balancer took
      // the request, if any (Traefik's router and per-server service metrics handlers).
      s = this.#metrics.requestSeries(
        this.#entryPoint,
        target.router,
        target.service.name,
        service === undefined ? null : service.name,
      );
      byService.set(key, s);
    }
    return s;
  }
}

/**
 * The router and service names a snapshot's requests can be counted under: every route's
 * router (the proxy's own included) and its service, and every built service (the leaves of
 * weighted and failover trees). Read at scrape time only.
 */
export function liveNames(snapshot: RuntimeSnapshot): LiveNames {
  const routers = new Set<string>();
  const services = new Set<string>(snapshot.services.keys());
  for (const target of snapshot.routers.values()) {
    routers.add(target.router);
    services.add(target.service.name);
  }
  return { routers, services };
}
