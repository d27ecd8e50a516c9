import { INTERNAL_ENTRY_POINT } from '../config/static/admin-entry-points.ts';
import { REDIRECTION_PRIORITY } from '../config/static/redirection-priority.ts';
import type { StaticConfig } from '../config/static/schema.ts';
import { http01EntryPoints } from '../config/static/tls-entry-points.ts';
import { defaultPriority } from '../router/index.ts';
import { ACME_CHALLENGE_RULE, normalizeName, redirectionRule } from '../runtime/internal-routes.ts';
import { redirectPort } from '../runtime/redirections.ts';

/*
 * The `@internal` routers, services and middlewares that Traefik's internal provider puts into its
 * runtime configuration (pkg/provider/traefik/internal.go createConfiguration), and so into its
 * API's lists, rawdata and overview counts: built once from the static configuration, under the
 * same conditions. Our proxy routes these itself (runtime/internal-routes.ts, internal-services.ts);
 * this is what the API reports of them. Traefik's API has no serversTransports route nor rawdata
 * key, so its `default@internal` servers transports are not shown here either.
 */

/** Go's math.MaxInt, which Traefik's internal routers' priorities derive from (written exactly). */
const MAX_INT = 9_223_372_036_854_775_807n;

export interface InternalRouter {
  readonly name: string;
  readonly rule: string;
  /**
   * `default` (the v3 syntax): Traefik's internal routers' since v3.4 (PR #11619, which changed
   * it from `v3`). Absent for `acme-http-bypass`, which Traefik leaves without one.
   */
  readonly ruleSyntax?: 'default';
  /** A bigint where Go's math.MaxInt is meant (sendJson writes it exactly). */
  readonly priority: number | bigint;
  readonly entryPoints: readonly string[];
  readonly middlewares: readonly string[];
  readonly service: string;
}

export interface InternalMiddleware {
  readonly name: string;
  /** Traefik's key of the middleware (`redirectScheme`), as our views' `type`. */
  readonly type: string;
  readonly config: Readonly<Record<string, unknown>>;
}

export interface InternalObjects {
  /** Sorted by name, as every name below; all qualified (`…@internal`). */
  readonly routers: readonly InternalRouter[];
  readonly services: readonly string[];
  readonly middlewares: readonly InternalMiddleware[];
}

export const NO_INTERNAL_OBJECTS: InternalObjects = { routers: [], services: [], middlewares: [] };

/**
 * An entry point redirection's priority as Traefik writes it: our default stands for Go's
 * math.MaxInt - 1, RedirectEntryPoint.SetDefaults' (config/static/entry-point-tls.ts).
 */
export function redirectionPriority(priority: number): number | bigint {
  return priority === REDIRECTION_PRIORITY ? MAX_INT - 1n : priority;
}

