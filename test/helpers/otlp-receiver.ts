/**
 * Test helper: OTLP trace and metrics receivers on 127.0.0.1:0, over HTTP (`startOtlpReceiver`:
 * JSON or protobuf bodies, by their content-type) and over gRPC (`startOtlpGrpcReceiver`: a real
 * @grpc/grpc-js server with the collector services). Protobuf is decoded with @grpc/proto-loader
 * from the .proto files of ./otlp-proto (written for these tests from opentelemetry-proto's field
 * numbers), independently of the proxy's own encoder. Spans are flattened into records so that
 * tests assert on ids, names and attributes, not on OTLP's nesting; each metrics export is kept,
 * its points flattened.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';

/** A string-slice attribute (arrayValue of strings) decodes to a string[]. */
export type ReceivedAttributes = Record<string, string | number | boolean | string[]>;

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' when the span is a root. */
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: ReceivedAttributes;
  readonly status: { readonly code: number; readonly message: string };
  /** Attributes of the resource the span came with (service.name…). */
  readonly resource: ReceivedAttributes;
  readonly scope: string;
}

/** One export (a POST, or a gRPC call) as it arrived. */
export interface ReceivedExport {
  readonly path: string;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly spanCount: number;
}

/** One data point of a metrics export, flattened: its metric's name and type, and the resource. */
export interface ReceivedMetricPoint {
  readonly metric: string;
  readonly type: 'sum' | 'gauge' | 'histogram';
  readonly unit: string;
  readonly description: string;
  readonly isMonotonic: boolean;
  readonly temporality: number;
  readonly attributes: ReceivedAttributes;
  readonly resource: ReceivedAttributes;
  /** The instrumentation scope's name and version. */
  readonly scope: string;
  readonly scopeVersion: string;
  readonly asDouble?: number;
  readonly count?: string;
  readonly sum?: number;
  readonly bucketCounts?: readonly string[];
  readonly explicitBounds?: readonly number[];
}

/** One log record, flattened with its resource and scope. */
export interface ReceivedLog {
  readonly timeUnixNano: string;
  readonly severityNumber: number;
  /** '' when the record has none. */
  readonly severityText: string;
  /** The record's span context, hex ('' when it has none), and its trace flags. */
  readonly traceId: string;
  readonly spanId: string;
  readonly flags: number;
  readonly body: string;
  readonly attributes: ReceivedAttributes;
  readonly resource: ReceivedAttributes;
  readonly scope: string;
}

export interface OtlpReceiver {
  /** The traces URL: http://127.0.0.1:PORT/v1/traces (gRPC: the TraceService's). */
  readonly url: string;
  /** The receiver's root, http://127.0.0.1:PORT (a metrics exporter adds /v1/metrics). */
  readonly base: string;
  /** `127.0.0.1:PORT`, a gRPC exporter's endpoint. */
  readonly hostPort: string;
  /** Each metrics export (POST /v1/metrics), its points flattened, in arrival order. */
  readonly metricExports: ReadonlyArray<readonly ReceivedMetricPoint[]>;
  /** The request headers of each metrics export, index for index with `metricExports`. */
  readonly metricHeaders: ReadonlyArray<Readonly<Record<string, string | string[] | undefined>>>;
  /** Resolves with the first metrics export (received or to come) that satisfies `pred`. */
  waitForMetrics(
    pred: (points: readonly ReceivedMetricPoint[]) => boolean,
    timeoutMs?: number,
  ): Promise<readonly ReceivedMetricPoint[]>;
  readonly spans: readonly ReceivedSpan[];
  /** The log records received (POST /v1/logs or LogsService/Export), flattened, in arrival order. */
  readonly logs: readonly ReceivedLog[];
  /** Resolves with the first log record (received or to come) that satisfies `pred`. */
  waitForLog(pred: (l: ReceivedLog) => boolean, timeoutMs?: number): Promise<ReceivedLog>;
  readonly exports: readonly ReceivedExport[];
  /** Answers the next `count` exports with `status` instead of 200. */
  failNext(count: number, status?: number): void;
  /** Resolves with all spans received once there are at least `n`; rejects after `timeoutMs`. */
  waitForSpans(n: number, timeoutMs?: number): Promise<readonly ReceivedSpan[]>;
  /** Resolves with the first span (received or to come) that satisfies `pred`; rejects after `timeoutMs`. */
  waitForSpan(pred: (s: ReceivedSpan) => boolean, timeoutMs?: number): Promise<ReceivedSpan>;
  close(): Promise<void>;
}

