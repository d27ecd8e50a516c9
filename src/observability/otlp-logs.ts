/**
 * `log.otlp` (behind `experimental.otlpLogs`): the application log's records sent to an OTLP
 * collector as well, as Traefik's zerolog hook does (pkg/observability/logs/otel.go
 * otelLoggerHook, types/logs.go OTelLog.NewLoggerProvider):
 * - one LogRecord per written line, its time the line's, its severity by level (zerolog's Debug,
 *   Info, Warn and Error: 5, 9, 13, 17, otelLogSeverity), its body the message, its attributes the
 *   line's fields but `level` and `time` (strings, numbers as doubles, booleans; anything else as
 *   text), under the scope `traefik` (provider.Logger("traefik"));
 * - the resource: `serviceName` (default traefik), service.version, `resourceAttributes`, then
 *   OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME;
 * - a batch processor (sdk/log NewBatchProcessor's defaults): every second or every 512 records,
 *   at most 2,048 waiting (more are dropped), one export at a time, a last one at close.
 * Off the request path: a record is pushed onto an array; encoding and export happen on a timer.
 */
import type { LogFields, Logger, LogLevel, LogTee } from '../core/logger.ts';
import type { RecordTrace } from './access-log.ts';
import { type OtlpSender, WarnLimiter } from './otlp-http.ts';
import { encodeExportRequest } from './otlp-proto.ts';
import { createSender, type OtlpExportTarget } from './otlp-transport.ts';
import {
  anyValue,
  encodeResource,
  type JsonKeyValue,
  type OtlpResource,
  unixNanos,
} from './tracing/otlp-json.ts';

/** otellog.Severity of zerolog's levels (otelLogSeverity). */
const SEVERITY: Readonly<Record<LogLevel, number>> = { debug: 5, info: 9, warn: 13, error: 17 };

const SCOPE = 'traefik';

interface QueuedRecord {
  readonly level: LogLevel;
  readonly msg: string;
  readonly epochMs: number;
  readonly fields: LogFields;
  /** Attributes typed by the caller (the access log's): used instead of `fields`. */
  readonly attributes?: JsonKeyValue[];
  /** The span context of the request the record is about (the access log's traced requests). */
  readonly trace?: RecordTrace | undefined;
  /** OTLP severityText: the access log's (otellogrus sets logrus's level name); none for zerolog's. */
  readonly severityText?: string;
}

export interface LogExporterOptions extends OtlpExportTarget {
  /** `serviceName`; a `service.name` of the attributes wins (they come after it). */
  readonly serviceName: string;
  readonly resourceAttributes: Readonly<Record<string, string | number>>;
  /** Defaults: 1000 ms, 512, 2048 (sdk/log's batch processor), 10 s (otlplog*'s timeout). */
  readonly intervalMs?: number;
  readonly maxBatch?: number;
  readonly maxQueue?: number;
  readonly timeoutMs?: number;
  /** The section named in export warnings (default `log.otlp`). */
  readonly section?: string;
}

/** A field's value as Traefik's hook types it after json.Unmarshal. */
function attribute(key: string, v: unknown): JsonKeyValue {
  if (typeof v === 'string') return { key, value: { stringValue: v } };
  if (typeof v === 'boolean') return { key, value: { boolValue: v } };
  if (typeof v === 'number') return { key, value: Number.isFinite(v) ? { doubleValue: v } : anyValue(v) };
  if (v instanceof Error) return { key, value: { stringValue: v.message } };
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return { key, value: { stringValue: text } };
}

const NO_FIELDS: LogFields = {};

function encodeRecord(r: QueuedRecord): object {
  let attributes = r.attributes;
  if (attributes === undefined) {
    attributes = [];
    for (const [k, v] of Object.entries(r.fields)) {
      if (k === 'level' || k === 'time' || v === undefined) continue;
      attributes.push(attribute(k, v));
    }
  }
  const time = unixNanos(r.epochMs);
  const t = r.trace;
  return {
    timeUnixNano: time,
    observedTimeUnixNano: time,
    severityNumber: SEVERITY[r.level],
    ...(r.severityText === undefined ? {} : { severityText: r.severityText }),
    body: { stringValue: r.msg },
    attributes,
    // Go's sdk/log record takes the span context of the context it is emitted with: its ids and
    // trace flags (the sampled bit).
    ...(t === undefined ? {} : { traceId: t.traceId, spanId: t.spanId, flags: t.sampled ? 1 : 0 }),
  };
}

/** An ExportLogsServiceRequest (the JSON mapping's tree). */
export function encodeLogs(resource: OtlpResource, records: readonly QueuedRecord[]): object {
  return {
    resourceLogs: [
      { resource, scopeLogs: [{ scope: { name: SCOPE }, logRecords: records.map(encodeRecord) }] },
    ],
  };
}

