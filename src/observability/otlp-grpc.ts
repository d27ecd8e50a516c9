/**
 * OTLP/gRPC: one unary `Export` call per export, over node:http2, as Traefik's otlptracegrpc and
 * otlpmetricgrpc exporters make them (pkg/observability/types/tracing.go setupGRPCExporter,
 * metrics/otel.go newGRPCExporter): the endpoint is `host:port` (net.SplitHostPort), the message
 * gzip-compressed (WithCompressor(gzip.Name): `grpc-encoding: gzip` and the compressed flag of the
 * message's frame), the configured headers as metadata, h2c with `insecure`, else TLS (the
 * configured `tls`, or the system's CAs; TLS settings win over `insecure`, as in
 * otlpconfig.NewGRPCConfig, which matters for the OTEL_EXPORTER_OTLP_CERTIFICATE ones: the
 * configuration itself may not have both). One HTTP/2 connection per exporter, made again when
 * it goes away. Off the request path; loaded only when a `grpc` exporter is configured.
 */
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  type IncomingHttpHeaders,
  type IncomingHttpStatusHeader,
} from 'node:http2';
import type { ConnectionOptions } from 'node:tls';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { OtlpFailure, OtlpSender } from './otlp-http.ts';
import type { OtlpSignal } from './otlp-proto.ts';

const gzipAsync = promisify(gzip);

/** The services' methods (opentelemetry-proto collector/{trace,metrics,logs}/v1/*_service.proto). */
export const GRPC_EXPORT_PATH: Readonly<Record<OtlpSignal, string>> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

/** gRPC status names, for the warnings (grpc/codes). */
const GRPC_CODES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/**
 * Go's net.SplitHostPort, which Traefik applies to the endpoint before anything else: `host:port`
 * or `[v6]:port`; anything else is refused with Go's reason.
 */
export function splitHostPort(endpoint: string): { host: string; port: string } {
  const fail = (why: string): never => {
    throw new Error(`invalid collector endpoint "${endpoint}": address ${endpoint}: ${why}`);
  };
  const colon = endpoint.lastIndexOf(':');
  if (colon < 0) return fail('missing port in address');
  let host: string;
  if (endpoint.startsWith('[')) {
    const end = endpoint.indexOf(']');
    if (end < 0) return fail("missing ']' in address");
    if (end + 1 !== colon)
      return fail(end + 1 === endpoint.length ? 'missing port in address' : 'too many colons in address');
    host = endpoint.slice(1, end);
  } else {
    host = endpoint.slice(0, colon);
    if (host.includes(':')) return fail('too many colons in address');
  }
  if (endpoint.indexOf('[', 1) >= 0 || endpoint.lastIndexOf(']') > endpoint.indexOf(']'))
    return fail("unexpected '[' in address");
  return { host, port: endpoint.slice(colon + 1) };
}

export interface OtlpGrpcOptions {
  readonly signal: OtlpSignal;
  /** `host:port` (Traefik's default localhost:4317). */
  readonly endpoint: string;
  /** Cleartext HTTP/2 (h2c) when no `tls` is given. */
  readonly insecure: boolean;
  readonly tls?: ConnectionOptions | undefined;
  /** Sent as metadata with each call. */
  readonly headers: Readonly<Record<string, string>>;
  /** The call's deadline (`grpc-timeout`), otlp*grpc's 10 s by default. */
  readonly timeoutMs: number;
}

export class OtlpGrpcClient implements OtlpSender {
  readonly url: string;
  readonly #authority: string;
  readonly #tls: ConnectionOptions | null;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  #session: ClientHttp2Session | null = null;
  #closed = false;

