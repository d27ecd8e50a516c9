/**
 * The plugin API of traffic-management: `import type { Plugin } from 'traffic-management/plugin'`.
 *
 * A plugin is a TypeScript or JavaScript module that exports `plugin`, a middleware factory with
 * the option schema it accepts (docs/plugins.md):
 *
 * ```ts
 * import type { Plugin } from 'traffic-management/plugin';
 * import { z } from 'zod';
 *
 * const schema = z.strictObject({ header: z.string().default('X-Stamp'), value: z.string() });
 *
 * export const plugin: Plugin<z.output<typeof schema>> = {
 *   schema,
 *   create(options) {
 *     return { onRequest: (req) => void req.headers.set(options.header, options.value) };
 *   },
 * };
 * ```
 *
 * This file is the stable subset of the proxy's own middleware interface
 * (src/middleware/middleware.ts): the same phases and shapes, minus what only built-in
 * middlewares may do (suspending with a symbol, retry policies, server guards). A type test
 * (src/plugins/api.test.ts) keeps the two in step. Types only: a plugin imports nothing of the
 * proxy at run time (`import type` is erased).
 */

/** Header fields of a request or a response, in order. Names keep their case; lookups take lowercase names. */
export interface HeaderFields {
  readonly size: number;
  /** The first value of a field, or undefined. `lname` must be lowercase. */
  get(lname: string): string | undefined;
  /** Every value of a field, in order. `lname` must be lowercase. */
  getAll(lname: string): string[];
  has(lname: string): boolean;
  append(name: string, value: string): void;
  /** Replaces every occurrence with one field. */
  set(name: string, value: string): void;
  /** Removes every occurrence; returns how many. `lname` must be lowercase. */
  delete(lname: string): number;
  entries(): IterableIterator<[string, string]>;
}

/**
 * What a middleware sees of a request: the parsed head, none of the body. `path`, `query` and the
 * headers may be rewritten before the request is forwarded (the proxy checks what a plugin wrote:
 * a header name must be a token, no value may hold CR, LF or NUL, the path starts with `/`).
 */
export interface PluginRequest {
  readonly method: string;
  /** As received (percent-encoding kept), starting with '/' (or '*' for OPTIONS *). */
  path: string;
  /** Without the leading '?'; '' when there is none. */
  query: string;
  /** For routing: lowercased, no port, no trailing dot; '' when absent. */
  readonly host: string;
  readonly headers: HeaderFields;
  /** The peer's address, never taken from X-Forwarded-For. */
  readonly clientIp: string;
  /** How the client reached the proxy. */
  readonly scheme: 'http' | 'https';
  /** The entry point the request arrived on. */
  readonly entryPoint: string;
}

/** A response head on its way to the client: the upstream's, or one the proxy or a middleware made. */
export interface PluginResponse {
  status: number;
  reason: string;
  readonly headers: HeaderFields;
}

/** A response a middleware produces itself, without an upstream (a rejection, a redirect). */
export interface DirectResponse {
  /** 200–599. */
  readonly status: number;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: string;
}

/** How a request ended. */
export interface RequestOutcome {
  /** The status the client got; 0 when the connection broke before a response. */
  readonly status: number;
  /** True when the final try failed on the network (refused, reset, timeout). */
  readonly networkError: boolean;
  /** From the request's start to its response head (or its failure), in milliseconds. */
  readonly headMs: number;
}

/** Released once when the request ends, however it ends (answered, failed, client gone). */
export interface Lease {
  release(outcome: RequestOutcome): void;
}

/** What a middleware may ask of the request beyond its phases. */
export interface RequestControl {
  /** Have `lease.release` called when the request ends. */
  onEnd(lease: Lease): void;
}

/**
 * One response body's filter: bytes in, bytes out through `out`, possibly later, fewer or more.
 * The head it was made for may still be edited until the first byte goes out through `out.push`.
 */
export interface BodyFilter {
  /** Called once, before any `write`: from now on the filter writes through `out`. */
  start(out: BodyOutput): void;
  /** Body bytes, in order. Return false to get no more until `out.drained()` is called. */
  write(chunk: Buffer): boolean;
  /** After `out.push` returned false: the next stage takes bytes again. */
  resume?(): void;
  /** The body ended: flush what is held, then call `out.end()`. */
  end(): void;
  /** The exchange ended before the body did (client gone, upstream broke): free everything, write nothing. */
  destroy(): void;
}