interface JsonKeyValue {
  key?: string;
  value?: {
    stringValue?: string;
    intValue?: string | number;
    doubleValue?: number;
    boolValue?: boolean;
    arrayValue?: { values?: Array<{ stringValue?: string }> };
  };
}

function decodeAttributes(list: unknown): ReceivedAttributes {
  const out: ReceivedAttributes = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list as JsonKeyValue[]) {
    const v = kv.value;
    if (typeof kv.key !== 'string' || v === undefined) continue;
    if (v.stringValue !== undefined) out[kv.key] = v.stringValue;
    else if (v.intValue !== undefined) out[kv.key] = Number(v.intValue);
    else if (v.doubleValue !== undefined) out[kv.key] = v.doubleValue;
    else if (v.boolValue !== undefined) out[kv.key] = v.boolValue;
    else if (v.arrayValue !== undefined)
      out[kv.key] = (v.arrayValue.values ?? []).map((x) => String(x.stringValue ?? ''));
  }
  return out;
}

interface JsonSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  traceState?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: unknown;
  status?: { code?: number; message?: string };
}

interface JsonRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: unknown };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: JsonSpan[] }>;
  }>;
}

/** Flattens an ExportTraceServiceRequest in the JSON encoding. Throws on a body that is not one. */
export function decodeExport(body: string): ReceivedSpan[] {
  return flattenTraces(JSON.parse(body) as JsonRequest);
}

function flattenTraces(req: JsonRequest): ReceivedSpan[] {
  if (!Array.isArray(req.resourceSpans)) throw new Error('resourceSpans missing');
  const out: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans) {
    const resource = decodeAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: s.traceId ?? '',
          spanId: s.spanId ?? '',
          parentSpanId: s.parentSpanId ?? '',
          traceState: s.traceState ?? '',
          name: s.name ?? '',
          kind: s.kind ?? 0,
          startTimeUnixNano: s.startTimeUnixNano ?? '0',
          endTimeUnixNano: s.endTimeUnixNano ?? '0',
          attributes: decodeAttributes(s.attributes),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          resource,
          scope: ss.scope?.name ?? '',
        });
      }
    }
  }
  return out;
}

interface JsonMetricPoint {
  attributes?: unknown;
  asDouble?: number;
  asInt?: string;
  count?: string;
  sum?: number;
  bucketCounts?: string[];
  explicitBounds?: number[];
}
interface JsonMetric {
  name?: string;
  unit?: string;
  description?: string;
  sum?: { dataPoints?: JsonMetricPoint[]; aggregationTemporality?: number; isMonotonic?: boolean };
  gauge?: { dataPoints?: JsonMetricPoint[] };
  histogram?: { dataPoints?: JsonMetricPoint[]; aggregationTemporality?: number };
}
interface JsonMetricsRequest {
  resourceMetrics?: Array<{
    resource?: { attributes?: unknown };
    scopeMetrics?: Array<{ scope?: { name?: string; version?: string }; metrics?: JsonMetric[] }>;
  }>;
}

export function decodeMetricsExport(body: string): ReceivedMetricPoint[] {
  return flattenMetrics(JSON.parse(body) as JsonMetricsRequest);
}

function flattenMetrics(req: JsonMetricsRequest): ReceivedMetricPoint[] {
  if (!Array.isArray(req.resourceMetrics)) throw new Error('resourceMetrics missing');
  const out: ReceivedMetricPoint[] = [];
  for (const rm of req.resourceMetrics) {
    const resource = decodeAttributes(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        const type = m.sum !== undefined ? 'sum' : m.histogram !== undefined ? 'histogram' : 'gauge';
        const data = m.sum ?? m.histogram ?? m.gauge;
        for (const p of data?.dataPoints ?? []) {
          out.push({
            metric: m.name ?? '',
            type,
            unit: m.unit ?? '',
            description: m.description ?? '',
            isMonotonic: m.sum?.isMonotonic ?? false,
            temporality: m.sum?.aggregationTemporality ?? m.histogram?.aggregationTemporality ?? 0,
            attributes: decodeAttributes(p.attributes),
            resource,
            scope: sm.scope?.name ?? '',
            scopeVersion: sm.scope?.version ?? '',
            ...(p.asDouble === undefined ? {} : { asDouble: p.asDouble }),
            ...(p.count === undefined ? {} : { count: p.count }),
            ...(p.sum === undefined ? {} : { sum: p.sum }),
            ...(p.bucketCounts === undefined ? {} : { bucketCounts: p.bucketCounts }),
            ...(p.explicitBounds === undefined ? {} : { explicitBounds: p.explicitBounds }),
          });
        }
      }
    }
  }
  return out;
}

