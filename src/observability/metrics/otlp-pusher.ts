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
  #timer: NodeJS.Timeout | null;
  #inFlight: Promise<void> | null = null;
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
    this.#timer = setInterval(OtlpMetricsPusher.#onTick, opts.pushIntervalMs, this);
    this.#timer.unref();
  }

  get pushed(): number {
    return this.#pushed;
  }

  get failed(): number {
    return this.#failed;
  }

  static #onTick(self: OtlpMetricsPusher): void {
    if (self.#inFlight === null) void self.push();
  }

  /** One export now (after the one in flight, if any). Never rejects. */
  async push(): Promise<void> {
    while (this.#inFlight !== null) await this.#inFlight;
    const p = this.#send().finally(() => {
      this.#inFlight = null;
    });
    this.#inFlight = p;
    await p;
  }

  /** Stops the timer and pushes a last time. */
  async close(): Promise<void> {
    this.#client.stopRetrying?.();
    if (this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
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
