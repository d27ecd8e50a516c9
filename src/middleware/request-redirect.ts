import type { RequestRedirectConfig } from '../config/dynamic/gateway-middlewares.ts';
import { type DirectResponse, type RequestHead, withQuery } from '../core/request.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';
import { canonicalRawPath, joinPath } from './path.ts';
import { urlHost } from './redirect-response.ts';

/** The body, Go's http.StatusText of the status, as Traefik writes it. */
const TEXT: Readonly<Record<number, string>> = {
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
};

/**
 * Gateway API RequestRedirect, as Traefik's pkg/middlewares/gatewayapi/redirect: the Location is
 * the request's URL with the configured scheme, hostname, port and path put in, answered with
 * `statusCode` (301, 302, 303, 307 or 308, whatever the method). The port is the configured one,
 * else the Host's, and is written whenever it is not empty (an explicit 443 with https too), as
 * Traefik's ServeHTTP; the Gateway provider sets it to '' for a scheme without a port. Without
 * a configured scheme the Location is scheme-relative (`//host/path`), as Traefik's: it copies
 * the server request's URL, which has no scheme.
 */
class RequestRedirect implements Middleware {
  readonly #c: RequestRedirectConfig;
  readonly #path: string | undefined;
  readonly #prefix: string | undefined;

  constructor(c: RequestRedirectConfig, path: string | undefined) {
    this.#c = c;
    this.#path = path;
    // The Gateway API ignores a trailing slash of the matched prefix (`/foo/` strips like `/foo`).
    this.#prefix = c.pathPrefix?.replace(/\/+$/, '');
  }

  onRequest(req: RequestHead): DirectResponse {
    const c = this.#c;
    const port = c.port ?? req.hostPort;
    // Traefik's net.JoinHostPort whenever the port (configured, else the Host's) is not empty:
    // an explicit 443 with https stays in the Location.
    const host = urlHost(c.hostname ?? req.host) + (port === '' ? '' : `:${port}`);
    let path = req.path;
    if (this.#path !== undefined) {
      if (this.#prefix === undefined) path = this.#path;
      else {
        const tail = req.path.startsWith(this.#prefix) ? req.path.slice(this.#prefix.length) : req.path;
        path = joinPath(this.#path, tail);
        // path.Join drops a trailing slash: Traefik puts the request's back.
        if (req.path.endsWith('/') && !path.endsWith('/')) path += '/';
        if (path === '') path = '/';
      }
    }
    return {
      status: c.statusCode,
      headers: [
        // Without a scheme, Traefik's URL (a server request's has none) writes `//host/path`.
        ['Location', `${c.scheme === undefined ? '' : `${c.scheme}:`}//${host}${withQuery(path, req.query)}`],
        // No Content-Type: Traefik's moveHandler (pkg/middlewares/gatewayapi/redirect) sets
        // none; the wire gets the sniffed one from the head writers, the access log none.
      ],
      body: TEXT[c.statusCode] ?? '',
    };
  }
}

export const requestRedirectFactory: MiddlewareFactory<RequestRedirectConfig> = {
  type: 'requestRedirect',
  create(c: RequestRedirectConfig): Middleware | { error: string } {
    const path = c.path === undefined || c.path === '' ? c.path : canonicalRawPath(c.path);
    if (c.path !== undefined && path === undefined)
      return { error: `requestRedirect: invalid percent-encoding in path ${JSON.stringify(c.path)}` };
    return new RequestRedirect(c, path);
  },
};
