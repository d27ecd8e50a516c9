/**
 * The protobuf encoding of the OTLP export requests we send (opentelemetry-proto
 * collector/{trace,metrics,logs}/v1 Export*ServiceRequest), which is what Traefik's Go exporters
 * send over OTLP/HTTP (`application/x-protobuf`) and OTLP/gRPC alike. The exporters build each
 * request as the protobuf JSON mapping's object tree (ids as hex, 64-bit integers as decimal
 * strings); this writes that tree in the binary encoding, field by field, from the tables below
 * (field numbers of the .proto files). Off the request path: an export at a time.
 */

/** How one field is written. A nested message is given by its table. */
type Scalar =
  | 'string'
  /** `bytes` given as hex (trace and span ids in the JSON mapping). */
  | 'hex'
  /** uint32, enums and int32: a varint of a JS number. */
  | 'varint'
  /** int64 given as a decimal string or a number: a varint (two's complement when negative). */
  | 'int64'
  /** fixed64 given as a decimal string or a number (nanoseconds, counts). */
  | 'fixed64'
  | 'sfixed64'
  | 'fixed32'
  | 'double'
  | 'bool';

interface Field {
  readonly n: number;
  readonly t: Scalar | Schema;
  /** A repeated field: numeric ones are packed (proto3's default). */
  readonly rep?: boolean;
}

/** A message: its JSON-mapping field names → how each is written. */
type Schema = { readonly [name: string]: Field };

const f = (n: number, t: Scalar | Schema, rep = false): Field => ({ n, t, rep });

// opentelemetry/proto/common/v1/common.proto. AnyValue refers to itself (arrays, kvlists).
const anyValue: Record<string, Field> = {};
const keyValue: Schema = { key: f(1, 'string'), value: f(2, anyValue) };
const arrayValue: Schema = { values: f(1, anyValue, true) };
const kvList: Schema = { values: f(1, keyValue, true) };
Object.assign(anyValue, {
  stringValue: f(1, 'string'),
  boolValue: f(2, 'bool'),
  intValue: f(3, 'int64'),
  doubleValue: f(4, 'double'),
  arrayValue: f(5, arrayValue),
  kvlistValue: f(6, kvList),
});
const scope: Schema = { name: f(1, 'string'), version: f(2, 'string'), attributes: f(3, keyValue, true) };
// resource/v1/resource.proto
const resource: Schema = { attributes: f(1, keyValue, true), droppedAttributesCount: f(2, 'varint') };

// trace/v1/trace.proto
const status: Schema = { message: f(2, 'string'), code: f(3, 'varint') };
const span: Schema = {
  traceId: f(1, 'hex'),
  spanId: f(2, 'hex'),
  traceState: f(3, 'string'),
  parentSpanId: f(4, 'hex'),
  flags: f(16, 'fixed32'),
  name: f(5, 'string'),
  kind: f(6, 'varint'),
  startTimeUnixNano: f(7, 'fixed64'),
  endTimeUnixNano: f(8, 'fixed64'),
  attributes: f(9, keyValue, true),
  droppedAttributesCount: f(10, 'varint'),
  status: f(15, status),
};
const scopeSpans: Schema = { scope: f(1, scope), spans: f(2, span, true), schemaUrl: f(3, 'string') };
const resourceSpans: Schema = {
  resource: f(1, resource),
  scopeSpans: f(2, scopeSpans, true),
  schemaUrl: f(3, 'string'),
};

// metrics/v1/metrics.proto
const numberDataPoint: Schema = {
  attributes: f(7, keyValue, true),
  startTimeUnixNano: f(2, 'fixed64'),
  timeUnixNano: f(3, 'fixed64'),
  asDouble: f(4, 'double'),
  asInt: f(6, 'sfixed64'),
  flags: f(8, 'varint'),
};
const histogramDataPoint: Schema = {
  attributes: f(9, keyValue, true),
  startTimeUnixNano: f(2, 'fixed64'),
  timeUnixNano: f(3, 'fixed64'),
  count: f(4, 'fixed64'),
  sum: f(5, 'double'),
  bucketCounts: f(6, 'fixed64', true),
  explicitBounds: f(7, 'double', true),
  flags: f(10, 'varint'),
  min: f(11, 'double'),
  max: f(12, 'double'),
};
const gauge: Schema = { dataPoints: f(1, numberDataPoint, true) };
const sum: Schema = {
  dataPoints: f(1, numberDataPoint, true),
  aggregationTemporality: f(2, 'varint'),
  isMonotonic: f(3, 'bool'),
};
const histogram: Schema = {
  dataPoints: f(1, histogramDataPoint, true),
  aggregationTemporality: f(2, 'varint'),
};
const metric: Schema = {
  name: f(1, 'string'),
  description: f(2, 'string'),
  unit: f(3, 'string'),
  gauge: f(5, gauge),
  sum: f(7, sum),
  histogram: f(9, histogram),
};
const scopeMetrics: Schema = { scope: f(1, scope), metrics: f(2, metric, true), schemaUrl: f(3, 'string') };
const resourceMetrics: Schema = {
  resource: f(1, resource),
  scopeMetrics: f(2, scopeMetrics, true),
  schemaUrl: f(3, 'string'),
};

