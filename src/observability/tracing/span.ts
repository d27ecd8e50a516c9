import { formatTraceparent } from './trace-context.ts';

/** A string array is OTel's string-slice attribute (captured header values). */
export type AttributeValue = string | number | boolean | readonly string[];

/** What the caller gets per request (see Tracer.startSpan). */
export interface RequestSpan {
  readonly sampled: boolean;
  /** The traceparent to send upstream: same trace id, this span's id as parent, sampled flag. */
  readonly traceparent: string;
  readonly tracestate: string | undefined;
  readonly traceId: string;
  setAttribute(key: string, value: AttributeValue): void;
  /** Ends the span: http status (0 = connection broken), with error status for 5xx/0. Unsampled spans do nothing. */
  end(endEpochMs: number, status: number): void;
}

/** An ended, sampled span as the exporter encodes it. */
export interface FinishedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly tracestate: string | undefined;
  readonly name: string;
  readonly startEpochMs: number;
  readonly endEpochMs: number;
  readonly status: number;
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
  readonly startEpochMs: number;
  endEpochMs = 0;
  status = 0;
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
  ) {
    this.sampled = sampled;
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

  end(endEpochMs: number, status: number): void {
    const sink = this.#sink;
    if (sink === null) return;
    this.#sink = null;
    this.endEpochMs = endEpochMs;
    this.status = status;
    const attrs = this.#attributes!;
    if (status > 0 && !hasKey(attrs, 'http.response.status_code'))
      attrs.push('http.response.status_code', status);
    // OTel HTTP semconv: error.type is the status code for 5xx; a broken connection has no code.
    if ((status === 0 || status >= 500) && !hasKey(attrs, 'error.type')) {
      attrs.push('error.type', status === 0 ? '_OTHER' : String(status));
    }
    sink.enqueue(this);
  }
}

function hasKey(attrs: readonly AttributeValue[], key: string): boolean {
  for (let i = 0; i < attrs.length; i += 2) if (attrs[i] === key) return true;
  return false;
}
