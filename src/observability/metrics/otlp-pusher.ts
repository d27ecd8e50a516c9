/**
 * Pushes the metrics to an OTLP collector (HTTP with protobuf bodies, or gRPC) every
 * `pushInterval` and once more at shutdown,
 * as Traefik's periodic reader does (pkg/observability/metrics/otel.go newOpenTelemetryMeterProvider:
 * sdkmetric.NewPeriodicReader WithInterval(pushInterval); StopOpenTelemetry shuts the provider
 * down, which exports a last time). Off the request path: a timer renders the registry, converts
 * and sends. One push at a time, no retries: a collector that is down costs one failed POST per
 * interval, and the next push carries the cumulative figures anyway.
 */
import type { Logger } from '../../core/logger.ts';
import { type OtlpSender, otlpUrl, WarnLimiter } from '../otlp-http.ts';
import { encodeExportRequest } from '../otlp-proto.ts';
import { createSender, type OtlpExportTarget } from '../otlp-transport.ts';
import { encodeResource, type OtlpResource } from '../tracing/otlp-json.ts';
import { encodeMetrics, type FamilyFilter } from './otlp-metrics.ts';
import { PeriodicPush } from './periodic-push.ts';

export interface OtlpPusherOptions extends OtlpExportTarget {
  readonly serviceName: string;
  readonly resourceAttributes: Readonly<Record<string, string | number>>;
  readonly pushIntervalMs: number;
  /** The meter's version (ours, as service.version). */
  readonly scopeVersion?: string;
  readonly filter: FamilyFilter;
  /** The exposition to convert (the workers' summed one on a control plane). */
  readonly render: () => string | Promise<string>;
  /** otlpmetrichttp's and otlpmetricgrpc's default timeout. */
  readonly timeoutMs?: number;
}

/** The URL posted to (otlpUrl): the endpoint's path, else otlpmetrichttp's /v1/metrics. */
export function metricsUrl(endpoint: string): string {
  return otlpUrl(endpoint, '/v1/metrics');
}

export class OtlpMetricsPusher {
  readonly #opts: OtlpPusherOptions;
  readonly #client: OtlpSender;
  readonly #warnings: WarnLimiter;
  readonly #resource: OtlpResource;
  readonly #startEpochMs = performance.timeOrigin;
  readonly #loop: PeriodicPush;
  #pushed = 0;
  #failed = 0;

  /** Throws when a gRPC endpoint is not `host:port` (createSender). */
  constructor(opts: OtlpPusherOptions, logger: Logger) {
    this.#opts = opts;
    this.#client = createSender('metrics', opts, opts.timeoutMs ?? 10_000, logger);
    this.#warnings = new WarnLimiter(logger);
    const attrs = opts.resourceAttributes;
    // Traefik applies the resource attributes after the service name: they may override it.
    this.#resource = encodeResource(String(attrs['service.name'] ?? opts.serviceName), attrs);
    this.#loop = new PeriodicPush(opts.pushIntervalMs, () => this.#send());
  }

  get pushed(): number {
    return this.#pushed;
  }

  get failed(): number {
    return this.#failed;
  }

  /** One export now (after the one in flight, if any). Never rejects. */
  push(): Promise<void> {
    return this.#loop.push();
  }

  /** Stops the timer and pushes a last time. */
  async close(): Promise<void> {
    this.#client.stopRetrying?.();
    this.#loop.stop();
    await this.push();
    this.#client.close();
  }

  async #send(): Promise<void> {
    let body: Uint8Array;
    try {
      const request = encodeMetrics(await this.#opts.render(), {
        resource: this.#resource,
        filter: this.#opts.filter,
        startEpochMs: this.#startEpochMs,
        nowEpochMs: Date.now(),
        scopeVersion: this.#opts.scopeVersion,
      });
      body = encodeExportRequest('metrics', request);
    } catch (err) {
      this.#warn({ error: err });
      return;
    }
    const failure = await this.#client.send(body);
    if (failure === null) this.#pushed++;
    else this.#warn(failure);
  }

  #warn(fields: Record<string, unknown>): void {
    this.#failed++;
    this.#warnings.warn('export', 'metrics: OTLP export failed', {
      endpoint: this.#client.url,
      failedTotal: this.#failed,
      ...fields,
    });
  }
}
