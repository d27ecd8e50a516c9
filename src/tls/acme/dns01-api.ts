/**
 * The HTTP client of the DNS providers that talk to a DNS host's API (Cloudflare, OVH, Route 53,
 * DigitalOcean, Hetzner, Gandi): one request, its whole answer (bounded), a deadline for the
 * whole exchange. node:http and node:https are loaded by the first request only: a proxy that
 * never solves dns-01 does not carry them. Errors name the provider, the method and the URL
 * (credentials in a URL are removed), never a header: headers carry the credentials.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { type Scheduler, systemScheduler } from './scheduler.ts';

export type ApiMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiRequest {
  readonly method: ApiMethod;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as is; `content-length` is set from it. */
  readonly body?: string;
  /** The query carries credentials (namecheap's ApiKey, ClouDNS's auth-password): messages show the URL without it. */
  readonly secretQuery?: boolean;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

export interface ApiClientOptions {
  /** lego's provider name, the prefix of every error ("cloudflare: …"). */
  readonly provider: string;
  /** lego's `<PREFIX>_HTTP_TIMEOUT`: from connecting to the end of the answer. */
  readonly timeoutMs: number;
  readonly scheduler?: Scheduler;
  /** PEM bundle trusted for https instead of the system roots (tests). */
  readonly ca?: string;
}

/** An answer larger than this is an error: no DNS API answers a handful of records with megabytes. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** How much of an error answer goes into a message. */
export const EXCERPT_CHARS = 300;

/** A DNS host's API refused or failed a request: the message says what it answered. */
export class DnsApiError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'DnsApiError';
    this.status = status;
  }
}

export class ApiClient {
  readonly provider: string;
  readonly #opts: ApiClientOptions;
  readonly #scheduler: Scheduler;

  constructor(opts: ApiClientOptions) {
    this.provider = opts.provider;
    this.#opts = opts;
    this.#scheduler = opts.scheduler ?? systemScheduler;
  }

  /** Sends the request; resolves with any status (the caller decides), rejects on transport failures. */
  send(req: ApiRequest): Promise<ApiResponse> {
    const shown = `${req.method} ${shownUrl(req)}`;
    const headers: Record<string, string | number> = { accept: 'application/json', ...req.headers };
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
    const timeoutMs = this.#opts.timeoutMs;
    return new Promise<ApiResponse>((resolve, reject) => {
      let finished = false;
      const done = (err: Error | undefined, res?: ApiResponse): void => {
        if (finished) return;
        finished = true;
        this.#scheduler.clearTimeout(timer);
        if (err === undefined) resolve(res!);
        else reject(err);
      };
      const fail = (e: Error): void => done(new DnsApiError(`${this.provider}: ${shown}: ${e.message}`));
      const onResponse = (res: IncomingMessage): void => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) {
            res.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', fail);
        res.on('end', () =>
          done(undefined, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      };
      const options = { method: req.method, headers, agent: false as const };
      let request: ReturnType<typeof import('node:http').request>;
      try {
        if (req.url.protocol === 'https:') {
          const https = process.getBuiltinModule('node:https');
          const ca = this.#opts.ca;
          request = https.request(req.url, ca === undefined ? options : { ...options, ca }, onResponse);
        } else if (req.url.protocol === 'http:') {
          request = process.getBuiltinModule('node:http').request(req.url, options, onResponse);
        } else {
          reject(new DnsApiError(`${this.provider}: ${shown}: not an http or https URL`));
          return;
        }
      } catch (e) {
        reject(new DnsApiError(`${this.provider}: ${shown}: ${(e as Error).message}`));
        return;
      }
      request.on('error', fail);
      const timer = this.#scheduler.setTimeout(() => {
        done(new DnsApiError(`${this.provider}: ${shown}: no answer within ${timeoutMs / 1000} s`));
        request.destroy();
      }, timeoutMs);
      request.end(req.body);
    });
  }

  /**
   * Sends a request whose success is a 2xx answer with a JSON body (or no body), and returns the
   * parsed body. Anything else is a DnsApiError quoting `describe(body)` or an excerpt.
   */
  async json(
    req: ApiRequest,
    describe: (body: unknown) => string | undefined = () => undefined,
  ): Promise<unknown> {
    const res = await this.send(req);
    const body = parseJson(res.text);
    if (res.status < 200 || res.status > 299) throw this.statusError(req, res, describe(body));
    if (body === INVALID) {
      throw new DnsApiError(
        `${this.provider}: ${req.method} ${shownUrl(req)} answered ${res.status} with a body that is not JSON: ${excerpt(res.text)}`,
        res.status,
      );
    }
    return body;
  }

  /** The error for an answer the caller does not accept. */
  statusError(req: ApiRequest, res: ApiResponse, detail?: string): DnsApiError {
    const why = detail !== undefined && detail !== '' ? detail : excerpt(res.text);
    return new DnsApiError(
      `${this.provider}: ${req.method} ${shownUrl(req)} answered ${res.status}${why === '' ? '' : `: ${why}`}`,
      res.status,
    );
  }
}

