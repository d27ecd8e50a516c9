import type { UrlRewriteConfig } from '../config/dynamic/gateway-middlewares.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';
import { canonicalRawPath, isCleanPath, joinPath } from './path.ts';

const BAD_REQUEST: DirectResponse = {
  status: 400,
  headers: [['Content-Type', 'text/plain; charset=utf-8']],
  body: 'Bad Request\n',
};

/**
 * Gateway API URLRewrite, as Traefik's pkg/middlewares/gatewayapi/urlrewrite: `path` replaces the
 * whole path, or with `pathPrefix` (the route's matched prefix, a trailing slash ignored) only
 * that prefix, the rest joined and cleaned as Go's URL.JoinPath does ('' → '/'); a result that
 * is still not clean (a `%2e` segment) is answered 400, Traefik's guard. `hostname` becomes the
 * Host sent upstream. Unlike replacePath, no X-Replaced-Path is added.
 */
class UrlRewrite implements Middleware {
  readonly #host: string | undefined;
  readonly #path: string | undefined;
  readonly #prefix: string | undefined;

  constructor(host: string | undefined, path: string | undefined, prefix: string | undefined) {
    this.#host = host;
    this.#path = path;
    this.#prefix = prefix?.replace(/\/+$/, '');
  }

  onRequest(req: RequestHead): DirectResponse | undefined {
    const p = this.#path;
    if (p !== undefined) {
      if (this.#prefix === undefined) req.path = p === '' ? '/' : p;
      else {
        const tail = req.path.startsWith(this.#prefix) ? req.path.slice(this.#prefix.length) : req.path;
        let next = joinPath(p, tail);
        if (tail.endsWith('/') && !next.endsWith('/')) next += '/';
        if (next === '' || next === '.') next = '/';
        if (!isCleanPath(next)) return BAD_REQUEST;
        req.path = next;
      }
    }
    if (this.#host !== undefined) req.headers.set('Host', this.#host);
    return undefined;
  }
}

export const urlRewriteFactory: MiddlewareFactory<UrlRewriteConfig> = {
  type: 'urlRewrite',
  create(c: UrlRewriteConfig): Middleware | { error: string } {
    const path = c.path === undefined || c.path === '' ? c.path : canonicalRawPath(c.path);
    if (c.path !== undefined && path === undefined)
      return { error: `urlRewrite: invalid percent-encoding in path ${JSON.stringify(c.path)}` };
    return new UrlRewrite(c.hostname, path, c.pathPrefix);
  },
};