  /** Throws when the endpoint is not `host:port` (Traefik's exporter is then not set up). */
  constructor(opts: OtlpGrpcOptions) {
    const { host, port } = splitHostPort(opts.endpoint);
    const secure = opts.tls !== undefined || !opts.insecure;
    const hostPart = host.includes(':') ? `[${host}]` : host === '' ? 'localhost' : host;
    this.#authority = `${secure ? 'https' : 'http'}://${hostPart}:${port}`;
    this.url = `${this.#authority}${GRPC_EXPORT_PATH[opts.signal]}`;
    this.#tls = secure ? (opts.tls ?? {}) : null;
    const headers: Record<string, string> = {};
    // gRPC metadata keys are lowercase (Go's metadata.New lowers them).
    for (const [k, v] of Object.entries(opts.headers)) headers[k.toLowerCase()] = v;
    this.#headers = {
      ...headers,
      ':method': 'POST',
      ':path': GRPC_EXPORT_PATH[opts.signal],
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-encoding': 'gzip',
      'grpc-accept-encoding': 'gzip',
      'grpc-timeout': `${Math.max(1, Math.ceil(opts.timeoutMs))}m`,
    };
    this.#timeoutMs = opts.timeoutMs;
  }

  #connect(): ClientHttp2Session {
    const live = this.#session;
    if (live !== null && !live.closed && !live.destroyed) return live;
    const session = connect(
      this.#authority,
      this.#tls === null ? {} : { ...this.#tls, ALPNProtocols: ['h2'] },
    );
    // An idle connection must not keep the process alive, nor an error of it go unhandled: the
    // next export connects again.
    session.unref();
    session.on('error', () => {});
    session.on('close', () => {
      if (this.#session === session) this.#session = null;
    });
    this.#session = session;
    return session;
  }

  async send(body: Uint8Array, timeoutMs?: number): Promise<OtlpFailure | null> {
    if (this.#closed) return { error: 'exporter closed' };
    // The call's deadline: the exporter's timeout, or what is left of the export's context.
    const callMs =
      timeoutMs === undefined || timeoutMs >= this.#timeoutMs ? this.#timeoutMs : Math.max(1, timeoutMs);
    const headers =
      callMs === this.#timeoutMs
        ? this.#headers
        : { ...this.#headers, 'grpc-timeout': `${Math.max(1, Math.ceil(callMs))}m` };
    let message: Buffer;
    try {
      const compressed = await gzipAsync(body);
      // The length-prefixed message: compressed flag, 4-byte big-endian length, the bytes.
      message = Buffer.allocUnsafe(5 + compressed.length);
      message[0] = 1;
      message.writeUInt32BE(compressed.length, 1);
      compressed.copy(message, 5);
    } catch (err) {
      return { error: err };
    }
    return new Promise((resolve) => {
      let stream: ClientHttp2Stream;
      try {
        stream = this.#connect().request(headers);
      } catch (error) {
        resolve({ error });
        return;
      }
      let settled = false;
      let grpcStatus: string | undefined;
      let grpcMessage: string | undefined;
      let retryDelayMs: number | undefined;
      let httpStatus = 0;
      const done = (failure: OtlpFailure | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(failure);
      };
      const timer = setTimeout(() => {
        stream.close(constants.NGHTTP2_CANCEL);
        done({ grpcStatus: 'DeadlineExceeded', error: `no answer within ${callMs} ms` });
      }, callMs);
      const readStatus = (h: IncomingHttpHeaders): void => {
        const s = h['grpc-status'];
        if (typeof s === 'string') grpcStatus = s;
        const m = h['grpc-message'];
        if (typeof m === 'string') grpcMessage = decodeURIComponentSafe(m);
        const d = h['grpc-status-details-bin'];
        if (typeof d === 'string') retryDelayMs = retryDelayOf(d);
      };
      stream.on('response', (h: IncomingHttpHeaders & IncomingHttpStatusHeader) => {
        httpStatus = Number(h[':status'] ?? 0);
        readStatus(h); // a trailers-only answer carries its status here
      });
      stream.on('trailers', readStatus);
      // The response message (partial success) is read and not kept.
      stream.on('data', ignore);
      stream.on('error', (error) => done({ error }));
      stream.on('close', () => {
        if (grpcStatus === '0') return done(null);
        if (grpcStatus !== undefined) {
          const code = Number(grpcStatus);
          return done({
            grpcStatus: GRPC_CODES[code] ?? grpcStatus,
            ...(grpcMessage === undefined || grpcMessage === '' ? {} : { grpcMessage }),
            ...(retryDelayMs === undefined ? {} : { retryDelayMs }),
          });
        }
        done(
          httpStatus !== 0 && httpStatus !== 200
            ? { status: httpStatus }
            : { error: 'stream closed without a gRPC status' },
        );
      });
      stream.end(message);
    });
  }

  close(): void {
    this.#closed = true;
    this.#session?.close();
    this.#session = null;
  }
}

function ignore(): void {}

/** grpc-message is percent-encoded (gRPC over HTTP/2's Status-Message). */
function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Reads a varint at `pos`: [value, next position], or null past the end (or over 10 bytes). */
function varint(b: Buffer, pos: number): [number, number] | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= b.length) return null;
    const byte = b[pos++]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [value, pos];
    scale *= 128;
  }
  return null;
}

