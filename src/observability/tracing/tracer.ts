import type { HeaderList } from '../../core/headers.ts';
import type { Logger } from '../../core/logger.ts';
import type { OtlpExportTarget } from '../otlp-transport.ts';
import type { Baggage } from './baggage.ts';
import { IdSource } from './ids.ts';
import { encodeResource } from './otlp-json.ts';
import {
  DEFAULT_PROPAGATION,
  emptyRemoteContext,
  type Propagation,
  type RemoteContext,
} from './propagators.ts';
import { safeQuery, safeQueryNames } from './safe-query.ts';
import { sampleRoot } from './sampler.ts';
import { type RequestSpan, SPAN_CLIENT, Span, type SpanKind } from './span.ts';
import { SpanExporter } from './span-exporter.ts';
import {
  formatTraceparent,
  parseTraceparent,
  type TraceparentFields,
  validTracestate,
} from './trace-context.ts';

export interface TracerOptions extends OtlpExportTarget {
  serviceName: string;
  /** 0..1: the share of traces recorded, a client's included: its sampled flag is not read. */
  sampleRate: number;
  /** Resource attributes, after service.name: a `service.name` here wins, as in Traefik. */
  globalAttributes: Readonly<Record<string, string | number>>;
  /** Default 1000. */
  flushIntervalMs?: number;
  /** Default 512. */
  maxBatch?: number;
  /** Default 4096; spans beyond are dropped and counted. */
  maxQueue?: number;
  /** Default 10000: an export that takes longer is aborted and its batch dropped. */
  exportTimeoutMs?: number;
  /** `tracing.capturedRequestHeaders`: recorded as `http.request.header.<lowercase name>`. */
  capturedRequestHeaders?: readonly string[];
  /** `tracing.capturedResponseHeaders`: recorded as `http.response.header.<lowercase name>`. */
  capturedResponseHeaders?: readonly string[];
  /** `tracing.safeQueryParams`: the query parameters whose values `url.query` keeps. */
  safeQueryParams?: readonly string[];
  /** The propagators of OTEL_PROPAGATORS (parsePropagators); default W3C trace context. */
  propagation?: Propagation;
}

/**
 * Request fields never captured: User-Agent (Traefik skips it: user_agent.original), and those
 * Go's server takes out of r.Header before any handler sees them (net/http readRequest deletes
 * Host, readTransfer Transfer-Encoding), so Traefik's r.Header[name] finds nothing.
 */
const REQUEST_SKIPPED: readonly string[] = ['user-agent', 'host', 'transfer-encoding'];

/** Header names to capture: lowercase field name and its attribute key, computed once. */
interface Captured {
  readonly lname: string;
  readonly key: string;
}

function captured(
  names: readonly string[] | undefined,
  prefix: string,
  skip: readonly string[],
): readonly Captured[] {
  const out: Captured[] = [];
  for (const name of names ?? []) {
    const lname = name.toLowerCase();
    if (skip.includes(lname) || out.some((c) => c.lname === lname)) continue;
    out.push({ lname, key: prefix + lname });
  }
  return out;
}

/** Traefik's attribute for each captured field: all its values, as a string slice. */
function captureHeaders(span: RequestSpan, list: readonly Captured[], headers: HeaderList): void {
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    const values = headers.getAll(c.lname);
    if (values.length > 0) span.setAttribute(c.key, values);
  }
}

function positiveInt(v: number | undefined, dflt: number): number {
  return v !== undefined && Number.isFinite(v) && v >= 1 ? Math.floor(v) : dflt;
}

/** OpenTelemetry tracing for the proxy: one SERVER span per request, W3C propagation, OTLP export. */
export class Tracer {
  readonly #ids = new IdSource();
  readonly #exporter: SpanExporter;
  readonly #rate: number;
  /** What is read from requests and written to calls (OTEL_PROPAGATORS). */
  readonly propagation: Propagation;
  /**
   * What the last `startEntrySpan` found besides the parent (B3 and Jaeger debug/deferred marks),
   * for its calls' `inject`; 0 with W3C trace context alone.
   */
  extractedFlags = 0;
  /** The baggage the last `startEntrySpan` found (other propagators only), for its calls. */
  extractedBaggage: Baggage | null = null;
  readonly #remote: RemoteContext = emptyRemoteContext();
  readonly #random: (() => number) | undefined;
  readonly #parent: TraceparentFields = { traceId: '', parentId: '', sampled: false };
  readonly #requestHeaders: readonly Captured[];
  readonly #responseHeaders: readonly Captured[];
  readonly #safeParams: ReadonlySet<string>;