const byName = <T extends { name: string }>(a: T, b: T): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/** Traefik's internal provider's objects for the static configuration `config`. */
export function internalObjects(config: StaticConfig): InternalObjects {
  const routers: InternalRouter[] = [];
  const services = new Set<string>(['noop']);
  const middlewares: InternalMiddleware[] = [];
  const router = (
    name: string,
    r: Omit<InternalRouter, 'name' | 'middlewares'> & { middlewares?: string[] },
  ) => routers.push({ name: `${name}@internal`, middlewares: [], ...r });
  // apiConfiguration: its routers only with `insecure` (on `traefik` in Traefik, on ours
  // `api.entryPoint`, where our proxy routes them); its services whenever the API is on.
  const api = config.api;
  if (api !== undefined) {
    const entryPoints = [api.entryPoint];
    if (api.insecure) {
      router('api', {
        rule: 'PathPrefix(`/api`)',
        ruleSyntax: 'default',
        priority: MAX_INT - 1n,
        entryPoints,
        service: 'api@internal',
      });
      if (api.dashboard) {
        router('dashboard', {
          rule: 'PathPrefix(`/`)',
          ruleSyntax: 'default',
          priority: MAX_INT - 2n,
          entryPoints,
          middlewares: ['dashboard_redirect@internal', 'dashboard_stripprefix@internal'],
          service: 'dashboard@internal',
        });
        middlewares.push(
          {
            name: 'dashboard_redirect@internal',
            type: 'redirectRegex',
            config: {
              regex: String.raw`^(http:\/\/(\[[\w:.]+\]|[\w\._-]+)(:\d+)?)\/$`,
              // biome-ignore lint/suspicious/noTemplateCurlyInString: Go's regexp group reference.
              replacement: '${1}/dashboard/',
              permanent: true,
            },
          },
          {
            name: 'dashboard_stripprefix@internal',
            type: 'stripPrefix',
            config: { prefixes: ['/dashboard/', '/dashboard'] },
          },
        );
      }
      if (api.debug)
        router('debug', {
          rule: 'PathPrefix(`/debug`)',
          ruleSyntax: 'default',
          priority: MAX_INT - 1n,
          entryPoints,
          service: 'api@internal',
        });
    }
    services.add('api');
    if (api.dashboard) services.add('dashboard');
  }
  // pingConfiguration, restConfiguration, prometheusConfiguration.
  if (config.ping !== undefined) {
    if (!config.ping.manualRouting)
      router('ping', {
        rule: 'PathPrefix(`/ping`)',
        ruleSyntax: 'default',
        priority: MAX_INT,
        entryPoints: [config.ping.entryPoint],
        service: 'ping@internal',
      });
    services.add('ping');
  }
  const rest = config.providers.rest;
  if (rest !== undefined) {
    if (rest.insecure)
      router('rest', {
        rule: 'PathPrefix(`/api/providers`)',
        ruleSyntax: 'default',
        priority: MAX_INT,
        entryPoints: [INTERNAL_ENTRY_POINT],
        service: 'rest@internal',
      });
    services.add('rest');
  }
  const prom = config.metrics?.prometheus;
  if (prom !== undefined) {
    if (!prom.manualRouting)
      router('prometheus', {
        rule: 'PathPrefix(`/metrics`)',
        ruleSyntax: 'default',
        priority: MAX_INT,
        entryPoints: [prom.entryPoint],
        service: 'prometheus@internal',
      });
    services.add('prometheus');
  }
  // redirection: a router `<ep>-to-<to>` (Normalize) and its middleware `redirect-<router>`.
  for (const [ep, e] of Object.entries(config.entryPoints)) {
    const r = e.http.redirections?.entryPoint;
    if (r === undefined) continue;
    const name = normalizeName(`${ep}-to-${r.to}`);
    router(name, {
      rule: redirectionRule(e.allowACMEByPass),
      ruleSyntax: 'default',
      priority: redirectionPriority(r.priority),
      entryPoints: [ep],
      middlewares: [`redirect-${name}@internal`],
      service: 'noop@internal',
    });
    const port = redirectPort(config.entryPoints, r.to);
    // Go's omitempty on RedirectScheme's fields.
    middlewares.push({
      name: `redirect-${name}@internal`,
      type: 'redirectScheme',
      config: {
        ...(r.scheme === '' ? {} : { scheme: r.scheme }),
        ...(port === '' ? {} : { port }),
        ...(r.permanent ? { permanent: true } : {}),
      },
    });
  }
  // acme: the httpChallenge entry points, once each, `acme-http-bypass` for those with
  // allowACMEByPass (no ruleSyntax, no priority there: its rule's length, as our views show).
  const http01 = http01EntryPoints(config);
  const eps = http01.entryPoints.filter((ep) => !http01.bypass.has(ep));
  const bypass = [...http01.bypass];
  if (eps.length > 0)
    router('acme-http', {
      rule: ACME_CHALLENGE_RULE,
      ruleSyntax: 'default',
      priority: MAX_INT,
      entryPoints: eps,
      service: 'acme-http@internal',
    });
  if (bypass.length > 0)
    router('acme-http-bypass', {
      rule: ACME_CHALLENGE_RULE,
      priority: defaultPriority(ACME_CHALLENGE_RULE),
      entryPoints: bypass,
      service: 'acme-http@internal',
    });
  if (eps.length + bypass.length > 0) services.add('acme-http');
  return {
    routers: routers.sort(byName),
    services: [...services].map((s) => `${s}@internal`).sort(),
    middlewares: middlewares.sort(byName),
  };
}
