import type { PluginMiddlewareConfig } from '../config/dynamic/plugin-middleware.ts';
import type { StatusRange } from '../config/dynamic/status-ranges.ts';
import type { HeaderList } from '../core/headers.ts';
import type { Logger } from '../core/logger.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';
import type { Ticker } from '../core/ticker.ts';
import type { RetryBudget } from '../resilience/retry-budget.ts';

/** Returned by `onRequest` when the middleware will call `ctl.resume` later (a queued request). */
export const SUSPEND: unique symbol = Symbol('suspend');
export type RequestPhaseValue = DirectResponse | undefined | typeof SUSPEND;

/** How a request ended, for middlewares that learn from outcomes (circuit breaker, limits). */
export interface RequestOutcome {
  /** The status the client got; 0 when the connection broke before a response. */
  readonly status: number;
  /** True when the final try failed on the network (refused, reset, timeout). */
  readonly networkError: boolean;
  /** From the request's start to its response head (or to its failure). */
  readonly headMs: number;
  /** From the request's start to its end: the response's last byte, or the failure. */
  readonly totalMs: number;
}

/** Released once when the request ends, whatever the way (answered, failed, client gone). */
export interface Lease {
  release(outcome: RequestOutcome): void;
}

/** What a middleware may do with the request beyond returning from onRequest. */
export interface RequestControl {
  /** Continue a request whose onRequest returned SUSPEND: with a response, or undefined to go on. */
  resume(response?: DirectResponse): void;
  /** Have `lease.release` called when the request ends. */
  onEnd(lease: Lease): void;
  /** Transform this request's bodies, both ways, on their way through the proxy (one per request). */
  transformBody(t: BodyTransform): void;
  /**
   * For a middleware that returned SUSPEND: the whole request body, in memory (forwardAuth's
   * `forwardBody`). `done` comes later with its bytes; a body over `limit` bytes (< 0: none) is
   * answered `over` by the proxy and `done` never comes. The server gets the same bytes.
   * Absent where there is no body to read (explain's dry runs). `overSpanError`: what that
   * answer marks on a traced request's span.
   */
  readBody?(limit: number, over: DirectResponse, done: (body: Buffer) => void, overSpanError?: string): void;
  /**
   * The user the request claims or authenticated as, for the access log's ClientUsername (as
   * Traefik's basicAuth, digestAuth and forwardAuth set accesslog.ClientUsername). Absent where
   * nothing is logged (explain's dry runs).
   */
  setClientUsername?(name: string): void;
  /**
   * The request was authenticated by basicAuth or digestAuth, which set Traefik's req.URL.User
   * (basic_auth.go, digest_auth.go): the CLIENT spans of its calls then show the URL's redacted
   * user (`REDACTED:REDACTED@` in url.full, pkg/observability/tracing safeURL). Absent where
   * nothing is traced (explain's dry runs).
   */
  setUrlUser?(): void;
  /**
   * A call the middleware makes for this request (forwardAuth's to its auth server), when the
   * request is traced: its CLIENT span `name` is started under the request's innermost span and
   * its context set in `headers` (`traceparent`, `tracestate`), as Traefik's forwardAuth does;
   * null when there is nothing to end (not traced, or not sampled). `url` is the one called.
   */
  traceCall?(name: string, method: string, url: string, headers: HeaderList): CallTrace | null;
  /**
   * Traefik's observability.SetStatusErrorf for something other than the middleware's own answer
   * (that is DirectResponse.spanError): an error status with `message` on the request's current
   * span, when it is traced (rateLimit's `Context canceled`). Absent where nothing is traced.
   */
  markSpanError?(message: string): void;
  /**
   * The request went past a `retry` middleware whose route has middlewares with a request phase
   * after it (the marker middleware/retry.ts `retryPoint` puts there): those, from index `from`
   * of the route's middlewares, run again for each attempt of `policy`, as Traefik's retry calls
   * its `next` handler once per attempt. Absent where nothing is retried (explain's dry runs).
   */
  retryPoint?(from: number, policy: RetryPolicy): void;
}

/** A middleware's call's span (RequestControl.traceCall): `close` ends it. */
export interface CallTrace {
  close(): void;
}

/**
 * A middleware's view of the bodies of one request, both directions, at the upstream seam: for
 * a middleware that changes the protocol spoken to the server (grpcWeb), which needs the request
 * body and the response trailers that the response body phase (`onResponseBody`) does not carry.
 * The upstream's response is transformed first, then goes through the route's `onResponse` and
 * `onResponseBody` phases like any. Registered per request by `onRequest` through
 * `ctl.transformBody`, so that a route whose requests need no transform pays nothing. Each call
 * returns the bytes to pass on (possibly the same buffer, possibly empty); the proxy re-frames
 * what it passes on (its length changes: no Content-Length either way).
 *
 * Calls come per try of the request: `requestHead` starts one (the body is sent again from its
 * first byte on a retry), the response side runs once, for the try whose response is relayed.
 */