export class OtlpLogExporter implements LogTee {
  readonly #resource: OtlpResource;
  readonly #client: OtlpSender;
  readonly #maxBatch: number;
  readonly #maxQueue: number;
  readonly #section: string;
  /** Its own failures are warned about through the log it exports: set after construction. */
  #warnings: WarnLimiter | null = null;
  #queue: QueuedRecord[] = [];
  #timer: NodeJS.Timeout | null;
  #sending: Promise<void> | null = null;
  #closed = false;
  #dropped = 0;
  #exported = 0;

  /** Throws when a gRPC endpoint is not `host:port` (createSender). */
  constructor(opts: LogExporterOptions, logger: Logger) {
    const attrs = opts.resourceAttributes;
    this.#resource = encodeResource(String(attrs['service.name'] ?? opts.serviceName), attrs);
    this.#client = createSender('logs', opts, opts.timeoutMs ?? 10_000, logger);
    this.#maxBatch = opts.maxBatch ?? 512;
    this.#maxQueue = Math.max(opts.maxQueue ?? 2048, this.#maxBatch);
    this.#section = opts.section ?? 'log.otlp';
    this.#timer = setInterval(OtlpLogExporter.#onTick, opts.intervalMs ?? 1000, this);
    this.#timer.unref();
  }

  /** Where failed exports are reported (rate-limited). */
  reportTo(logger: Logger): void {
    this.#warnings = new WarnLimiter(logger);
  }

  get dropped(): number {
    return this.#dropped;
  }

  get exported(): number {
    return this.#exported;
  }

  record(level: LogLevel, msg: string, epochMs: number, fields: LogFields): void {
    this.#enqueue({ level, msg, epochMs, fields });
  }

  /** A record whose attributes are already typed (the access log's, access-log.ts). */
  recordAttributes(
    level: LogLevel,
    msg: string,
    epochMs: number,
    attributes: JsonKeyValue[],
    trace?: RecordTrace,
  ): void {
    // otellogrus's convertEntry: SetSeverityText(e.Level.String()), "info" for every access record.
    this.#enqueue({ level, msg, epochMs, fields: NO_FIELDS, attributes, trace, severityText: level });
  }

  #enqueue(r: QueuedRecord): void {
    if (this.#closed || this.#queue.length >= this.#maxQueue) {
      this.#dropped++;
      return;
    }
    this.#queue.push(r);
    if (this.#queue.length >= this.#maxBatch && this.#sending === null) void this.flush();
  }

  static #onTick(self: OtlpLogExporter): void {
    if (self.#queue.length > 0 && self.#sending === null) void self.flush();
  }

  /** Exports what is queued now (after the export in flight). Never rejects. */
  async flush(): Promise<void> {
    while (this.#sending !== null) await this.#sending;
    if (this.#queue.length === 0) return;
    const p = this.#drain().finally(() => {
      this.#sending = null;
    });
    this.#sending = p;
    await p;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      let failure: Record<string, unknown> | null;
      try {
        failure = await this.#client.send(encodeExportRequest('logs', encodeLogs(this.#resource, batch)));
      } catch (error) {
        failure = { error };
      }
      if (failure === null) {
        this.#exported += batch.length;
        continue;
      }
      this.#dropped += batch.length;
      // Warned once a minute at most: the warning is itself a record of this log.
      this.#warnings?.warn('export', `${this.#section}: log export failed, batch dropped`, {
        endpoint: this.#client.url,
        records: batch.length,
        droppedTotal: this.#dropped,
        ...failure,
      });
    }
  }

  /** Stops the timer and exports what is left. */
  async close(): Promise<void> {
    this.#client.stopRetrying?.();
    if (this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
    await this.flush();
    this.#closed = true;
    this.#client.close();
  }
}

/**
 * The logger's tee before the exporter exists (the logger is made first, the exporter once the
 * configuration is read): records are kept until then, within the exporter's queue limit.
 */
export class DeferredLogTee implements LogTee {
  #target: LogTee | null = null;
  #early: QueuedRecord[] | null = [];

  record(level: LogLevel, msg: string, epochMs: number, fields: LogFields): void {
    if (this.#target !== null) this.#target.record(level, msg, epochMs, fields);
    else if (this.#early !== null && this.#early.length < 2048)
      this.#early.push({ level, msg, epochMs, fields });
  }

  /** Sends the records kept so far to `target`, and every later one; null drops them all. */
  attach(target: LogTee | null): void {
    const early = this.#early ?? [];
    this.#early = null;
    this.#target = target;
    if (target !== null) for (const r of early) target.record(r.level, r.msg, r.epochMs, r.fields);
  }
}