const SERVICES = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
} as const;

let definitions: PackageDefinition | undefined;

/** The collector services and their messages, from ./otlp-proto (loaded once). */
function protoDefinitions(): PackageDefinition {
  definitions ??= loadSync(['trace_service.proto', 'metrics_service.proto', 'logs_service.proto'], {
    includeDirs: [fileURLToPath(new URL('./otlp-proto/', import.meta.url))],
    // The JSON mapping's forms: 64-bit integers as decimal strings, enums as numbers.
    longs: String,
    enums: Number,
    bytes: String,
    defaults: false,
  });
  return definitions;
}

function exportMethod(signal: keyof typeof SERVICES): grpc.MethodDefinition<object, object> {
  const service = protoDefinitions()[SERVICES[signal]] as unknown as Record<
    string,
    grpc.MethodDefinition<object, object>
  >;
  return service.Export!;
}

/** bytes come as base64 from proto-loader; the JSON mapping's ids are hex. */
function hexIds(req: JsonRequest): JsonRequest {
  const hex = (b64: string | undefined): string | undefined =>
    b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('hex');
  for (const rs of req.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const sp of ss.spans ?? []) {
        sp.traceId = hex(sp.traceId) ?? '';
        sp.spanId = hex(sp.spanId) ?? '';
        const parent = hex(sp.parentSpanId);
        if (parent === undefined || parent === '') delete sp.parentSpanId;
        else sp.parentSpanId = parent;
      }
  return req;
}

/** An ExportTraceServiceRequest in protobuf, flattened. */
export function decodeTracesProto(body: Buffer): ReceivedSpan[] {
  return flattenTraces(hexIds(exportMethod('traces').requestDeserialize(body) as JsonRequest));
}

/** An ExportMetricsServiceRequest in protobuf, flattened. */
interface JsonLogsRequest {
  resourceLogs?: Array<{
    resource?: { attributes?: unknown };
    scopeLogs?: Array<{
      scope?: { name?: string };
      logRecords?: Array<{
        timeUnixNano?: string;
        severityNumber?: number;
        severityText?: string;
        body?: { stringValue?: string };
        attributes?: unknown;
        traceId?: string;
        spanId?: string;
        flags?: number;
      }>;
    }>;
  }>;
}

function flattenLogs(req: JsonLogsRequest): ReceivedLog[] {
  if (!Array.isArray(req.resourceLogs)) throw new Error('resourceLogs missing');
  const out: ReceivedLog[] = [];
  for (const rl of req.resourceLogs) {
    const resource = decodeAttributes(rl.resource?.attributes);
    for (const sl of rl.scopeLogs ?? [])
      for (const r of sl.logRecords ?? [])
        out.push({
          timeUnixNano: r.timeUnixNano ?? '0',
          severityNumber: r.severityNumber ?? 0,
          severityText: r.severityText ?? '',
          // bytes fields come base64-encoded (proto-loader's `bytes: String`).
          traceId: Buffer.from(r.traceId ?? '', 'base64').toString('hex'),
          spanId: Buffer.from(r.spanId ?? '', 'base64').toString('hex'),
          flags: r.flags ?? 0,
          body: r.body?.stringValue ?? '',
          attributes: decodeAttributes(r.attributes),
          resource,
          scope: sl.scope?.name ?? '',
        });
  }
  return out;
}

/** An ExportLogsServiceRequest in protobuf, flattened. */
export function decodeLogsProto(body: Buffer): ReceivedLog[] {
  return flattenLogs(exportMethod('logs').requestDeserialize(body) as JsonLogsRequest);
}

export function decodeMetricsProto(body: Buffer): ReceivedMetricPoint[] {
  return flattenMetrics(exportMethod('metrics').requestDeserialize(body) as JsonMetricsRequest);
}

/** An HTTPS receiver: its certificate, and the CA its clients' certificates must chain to (mTLS). */
export interface ReceiverTls {
  readonly keyPem: string;
  readonly certPem: string;
  readonly clientCaPem?: string;
}

