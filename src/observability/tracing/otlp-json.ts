/**
 * Ended spans as an ExportTraceServiceRequest in the protobuf JSON mapping's shape (ids as hex
 * strings, 64-bit integers as decimal strings, enums as numbers): the tree otlp-proto.ts writes
 * in protobuf, and JSON.stringify would write as OTLP/HTTP JSON.
 */
import type { AttributeValue, FinishedSpan } from './span.ts';

/**
 * The instrumentation scope of our spans and metrics: Traefik's tracer and meter name
 * (pkg/observability/types/tracing.go Setup, metrics/otel.go otel.Meter), which backends show as
 * otel.scope.name.
 */
export const SCOPE_NAME = 'github.com/traefik/traefik';

const STATUS_CODE_UNSET = 0;
const STATUS_CODE_ERROR = 2;
// SpanFlags: the low byte is the W3C trace flags; 0x100 says whether the parent is remote is known,
// 0x200 that it is.
const FLAGS_SAMPLED = 0x01;
const FLAGS_HAS_IS_REMOTE = 0x100;
const FLAGS_IS_REMOTE = 0x200;

export interface JsonKeyValue {
  key: string;
  value: JsonAnyValue;
}
export type JsonAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: JsonAnyValue[] } };

export function anyValue(v: AttributeValue): JsonAnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v !== 'number') return { arrayValue: { values: v.map((x) => ({ stringValue: x })) } };
  if (Number.isSafeInteger(v)) return { intValue: String(v) };
  // JSON has no NaN or Infinity; a string says what the number was instead of sending null.
  if (!Number.isFinite(v)) return { stringValue: String(v) };
  return { doubleValue: v };
}

/**
 * Milliseconds since the epoch (fractions allowed) as integer nanoseconds in decimal. The product
 * does not fit a double exactly (1.7e18 > 2^53), so the millisecond and sub-millisecond parts are
 * printed side by side.
 */
export function unixNanos(epochMs: number): string {
  if (!(epochMs > 0)) return '0';
  let ms = Math.floor(epochMs);
  let ns = Math.round((epochMs - ms) * 1e6);
  if (ns >= 1e6) {
    ms += 1;
    ns -= 1e6;
  }
  if (ms === 0) return String(ns);
  return `${ms}${String(ns).padStart(6, '0')}`;
}

/** opentelemetry-proto's Resource. */
export interface OtlpResource {
  readonly attributes: readonly JsonKeyValue[];
}

/** The resource part, built once per exporter. */
export function encodeResource(
  serviceName: string,
  attributes: Readonly<Record<string, string | number>>,
): OtlpResource {
  const attrs: JsonKeyValue[] = [{ key: 'service.name', value: { stringValue: serviceName } }];
  for (const [key, value] of Object.entries(attributes)) {
    // Numbers are the detectors' (process.pid: an int attribute, as Go's semconv.ProcessPID).
    if (key !== 'service.name') attrs.push({ key, value: anyValue(value) });
  }
  return { attributes: attrs };
}

function encodeSpan(s: FinishedSpan): object {
  const attributes: JsonKeyValue[] = [];
  const a = s.attributes;
  for (let i = 0; i + 1 < a.length; i += 2)
    attributes.push({ key: String(a[i]), value: anyValue(a[i + 1]!) });
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    ...(s.parentSpanId === undefined ? {} : { parentSpanId: s.parentSpanId }),
    ...(s.tracestate === undefined ? {} : { traceState: s.tracestate }),
    flags: FLAGS_SAMPLED | FLAGS_HAS_IS_REMOTE | (s.remoteParent ? FLAGS_IS_REMOTE : 0),
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: unixNanos(s.startEpochMs),
    endTimeUnixNano: unixNanos(s.endEpochMs),
    attributes,
    // Set at the span's end by its kind's rule (span.ts, Traefik's serverStatus/clientStatus).
    status: s.error
      ? { code: STATUS_CODE_ERROR, ...(s.message === '' ? {} : { message: s.message }) }
      : { code: STATUS_CODE_UNSET },
  };
}

/** An ExportTraceServiceRequest. `resource` comes from `encodeResource`. */
export function encodeTraces(resource: OtlpResource, spans: readonly FinishedSpan[]): object {
  return {
    resourceSpans: [
      { resource, scopeSpans: [{ scope: { name: SCOPE_NAME }, spans: spans.map(encodeSpan) }] },
    ],
  };
}