export interface BodyTransform {
  /** The fields of the request as it goes upstream (a copy of the request's): may edit them. */
  requestHead(headers: HeaderList): void;
  requestData(chunk: Buffer): Buffer;
  /** The request body ended: last bytes to send, or null. */
  requestEnd(): Buffer | null;
  /** The response head from upstream, before the route's onResponse phases: may edit it. */
  responseHead(res: ResponseHead): void;
  responseData(chunk: Buffer): Buffer;
  /**
   * The response body ended with these trailer fields (null: none): last bytes to send, or null.
   * Trailers are not passed on as trailers: a transform that keeps them puts them in the body.
   */
  responseEnd(trailers: HeaderList | null): Buffer | null;
}

/** Retry settings the request's exchange applies around its upstream tries. */
export interface RetryPolicy {
  /** Tries in all, the first one included. */
  readonly attempts: number;
  readonly initialIntervalMs: number;
  /** Response statuses that are retried (empty = none). */
  readonly status: readonly StatusRange[];
  /**
   * `status` lists 503: the load balancer's own "no available server" answer is an attempt that
   * is retried (Traefik's retry wraps the whole service). Read where a service finds no server.
   */
  readonly retriesNoServer: boolean;
  readonly onNetworkError: boolean;
  readonly nonIdempotent: boolean;
  /**
   * No further try once this long has passed since the request's first try (0 = none): the
   * failure then goes to the client. Traefik's retry `timeout` (retry.go, `timedOut`); it never
   * cuts a try.
   */
  readonly windowMs: number;
  /** Request bodies up to this size are kept for replay. */
  readonly maxBodyBytes: number;
  readonly budget: RetryBudget;
}

/**
 * One body's filter (one request's response, for `onResponseBody`): bytes in, bytes out through
 * `out`, possibly later (a compressor's output comes asynchronously), possibly fewer or more.
 */
export interface BodyFilter {
  /**
   * Starts the filter: from now on it writes through `out`. Called once, before any `write`.
   */
  start(out: BodyOutput): void;
  /** Body bytes, in order. Returns false when the filter wants no more for now: it calls `out.drained()` when it does. */
  write(chunk: Buffer): boolean;
  /** After `out.push` returned false: the next stage takes bytes again. */
  resume?(): void;
  /** The body ended: flush what is held, then `out.end()`. */
  end(): void;
  /** The exchange is over before the body ended (client gone, upstream broke): free everything, write nothing more. */
  destroy(): void;
}

/** Where a filter writes. */
export interface BodyOutput {
  /**
   * Filtered bytes for the next filter (or the client). false: the next stage is full; the
   * filter should hold its output until `resume()` (what it pushes meanwhile is still taken).
   */
  push(chunk: Buffer): boolean;
  /**
   * The whole output will be `n` bytes (a filter that holds the whole body): the client gets a
   * Content-Length instead of a chunked body. Only before the first push; only the last filter's
   * counts (another one after it changes the length).
   */
  length(n: number): void;
  /** The filtered body is complete. */
  end(): void;
  /**
   * The filter could not go on (a compressor's error): the response is broken. With `status`,
   * a response whose head has not gone out yet is answered with that status instead (a body
   * over a limit: 500).
   */
  fail(reason: string, status?: number): void;
  /** The filter takes input again after `write` returned false. */
  drained(): void;
}

/**
 * An error page (the `errors` middleware): a response whose status is in `status` is replaced by
 * a GET of `query` on the service named `service` (qualified `name@provider`); the client gets
 * the original status, or the one `rewrites` maps it to. The exchange applies it (the runtime
 * resolves the service when it builds the route).
 */
export interface ErrorPageSpec {
  readonly status: readonly StatusRange[];
  readonly rewrites: readonly { readonly from: StatusRange; readonly to: number }[];
  readonly service: string;
  readonly query: string;
  /** Lowercase names of the request fields the page request carries; null = all of them. */
  readonly forward: readonly string[] | null;
  /**
   * ingress-nginx's error pages (`nginxHeaders`): fields added to the page request, which also
   * gets X-Code, X-Format and X-Original-URI, and whose own status the client gets; else null.
   */
  readonly nginx: readonly (readonly [string, string])[] | null;
}

/**
 * Whole bodies (the `buffering` middleware): the exchange reads the request body to its end
 * before it sends the request (413 past `maxRequestBodyBytes`, 0 = no limit), keeping the
 * first `memRequestBodyBytes` in memory and the rest in a temporary file; the response side is
 * the middleware's own body filter. `retry` (from `retryExpression`) says, after each try,
 * whether to try again: `attempts` made so far, the try's status (502/504 for a network error
 * or a timeout), and whether it was a network error.
 */
export interface BufferingSpec {
  readonly maxRequestBodyBytes: number;
  readonly memRequestBodyBytes: number;
  readonly retry:
    | ((attempts: number, status: number, networkError: boolean, method: string) => boolean)
    | null;
}

