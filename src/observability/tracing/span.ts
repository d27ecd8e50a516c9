import { formatTraceparent } from './trace-context.ts';

/** A string array is OTel's string-slice attribute (captured header values). */
export type AttributeValue = string | number | boolean | readonly string[];

/** OTLP's SpanKind values. */
export const SPAN_INTERNAL = 1;
export const SPAN_SERVER = 2;
export const SPAN_CLIENT = 3;
export type SpanKind = typeof SPAN_INTERNAL | typeof SPAN_SERVER | typeof SPAN_CLIENT;

/** What the caller gets per span (see Tracer.startSpan, Tracer.childSpan). */
export interface RequestSpan {
  readonly sampled: boolean;
  /** The traceparent to send upstream: same trace id, this span's id as parent, sampled flag. */
  readonly traceparent: string;
  readonly tracestate: string | undefined;
  readonly traceId: string;
  readonly spanId: string;
  setAttribute(key: string, value: AttributeValue): void;
  /**
   * Ends the span with an HTTP status (0 = connection broken), which sets its status as Traefik's
   * CaptureResponse does for its kind (pkg/observability/tracing/tracing.go): a SERVER span is an
   * error for 5xx, a CLIENT span for 4xx and 5xx, both for a code outside 100-599; an INTERNAL
   * span gets no status (`status` < 0). Unsampled spans do nothing.
   */
  end(endEpochMs: number, status: number): void;
  /** Ends the span now, with no HTTP status (a call whose answer is not recorded). */
  close(): void;
  /**
   * Traefik's observability.SetStatusErrorf (OTel SetStatus(Error, message)): an error status
   * that the HTTP status at `end` does not clear (OTel never lowers Error to Unset).
   */
  setError(message: string): void;
}

/** An ended, sampled span as the exporter encodes it. */
export interface FinishedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly tracestate: string | undefined;
  readonly name: string;
  readonly kind: SpanKind;
  /** The parent came from the client's traceparent (not a span of ours). */
  readonly remoteParent: boolean;
  readonly startEpochMs: number;
  readonly endEpochMs: number;
  /** OTLP status: error, with its message ('' for none). */
  readonly error: boolean;
  readonly message: string;
  /** Flat key, value, key, value… */
  readonly attributes: readonly AttributeValue[];
}

export interface SpanSink {
  enqueue(span: FinishedSpan): void;
}

/** OTel's default span attribute count limit: a runaway caller cannot grow a span without bound. */
const MAX_ATTRIBUTES = 128;
const NO_ATTRIBUTES: readonly AttributeValue[] = Object.freeze([]);

/**
 * One object per request and nothing else: attributes live in one flat array (a handful of
 * entries, so a linear scan for duplicates beats a Map), and the span enqueues itself on end.
 */
export class Span implements RequestSpan, FinishedSpan {
  readonly sampled: boolean;
  readonly traceparent: string;
  readonly tracestate: string | undefined;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: SpanKind;
  readonly remoteParent: boolean;
  readonly startEpochMs: number;
  endEpochMs = 0;
  error = false;
  message = '';
  #attributes: AttributeValue[] | null;
  #sink: SpanSink | null;

  constructor(
    sink: SpanSink,
    traceId: string,
    spanId: string,
    parentSpanId: string | undefined,
    tracestate: string | undefined,
    sampled: boolean,
    name: string,
    startEpochMs: number,
    kind: SpanKind = SPAN_SERVER,
    remoteParent = parentSpanId !== undefined,
  ) {
    this.sampled = sampled;
    this.kind = kind;
    this.remoteParent = remoteParent;
    this.traceId = traceId;
    this.spanId = spanId;
    this.parentSpanId = parentSpanId;
    this.tracestate = tracestate;
    this.name = name;
    this.startEpochMs = startEpochMs;
    this.traceparent = formatTraceparent(traceId, spanId, sampled);
    this.#sink = sampled ? sink : null;
    this.#attributes = sampled ? [] : null;
  }

  get attributes(): readonly AttributeValue[] {
    return this.#attributes ?? NO_ATTRIBUTES;
  }

  setAttribute(key: string, value: AttributeValue): void {
    const attrs = this.#attributes;
    if (attrs === null || this.#sink === null) return;
    for (let i = 0; i < attrs.length; i += 2) {
      if (attrs[i] === key) {
        attrs[i + 1] = value;
        return;
      }
    }
    if (attrs.length < MAX_ATTRIBUTES * 2) attrs.push(key, value);
  }

  close(): void {
    this.end(Date.now(), -1);
  }

  setError(message: string): void {
    if (this.#sink === null) return;
    this.error = true;
    this.message = message;
  }

  end(endEpochMs: number, status: number): void {
    const sink = this.#sink;
    if (sink === null) return;
    this.#sink = null;
    this.endEpochMs = endEpochMs;
    const kind = this.kind;
    if (kind !== SPAN_INTERNAL && status >= 0) {
      const attrs = this.#attributes!;
      if (status > 0 && !hasKey(attrs, 'http.response.status_code'))
        attrs.push('http.response.status_code', status);
      if (status === 0) {
        this.error = true;
        this.message = 'connection broken';
      } else if (status < 100 || status >= 600) {
        this.error = true;
        this.message = `Invalid HTTP status code ${status}`;
      } else if (status >= (kind === SPAN_CLIENT ? 400 : 500)) {
        // SetStatus(Error, ""): a message set before (setError) is replaced, as OTel's SDK does.
        this.error = true;
        this.message = '';
      }
      // Else Unset, which leaves an error set before (setError) as it is.
      // No error.type: Traefik's CaptureResponse (pkg/observability/tracing/tracing.go) sets the
      // status and http.response.status_code only.
    }
    sink.enqueue(this);
  }
}

function hasKey(attrs: readonly AttributeValue[], key: string): boolean {
  for (let i = 0; i < attrs.length; i += 2) if (attrs[i] === key) return true;
  return false;
}
