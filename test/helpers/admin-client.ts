/**
 * A small client for the admin API of a running proxy, over fetch: JSON in, status, headers and
 * parsed JSON out, and bounded polling for state that changes on the proxy's own schedule
 * (health checks).
 */

import type { MiddlewareView, RouterView, ServerView, ServiceView } from '../../src/admin/views.ts';
import { DEFAULT_WAIT_MS } from './wait.ts';

export interface AdminReply<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  readonly body: T;
  readonly text: string;
}

export interface SendOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as the raw body, with no Content-Type unless `headers` gives one. */
  readonly raw?: string;
}

/** The admin API's JSON: the views it serves (src/admin/views.ts), as the tests read them. */
export type RouterJson = RouterView;
export type ServerJson = ServerView;
export type MiddlewareJson = MiddlewareView;
/** One service (`GET /api/http/services/<name>`) also carries its configuration. */
export type ServiceJson = ServiceView & { readonly config?: unknown };

export interface WriteJson {
  readonly generation: number;
  readonly etag: string;
}

export interface ErrorJson {
  readonly error: string;
  readonly issues?: readonly string[];
  readonly etag?: string;
}

export class AdminClient {
  readonly base: string;
  readonly #headers: Readonly<Record<string, string>>;

  /** `base` is `http://127.0.0.1:<port>`; `headers` go with every request (credentials). */
  constructor(base: string, headers: Readonly<Record<string, string>> = {}) {
    this.base = base;
    this.#headers = headers;
  }

  get<T = unknown>(path: string, opts: SendOptions = {}): Promise<AdminReply<T>> {
    return this.send<T>('GET', path, undefined, opts);
  }

  /** `body` (when not undefined) is sent as JSON with `Content-Type: application/json`. */
  async send<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    opts: SendOptions = {},
  ): Promise<AdminReply<T>> {
    const headers: Record<string, string> = { ...this.#headers };
    let payload: string | undefined = opts.raw;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    Object.assign(headers, opts.headers);
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers,
      ...(payload !== undefined ? { body: payload } : {}),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  put<T = WriteJson>(path: string, body: unknown, opts: SendOptions = {}): Promise<AdminReply<T>> {
    return this.send<T>('PUT', path, body, opts);
  }

  patch<T = WriteJson>(path: string, body: unknown, opts: SendOptions = {}): Promise<AdminReply<T>> {
    return this.send<T>('PATCH', path, body, opts);
  }

  delete<T = WriteJson>(path: string, opts: SendOptions = {}): Promise<AdminReply<T>> {
    return this.send<T>('DELETE', path, undefined, opts);
  }

  /** The API provider's own configuration and its ETag (quoted, as sent). */
  async config(): Promise<{ config: unknown; etag: string }> {
    const r = await this.get('/api/config');
    if (r.status !== 200) throw new Error(`GET /api/config answered ${r.status}: ${r.text}`);
    return { config: r.body, etag: r.headers.get('etag') ?? '' };
  }

  /**
   * GETs `path` until `pred` holds for the reply, every `intervalMs`, and resolves with that
   * reply; rejects with the last reply once `timeoutMs` has passed (a deadline, not a wait).
   */
  async until<T = unknown>(
    path: string,
    pred: (r: AdminReply<T>) => boolean,
    what: string,
    timeoutMs = DEFAULT_WAIT_MS,
    intervalMs = 50,
  ): Promise<AdminReply<T>> {
    const giveUpAt = performance.now() + timeoutMs;
    for (;;) {
      const r = await this.get<T>(path);
      if (pred(r)) return r;
      if (performance.now() > giveUpAt) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; last reply ${r.status}: ${r.text}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
