import { close, mkdir, open, write } from 'node:fs';
import { dirname } from 'node:path';
import type { KubernetesObjectRef, KubernetesServiceRef } from '../config/dynamic/kubernetes-meta.ts';
import { goHttpCodeRanges } from '../config/dynamic/status-range.ts';
import type { AccessLogConfig } from '../config/static/schema.ts';
import type { HeaderList } from '../core/headers.ts';
import { isResponseHop } from '../core/hop-fields.ts';
import type { Logger, LogLevel } from '../core/logger.ts';
import { withQuery } from '../core/request.ts';
import { type JsonKeyValue, unixNanos } from './tracing/otlp-json.ts';

/** The mode a new access log file is made with (less the umask), as Traefik's 0o664. */
export const ACCESS_LOG_MODE = 0o664;

/**
 * Where `accessLog.otlp` sends the records (otlp-logs.ts OtlpLogExporter): Traefik's access log
 * logger with the otellogrus hook (pkg/middlewares/accesslog/logger.go NewHandler).
 */
export interface AccessLogOtlpSink {
  /** `trace`: the request's entry span, whose context the record carries (traceId, spanId, flags). */
  recordAttributes(
    level: LogLevel,
    msg: string,
    epochMs: number,
    attributes: JsonKeyValue[],
    trace?: RecordTrace,
  ): void;
  close(): Promise<void>;
}

