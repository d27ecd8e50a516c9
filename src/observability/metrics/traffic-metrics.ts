import { systemClock } from '../../core/clock.ts';
import {
  byCodePoint,
  escapeLabelValue,
  formatValue,
  isValidLabelName,
  isValidMetricName,
} from './exposition.ts';
import { FamilySet } from './family-set.ts';
import { HeaderLabels } from './header-labels.ts';
import { processCollector } from './process-collector.ts';
import { normalizeBuckets } from './request-cells.ts';
import { RequestGroup, type RequestLevel } from './request-group.ts';
import { BoundRequestSeries } from './request-series.ts';
import type { SemConvMetrics } from './semconv.ts';
import { TlsPairs } from './tls-labels.ts';
import { TunnelMetrics } from './tunnel-metrics.ts';
import type {
  Collector,
  EntryPointSeries,
  MetricsOptions,
  MetricWriter,
  RequestSeries,
  WallClock,
} from './types.ts';

interface SeriesEntry {
  readonly series: BoundRequestSeries;
  readonly router: string;
  readonly routerService: string;
  readonly service: string | null;
}

/** The routers and services a configuration has (metrics labels: qualified names). */
export interface LiveNames {
  readonly routers: ReadonlySet<string>;
  readonly services: ReadonlySet<string>;
}

class OpenConnections implements EntryPointSeries {
  open = 0;

  connectionOpened(): void {
    this.open++;
  }

  connectionClosed(): void {
    this.open--;
  }
}

/** The labels of Traefik's request families, which a header label may not take. */
export const RESERVED_LABELS: ReadonlySet<string> = new Set([
  'code',
  'method',
  'protocol',
  'entrypoint',
  'router',
  'service',
]);

/** Traefik's metric name prefix (pkg/metrics: `traefik_`): what Grafana dashboards for Traefik query. */
export const TRAEFIK_PREFIX = 'traefik';

/**
 * Prometheus metrics for the proxy, with Traefik's names and labels for what Traefik exposes
 * (pkg/metrics/prometheus.go: `traefik_entrypoint_*`, `traefik_router_*`, `traefik_service_*`,
 * `traefik_open_connections`; the rest come from collectors) and ours (`traffic_*` by default)
 * for what Traefik does not have. Per-request work goes through series bound in advance
 * (`requestSeries`, `entryPoint`), which only add to typed arrays; everything with strings,
 * maps and sorting happens in `render`, at scrape time.
 */
/** The request levels a registry counts (TrafficMetrics.levels). */
export interface MetricLevels {
  readonly entryPoints: boolean;
  readonly routers: boolean;
  readonly services: boolean;
}

export class TrafficMetrics {
  readonly #prefix: string;
  readonly #bounds: Float64Array;
  readonly #entryPoints: RequestGroup | null;
  readonly #routers: RequestGroup | null;
  readonly #services: RequestGroup | null;
  readonly #series = new Map<string, SeriesEntry>();
  /** The (TLS version, cipher) pairs of HTTPS requests, and each TLS connection's. */
  readonly #tlsPairs = new TlsPairs();
  /** Traefik's headerLabels, or null when none is configured. */
  readonly #headerLabels: HeaderLabels | null;
  readonly #connections = new Map<string, OpenConnections>();
  readonly #collectors: Collector[] = [];
  /** What the configuration has now, read after each scrape (pruneAfterScrape). */
  #alive: (() => LiveNames) | null = null;
  #collectorErrors = 0;
  /** WebSockets and other tunnels, per router and service. */
  readonly tunnels: TunnelMetrics;
  /**
   * Traefik's semantic-convention histograms (semconv.ts), with `metrics.otlp` only; null
   * otherwise, and the request path then does not touch them.
   */
  semconv: SemConvMetrics | null = null;

  constructor(opts: MetricsOptions, clock: WallClock = systemClock) {
    const prefix = opts.prefix ?? 'traffic';
    if (!isValidMetricName(prefix)) throw new RangeError(`invalid metrics prefix ${JSON.stringify(prefix)}`);
    this.#prefix = prefix;
    this.#bounds = normalizeBuckets(opts.buckets);
    const headerLabels = opts.headerLabels ?? {};
    for (const name of Object.keys(headerLabels)) {
      if (!isValidLabelName(name) || RESERVED_LABELS.has(name))
        throw new RangeError(`invalid header label name ${JSON.stringify(name)}`);
    }
    this.#headerLabels = Object.keys(headerLabels).length === 0 ? null : new HeaderLabels(headerLabels);
    const group = (level: RequestLevel, enabled: boolean, retries: boolean) =>
      enabled
        ? new RequestGroup(
            { base: `${TRAEFIK_PREFIX}_${level}`, level, retries },
            this.#bounds,
            this.#headerLabels,
          )
        : null;
    this.#entryPoints = group('entrypoint', opts.addEntryPointsLabels, false);
    this.#routers = group('router', opts.addRoutersLabels, false);
    this.#services = group('service', opts.addServicesLabels, true);
    this.levels = {
      entryPoints: this.#entryPoints !== null,
      routers: this.#routers !== null,
      services: this.#services !== null,
    };
    this.tunnels = new TunnelMetrics(prefix);
    this.addCollector((w) => this.tunnels.collect(w));
    if (opts.processMetrics !== false) this.addCollector(processCollector(clock));
  }

