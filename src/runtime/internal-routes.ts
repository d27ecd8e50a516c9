import type { RouterConfig } from '../config/dynamic/schema.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import type { Middleware } from '../middleware/middleware.ts';
import { schemeRedirect } from '../middleware/redirect-scheme.ts';
import type { RouteEntry } from '../router/index.ts';
import type { Observe } from './observe.ts';
import { NO_TIMEOUTS, type RouteTarget, type ServiceNode } from './types.ts';

/**
 * `noop@internal`, the service of routes that always answer by themselves: it has no server.
 * Traefik defines it in every configuration (pkg/provider/traefik/internal.go) and its handler
 * answers 418 with no body (pkg/server/service/internalhandler.go); a router of any provider may
 * name it, typically one whose middleware always answers (a redirect). Its answer is the last
 * middleware of such a router's chain (`NOOP_MIDDLEWARE`).
 */
export const NO_SERVICE: ServiceNode = {
  name: 'noop@internal',
  available: () => false,
  resolve: () => undefined,
};

/** What noop@internal answers: Go's `WriteHeader(http.StatusTeapot)` and nothing else. */
const NOOP_ANSWER: DirectResponse = { status: 418 };

/** noop@internal's answer, last in the chain of a user's router that names it. */
export const NOOP_MIDDLEWARE: Middleware = { onRequest: (): DirectResponse => NOOP_ANSWER };

export interface Redirection {
  readonly scheme: string;
  /**
   * ':8443'-style suffix for Location, '' for the scheme's default port. Read per request: it is
   * set again once the target entry point is bound (a configured `:0` becomes the real port).
   */
  port: string;
  readonly permanent: boolean;
  readonly priority: number;
  /** `to` as configured: an entry point name or `:port`; it names the router. */
  readonly to: string;
  /**
   * The entry point's `allowACMEByPass`: ACME http-01 challenge paths are not redirected
   * (Traefik v3.6.10, #12740).
   */
  readonly acmeBypass: boolean;
}

/**
 * Traefik's provider.Normalize: the runs of letters and digits, joined by '-' (`web-to-:443` is
 * `web-to-443`).
 */
export function normalizeName(name: string): string {
  return name
    .split(/[^\p{L}\p{N}]+/u)
    .filter((s) => s !== '')
    .join('-');
}

/**
 * A router of the proxy's own on `entryPoint`: its one middleware `mw` (which answers, or marks
 * the request for the admin server), then `service` (none: the middleware answers them all).
 */
export function internalRoute(
  name: string,
  rule: string,
  /** Undefined: the rule's length, as a configured router without `priority`. */
  priority: number | undefined,
  entryPoint: string,
  mw: Middleware,
  observe: Observe,
  service: ServiceNode = NO_SERVICE,
): RouteEntry<RouteTarget> {
  return {
    name,
    rule,
    ...(priority === undefined ? {} : { priority }),
    entryPoints: [entryPoint],
    value: {
      router: name,
      middlewares: [mw],
      service,
      timeouts: NO_TIMEOUTS,
      retry: null,
      guards: [],
      bodyPhase: false,
      children: null,
      errorPages: null,
      buffering: null,
      bufferings: null,
      logged: observe.logged,
      metered: observe.metered,
      traced: observe.traced,
      httpRoute: rule,
    },
  };
}

/**
 * Traefik's entry point redirection (`http.redirections.entryPoint`): a catch-all router of the
 * highest priority whose only middleware is a redirectScheme to the target scheme and port
 * (pkg/provider/traefik/internal.go, redirection). Its rule is Traefik's `HostRegexp(\`^.+$\`)`:
 * a request without a Host (HTTP/1.0) is left to the other routers. The status is the redirect
 * middlewares' (pkg/middlewares/redirect/redirect.go, moveHandler): 301 (302 when not permanent)
 * for GET, 308 (307) for every other method.
 */
export function redirectionRoute(
  entryPoint: string,
  r: Redirection,
  observe: Observe,
): RouteEntry<RouteTarget> {
  const mw: Middleware = {
    // A request already on the target scheme and port goes on to Traefik's router service,
    // noop@internal, which answers 418 (a trusted proxy's X-Forwarded-Proto: https, say).
    onRequest: (req: RequestHead): DirectResponse =>
      schemeRedirect(req, r.scheme, r.port, r.permanent) ?? NOOP_ANSWER,
  };
  return internalRoute(
    // Traefik's name for it: Normalize(<entry point>-to-<to>), provider internal.
    `${normalizeName(`${entryPoint}-to-${r.to}`)}@internal`,
    redirectionRule(r.acmeBypass),
    r.priority,
    entryPoint,
    mw,
    observe,
  );
}

/** The rule of Traefik's ACME http-01 routers (`acme-http`, `acme-http-bypass`). */
export const ACME_CHALLENGE_RULE = 'PathPrefix(`/.well-known/acme-challenge/`)';

/**
 * The rule of an entry point redirection's router. With allowACMEByPass, the challenges' paths
 * are left to the other routers (Traefik #12740, v3.6.10: the redirect rule excludes them;
 * integration/simple_test.go TestAllowACMEByPassRedirect).
 */
export function redirectionRule(acmeBypass: boolean): string {
  return acmeBypass ? `HostRegexp(\`^.+$\`) && !${ACME_CHALLENGE_RULE}` : 'HostRegexp(`^.+$`)';
}

/**
 * ACME http-01: answers `/.well-known/acme-challenge/<token>` from the resolvers' stores, above
 * every router. With the entry point's `allowACMEByPass` (`bypass`), it has the priority of a
 * router without one (its rule's length), so a router of the configuration for those paths takes
 * them first: Traefik's `acme-http-bypass` router (pkg/provider/traefik/internal.go acme()).
 */
export function acmeHttp01Route(
  entryPoint: string,
  lookup: (path: string) => string | undefined,
  observe: Observe,
  bypass = false,
): RouteEntry<RouteTarget> {
  const mw: Middleware = {
    onRequest: (req: RequestHead): DirectResponse => {
      const body = lookup(req.path);
      if (body === undefined) return { status: 404, body: 'Not Found' };
      return { status: 200, headers: [['Content-Type', 'text/plain']], body };
    },
  };
  return internalRoute(
    // Traefik's names, one router over its entry points (logs, traces and the API agree).
    bypass ? 'acme-http-bypass@internal' : 'acme-http@internal',
    ACME_CHALLENGE_RULE,
    bypass ? undefined : Number.MAX_SAFE_INTEGER,
    entryPoint,
    mw,
    observe,
  );
}

/** The entry points a router serves HTTPS on: its own TLS ones, or every default TLS one. */
export function httpsEntryPoints(
  r: RouterConfig,
  tlsEps: ReadonlyMap<string, unknown>,
  defaults?: readonly string[],
): readonly string[] {
  const eps = r.entryPoints ?? (defaults === undefined ? [...tlsEps.keys()] : defaults);
  return r.tls !== undefined ? (r.entryPoints ?? []) : eps.filter((e) => tlsEps.has(e));
}
