import type { Logger } from '../core/logger.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';

/**
 * A middleware instance, built once per configuration snapshot. Both phases are synchronous and
 * run on heads only: a route whose middlewares are all synchronous pays no promise per request.
 *
 * - `onRequest` may rewrite `req.path`, `req.query` and `req.headers`, or answer by itself by
 *   returning a DirectResponse (a redirect, a rejection); returning undefined continues the chain.
 * - `onResponse` may edit the upstream response head (status, headers) before it is sent on.
 *   It runs in reverse order of `onRequest`, as in Traefik and Caddy. It also runs on direct
 *   responses produced by a later middleware or by the proxy itself (errors), not on those
 *   produced by itself or an earlier one.
 */
export interface Middleware {
  readonly onRequest?: (req: RequestHead) => DirectResponse | undefined;
  readonly onResponse?: (req: RequestHead, res: ResponseHead) => void;
}

export interface BuildContext {
  /** The middleware's qualified name, e.g. `strip@file`. */
  readonly name: string;
  readonly logger: Logger;
  /**
   * Resolves other middlewares by name (for `chain`). Names without `@provider` are looked up in
   * the provider of the middleware being built. Returns an error string for unknown names or a
   * cycle.
   */
  resolve(names: readonly string[]): readonly Middleware[] | { error: string };
}

/** Built-in middleware: `type` is the YAML key (e.g. 'stripPrefix'); C is the config type from its zod schema. */
export interface MiddlewareFactory<C> {
  readonly type: string;
  /** Returns the middleware, or an error message when the config is valid YAML but unusable. */
  create(config: C, ctx: BuildContext): Middleware | { error: string };
}