/**
 * The fields of one protobuf message: calls `onField(number, wireType, start, end)` for each,
 * `start..end` being a length-delimited field's bytes or a varint's value in `start`. False when
 * the bytes are not a message.
 */
function eachField(
  b: Buffer,
  onField: (field: number, wire: number, start: number, end: number) => void,
): boolean {
  let pos = 0;
  while (pos < b.length) {
    const key = varint(b, pos);
    if (key === null) return false;
    pos = key[1];
    const field = Math.floor(key[0] / 8);
    const wire = key[0] % 8;
    if (wire === 0) {
      const v = varint(b, pos);
      if (v === null) return false;
      onField(field, wire, v[0], v[0]);
      pos = v[1];
    } else if (wire === 2) {
      const len = varint(b, pos);
      if (len === null || len[1] + len[0] > b.length) return false;
      onField(field, wire, len[1], len[1] + len[0]);
      pos = len[1] + len[0];
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else return false;
  }
  return pos === b.length;
}

const RETRY_INFO = 'google.rpc.RetryInfo';

/**
 * The retry delay (ms) of a google.rpc.RetryInfo among the details of a status
 * (`grpc-status-details-bin`: a google.rpc.Status, base64), as Go's OTLP gRPC exporters read it
 * (otlptracegrpc throttleDelay: status.Details(), the first RetryInfo's retry_delay); undefined
 * when there is none. A negative delay counts as none to wait (Go's backoff is then longer).
 */
export function retryDelayOf(detailsBase64: string): number | undefined {
  const status = Buffer.from(detailsBase64, 'base64');
  let delay: number | undefined;
  eachField(status, (field, wire, start, end) => {
    // Status.details (3): google.protobuf.Any { type_url = 1, value = 2 }.
    if (delay !== undefined || field !== 3 || wire !== 2) return;
    const any = status.subarray(start, end);
    let typeUrl = '';
    let value: Buffer | null = null;
    eachField(any, (f, w, s, e) => {
      if (w !== 2) return;
      if (f === 1) typeUrl = any.toString('latin1', s, e);
      else if (f === 2) value = any.subarray(s, e);
    });
    // anypb resolves the message by the name after the URL's last slash.
    if (value === null || typeUrl.slice(typeUrl.lastIndexOf('/') + 1) !== RETRY_INFO) return;
    const info: Buffer = value;
    let ms = 0;
    eachField(info, (f, w, s, e) => {
      // RetryInfo.retry_delay (1): google.protobuf.Duration { seconds = 1, nanos = 2 }.
      if (f !== 1 || w !== 2) return;
      const d = info.subarray(s, e);
      let seconds = 0;
      let nanos = 0;
      eachField(d, (df, dw, v) => {
        if (dw !== 0) return;
        // int64/int32 varints: a negative value is encoded in ten bytes, above 2^63.
        const signed = v >= 2 ** 63 ? v - 2 ** 64 : v;
        if (df === 1) seconds = signed;
        else if (df === 2) nanos = signed;
      });
      ms = seconds * 1000 + nanos / 1e6;
    });
    delay = Math.max(0, ms);
  });
  return delay;
}