/** A per-server guard a middleware puts on the route (a per-server circuit breaker). */
export interface ServerGuard {
  accept(server: { readonly url: string }): boolean;
  /** One try's outcome; status 0 = a network error or timeout. */
  record(server: { readonly url: string }, status: number, headMs: number): void;
}

/**
 * A middleware instance, built once per configuration snapshot. Both phases run on heads only: a
 * route whose middlewares are all synchronous pays no promise per request.
 *
 * - `onRequest` may rewrite `req.path`, `req.query` and `req.headers`, or answer by itself by
 *   returning a DirectResponse (a redirect, a rejection); returning undefined continues the chain.
 *   It may also return SUSPEND and later call `ctl.resume` (a request waiting in a queue).
 * - `onResponse` may edit the upstream response head (status, headers) before it is sent on.
 *   It runs in reverse order of `onRequest`, as in Traefik and Caddy. It also runs on direct
 *   responses produced by a later middleware or by the proxy itself (errors), not on those
 *   produced by itself or an earlier one.
 * - `retry` and `guard` are settings the exchange applies around its upstream tries.
 */
export interface Middleware {
  readonly onRequest?: (req: RequestHead, ctl: RequestControl) => RequestPhaseValue;
  readonly onResponse?: (req: RequestHead, res: ResponseHead) => void;
  /**
   * The body phase of the response: called once the response head went through every
   * `onResponse` (in the same reverse order), with the head still editable. A middleware that
   * wants the body returns a filter (and fixes the head to match: a compressor sets
   * Content-Encoding); one that does not returns null. The body then goes through the filters
   * before it reaches the client, with backpressure, and is re-framed (its length is no longer
   * known). Routes none of whose middlewares has this hook pay nothing for it.
   */
  readonly onResponseBody?: (req: RequestHead, res: ResponseHead) => BodyFilter | null;
  /**
   * An answer the proxy or a middleware after this one wrote itself (`body` its whole text),
   * once every `onResponse` before this one in the chain ran: the head is still editable
   * (contentType names the body's type here, as Go's sniffing would).
   */
  readonly onDirectResponse?: (req: RequestHead, res: ResponseHead, body: string) => void;
  readonly retry?: RetryPolicy;
  readonly guard?: ServerGuard;
  readonly errorPage?: ErrorPageSpec;
  readonly buffering?: BufferingSpec;
}

export interface BuildContext {
  /** The middleware's qualified name, e.g. `strip@file`. */
  readonly name: string;
  readonly logger: Logger;
  /** The coarse clock (`ticker.now`) and deadline sweep shared by the process. */
  readonly ticker: Ticker;
  /**
   * State that outlives a reload while the middleware's configuration is unchanged (rate-limit
   * buckets, breakers, in-flight counts): created once per `key`, reused by the next snapshots.
   */
  shared<T extends object>(key: string, create: () => T): T;
  /**
   * State of this use of the middleware (rate-limit buckets, breakers, in-flight counts): Traefik
   * builds each router's chain anew (pkg/server/middleware/middlewares.go BuildChain, called per
   * router by pkg/server/router/router.go buildHTTPHandler), so a middleware two routers use, or
   * one listed twice in a chain, has a state per use. Kept across reloads like `shared`, while
   * the router, the use and the configuration are unchanged. Resolved at build time only.
   */
  routerState<T extends object>(key: string, create: () => T): T;
  /** The router whose chain this instance is built for (for logs); undefined when built unrouted. */
  readonly router?: string | undefined;
  /**
   * Resolves other middlewares by name (for `chain`). Names without `@provider` are looked up in
   * the provider of the middleware being built. Returns an error string for unknown names or a
   * cycle.
   */
  resolve(names: readonly string[]): readonly Middleware[] | { error: string };
  /**
   * A service this middleware sends requests to (`errors`): its qualified name, looked up in the
   * provider of the middleware being built when unqualified; an error when it does not exist.
   */
  service(name: string): string | { error: string };
  /** Builds `plugin` middlewares from the local plugins (static `experimental.localPlugins`). */
  readonly plugins?: PluginMiddlewares | undefined;
}

/**
 * The `plugin` middleware's maker (src/plugins, which imports the plugins' modules beforehand):
 * the middleware module knows plugins only through this.
 */
export interface PluginMiddlewares {
  create(config: PluginMiddlewareConfig, ctx: BuildContext): Middleware | MiddlewareError;
}

/** Why a middleware cannot be built; `path` (below `http.middlewares.<name>`) places it in the file. */
export interface MiddlewareError {
  readonly error: string;
  readonly path?: readonly (string | number)[];
}

/** Built-in middleware: `type` is the YAML key (e.g. 'stripPrefix'); C is the config type from its zod schema. */
export interface MiddlewareFactory<C> {
  readonly type: string;
  /** Returns the middleware, or an error message when the config is valid YAML but unusable. */
  create(config: C, ctx: BuildContext): Middleware | MiddlewareError;
}