/** The trace context of a traced request: its EntryPoint span's. */
export interface RecordTrace {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

/** One finished request, as the access log records it. */
export interface AccessRecord {
  readonly startTime: number; // epoch ms
  readonly clientIp: string;
  /** Traefik's ClientHost (a trusted peer's X-Forwarded-For as it came); absent = `clientIp`. */
  readonly clientHost?: string | undefined;
  /** Traefik's ClientUsername, set by an auth middleware; absent = "-". */
  readonly clientUsername?: string | undefined;
  /** The client connection's port (Traefik's ClientPort); unknown = "-". */
  readonly clientPort?: number | undefined;
  readonly method: string;
  /** Lowercased, without the port. */
  readonly host: string;
  /** The port named in Host, '' or absent when none. */
  readonly hostPort?: string;
  readonly path: string;
  readonly query: string;
  readonly protocol: string;
  /** How the client reached us (Traefik's RequestScheme); absent = http. */
  readonly scheme?: 'http' | 'https';
  /** With TLS: the version as Traefik writes it ("1.3") and the cipher suite's IANA name. */
  readonly tlsVersion?: string | undefined;
  readonly tlsCipher?: string | undefined;
  /** The client certificate's subject as Go's pkix.Name.String() writes it, when one was sent. */
  readonly tlsClientSubject?: string | undefined;
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly durationMs: number;
  /**
   * How long the service had the request (Traefik's OriginDuration, from its service handler to
   * the end of the response); undefined when no service took it (a middleware or the proxy
   * answered): the Origin fields are then 0, as Traefik's InitServiceFields leaves them.
   */
  readonly originMs?: number | undefined;
  readonly entryPoint: string;
  readonly router: string;
  readonly service: string;
  readonly server: string;
  readonly userAgent: string;
  readonly referer: string;
  /** Attempts beyond the first (0 or absent = not retried). */
  readonly retryAttempts?: number;
  /** The request's headers as forwarded; only read when header fields are kept or redacted. */
  readonly requestHeaders?: HeaderList;
  /**
   * The response's fields as the client got them (before the framing and Date the writer adds):
   * Traefik's downstream_ fields, and its origin_ ones when a service took the request (its
   * OriginResponse, the same map once the service handler returned). Set only when
   * `AccessLog.logsHeaders`.
   */
  readonly responseHeaders?: HeaderList | null | undefined;
  /** A traced request's EntryPoint span (Traefik's TraceId and SpanId fields); absent otherwise. */
  readonly trace?: RecordTrace | undefined;
  /** The Ingress or IngressRoute of the router (a Kubernetes provider's), else absent. */
  readonly kubernetes?: KubernetesObjectRef | undefined;
  /** The Kubernetes Service of the load balancer that took the request, else absent or null. */
  readonly kubernetesService?: KubernetesServiceRef | null | undefined;
}

export type FieldMode = 'keep' | 'drop' | 'redact';

/** Traefik's `accessLog.filters`: a record is kept when it matches ANY configured filter. */
export interface AccessLogFilters {
  /** "200", "300-302". */
  readonly statusCodes: readonly string[];
  readonly retryAttempts: boolean;
  /** Milliseconds; 0 = not a filter. A record is kept when it took longer. */
  readonly minDuration: number;
}

/** Traefik's `accessLog.fields`. Field names match exactly, header names in any case (Traefik's). */
export interface AccessLogFields {
  readonly defaultMode: FieldMode;
  /**
   * Traefik's field names (`ClientHost`, `RequestPath`…), matched exactly as Traefik's
   * AccessLogFields.Keep looks them up in its map (pkg/types/logs.go; logTheRoundTrip passes the
   * field's own name): `clienthost` names nothing, as in Traefik (traefik/traefik#9755, the
   * lower-casing of #11040 is not merged).
   */
  readonly names: Readonly<Record<string, FieldMode>>;
  readonly headers: {
    readonly defaultMode: FieldMode;
    readonly names: Readonly<Record<string, FieldMode>>;
  };
  /** Traefik v3.7.3's `fields.queryParameters.defaultMode`: `drop` logs RequestPath without its query. */
  readonly queryParameters?: { readonly defaultMode: 'keep' | 'drop' };
}

export interface AccessLogOptions {
  /** genericCLF: the Common Log Format without Traefik's request count, router, server and duration. */
  readonly format: 'json' | 'common' | 'genericCLF';
  /** '' = stdout. */
  readonly filePath: string;
  /** Flush when this many bytes are pending. */
  readonly bufferBytes?: number;
  /** Flush when this many lines are pending (Traefik's bufferingSize); 0 = by bytes and time only. */
  readonly bufferingSize?: number;
  readonly filters?: AccessLogFilters;
  readonly fields?: AccessLogFields;
  /** Open, write and reopen failures (default: a process warning). */
  readonly onError?: (message: string, error: Error) => void;
  /** `accessLog.otlp`: each kept record goes there too. */
  readonly otlp?: AccessLogOtlpSink;
  /**
   * With `otlp`, whether the lines still go to the file or stdout (`dualOutput`); Traefik
   * discards them otherwise (logger.Out = io.Discard). Default true.
   */
  readonly writeLines?: boolean;
}

const REDACTED = 'REDACTED';
const KEEP = 0;
const DROP = 1;
const REDACT = 2;
const MODE = { keep: KEEP, drop: DROP, redact: REDACT } as const;
const FLUSH_DELAY_MS = 50;
/** A non-blocking stdout pipe that is full: try again shortly rather than lose the lines. */
const EAGAIN_RETRY_MS = 5;

/**
 * Writes access log lines without blocking the event loop: lines accumulate in memory and are
 * written with asynchronous fs.write (thread pool) at most one operation at a time. stdout as a
 * pipe is synchronous on Linux, which is why we do not use process.stdout here. Reopening (for
 * logrotate) writes the lines logged before it to the old file (after the write in flight) and
 * holds later lines until the new file is open, so no line is lost or reordered.
 */
export class AccessLog {
  readonly #format: 'json' | 'common' | 'genericCLF';
  readonly #filePath: string;
  readonly #bufferBytes: number;
  readonly #bufferLines: number;
  readonly #filter: RecordFilter | null;
  readonly #fields: FieldPolicy;
  readonly #onError: (message: string, error: Error) => void;
  readonly #otlp: AccessLogOtlpSink | null;
  readonly #writeLines: boolean;
  /**
   * Some header is kept or redacted (`fields.headers`): the exchange then hands the response's
   * fields to the record (downstream_ and origin_), else it keeps none.
   */
  readonly logsHeaders: boolean;
  #pending: string[] = [];
  #pendingBytes = 0;
  #fd: number | null;
  /** An open or a write is in flight: the descriptor must neither change nor get another write. */
  #busy = false;
  #reopenWanted = false;
  /** How many of the pending lines were logged before the reopen asked for: the old file's. */
  #beforeReopen = 0;
  #out: Buffer | null = null;
  #outOffset = 0;
  #failing = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #closing: Promise<void> | null = null;
  #idleWaiters: (() => void)[] = [];
  /** Requests logged since start: Traefik's CLF carries this count. */
  #count = 0;

  constructor(opts: AccessLogOptions) {
    this.#format = opts.format;
    this.#filePath = opts.filePath;
    this.#bufferBytes = opts.bufferBytes ?? 32 * 1024;
    this.#bufferLines = opts.bufferingSize ?? 0;
    this.#filter = opts.filters === undefined ? null : RecordFilter.from(opts.filters);
    this.#fields = new FieldPolicy(opts.fields);
    this.logsHeaders = this.#fields.logsHeaders;
    this.#onError = opts.onError ?? ((message, error) => process.emitWarning(`${message}: ${error.message}`));
    this.#otlp = opts.otlp ?? null;
    this.#writeLines = opts.writeLines ?? true;
    this.#fd = opts.filePath === '' ? 1 : null;
    if (opts.filePath !== '') this.#createFolderAndOpen();
  }

