/**
 * The internal services (`name@internal`): what the proxy serves itself rather than forward to a
 * server (Traefik's `api@internal`, `dashboard@internal`, `ping@internal`,
 * `prometheus@internal`). The static configuration enables them; a router of any provider may
 * name one as its `service`. This module only names them and says what enables each: the admin
 * ones are built by runtime/internal-services.ts and served by admin/.
 */

/** Each internal service a router may name, and what in the static configuration enables it. */
export const INTERNAL_SERVICES = {
  api: 'the `api` section',
  dashboard: 'the `api` section with `api.dashboard: true`',
  ping: 'the `ping` section',
  prometheus: 'the `metrics.prometheus` section',
  rest: 'the `providers.rest` section',
} as const;

export type InternalServiceName = keyof typeof INTERNAL_SERVICES;

export const INTERNAL_PROVIDER = 'internal';

export function isInternalServiceName(name: string): name is InternalServiceName {
  return Object.hasOwn(INTERNAL_SERVICES, name);
}

/**
 * `noop@internal`: Traefik defines it in every configuration, and its handler answers 418
 * (pkg/provider/traefik/internal.go, pkg/server/service/internalhandler.go). A router that only
 * redirects names it; the proxy serves it itself (runtime/internal-routes.ts), not admin/.
 */
export const NOOP_SERVICE = 'noop';

/** Why `name@internal` cannot be a router's service (given the ones enabled), or undefined. */
export function internalServiceProblem(name: string, enabled: ReadonlySet<string>): string | undefined {
  if (name === NOOP_SERVICE) return undefined;
  if (!isInternalServiceName(name)) {
    const known = [NOOP_SERVICE, ...Object.keys(INTERNAL_SERVICES)]
      .map((n) => `\`${n}@internal\``)
      .join(', ');
    return `service \`${name}@internal\` does not exist (the internal services are ${known})`;
  }
  if (enabled.has(name)) return undefined;
  return `service \`${name}@internal\` is not enabled: it needs ${INTERNAL_SERVICES[name]} in the static configuration`;
}