  /**
   * `random` replaces the trace-id based ratio decision (tests). Throws when a gRPC endpoint is
   * not `host:port` (Traefik then has no tracer).
   */
  constructor(opts: TracerOptions, logger: Logger, random?: () => number) {
    this.#rate = Number.isFinite(opts.sampleRate) ? Math.min(1, Math.max(0, opts.sampleRate)) : 0;
    this.propagation = opts.propagation ?? DEFAULT_PROPAGATION;
    this.#random = random;
    // As Traefik's NewTracer and CaptureServerRequest (pkg/observability/tracing/tracing.go):
    // names match whatever their case; some request fields are never there (REQUEST_SKIPPED).
    this.#requestHeaders = captured(opts.capturedRequestHeaders, 'http.request.header.', REQUEST_SKIPPED);
    this.#responseHeaders = captured(opts.capturedResponseHeaders, 'http.response.header.', []);
    this.#safeParams = safeQueryNames(opts.safeQueryParams);
    const maxBatch = positiveInt(opts.maxBatch, 512);
    this.#exporter = new SpanExporter(
      {
        endpoint: opts.endpoint,
        headers: opts.headers,
        tls: opts.tls,
        grpc: opts.grpc,
        env: opts.env,
        processorTimeoutMs: opts.processorTimeoutMs,
        resource: encodeResource(
          String(opts.globalAttributes['service.name'] ?? opts.serviceName),
          opts.globalAttributes,
        ),
        flushIntervalMs: positiveInt(opts.flushIntervalMs, 1000),
        maxBatch,
        maxQueue: Math.max(positiveInt(opts.maxQueue, 4096), maxBatch),
        timeoutMs: positiveInt(opts.exportTimeoutMs, 10_000),
      },
      logger,
    );
  }

  /**
   * Starts the entry span of a request from its fields, as Traefik's entry point extracts the
   * context with the propagators of OTEL_PROPAGATORS (tracing.ExtractCarrierIntoContext). W3C
   * trace context alone (the default) reads `traceparent`/`tracestate` as `startSpan` always did;
   * other propagators go through the composite's extraction. Sets `extractedFlags`.
   */
  startEntrySpan(headers: HeaderList, name: string, startEpochMs: number): RequestSpan {
    const p = this.propagation;
    if (!p.others) {
      this.extractedFlags = 0;
      this.extractedBaggage = null;
      return p.w3c
        ? this.startSpan(headers.get('traceparent'), headers.get('tracestate'), name, startEpochMs)
        : this.startSpan(undefined, undefined, name, startEpochMs);
    }
    const r = this.#remote;
    const found = p.extract(headers, r);
    this.extractedFlags = r.flags;
    this.extractedBaggage = r.baggage;
    if (found)
      return new Span(
        this.#exporter,
        r.traceId,
        this.#ids.spanId(),
        r.parentId,
        r.tracestate,
        r.sampled,
        name,
        startEpochMs,
      );
    return this.startSpan(undefined, undefined, name, startEpochMs);
  }

  /**
   * Starts the server span of one request. `traceparent`/`tracestate` as received, or undefined.
   * Never throws on garbage input: an invalid traceparent starts a new trace and its tracestate is
   * ignored (W3C §3.3: tracestate means nothing without a valid traceparent).
   */
  startSpan(
    traceparent: string | undefined,
    tracestate: string | undefined,
    name: string,
    startEpochMs: number,
  ): RequestSpan {
    const p = this.#parent;
    if (parseTraceparent(traceparent, p)) {
      // Parent-based, as Traefik's sampler (pkg/observability/types/tracing.go Setup, v3.6:
      // ParentBased(TraceIDRatioBased(sampleRate))): the caller's decision stands, both ways.
      return new Span(
        this.#exporter,
        p.traceId,
        this.#ids.spanId(),
        p.parentId,
        validTracestate(tracestate),
        p.sampled,
        name,
        startEpochMs,
      );
    }
    const traceId = this.#ids.traceId();
    const sampled = sampleRoot(traceId, this.#rate, this.#random);
    return new Span(
      this.#exporter,
      traceId,
      this.#ids.spanId(),
      undefined,
      undefined,
      sampled,
      name,
      startEpochMs,
    );
  }

  /**
   * A span of ours under `parent` (sampled only: an unsampled trace has no span to record, and
   * its only id anyone sees is the one sent to the server, see `unsampledTraceparent`).
   */
  childSpan(parent: RequestSpan, name: string, kind: SpanKind, startEpochMs: number): RequestSpan {
    return new Span(
      this.#exporter,
      parent.traceId,
      this.#ids.spanId(),
      parent.spanId,
      parent.tracestate,
      parent.sampled,
      name,
      startEpochMs,
      kind,
      false,
    );
  }

  /** A CLIENT span for one call to a server (Traefik's ReverseProxy span). */
  clientSpan(parent: RequestSpan, startEpochMs: number): RequestSpan {
    return this.childSpan(parent, 'ReverseProxy', SPAN_CLIENT, startEpochMs);
  }

  /**
   * The traceparent a server gets under an unsampled `parent`: a new span id (the one its client
   * span would have, as OTel's SDK gives a non-recording span one), not sampled. Nothing else is
   * made for an unsampled call.
   */
  unsampledTraceparent(parent: RequestSpan): string {
    return formatTraceparent(parent.traceId, this.#ids.spanId(), false);
  }

  /** The request's captured fields on a sampled span (Traefik's CaptureServerRequest). */
  captureRequest(span: RequestSpan, headers: HeaderList): void {
    if (span.sampled && this.#requestHeaders.length > 0) captureHeaders(span, this.#requestHeaders, headers);
  }

  /** `url.query`: the values of parameters not in `safeQueryParams` redacted (Traefik's safeURL). */
  safeQuery(rawQuery: string): string {
    return safeQuery(rawQuery, this.#safeParams);
  }

  /** The response's captured fields, as it goes to the client (Traefik's CaptureResponse). */
  captureResponse(span: RequestSpan, headers: HeaderList): void {
    if (span.sampled && this.#responseHeaders.length > 0)
      captureHeaders(span, this.#responseHeaders, headers);
  }

  /** Exports every span ended so far. Never rejects. */
  flush(): Promise<void> {
    return this.#exporter.flush();
  }

  /** Flushes and stops the timer; spans ended afterwards are dropped. */
  close(): Promise<void> {
    return this.#exporter.close();
  }

  /** Spans lost: queue full, export failed, or ended after close(). */
  get dropped(): number {
    return this.#exporter.dropped;
  }

  /** Spans the collector accepted. */
  get exported(): number {
    return this.#exporter.exported;
  }
}