  /**
   * Which levels count requests (`addEntryPointsLabels`, `addRoutersLabels`,
   * `addServicesLabels` of any exporter): Traefik's registry IsEpEnabled, IsRouterEnabled,
   * IsSvcEnabled, which also decide where its `Metrics` middleware (and its span) stands.
   */
  readonly levels: MetricLevels;

  /**
   * Pre-bound series for one (entry point, router, service); the same object for the same names.
   * A request no router took (router '') counts on its entry point only, as in Traefik.
   * `routerService` is the router's own service, the `service` label of the router families
   * (Traefik's NewRouterMiddleware); `service` the service whose server took the request (a
   * weighted or failover tree's leaf), or null when none did (a middleware answered, no
   * server): Traefik's service metrics wrap each server's handler
   * (pkg/server/service/service.go getLoadBalancerServiceHandler), so such a request counts on
   * its entry point and router only.
   */
  requestSeries(
    entryPoint: string,
    router: string,
    routerService: string,
    service: string | null = routerService,
  ): RequestSeries {
    // JSON keeps names containing any separator apart; this runs once per route, not per request.
    const key = JSON.stringify([entryPoint, router, routerService, service]);
    let entry = this.#series.get(key);
    if (entry === undefined) {
      const series = new BoundRequestSeries(
        this.#bounds,
        this.#entryPoints?.cell([['entrypoint', entryPoint]]) ?? null,
        router === ''
          ? null
          : (this.#routers?.cell([
              ['router', router],
              ['service', routerService],
            ]) ?? null),
        router === '' || service === null ? null : (this.#services?.cell([['service', service]]) ?? null),
        this.#tlsPairs,
        this.#headerLabels,
      );
      entry = { series, router, routerService, service };
      this.#series.set(key, entry);
    }
    return entry.series;
  }

  /** The open-connections gauge of one entry point; the same object for the same name. */
  entryPoint(name: string): EntryPointSeries {
    let series = this.#connections.get(name);
    if (series === undefined) {
      series = new OpenConnections();
      this.#connections.set(name, series);
    }
    return series;
  }

  /** Runs at every scrape, after the built-in families; a collector that throws is counted and skipped. */
  addCollector(fn: Collector): void {
    this.#collectors.push(fn);
  }

  /**
   * Drops the router and service series whose names are not in `alive` (after a reload removed
   * them), so that configuration churn does not grow the exposition for ever. Series handed out
   * earlier keep working but are no longer rendered; asking again starts them from zero, which
   * Prometheus reads as a counter reset.
   */
  prune(alive: LiveNames): void {
    for (const [key, { router, routerService, service }] of this.#series) {
      // A request no router took counts on its entry point alone, which is never pruned.
      if (router === '') continue;
      if (
        !alive.routers.has(router) ||
        !alive.services.has(routerService) ||
        (service !== null && !alive.services.has(service))
      )
        this.#series.delete(key);
    }
    this.#routers?.prune(
      (cell) => alive.routers.has(cell.labelValues[0]!) && alive.services.has(cell.labelValues[1]!),
    );
    this.#services?.prune((cell) => alive.services.has(cell.labelValues[0]!));
  }

  /**
   * After each scrape, forgets the series of routers and services `alive` no longer names, as
   * Traefik's promState does (pkg/observability/metrics/prometheus.go Collect: series of a
   * removed router or service are deleted once they have been scraped, so that their last
   * values are exported once).
   */
  pruneAfterScrape(alive: () => LiveNames): void {
    this.#alive = alive;
  }

  /** The text exposition format 0.0.4; serve it with CONTENT_TYPE. */
  render(): string {
    const set = new FamilySet();
    this.#entryPoints?.render(set, this.#tlsPairs);
    this.#routers?.render(set, this.#tlsPairs);
    this.#services?.render(set, this.#tlsPairs);
    this.semconv?.render(set);
    if (this.#connections.size > 0) {
      // Traefik v3's name, and v2's (which dashboards made for v2 still query): the same value,
      // client connections (TCP) open on the entry point.
      for (const [name, help] of [
        // Traefik v3's HELP (prometheus.go), and v2's for its name.
        [`${TRAEFIK_PREFIX}_open_connections`, 'How many open connections exist, by entryPoint and protocol'],
        [
          `${TRAEFIK_PREFIX}_entrypoint_open_connections`,
          'How many open connections exist on an entrypoint, partitioned by method and protocol.',
        ],
      ] as const) {
        const lines = set.lines(name, 'gauge', help)!;
        // Sorted by entry point, as client_golang's Gather sorts a family's series.
        for (const [entryPoint, series] of [...this.#connections].sort((a, b) => byCodePoint(a[0], b[0]))) {
          lines.push(
            `${name}{entrypoint="${escapeLabelValue(entryPoint)}",protocol="TCP"} ${formatValue(series.open)}`,
          );
        }
      }
    }
    const writer: MetricWriter = set.writer();
    for (const collector of this.#collectors) {
      try {
        collector(writer);
      } catch {
        this.#collectorErrors++;
      }
    }
    this.#collectorErrors += set.rejected;
    const errors = `${this.#prefix}_metrics_collector_errors_total`;
    set
      .lines(
        errors,
        'counter',
        'Collectors that threw and collector samples refused (bad name, label or type).',
      )
      ?.push(`${errors} ${formatValue(this.#collectorErrors)}`);
    const text = set.render();
    if (this.#alive !== null) this.prune(this.#alive());
    return text;
  }
}