const INVALID: unique symbol = Symbol('invalid JSON');

/** The parsed body, undefined for an empty one, INVALID when it is not JSON. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return INVALID;
  }
}

export function excerpt(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t.length > EXCERPT_CHARS ? `${t.slice(0, EXCERPT_CHARS)}…` : t;
}

/** The request's URL for messages: without its query when that carries credentials. */
function shownUrl(req: ApiRequest): string {
  if (req.secretQuery !== true || req.url.search === '') return redacted(req.url);
  const copy = new URL(req.url);
  copy.search = '';
  return redacted(copy);
}

/** A URL for messages: user information in it is a credential. */
export function redacted(url: URL): string {
  if (url.username === '' && url.password === '') return url.href;
  const copy = new URL(url);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

/**
 * A call as Go API clients built on one NewRequest shape send it (govultr, dnsimple-go): a Bearer
 * token, a JSON content type on every request, the body JSON-encoded with json.Encoder's newline.
 */
export function bearerJsonCall(
  api: ApiClient,
  method: ApiMethod,
  url: URL,
  token: string,
  body: unknown,
  describe: (body: unknown) => string | undefined,
): Promise<unknown> {
  return api.json(
    {
      method,
      url,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: `${JSON.stringify(body)}\n` }),
    },
    describe,
  );
}

/** `base` with `segments` appended to its path, each one percent-encoded (Go's URL.JoinPath). */
export function joinUrl(base: URL, ...segments: string[]): URL {
  const url = new URL(base);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = `${path}/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
  return url;
}

/** joinUrl's URL with `query`'s parameters set: the URL of a REST call of the DNS APIs' Go clients. */
export function apiUrl(base: URL, segments: readonly string[], query?: Record<string, string>): URL {
  const url = joinUrl(base, ...segments);
  for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
  return url;
}

/** The value as a plain object, or undefined. */
export function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** `obj[key]` when it is a string (numbers too: some APIs send ids as numbers). */
export function stringField(v: unknown, key: string): string | undefined {
  const f = asObject(v)?.[key];
  if (typeof f === 'string') return f;
  if (typeof f === 'number' && Number.isFinite(f)) return String(f);
  return undefined;
}

export function arrayField(v: unknown, key: string): unknown[] | undefined {
  const f = asObject(v)?.[key];
  return Array.isArray(f) ? f : undefined;
}

/** Waits `ms` on the scheduler; rejects with the signal's reason when it aborts first. */
export function delay(scheduler: Scheduler, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      scheduler.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = scheduler.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * lego's wait.For: runs `check` every `intervalMs` until it says done, for at most `timeoutMs`
 * (a check that throws ends the wait at once). The last reason it gave goes into the timeout error.
 */
export async function pollUntil(
  scheduler: Scheduler,
  what: string,
  timeoutMs: number,
  intervalMs: number,
  check: () => Promise<string | true>,
  signal?: AbortSignal,
): Promise<void> {
  let waited = 0;
  for (;;) {
    const r = await check();
    if (r === true) return;
    if (waited >= timeoutMs) throw new DnsApiError(`${what}: not done within ${timeoutMs / 1000} s: ${r}`);
    await delay(scheduler, intervalMs, signal);
    waited += intervalMs;
  }
}