// logs/v1/logs.proto
const logRecord: Schema = {
  timeUnixNano: f(1, 'fixed64'),
  observedTimeUnixNano: f(11, 'fixed64'),
  severityNumber: f(2, 'varint'),
  severityText: f(3, 'string'),
  body: f(5, anyValue),
  attributes: f(6, keyValue, true),
  droppedAttributesCount: f(7, 'varint'),
  flags: f(8, 'fixed32'),
  traceId: f(9, 'hex'),
  spanId: f(10, 'hex'),
  eventName: f(12, 'string'),
};
const scopeLogs: Schema = {
  scope: f(1, scope),
  logRecords: f(2, logRecord, true),
  schemaUrl: f(3, 'string'),
};
const resourceLogs: Schema = {
  resource: f(1, resource),
  scopeLogs: f(2, scopeLogs, true),
  schemaUrl: f(3, 'string'),
};

/** The three signals' Export*ServiceRequest (collector/…/v1/…_service.proto). */
export const EXPORT_REQUEST = {
  traces: { resourceSpans: f(1, resourceSpans, true) },
  metrics: { resourceMetrics: f(1, resourceMetrics, true) },
  logs: { resourceLogs: f(1, resourceLogs, true) },
} as const satisfies Record<string, Schema>;

export type OtlpSignal = keyof typeof EXPORT_REQUEST;

/** A growable byte buffer with protobuf's primitives. */
class Writer {
  buf = Buffer.allocUnsafe(256);
  len = 0;

  #room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  varint(v: number): void {
    this.#room(10);
    // Up to 2^53 exactly; above 2^31 the bitwise operators would truncate.
    while (v > 0x7f) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  bigVarint(v: bigint): void {
    this.#room(10);
    let u = BigInt.asUintN(64, v);
    while (u > 0x7fn) {
      this.buf[this.len++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.len++] = Number(u);
  }

  tag(n: number, wire: number): void {
    this.varint(n * 8 + wire);
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.#room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  string(s: string): void {
    const n = Buffer.byteLength(s);
    this.varint(n);
    this.#room(n);
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  fixed32(v: number): void {
    this.#room(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
  }

  fixed64(v: bigint): void {
    this.#room(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.len);
    this.len += 8;
  }

  double(v: number): void {
    this.#room(8);
    this.buf.writeDoubleLE(v, this.len);
    this.len += 8;
  }

  done(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

function big(v: unknown): bigint {
  return typeof v === 'bigint' ? v : BigInt(typeof v === 'number' ? Math.trunc(v) : String(v));
}

/** Wire type 0 (varint), 1 (64-bit), 5 (32-bit) of a packable scalar. */
function wireOf(t: Scalar): number {
  if (t === 'fixed64' || t === 'sfixed64' || t === 'double') return 1;
  if (t === 'fixed32') return 5;
  return 0;
}

function scalarValue(w: Writer, t: Scalar, v: unknown): void {
  switch (t) {
    case 'varint':
      w.varint(Number(v));
      return;
    case 'bool':
      w.varint(v === true ? 1 : 0);
      return;
    case 'int64':
      w.bigVarint(big(v));
      return;
    case 'fixed64':
    case 'sfixed64':
      w.fixed64(big(v));
      return;
    case 'fixed32':
      w.fixed32(Number(v));
      return;
    case 'double':
      w.double(Number(v));
      return;
    case 'string':
      w.string(String(v));
      return;
    case 'hex':
      w.bytes(Buffer.from(String(v), 'hex'));
      return;
  }
}

function writeField(w: Writer, field: Field, v: unknown): void {
  const t = field.t;
  if (typeof t === 'object') {
    const sub = encodeWith(t, v as Record<string, unknown>);
    w.tag(field.n, 2);
    w.bytes(sub);
  } else if (t === 'string' || t === 'hex') {
    w.tag(field.n, 2);
    scalarValue(w, t, v);
  } else {
    w.tag(field.n, wireOf(t));
    scalarValue(w, t, v);
  }
}

function encodeWith(schema: Schema, obj: Record<string, unknown>): Buffer {
  const w = new Writer();
  for (const name in obj) {
    const v = obj[name];
    const field = schema[name];
    // Fields the tables do not name are not part of what we send; undefined is "not set".
    if (field === undefined || v === undefined || v === null) continue;
    if (!field.rep) {
      writeField(w, field, v);
      continue;
    }
    const list = v as readonly unknown[];
    if (list.length === 0) continue;
    const t = field.t;
    if (typeof t === 'object' || t === 'string' || t === 'hex') {
      for (const item of list) writeField(w, field, item);
    } else {
      // Packed: one length-delimited run of the values.
      const packed = new Writer();
      for (const item of list) scalarValue(packed, t, item);
      w.tag(field.n, 2);
      w.bytes(packed.done());
    }
  }
  return w.done();
}

/**
 * One Export{Trace,Metrics,Logs}ServiceRequest in protobuf from its JSON-mapping object tree (as
 * JSON.stringify would send it for OTLP/HTTP JSON).
 */
export function encodeExportRequest(signal: OtlpSignal, request: object): Buffer {
  return encodeWith(EXPORT_REQUEST[signal], request as Record<string, unknown>);
}
