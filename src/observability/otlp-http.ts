/**
 * What the two OTLP/HTTP exporters (metrics/otlp-pusher.ts, tracing/span-exporter.ts) share:
 * one POST of an export to the collector, and warnings about failed exports rate-limited so that
 * a collector outage does not flood the log. Off the request path.
 */
import type { Logger } from '../core/logger.ts';

export interface OtlpPostOptions {
  /** The URL posted to (the signal's path included). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** A hung collector must not hold an exporter's one export slot for ever. */
  readonly timeoutMs: number;
}

/** The fields of a failed export (`status` of a refusal, or the `error`), for the warning. */
export type OtlpFailure = Record<string, unknown>;

export class OtlpHttpClient {
  readonly url: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(opts: OtlpPostOptions) {
    this.url = opts.url;
    this.#headers = { ...opts.headers, 'content-type': 'application/json' };
    this.#timeoutMs = opts.timeoutMs;
  }

  /** POSTs one export (OTLP JSON): null when the collector took it, else why not. Never rejects. */
  async post(body: string): Promise<OtlpFailure | null> {
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: this.#headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      // Read the body so that the connection goes back to fetch's pool.
      await res.arrayBuffer();
      return res.ok ? null : { status: res.status };
    } catch (err) {
      return { error: err instanceof Error ? (err.cause ?? err) : err };
    }
  }
}

/** One warning per kind of trouble per minute: a collector outage must not flood the log. */
export const WARN_INTERVAL_MS = 60_000;

/**
 * Warnings of one kind at most once per WARN_INTERVAL_MS; the next one says how many were kept
 * quiet in between (`suppressed`).
 */
export class WarnLimiter {
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(logger: Logger, now: () => number = Date.now) {
    this.#logger = logger;
    this.#now = now;
  }

  warn(kind: string, msg: string, fields: Record<string, unknown>): void {
    const now = this.#now();
    const last = this.#last.get(kind);
    if (last !== undefined && now - last.at < WARN_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    this.#logger.warn(msg, { ...fields, suppressed: last?.suppressed ?? 0 });
    this.#last.set(kind, { at: now, suppressed: 0 });
  }
}