/** Where a body filter writes. */
export interface BodyOutput {
  /**
   * Filtered bytes for the next filter (or the client). false: the next stage is full; hold
   * further output until `resume()` (what is pushed meanwhile is still taken).
   */
  push(chunk: Buffer): boolean;
  /**
   * The whole output will be `n` bytes (a filter that holds the whole body): the client gets a
   * Content-Length instead of a chunked body. Only before the first push.
   */
  length(n: number): void;
  /** The filtered body is complete. */
  end(): void;
  /**
   * The filter cannot go on: the response is broken (never a clean end). With `status` (200–599),
   * a response whose head has not gone out yet is answered with that status instead.
   */
  fail(reason: string, status?: number): void;
  /** The filter takes input again after `write` returned false. */
  drained(): void;
}

/**
 * A middleware instance, made by `Plugin.create` once per configuration (each reload makes new
 * ones). Every phase is optional.
 *
 * - `onRequest` may rewrite the request, or answer by itself by returning a DirectResponse. It
 *   may return a Promise for asynchronous work (the request waits; a route whose middlewares are
 *   all synchronous pays no promise).
 * - `onResponse` may edit the response head (status, reason, headers) before it is sent on. It runs
 *   in reverse order of `onRequest`, on upstream responses and on answers of later middlewares or
 *   of the proxy itself (errors), not on those produced by itself or an earlier middleware.
 * - `onResponseBody` runs after every `onResponse`, for responses that have a body: return a
 *   filter to transform the body (and fix the head to match), or null to leave it alone.
 *
 * An exception thrown by a phase, or a rejected promise, fails that request with 500 and a log
 * line naming the plugin; in a body filter too, unless the filter has pushed bytes already (the
 * head is gone then): the response is broken.
 */
export interface Middleware {
  readonly onRequest?: (
    req: PluginRequest,
    ctl: RequestControl,
  ) => DirectResponse | undefined | Promise<DirectResponse | undefined>;
  readonly onResponse?: (req: PluginRequest, res: PluginResponse) => void;
  readonly onResponseBody?: (req: PluginRequest, res: PluginResponse) => BodyFilter | null;
}

/** The proxy's structured log: one line per call, with the plugin and middleware names added. */
export interface PluginLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Given to `create`. */
export interface PluginContext {
  /** The middleware's qualified name, e.g. `stamp@file`. */
  readonly name: string;
  /** The plugin's name in `experimental.localPlugins`. */
  readonly plugin: string;
  readonly logger: PluginLogger;
  /**
   * State that outlives a reload (counters, caches, connections): made once per `key` and kept
   * while the middleware's name and the plugin module stay the same. Put the options the state
   * depends on in the key.
   */
  shared<T extends object>(key: string, create: () => T): T;
}

/**
 * An option schema: the Standard Schema interface (standardschema.dev), which zod (3.24 and
 * later), valibot and arktype schemas implement as they are. Validation must be synchronous.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) => StandardSchemaV1.Result<Output> | Promise<StandardSchemaV1.Result<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

export declare namespace StandardSchemaV1 {
  type Result<Output> = SuccessResult<Output> | FailureResult;
  interface SuccessResult<Output> {
    readonly value: Output;
    readonly issues?: undefined;
  }
  interface FailureResult {
    readonly issues: ReadonlyArray<Issue>;
  }
  interface Issue {
    readonly message: string;
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  interface PathSegment {
    readonly key: PropertyKey;
  }
}

/**
 * What a plugin module exports as `plugin`: the same contract as the proxy's MiddlewareFactory.
 * `create` returns the middleware, or `{ error }` when the options are well-formed but unusable
 * (a configuration error: the middleware is disabled, and so are the routers using it). An
 * exception thrown by `create` is a bug: every request through the middleware gets 500.
 */
export interface Plugin<Options> {
  readonly schema: StandardSchemaV1<unknown, Options>;
  create(options: Options, ctx: PluginContext): Middleware | { readonly error: string };
}

/** The options type of a schema (`OptionsOf<typeof schema>`), for any Standard Schema. */
export type OptionsOf<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['output'];
