import type { RedirectSchemeConfig } from '../config/dynamic/middlewares.ts';
import { type DirectResponse, type RequestHead, withQuery } from '../core/request.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';
import { canonicalRawPath } from './path.ts';
import { portSuffix, redirectHostPort, redirectResponse } from './redirect-response.ts';

/**
 * Traefik's redirectScheme (pkg/middlewares/redirect/redirect_scheme.go): the redirect to
 * `scheme://host[:port]/path?query`, or undefined when that is already the URL the client used
 * (Traefik then calls the next handler). The client's scheme is the connection's, overridden by
 * X-Forwarded-Proto (http/ws or https/wss) as in Traefik's clientRequestURL, so this relies on the
 * entry point having overwritten X-Forwarded-Proto from untrusted peers before middlewares run.
 * `port` is the target's suffix (`:8443`, '' for the scheme's default port).
 */
export function schemeRedirect(
  req: RequestHead,
  scheme: string,
  port: string,
  permanent: boolean,
  fixed = 0,
): DirectResponse | undefined {
  let from: string = req.scheme;
  const xfp = req.headers.get('x-forwarded-proto');
  if (xfp !== undefined && xfp !== '') {
    const p = xfp.toLowerCase();
    if (p === 'http' || p === 'ws') from = 'http';
    else if (p === 'https' || p === 'wss') from = 'https';
  }
  // The Host as the client wrote it (case, a trailing dot), as Traefik's req.Host.
  const [host, hostPort] = redirectHostPort(req);
  if (from === scheme && portSuffix(from, hostPort) === port) return undefined;
  // Traefik writes the URL back from Go's url.URL: the path as EscapedPath() gives it.
  const path = canonicalRawPath(req.path) ?? req.path;
  const location = `${scheme}://${host}${port}${withQuery(path, req.query)}`;
  return redirectResponse(req.method, location, permanent, fixed);
}

/** The middleware: without `port` in its configuration, the target has the scheme's default port. */
class RedirectScheme implements Middleware {
  readonly #scheme: string;
  readonly #port: string;
  readonly #permanent: boolean;
  /** forcePermanentRedirect: 308 whatever the method; 0 = by method. */
  readonly #fixed: number;

  constructor(scheme: string, port: string, permanent: boolean, fixed: number) {
    this.#scheme = scheme;
    this.#port = port;
    this.#permanent = permanent;
    this.#fixed = fixed;
  }

  onRequest(req: RequestHead): DirectResponse | undefined {
    return schemeRedirect(req, this.#scheme, this.#port, this.#permanent, this.#fixed);
  }
}

export const redirectSchemeFactory: MiddlewareFactory<RedirectSchemeConfig> = {
  type: 'redirectScheme',
  create(config: RedirectSchemeConfig): Middleware | { error: string } {
    // Schemes are case-insensitive (RFC 3986 §3.1); comparing them lowercased avoids a redirect loop.
    const scheme = config.scheme.toLowerCase();
    return new RedirectScheme(
      scheme,
      portSuffix(scheme, config.port ?? ''),
      config.permanent,
      config.forcePermanentRedirect === true ? 308 : 0,
    );
  },
};
