/**
 * What the OTLP exporters (metrics/otlp-pusher.ts, tracing/span-exporter.ts) share over HTTP:
 * one POST of an export to the collector, and warnings about failed exports rate-limited so that
 * a collector outage does not flood the log. Off the request path.
 *
 * The client is set up as Traefik sets up otlpmetrichttp and otlptracehttp
 * (pkg/observability/metrics/otel.go newHTTPExporter, types/tracing.go setupHTTPExporter): the
 * body in protobuf (`application/x-protobuf`, the only encoding Go's OTLP/HTTP exporters have),
 * gzip-compressed (WithCompression(GzipCompression), `content-encoding: gzip`), plain HTTP for an
 * `http` endpoint (WithInsecure) and TLS otherwise, with `tls` (types.ClientTLS: ca, cert, key,
 * insecureSkipVerify) when configured. One keep-alive connection per exporter.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Logger } from '../core/logger.ts';

const gzipAsync = promisify(gzip);

export interface OtlpPostOptions {
  /** The URL posted to (the signal's path included). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** A hung collector must not hold an exporter's one export slot for ever. */
  readonly timeoutMs: number;
  /** Client TLS (clientTlsOptions of `tls`); unused for an `http` endpoint, as Traefik's WithInsecure. */
  readonly tls?: ConnectionOptions | undefined;
}

/** How an exporter sends one export: null when the collector took it, else why not. Never rejects. */
export interface OtlpSender {
  /** Where the exports go, for the warnings. */
  readonly url: string;
  /**
   * `timeoutMs`: what is left of the export's context (its retries'), when less than the
   * client's own timeout: the attempt ends then, as Go's requests end with their context.
   */
  send(body: Uint8Array, timeoutMs?: number): Promise<OtlpFailure | null>;
  /** Shutdown: gives up a retry being waited for (otlp-retry.ts), before the last export. */
  stopRetrying?(): void;
  close(): void;
}

/**
 * The URL an exporter posts to, as Traefik gives it to otlpmetrichttp and otlptracehttp: the
 * endpoint's scheme and host (WithEndpoint(host)), and its path when url.Parse finds one
 * (WithURLPath), else the signal's default path, `/v1/metrics` or `/v1/traces`. The query is
 * not kept (Traefik passes the path only).
 */
export function otlpUrl(endpoint: string, defaultPath: string): string {
  const u = new URL(endpoint);
  const hasPath = !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(?:[?#].*)?$/i.test(endpoint);
  return `${u.protocol}//${u.host}${hasPath ? u.pathname : defaultPath}`;
}

/** The fields of a failed export (`status` of a refusal, or the `error`), for the warning. */
export type OtlpFailure = Record<string, unknown>;

export class OtlpHttpClient implements OtlpSender {
  readonly url: string;
  readonly #https: boolean;
  readonly #host: string;
  readonly #port: number;
  readonly #path: string;
  readonly #agent: HttpAgent;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(opts: OtlpPostOptions) {
    this.url = opts.url;
    const u = new URL(opts.url);
    this.#https = u.protocol !== 'http:';
    this.#host = u.hostname.replace(/^\[|\]$/g, '');
    this.#port = u.port === '' ? (this.#https ? 443 : 80) : Number(u.port);
    this.#path = `${u.pathname}${u.search}`;
    this.#agent = this.#https
      ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ...opts.tls })
      : new HttpAgent({ keepAlive: true, maxSockets: 1 });
    this.#headers = { ...opts.headers, 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' };
    this.#timeoutMs = opts.timeoutMs;
  }

  /** POSTs one export (an Export*ServiceRequest in protobuf). */
  async send(body: Uint8Array, timeoutMs?: number): Promise<OtlpFailure | null> {
    // AbortSignal.timeout takes whole milliseconds.
    const attemptMs = Math.ceil(
      timeoutMs === undefined ? this.#timeoutMs : Math.min(this.#timeoutMs, timeoutMs),
    );
    let compressed: Buffer;
    try {
      compressed = await gzipAsync(body);
    } catch (err) {
      return { error: err };
    }
    return new Promise((resolve) => {
      const onResponse = (res: IncomingMessage): void => {
        const status = res.statusCode ?? 0;
        // Read the body so that the connection can carry the next export.
        res.on('data', ignore);
        res.on('end', () => {
          if (status >= 200 && status < 300) return resolve(null);
          // Retry-After in seconds, the only form Go's exporters read (strconv.Atoi).
          const after = res.headers['retry-after'];
          const seconds = typeof after === 'string' && /^\d+$/.test(after.trim()) ? Number(after) : 0;
          resolve(seconds > 0 ? { status, retryAfterSeconds: seconds } : { status });
        });
        res.on('error', (error) => resolve({ error }));
      };
      const req = (this.#https ? httpsRequest : httpRequest)(
        {
          host: this.#host,
          port: this.#port,
          path: this.#path,
          method: 'POST',
          agent: this.#agent,
          headers: { ...this.#headers, 'content-length': String(compressed.length) },
          signal: AbortSignal.timeout(attemptMs),
        },
        onResponse,
      );
      req.on('error', (error) => resolve({ error }));
      req.end(compressed);
    });
  }

  /** Closes the kept connection (the exporter is done). */
  close(): void {
    this.#agent.destroy();
  }
}

function ignore(): void {}

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
