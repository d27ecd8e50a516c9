/**
 * Batches ended spans and sends them (OTLP/HTTP with protobuf bodies, or OTLP/gRPC), off the
 * request path: a request only pushes its span onto an array; encoding and the export happen on a
 * timer tick, or on the next turn of the event loop once a full batch is waiting.
 *
 * One export at a time and no retries: a collector that is down costs one failed POST per batch,
 * never a growing storm, and spans that do not fit the queue are dropped and counted.
 */
import type { Logger } from '../../core/logger.ts';
import { type OtlpSender, WarnLimiter } from '../otlp-http.ts';
import { encodeExportRequest } from '../otlp-proto.ts';
import { createSender, type OtlpExportTarget } from '../otlp-transport.ts';
import { encodeTraces, type OtlpResource } from './otlp-json.ts';
import type { FinishedSpan, SpanSink } from './span.ts';

export interface SpanExporterOptions extends OtlpExportTarget {
  /** From `encodeResource`. */
  readonly resource: OtlpResource;
  readonly flushIntervalMs: number;
  readonly maxBatch: number;
  readonly maxQueue: number;
  /** A hung collector must not hold the one export slot forever. */
  readonly timeoutMs: number;
  /** Wall clock for rate-limiting warnings; Date.now by default. */
  readonly now?: () => number;
}

export class SpanExporter implements SpanSink {
  readonly #opts: SpanExporterOptions;
  readonly #client: OtlpSender;
  readonly #warnings: WarnLimiter;
  #queue: FinishedSpan[] = [];
  /** Spans taken off the queue so far; with `#flushTarget`, what flush() waits for. */
  #taken = 0;
  #flushTarget = 0;
  #drain: Promise<void> | null = null;
  #kickScheduled = false;
  #timer: NodeJS.Timeout | null;
  #closed = false;
  #dropped = 0;
  #exported = 0;

  /** Throws when a gRPC endpoint is not `host:port` (createSender). */
  constructor(opts: SpanExporterOptions, logger: Logger) {
    this.#opts = opts;
    // Traefik's setupHTTPExporter (the endpoint's path, else otlptracehttp's /v1/traces) or
    // setupGRPCExporter.
    this.#client = createSender('traces', opts, opts.timeoutMs, logger);
    this.#warnings = new WarnLimiter(logger, opts.now);
    this.#timer = setInterval(SpanExporter.#onTick, opts.flushIntervalMs, this);
    this.#timer.unref();
  }

  /** Spans lost: queue full, export failed, or ended after close(). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Spans the collector accepted. */
  get exported(): number {
    return this.#exported;
  }

  enqueue(span: FinishedSpan): void {
    if (this.#closed || this.#queue.length >= this.#opts.maxQueue) {
      this.#dropped++;
      this.#warn('queue', 'tracing: span queue full, dropping spans', { maxQueue: this.#opts.maxQueue });
      return;
    }
    this.#queue.push(span);
    if (this.#queue.length >= this.#opts.maxBatch && !this.#kickScheduled && this.#drain === null) {
      this.#kickScheduled = true;
      setImmediate(SpanExporter.#onKick, this);
    }
  }

  /** Resolves once every span enqueued before the call has been exported or dropped. Never rejects. */
  flush(): Promise<void> {
    this.#flushTarget = this.#taken + this.#queue.length;
    return this.#startDrain();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#client.stopRetrying?.();
    if (this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
    await this.flush();
    this.#client.close();
  }

  static #onTick(self: SpanExporter): void {
    if (self.#queue.length > 0) void self.flush();
  }

  static #onKick(self: SpanExporter): void {
    self.#kickScheduled = false;
    void self.#startDrain();
  }

  #startDrain(): Promise<void> {
    this.#drain ??= this.#drainLoop();
    return this.#drain;
  }

  async #drainLoop(): Promise<void> {
    try {
      const max = this.#opts.maxBatch;
      // Full batches go as soon as they are ready; a partial one only when a flush asked for it.
      while (this.#queue.length >= max || (this.#queue.length > 0 && this.#taken < this.#flushTarget)) {
        const batch = this.#queue.splice(0, max);
        this.#taken += batch.length;
        await this.#send(batch);
      }
    } finally {
      this.#drain = null;
    }
  }

  async #send(batch: FinishedSpan[]): Promise<void> {
    let body: Uint8Array;
    try {
      body = encodeExportRequest('traces', encodeTraces(this.#opts.resource, batch));
    } catch (err) {
      this.#failed(batch.length, { error: err });
      return;
    }
    const failure = await this.#client.send(body);
    if (failure === null) this.#exported += batch.length;
    else this.#failed(batch.length, failure);
  }

  #failed(spans: number, fields: Record<string, unknown>): void {
    this.#dropped += spans;
    this.#warn('export', 'tracing: span export failed, batch dropped', {
      endpoint: this.#client.url,
      spans,
      ...fields,
    });
  }

  #warn(kind: string, msg: string, fields: Record<string, unknown>): void {
    this.#warnings.warn(kind, msg, { ...fields, droppedTotal: this.#dropped });
  }
}