/** The body as sent: gunzipped when `content-encoding: gzip` (Traefik's exporters compress). */
function bodyBytes(req: IncomingMessage, chunks: Buffer[]): Buffer {
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** What both receivers keep, and the waits on it. */
interface Store {
  readonly receiver: Omit<OtlpReceiver, 'url' | 'base' | 'hostPort' | 'close'>;
  /** Records an export of spans; false when it is to be failed (failNext). */
  spans(path: string, contentType: string, headers: Headers, decoded: ReceivedSpan[]): boolean;
  metrics(headers: Headers, points: ReceivedMetricPoint[]): void;
  logs(records: ReceivedLog[]): void;
  readonly failStatus: () => number;
}

function newStore(): Store {
  const spans: ReceivedSpan[] = [];
  const metricExports: ReceivedMetricPoint[][] = [];
  const metricHeaders: Array<Record<string, string | string[] | undefined>> = [];
  const metricWaiters: Array<() => void> = [];
  const exports: ReceivedExport[] = [];
  const logs: ReceivedLog[] = [];
  const logWaiters: Array<() => void> = [];
  const waiters: Array<{ n: number; resolve: (s: readonly ReceivedSpan[]) => void }> = [];
  let failures = 0;
  let failStatus = 503;

  const receiver: Store['receiver'] = {
    metricExports,
    metricHeaders,
    async waitForMetrics(pred, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let seen = 0;
      for (;;) {
        for (; seen < metricExports.length; seen++)
          if (pred(metricExports[seen]!)) return metricExports[seen]!;
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(
            `timed out after ${timeoutMs} ms: no such metrics export among ${metricExports.length}`,
          );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          metricWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    spans,
    logs,
    async waitForLog(pred, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs.find(pred);
        if (found !== undefined) return found;
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`timed out after ${timeoutMs} ms: no such log record among ${logs.length}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          logWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    exports,
    failNext(count, status = 503) {
      failures = count;
      failStatus = status;
    },
    waitForSpans(n, timeoutMs = 10_000) {
      if (spans.length >= n) return Promise.resolve(spans.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${n} spans (have ${spans.length})`));
        }, timeoutMs);
        const waiter = {
          n,
          resolve: (s: readonly ReceivedSpan[]) => {
            clearTimeout(timer);
            resolve(s);
          },
        };
        waiters.push(waiter);
      });
    },
    async waitForSpan(pred, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = spans.find(pred);
        if (found !== undefined) return found;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms: no such span among ${spans.length}`);
        // Each export wakes this up: wait for one more span than there is now.
        await receiver.waitForSpans(spans.length + 1, left);
      }
    },
  };

  return {
    receiver,
    failStatus: () => failStatus,
    spans(path, contentType, headers, decoded) {
      exports.push({ path, contentType, headers: { ...headers }, spanCount: decoded.length });
      if (failures > 0) {
        failures--;
        return false;
      }
      spans.push(...decoded);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i]!;
        if (spans.length >= w.n) {
          waiters.splice(i, 1);
          w.resolve(spans.slice());
        }
      }
      return true;
    },
    logs(records) {
      logs.push(...records);
      for (const wake of logWaiters.splice(0)) wake();
    },
    metrics(headers, points) {
      metricHeaders.push({ ...headers });
      metricExports.push(points);
      for (const wake of metricWaiters.splice(0)) wake();
    },
  };
}

/** An OTLP/HTTP receiver: JSON (`application/json`) and protobuf (`application/x-protobuf`) bodies. */
export async function startOtlpReceiver(tls?: ReceiverTls): Promise<OtlpReceiver> {
  const store = newStore();
  const answer = (res: ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      if (req.method !== 'POST' || (path !== '/v1/traces' && path !== '/v1/metrics' && path !== '/v1/logs'))
        return answer(res, 404, '{}');
      const contentType = req.headers['content-type'] ?? '';
      const proto = contentType.startsWith('application/x-protobuf');
      if (!proto && !contentType.startsWith('application/json')) return answer(res, 415, '{}');
      if (path === '/v1/logs') {
        try {
          const body = bodyBytes(req, chunks);
          store.logs(
            proto ? decodeLogsProto(body) : flattenLogs(JSON.parse(body.toString('utf8')) as JsonLogsRequest),
          );
        } catch (err) {
          return answer(res, 400, JSON.stringify({ error: String(err) }));
        }
        return answer(res, 200, '{}');
      }
      if (path === '/v1/metrics') {
        try {
          const body = bodyBytes(req, chunks);
          store.metrics(
            req.headers,
            proto ? decodeMetricsProto(body) : decodeMetricsExport(body.toString('utf8')),
          );
        } catch (err) {
          return answer(res, 400, JSON.stringify({ error: String(err) }));
        }
        return answer(res, 200, '{}');
      }
      let decoded: ReceivedSpan[];
      try {
        const body = bodyBytes(req, chunks);
        decoded = proto ? decodeTracesProto(body) : decodeExport(body.toString('utf8'));
      } catch (err) {
        return answer(res, 400, JSON.stringify({ error: String(err) }));
      }
      if (!store.spans(path, contentType, req.headers, decoded)) return answer(res, store.failStatus(), '{}');
      answer(res, 200, '{}');
    });
  };

  const server =
    tls === undefined
      ? createServer(onRequest)
      : createHttpsServer(
          {
            key: tls.keyPem,
            cert: tls.certPem,
            ...(tls.clientCaPem === undefined
              ? {}
              : { ca: tls.clientCaPem, requestCert: true, rejectUnauthorized: true }),
          },
          onRequest,
        );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const scheme = tls === undefined ? 'http' : 'https';
  return {
    ...store.receiver,
    url: `${scheme}://127.0.0.1:${port}/v1/traces`,
    base: `${scheme}://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The HTTP status an export failed with (failNext), as the gRPC status a collector would send. */
function grpcStatusOf(httpStatus: number): grpc.status {
  if (httpStatus === 429) return grpc.status.RESOURCE_EXHAUSTED;
  if (httpStatus === 400) return grpc.status.INVALID_ARGUMENT;
  return grpc.status.UNAVAILABLE;
}

/**
 * An OTLP/gRPC receiver: a @grpc/grpc-js server with the trace and metrics services' Export, in
 * cleartext (h2c) or with TLS (`tls`; with `clientCaPem`, client certificates are required).
 * Each call's metadata is kept as the export's headers.
 */
export async function startOtlpGrpcReceiver(tls?: ReceiverTls): Promise<OtlpReceiver> {
  const store = newStore();
  const server = new grpc.Server();
  const metadata = (call: grpc.ServerUnaryCall<object, object>): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.metadata.getMap())) out[k] = String(v);
    return out;
  };
  const tracesPath = exportMethod('traces').path;
  const traceService = { Export: exportMethod('traces') };
  const metricsService = { Export: exportMethod('metrics') };
  server.addService(traceService, {
    Export: (call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) => {
      let decoded: ReceivedSpan[];
      try {
        decoded = flattenTraces(hexIds(call.request as JsonRequest));
      } catch (err) {
        return cb({ code: grpc.status.INVALID_ARGUMENT, details: String(err) });
      }
      if (!store.spans(tracesPath, 'application/grpc', metadata(call), decoded))
        return cb({ code: grpcStatusOf(store.failStatus()), details: 'failing on purpose' });
      cb(null, {});
    },
  });
  server.addService(
    { Export: exportMethod('logs') },
    {
      Export: (call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) => {
        try {
          store.logs(flattenLogs(call.request as JsonLogsRequest));
        } catch (err) {
          return cb({ code: grpc.status.INVALID_ARGUMENT, details: String(err) });
        }
        cb(null, {});
      },
    },
  );
  server.addService(metricsService, {
    Export: (call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) => {
      try {
        store.metrics(metadata(call), flattenMetrics(call.request as JsonMetricsRequest));
      } catch (err) {
        return cb({ code: grpc.status.INVALID_ARGUMENT, details: String(err) });
      }
      cb(null, {});
    },
  });
  const credentials =
    tls === undefined
      ? grpc.ServerCredentials.createInsecure()
      : grpc.ServerCredentials.createSsl(
          tls.clientCaPem === undefined ? null : Buffer.from(tls.clientCaPem),
          [{ private_key: Buffer.from(tls.keyPem), cert_chain: Buffer.from(tls.certPem) }],
          tls.clientCaPem !== undefined,
        );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err === null ? resolve(p) : reject(err))),
  );
  const scheme = tls === undefined ? 'http' : 'https';
  return {
    ...store.receiver,
    url: `${scheme}://127.0.0.1:${port}${tracesPath}`,
    base: `${scheme}://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    close() {
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}