  log(r: AccessRecord): void {
    if (this.#closed) return;
    this.#count++;
    if (this.#filter !== null && !this.#filter.keeps(r)) return;
    const f = this.#fields;
    const now = Date.now();
    let line: string;
    // The same kept record as the line (filters and fields apply to both), as Traefik's hook
    // sees the logrus entry its formatter writes. Its body is that line, as the formatter writes
    // it (Traefik's logTheRoundTrip formats the entry for the OTLP body, its level and time set
    // first since v3.7.x, PR #13767), the trailing newline included.
    if (this.#otlp !== null) {
      const body = this.#line(r, now);
      this.#otlp.recordAttributes('info', body, now, f.otlp(r, this.#count), r.trace);
      if (!this.#writeLines) return;
      // dualOutput: Traefik then logs the entry with that body as its message (Println(body)),
      // so the JSON line written to the file or stdout carries the body again as its `msg` (the
      // body's own `msg` is "", formatted before); the common format has no message.
      line = this.#format === 'json' ? f.json(r, this.#count, now, body) : body;
    } else {
      line = this.#line(r, now);
    }
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    if (
      this.#pendingBytes >= this.#bufferBytes ||
      (this.#bufferLines > 0 && this.#pending.length >= this.#bufferLines)
    ) {
      this.#flush();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#onTimer, FLUSH_DELAY_MS);
      this.#timer.unref();
    }
  }

  /** The record's line in the configured format, `now` its JSON `time`. */
  #line(r: AccessRecord, now: number): string {
    const format = this.#format;
    const f = this.#fields;
    return format === 'json'
      ? f.json(r, this.#count, now)
      : f.common(r, this.#count, format === 'genericCLF');
  }

  /**
   * Closes the file and opens its path again (after logrotate renamed it). Lines logged before
   * the call go to the old file, those logged during the reopen to the new one once it is open;
   * if it cannot be opened, writing goes on to the old one. stdout is never reopened.
   */
  reopen(): void {
    if (this.#filePath === '' || this.#closed) return;
    // The lines logged before the signal still go to the old file: Traefik writes each line as it
    // is logged (logrus to the *os.File), so what was logged before Rotate (pkg/middlewares/
    // accesslog/logger.go) is in the renamed file; only later lines reach the new one.
    if (!this.#reopenWanted) this.#beforeReopen = this.#pending.length;
    this.#reopenWanted = true;
    this.#flush();
  }

  /** Writes what is pending now; resolves when everything logged so far is written. */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#clearTimer();
      this.#flush();
    });
  }

  /** Flushes what is pending and closes the file; resolves when done. Later lines are ignored. */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closed = true;
    const otlp = this.#otlp?.close();
    this.#closing = this.flush()
      .then(
        () =>
          new Promise<void>((resolve) => {
            const fd = this.#fd;
            this.#fd = null;
            if (fd === null || this.#filePath === '') resolve();
            else close(fd, () => resolve());
          }),
      )
      .then(() => otlp);
    return this.#closing;
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#flush();
  };

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #flush(): void {
    if (this.#busy) return;
    if (this.#reopenWanted) {
      const before = this.#beforeReopen;
      this.#beforeReopen = 0;
      if (before === 0 || this.#fd === null) {
        this.#openFile();
        return;
      }
      // Those lines first, on the old descriptor; the reopen follows their write (#wrote).
      const lines = this.#pending.splice(0, before);
      this.#out = Buffer.from(lines.join(''), 'utf8');
      this.#outOffset = 0;
      for (const l of lines) this.#pendingBytes -= l.length;
      this.#writeOut();
      return;
    }
    if (this.#pending.length > 0 && this.#fd === null) {
      // The file could not be opened: holding the lines would only grow memory; reopen() retries.
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    if (this.#pending.length === 0) {
      this.#settle();
      return;
    }
    this.#out = Buffer.from(this.#pending.join(''), 'utf8');
    this.#outOffset = 0;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#writeOut();
  }

  #writeOut(): void {
    const out = this.#out!;
    this.#busy = true;
    write(this.#fd!, out, this.#outOffset, out.length - this.#outOffset, null, this.#wrote);
  }

  readonly #wrote = (err: NodeJS.ErrnoException | null, written: number): void => {
    if (err !== null) {
      if (err.code === 'EAGAIN') {
        setTimeout(() => this.#writeOut(), EAGAIN_RETRY_MS).unref();
        return;
      }
      // Disk full, I/O error: drop this batch (holding it would grow memory), say so once.
      if (!this.#failing) this.#onError('access log: write failed', err);
      this.#failing = true;
    } else {
      this.#failing = false;
      this.#outOffset += written;
      // A short write (pipe): the rest goes before anything else, reopen included.
      if (this.#outOffset < this.#out!.length) {
        this.#writeOut();
        return;
      }
    }
    this.#busy = false;
    this.#out = null;
    this.#flush();
  };

  /** The first open: the folder is made first (0755), as Traefik's openAccessLogFile does (os.MkdirAll). */
  #createFolderAndOpen(): void {
    this.#busy = true;
    mkdir(dirname(this.#filePath), { recursive: true, mode: 0o755 }, () => this.#openFile());
  }

  #openFile(): void {
    this.#reopenWanted = false;
    this.#busy = true;
    // 0664 less the umask, as Traefik's openAccessLogFile (pkg/middlewares/accesslog/logger.go:
    // os.OpenFile(…, 0o664)): a log shipper running as another user can read it.
    open(this.#filePath, 'a', ACCESS_LOG_MODE, this.#opened);
  }

  readonly #opened = (err: NodeJS.ErrnoException | null, fd: number): void => {
    this.#busy = false;
    if (err !== null) {
      this.#onError(`access log: cannot open ${this.#filePath}`, err);
    } else {
      const old = this.#fd;
      this.#fd = fd;
      if (old !== null) close(old, () => {});
    }
    this.#flush();
  };

  #settle(): void {
    if (this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}

/**
 * The access log `config` asks for; `logger` hears about files that cannot be opened or written;
 * `otlp` is where `accessLog.otlp` sends the records (when its exporter could be set up).
 */
export function createAccessLog(
  config: AccessLogConfig,
  logger?: Logger,
  otlp?: AccessLogOtlpSink,
): AccessLog {
  const f = config.filters;
  const fields = config.fields;
  return new AccessLog({
    format: config.format,
    filePath: config.filePath,
    bufferingSize: config.bufferingSize,
    ...(otlp === undefined ? {} : { otlp, writeLines: config.dualOutput }),
    ...(f === undefined
      ? {}
      : {
          filters: { statusCodes: f.statusCodes, retryAttempts: f.retryAttempts, minDuration: f.minDuration },
        }),
    ...(fields === undefined
      ? {}
      : {
          fields: {
            defaultMode: fields.defaultMode,
            names: fields.names,
            headers: { defaultMode: fields.headers.defaultMode, names: fields.headers.names },
            queryParameters: { defaultMode: fields.queryParameters.defaultMode },
          },
        }),
    ...(logger === undefined
      ? {}
      : {
          onError: (message: string, error: Error) =>
            logger.error(message, { filePath: config.filePath, error }),
        }),
  });
}

/** Traefik's keepAccessLog. */
class RecordFilter {
  /** 1 at each kept status code. */
  readonly #status: Uint8Array | null;
  readonly #retries: boolean;
  readonly #minDuration: number;

  private constructor(status: Uint8Array | null, retries: boolean, minDuration: number) {
    this.#status = status;
    this.#retries = retries;
    this.#minDuration = minDuration;
  }

  /** null when no filter is configured: everything is kept (as Traefik with empty filters). */
  static from(f: AccessLogFilters): RecordFilter | null {
    let status: Uint8Array | null = null;
    // Traefik's NewHandler: ranges NewHTTPCodeRanges cannot read are no status filter at all (the
    // configuration warns of it); any numbers else, a reversed range keeping nothing.
    const ranges = goHttpCodeRanges(f.statusCodes);
    for (const r of 'error' in ranges ? [] : ranges) {
      status ??= new Uint8Array(1000);
      const from = Math.max(r.from, 0);
      const to = Math.min(r.to, 999);
      if (from <= to) status.fill(1, from, to + 1);
    }
    if (status === null && !f.retryAttempts && f.minDuration <= 0) return null;
    return new RecordFilter(status, f.retryAttempts, f.minDuration);
  }

  keeps(r: AccessRecord): boolean {
    if (this.#status !== null && this.#status[r.status] === 1) return true;
    if (this.#retries && (r.retryAttempts ?? 0) > 0) return true;
    // Strictly longer, as Traefik's keepAccessLog compares (duration > minDuration).
    return this.#minDuration > 0 && r.durationMs > this.#minDuration;
  }
}

type Value = string | number | undefined;

interface Field {
  /** Traefik's name (pkg/middlewares/accesslog/logdata.go): the JSON key, and what `fields.names` names. */
  readonly name: string;
  /** undefined: the field is absent from this record (Traefik leaves it out of the map). */
  readonly value: (r: AccessRecord, count: number) => Value;
}

/**
 * Traefik's core fields, in the order Go's encoding/json writes a map's keys (bytewise sorted:
 * capitals first, then `entryPointName`, `span_id`, `trace_id`). Absent from ours: GzipRatio.
 */
const FIELDS: readonly Field[] = [
  { name: 'ClientAddr', value: clientAddr },
  { name: 'ClientHost', value: (r) => r.clientHost ?? r.clientIp },
  // Strings, as Traefik's silentSplitHostPort returns them; "-" when there is no port.
  { name: 'ClientPort', value: (r) => (r.clientPort === undefined ? '-' : String(r.clientPort)) },
  { name: 'ClientUsername', value: (r) => r.clientUsername ?? '-' },
  { name: 'DownstreamContentSize', value: (r) => r.bytesOut },
  { name: 'DownstreamStatus', value: (r) => r.status },
  // Nanoseconds, as Go marshals a time.Duration.
  { name: 'Duration', value: (r) => Math.round(r.durationMs * 1e6) },
  // The Kubernetes objects the request went through (Traefik v3.7 PR #12913: the Ingress of the
  // router, kubernetesIngress and kubernetesIngressNGINX; v3.8 PR #12985: the IngressRoute of a
  // kubernetesCRD router, and the Service of the load balancer that took the request, set by the
  // leaf load balancer as it is chosen, its namespace new). Absent for other routers and services.
  { name: 'KubernetesIngressName', value: (r) => ingressField(r, 'Ingress', false) },
  { name: 'KubernetesIngressNamespace', value: (r) => ingressField(r, 'Ingress', true) },
  { name: 'KubernetesIngressRouteName', value: (r) => ingressField(r, 'IngressRoute', false) },
  { name: 'KubernetesIngressRouteNamespace', value: (r) => ingressField(r, 'IngressRoute', true) },
  { name: 'KubernetesServiceName', value: (r) => nonEmpty(r.kubernetesService?.name) },
  { name: 'KubernetesServiceNamespace', value: (r) => nonEmpty(r.kubernetesService?.namespace) },
  // A string, as Traefik's portString: the number or the name the route gave.
  { name: 'KubernetesServicePort', value: (r) => nonEmpty(r.kubernetesService?.port) },
  // Traefik v3's AddServiceFields: the status and size its entry point's capture saw, and the
  // service's time; 0 each without a service (InitServiceFields). Overhead = Duration - that.
  { name: 'OriginContentSize', value: (r) => (r.originMs === undefined ? 0 : r.bytesOut) },
  { name: 'OriginDuration', value: (r) => Math.round((r.originMs ?? 0) * 1e6) },
  { name: 'OriginStatus', value: (r) => (r.originMs === undefined ? 0 : r.status) },
  { name: 'Overhead', value: (r) => Math.round(r.durationMs * 1e6) - Math.round((r.originMs ?? 0) * 1e6) },
  { name: 'RequestAddr', value: (r) => (r.host === '' ? undefined : requestAddr(r)) },
  { name: 'RequestContentSize', value: (r) => r.bytesIn },
  { name: 'RequestCount', value: (_r, count) => count },
  { name: 'RequestHost', value: (r) => (r.host === '' ? undefined : r.host) },
  { name: 'RequestMethod', value: (r) => r.method },
  { name: 'RequestPath', value: target },
  { name: 'RequestPort', value: (r) => (r.host === '' ? undefined : r.hostPort || '-') },
  { name: 'RequestProtocol', value: (r) => r.protocol },
  { name: 'RequestScheme', value: (r) => r.scheme ?? 'http' },
  { name: 'RetryAttempts', value: (r) => r.retryAttempts ?? 0 },
  // Set by the router, the service and the server when the request reached them (absent on a 404).
  { name: 'RouterName', value: (r) => r.router || undefined },
  { name: 'ServiceAddr', value: (r) => serviceAddr(r.server) },
  { name: 'ServiceName', value: (r) => r.service || undefined },
  { name: 'ServiceURL', value: (r) => r.server || undefined },
  // Traefik v3's SpanId and TraceId (pkg/middlewares/accesslog/logdata.go): the EntryPoint span's
  // context, which its entry point chain sets before the access log, when the request is traced.
  { name: 'SpanId', value: (r) => r.trace?.spanId },
  { name: 'StartLocal', value: (r) => goTime(r.startTime, true, true) },
  { name: 'StartUTC', value: (r) => goTime(r.startTime, false, true) },
  { name: 'TLSCipher', value: (r) => r.tlsCipher },
  // Traefik v3's TLSClientSubject (logger.go ServeHTTP: PeerCertificates[0].Subject.String()),
  // only when the client sent a certificate.
  { name: 'TLSClientSubject', value: (r) => r.tlsClientSubject },
  { name: 'TLSVersion', value: (r) => r.tlsVersion },
  { name: 'TraceId', value: (r) => r.trace?.traceId },
  { name: 'entryPointName', value: (r) => r.entryPoint },
  // Traefik v3.7's OTel-conformant span_id and trace_id (logdata.go OTelSpanID, OTelTraceID, set
  // beside SpanId and TraceId by logger.go ServeHTTP): same values, lowercase keys, which Go's
  // JSON writes after the formatter's `msg` and the request_ headers (json() places them).
  { name: 'span_id', value: (r) => r.trace?.spanId },
  { name: 'trace_id', value: (r) => r.trace?.traceId },
];
const F = Object.fromEntries(FIELDS.map((f, i) => [f.name, i])) as Record<string, number>;
const F_CLIENT_HOST = F.ClientHost!;
const F_USERNAME = F.ClientUsername!;
const F_START_UTC = F.StartUTC!;
const F_START_LOCAL = F.StartLocal!;
const F_METHOD = F.RequestMethod!;
const F_PATH = F.RequestPath!;
const F_PROTOCOL = F.RequestProtocol!;
const F_STATUS = F.DownstreamStatus!;
const F_SIZE = F.DownstreamContentSize!;
const F_COUNT = F.RequestCount!;
const F_ROUTER = F.RouterName!;
const F_SERVER = F.ServiceURL!;
const F_DURATION = F.Duration!;
const F_OTEL_SPAN_ID = F.span_id!;
const F_ENTRY_POINT = F.entryPointName!;
const F_OTEL_TRACE_ID = F.trace_id!;
/** Header slots after the fields, for the CLF. */
const F_REFERER = FIELDS.length;
const F_AGENT = FIELDS.length + 1;

/** Field and header modes, resolved once. Without `fields`, Traefik's defaults: keep the fields, drop the headers. */
class FieldPolicy {
  /** Mode per FIELDS slot, then referer and user agent (CLF). */
  readonly #modes: Uint8Array;
  readonly #headerDefault: number;
  /** Lowercased header name → mode. */
  readonly #headerModes: Map<string, number>;
  /** `fields.queryParameters.defaultMode: drop`: RequestPath without its query. */
  readonly #dropQuery: boolean;
  /** Some header field can be written (kept or redacted). */
  readonly logsHeaders: boolean;

  constructor(f: AccessLogFields | undefined) {
    const names = f?.names ?? {};
    const fieldDefault = MODE[f?.defaultMode ?? 'keep'];
    this.#modes = new Uint8Array(F_AGENT + 1);
    for (const [i, field] of FIELDS.entries()) {
      const mode = Object.hasOwn(names, field.name) ? names[field.name] : undefined;
      this.#modes[i] = mode === undefined ? fieldDefault : MODE[mode];
    }
    this.#headerDefault = MODE[f?.headers.defaultMode ?? 'drop'];
    this.#headerModes = lowerKeys(f?.headers.names ?? {});
    this.#dropQuery = f?.queryParameters?.defaultMode === 'drop';
    this.logsHeaders =
      this.#headerDefault !== DROP || [...this.#headerModes.values()].some((m) => m !== DROP);
    // The CLF's referer and user agent are Traefik's request_Referer and request_User-Agent
    // fields: there only when the header modes keep (or redact) them; "-" by default (drop).
    this.#modes[F_REFERER] = this.#headerModes.get('referer') ?? this.#headerDefault;
    this.#modes[F_AGENT] = this.#headerModes.get('user-agent') ?? this.#headerDefault;
  }

  /** Traefik's JSON line: its logrus JSONFormatter over the kept fields, plus level, msg and time. */
  json(r: AccessRecord, count: number, now: number, msg = ''): string {
    const o: Record<string, string | number> = {};
    // Go's map order (bytewise): the capitalised fields, the downstream_ headers,
    // entryPointName, level, msg, the origin_ then request_ headers, span_id, time, trace_id.
    for (let i = 0; i < F_ENTRY_POINT; i++) this.#jsonField(o, r, count, i);
    const headers = this.#headers(r);
    const keys = headers === null ? null : Object.keys(headers).sort();
    let k = 0;
    if (keys !== null)
      for (; k < keys.length && keys[k]! < 'entryPointName'; k++) o[keys[k]!] = headers![keys[k]!]!;
    this.#jsonField(o, r, count, F_ENTRY_POINT);
    o.level = 'info';
    o.msg = msg;
    if (keys !== null) for (; k < keys.length; k++) o[keys[k]!] = headers![keys[k]!]!;
    this.#jsonField(o, r, count, F_OTEL_SPAN_ID);
    o.time = goTime(now, true, false);
    this.#jsonField(o, r, count, F_OTEL_TRACE_ID);
    return `${escapeHtml(JSON.stringify(o))}\n`;
  }

  #jsonField(o: Record<string, string | number>, r: AccessRecord, count: number, i: number): void {
    const mode = this.#modes[i];
    if (mode === DROP) return;
    const v = this.#value(r, count, i);
    if (v !== undefined) o[FIELDS[i]!.name] = mode === REDACT ? REDACTED : v;
  }

  /**
   * Field `i` of the record. RequestPath loses its query with `queryParameters.defaultMode: drop`
   * (Traefik v3.7.3, PR #13091: the path as received, nothing from its `?` on), in every format.
   */
  #value(r: AccessRecord, count: number, i: number): string | number | undefined {
    return i === F_PATH && this.#dropQuery ? r.path : FIELDS[i]!.value(r, count);
  }

  /**
   * The record's attributes over OTLP: the fields the JSON line has (without its level, msg and
   * time, which the formatter adds), typed as otellogrus's convertValue types logrus's fields:
   * integers (sizes, statuses, counts, durations in nanoseconds) as int64, StartUTC and
   * StartLocal (time.Time) as their Unix nanoseconds, the rest as strings.
   */
  otlp(r: AccessRecord, count: number): JsonKeyValue[] {
    const m = this.#modes;
    const out: JsonKeyValue[] = [];
    for (let i = 0; i < FIELDS.length; i++) {
      if (m[i] === DROP) continue;
      const key = FIELDS[i]!.name;
      const v = this.#value(r, count, i);
      // A field the record does not have is no attribute, redacted or not (`redact` for a field
      // is ours): Traefik writes only the fields its LogData holds (logTheRoundTrip ranges over
      // them), and the JSON line does the same.
      if (v === undefined) continue;
      if (m[i] === REDACT) {
        out.push({ key, value: { stringValue: REDACTED } });
        continue;
      }
      if (i === F_START_UTC || i === F_START_LOCAL) {
        out.push({ key, value: { intValue: unixNanos(r.startTime) } });
        continue;
      }
      out.push({ key, value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v } });
    }
    const headers = this.#headers(r);
    if (headers !== null) {
      for (const key in headers) out.push({ key, value: { stringValue: headers[key]! } });
    }
    return out;
  }

  /**
   * `request_<Canonical-Name>` for each kept or redacted request header, and `downstream_` and
   * `origin_` for the response's (Traefik's logTheRoundTrip: redactHeaders of the request's, its
   * OriginResponse and its DownstreamResponse headers); null when no header is logged.
   */
  #headers(r: AccessRecord): Record<string, string> | null {
    if (!this.logsHeaders) return null;
    const o: Record<string, string> = {};
    const h = r.requestHeaders;
    if (h !== undefined) {
      for (let i = 0; i < h.lnames.length; i++)
        this.#header(o, 'request_', h.lnames[i]!, h.names[i]!, h.values[i]!);
    } else {
      // Without the forwarded headers, the two the record carries anyway.
      if (r.userAgent !== '') this.#header(o, 'request_', 'user-agent', 'User-Agent', r.userAgent);
      if (r.referer !== '') this.#header(o, 'request_', 'referer', 'Referer', r.referer);
    }
    const res = r.responseHeaders;
    if (res !== undefined && res !== null) {
      // Go's map holds no hop-by-hop field (ReverseProxy removes them before copying); ours still
      // lists the upstream's, which the writer leaves out.
      const origin = r.originMs !== undefined;
      for (let i = 0; i < res.lnames.length; i++) {
        const ln = res.lnames[i]!;
        if (isResponseHop(ln)) continue;
        this.#header(o, 'downstream_', ln, res.names[i]!, res.values[i]!);
        // OriginResponse: set by AddServiceFields once the service handler returned; nil (no
        // origin_ field) when a middleware or the proxy answered.
        if (origin) this.#header(o, 'origin_', ln, res.names[i]!, res.values[i]!);
      }
    }
    return o;
  }

  #header(o: Record<string, string>, prefix: string, lname: string, name: string, value: string): void {
    // Go moves Host out of the request's header map (Request.Host): Traefik never logs it as a header.
    if (lname === 'host' && prefix === 'request_') return;
    const mode = this.#headerModes.get(lname) ?? this.#headerDefault;
    if (mode === DROP) return;
    // Traefik's keys: the prefix + the canonical (Go) form of the name, whatever case was used.
    const key = `${prefix}${canonicalHeaderName(name)}`;
    const prev = o[key];
    // Repeated fields joined by a bare comma, as redactHeaders does (strings.Join(values, ",")).
    o[key] = mode === REDACT ? REDACTED : prev === undefined ? value : `${prev},${value}`;
  }

  /**
   * Traefik's CommonLogFormatter (logger_formatters.go): `-` for what is absent or dropped; its
   * GenericCLFLogFormatter (`generic`) stops after the user agent.
   */
  common(r: AccessRecord, count: number, generic: boolean): string {
    const m = this.#modes;
    // StartUTC, else StartLocal in local time, else "-"; the duration is 0ms once dropped.
    const time =
      m[F_START_UTC] !== DROP
        ? plain(m, F_START_UTC, clfTime(r.startTime, false))
        : m[F_START_LOCAL] !== DROP
          ? plain(m, F_START_LOCAL, clfTime(r.startTime, true))
          : '-';
    const duration =
      m[F_DURATION] === KEEP ? Math.floor(r.durationMs) : m[F_DURATION] === DROP ? 0 : REDACTED;
    // An empty user name is "-", as Traefik's toLogEntry writes an empty value.
    const user = r.clientUsername === undefined || r.clientUsername === '' ? '-' : r.clientUsername;
    const clf = `${plain(m, F_CLIENT_HOST, r.clientHost ?? r.clientIp)} - ${plain(m, F_USERNAME, user)} [${time}] "${plain(m, F_METHOD, r.method)} ${plain(m, F_PATH, this.#dropQuery ? r.path : target(r))} ${plain(m, F_PROTOCOL, r.protocol)}" ${plain(m, F_STATUS, r.status)} ${plain(m, F_SIZE, r.bytesOut)} ${quoted(m, F_REFERER, r.referer)} ${quoted(m, F_AGENT, r.userAgent)}`;
    if (generic) return `${clf}\n`;
    return `${clf} ${plain(m, F_COUNT, count)} ${quoted(m, F_ROUTER, r.router)} ${quoted(m, F_SERVER, r.server)} ${duration}ms\n`;
  }
}

/** The Ingress (or IngressRoute) field of a record whose router was made from one of `kind`. */
function ingressField(r: AccessRecord, kind: KubernetesObjectRef['kind'], namespace: boolean): Value {
  const k = r.kubernetes;
  if (k === undefined || k.kind !== kind) return undefined;
  return nonEmpty(namespace ? k.namespace : k.name);
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === '' ? undefined : s;
}

function plain(m: Uint8Array, slot: number, s: string | number): string {
  return m[slot] === KEEP ? String(s) : m[slot] === DROP ? '-' : REDACTED;
}

function quoted(m: Uint8Array, slot: number, s: string): string {
  return m[slot] === KEEP ? q(s) : m[slot] === DROP ? '"-"' : `"${REDACTED}"`;
}

function lowerKeys(names: Readonly<Record<string, FieldMode>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(names)) out.set(k.toLowerCase(), MODE[v]);
  return out;
}

/** Go's textproto.CanonicalMIMEHeaderKey for token names: `x-request-id` → `X-Request-Id`. */
function canonicalHeaderName(name: string): string {
  let out = '';
  let upper = true;
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    out += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === '-';
  }
  return out;
}

function target(r: AccessRecord): string {
  return withQuery(r.path, r.query);
}

/** Go's Request.RemoteAddr: `ip:port`, `[ip6]:port`. */
function clientAddr(r: AccessRecord): string {
  if (r.clientPort === undefined) return r.clientIp;
  return r.clientIp.includes(':') ? `[${r.clientIp}]:${r.clientPort}` : `${r.clientIp}:${r.clientPort}`;
}

/** Request.Host: the host and the port the client named. */
function requestAddr(r: AccessRecord): string {
  return r.hostPort === undefined || r.hostPort === '' ? r.host : `${r.host}:${r.hostPort}`;
}

/** The server URL's host[:port] (Go's URL.Host); a TCP server's address as it is. */
function serviceAddr(server: string): string | undefined {
  if (server === '') return undefined;
  const scheme = server.indexOf('://');
  if (scheme === -1) return server;
  let host = server.slice(scheme + 3);
  const end = host.search(/[/?#]/);
  if (end !== -1) host = host.slice(0, end);
  const at = host.lastIndexOf('@');
  return at === -1 ? host : host.slice(at + 1);
}

/** logrus's JSONFormatter escapes HTML (Go's json.Encoder default), and Go always escapes U+2028/9. */
function escapeHtml(s: string): string {
  if (!/[<>&\u2028\u2029]/.test(s)) return s;
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function q(s: string): string {
  return s === '' ? '"-"' : JSON.stringify(s);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Minutes east of UTC at `ms` in the process's time zone (0 for UTC). */
function localOffset(ms: number, local: boolean): number {
  return local ? -new Date(ms).getTimezoneOffset() : 0;
}

/**
 * Go's time formats for a millisecond instant: RFC 3339 (logrus's `time`) or RFC 3339 with the
 * fraction (time.Time's JSON: trailing zeros dropped), `Z` for UTC, else `+hh:mm`.
 */
function goTime(ms: number, local: boolean, fraction: boolean): string {
  const whole = Math.floor(ms);
  const off = localOffset(whole, local);
  const d = new Date(whole + off * 60_000);
  let s = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const milli = d.getUTCMilliseconds();
  if (fraction && milli !== 0) s += `.${String(milli).padStart(3, '0').replace(/0+$/, '')}`;
  if (off === 0) return `${s}Z`;
  const a = Math.abs(off);
  return `${s}${off < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** Go's "02/Jan/2006:15:04:05 -0700", in UTC or in the process's time zone. */
function clfTime(ms: number, local: boolean): string {
  const whole = Math.floor(ms);
  const off = localOffset(whole, local);
  const d = new Date(whole + off * 60_000);
  const a = Math.abs(off);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${off < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}
