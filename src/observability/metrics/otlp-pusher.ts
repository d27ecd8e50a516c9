/**
 * Pushes the metrics to an OTLP/HTTP collector every `pushInterval` and once more at shutdown,
 * as Traefik's periodic reader does (pkg/observability/metrics/otel.go newOpenTelemetryMeterProvider:
 * sdkmetric.NewPeriodicReader WithInterval(pushInterval); StopOpenTelemetry shuts the provider
 * down, which exports a last time). Off the request path: a timer renders the registry, converts
 * and POSTs. One push at a time, no retries: a collector that is down costs one failed POST per
 * interval, and the next push carries the cumulative figures anyway.
 */
import type { Logger } from '../../core/logger.ts';
import { encodeResource } from '../tracing/otlp-json.ts';
import { encodeMetrics, type FamilyFilter } from './otlp-metrics.ts';

export interface OtlpPusherOptions {
  /** `metrics.otlp.http.endpoint` as configured. */
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly pushIntervalMs: number;
  readonly filter: FamilyFilter;
  /** The exposition to convert (the workers' summed one on a control plane). */
  readonly render: () => string | Promise<string>;
  /** otlpmetrichttp's default timeout. */
  readonly timeoutMs?: number;
}

/** One warning per minute at most: a collector outage must not flood the log. */
const WARN_INTERVAL_MS = 60_000;

/**
 * The URL posted to: otlpmetrichttp takes the endpoint's host and, when it has one, its path
 * (WithURLPath); without a path it posts to /v1/metrics. Plain `http` is WithInsecure.
 */
export function metricsUrl(endpoint: string): string {
  const u = new URL(endpoint);
  const hasPath = !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(?:[?#].*)?$/i.test(endpoint);
  return `${u.protocol}//${u.host}${hasPath ? u.pathname : '/v1/metrics'}`;
}

export class OtlpMetricsPusher {
  readonly #opts: OtlpPusherOptions;
  readonly #logger: Logger;
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #resource: string;
  readonly #startEpochMs = performance.timeOrigin;
  #timer: NodeJS.Timeout | null;
  #inFlight: Promise<void> | null = null;
  #lastWarn = Number.NEGATIVE_INFINITY;
  #pushed = 0;
  #failed = 0;

  constructor(opts: OtlpPusherOptions, logger: Logger) {
    this.#opts = opts;
    this.#logger = logger;
    this.#url = metricsUrl(opts.endpoint);
    this.#headers = { ...opts.headers, 'content-type': 'application/json' };
    const attrs = opts.resourceAttributes;
    // Traefik applies the resource attributes after the service name: they may override it.
    this.#resource = encodeResource(attrs['service.name'] ?? opts.serviceName, attrs);
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
    if (this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
    await this.push();
  }

  async #send(): Promise<void> {
    try {
      const exposition = await this.#opts.render();
      const body = encodeMetrics(exposition, {
        resource: this.#resource,
        filter: this.#opts.filter,
        startEpochMs: this.#startEpochMs,
        nowEpochMs: Date.now(),
      });
      const res = await fetch(this.#url, {
        method: 'POST',
        headers: this.#headers,
        body,
        signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 10_000),
      });
      // Read the body so that the connection goes back to fetch's pool.
      await res.arrayBuffer();
      if (res.ok) {
        this.#pushed++;
        return;
      }
      this.#warn({ status: res.status });
    } catch (err) {
      this.#warn({ error: err instanceof Error ? (err.cause ?? err) : err });
    }
  }

  #warn(fields: Record<string, unknown>): void {
    this.#failed++;
    const now = Date.now();
    if (now - this.#lastWarn < WARN_INTERVAL_MS) return;
    this.#lastWarn = now;
    this.#logger.warn('metrics: OTLP export failed', {
      endpoint: this.#url,
      failedTotal: this.#failed,
      ...fields,
    });
  }
}
