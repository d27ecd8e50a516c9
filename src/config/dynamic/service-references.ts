import type { ServiceConfig } from './services.ts';

/** The services a service refers to by name, with the path of each reference (for validation). */
export function serviceReferences(svc: ServiceConfig): { name: string; path: (string | number)[] }[] {
  switch (svc.kind) {
    case 'loadBalancer':
      return [];
    case 'weighted':
      // A child with a fixed status names no service.
      return svc.weighted.services.flatMap((s, i) =>
        s.status === undefined ? [{ name: s.name, path: ['weighted', 'services', i, 'name'] }] : [],
      );
    case 'highestRandomWeight':
      return svc.highestRandomWeight.services.map((s, i) => ({
        name: s.name,
        path: ['highestRandomWeight', 'services', i, 'name'],
      }));
    case 'mirroring':
      return [
        { name: svc.mirroring.service, path: ['mirroring', 'service'] },
        ...svc.mirroring.mirrors.map((m, i) => ({ name: m.name, path: ['mirroring', 'mirrors', i, 'name'] })),
      ];
    case 'failover':
      return [
        { name: svc.failover.service, path: ['failover', 'service'] },
        { name: svc.failover.fallback, path: ['failover', 'fallback'] },
      ];
  }
}

/**
 * The middlewares a service names (Traefik v3.7's service middlewares): its own, and those of its
 * references to children (weighted and highestRandomWeight children, mirroring's main service,
 * failover's main and fallback, each mirror), each with the path of the name. `at` says where they run: `''`
 * for the service's own, else the path (below the service) of the reference they belong to.
 */
export function serviceMiddlewareReferences(
  svc: ServiceConfig,
): { name: string; path: (string | number)[]; at: string }[] {
  const out: { name: string; path: (string | number)[]; at: string }[] = [];
  const add = (names: readonly string[] | undefined, base: (string | number)[], at: string) => {
    names?.forEach((name, i) => {
      out.push({ name, path: [...base, i], at });
    });
  };
  add(svc.middlewares, ['middlewares'], '');
  switch (svc.kind) {
    case 'weighted':
      svc.weighted.services.forEach((s, i) => {
        add(s.middlewares, ['weighted', 'services', i, 'middlewares'], `weighted.services.${i}`);
      });
      break;
    case 'highestRandomWeight':
      svc.highestRandomWeight.services.forEach((s, i) => {
        add(
          s.middlewares,
          ['highestRandomWeight', 'services', i, 'middlewares'],
          `highestRandomWeight.services.${i}`,
        );
      });
      break;
    case 'mirroring':
      add(svc.mirroring.middlewares, ['mirroring', 'middlewares'], 'mirroring.service');
      svc.mirroring.mirrors.forEach((m, i) => {
        add(m.middlewares, ['mirroring', 'mirrors', i, 'middlewares'], `mirroring.mirrors.${i}`);
      });
      break;
    case 'failover':
      add(svc.failover.middlewares, ['failover', 'middlewares'], 'failover.service');
      add(svc.failover.fallbackMiddlewares, ['failover', 'fallbackMiddlewares'], 'failover.fallback');
      break;
    case 'loadBalancer':
      break;
  }
  return out;
}

/**
 * Why a parent with `healthCheck` cannot follow this child's health, in Traefik's words, or
 * undefined when it can: the child's balancer refuses the parent's updater unless it has a
 * `healthCheck` of its own (RegisterStatusUpdater of pkg/server/service/loadbalancer wrr, p2c,
 * hrw, leasttime, failover, mirroring; a mirroring registers it on its main service too).
 * `lookup` finds a service by the name a reference writes, in the referring service's provider;
 * undefined (another provider's) is not judged here.
 */
export function statusUpdaterRefusal(
  svc: ServiceConfig,
  lookup: (name: string) => ServiceConfig | undefined,
  seen: Set<ServiceConfig> = new Set(),
): string | undefined {
  const off = (what: string): string => `healthCheck not enabled in config for this ${what} service`;
  switch (svc.kind) {
    case 'loadBalancer': {
      if (svc.loadBalancer.healthCheck !== undefined) return undefined;
      const s = svc.loadBalancer.strategy;
      return off(s === 'p2c' ? 'P2C' : s === 'hrw' ? 'HRW' : s === 'leasttime' ? 'LeastTime' : 'weighted');
    }
    case 'weighted':
      return svc.weighted.healthCheck === undefined ? off('weighted') : undefined;
    case 'highestRandomWeight':
      return svc.highestRandomWeight.healthCheck === undefined ? off('HRW') : undefined;
    case 'failover':
      return svc.failover.healthCheck === undefined ? off('failover') : undefined;
    case 'mirroring': {
      if (svc.mirroring.healthCheck === undefined) return off('mirroring');
      const main = lookup(svc.mirroring.service);
      // A cycle is reported by the service graph's own check.
      if (main === undefined || seen.has(main)) return undefined;
      seen.add(svc);
      const inner = statusUpdaterRefusal(main, lookup, seen);
      return inner === undefined ? undefined : `cannot register service of mirroring as updater: ${inner}`;
    }
  }
}

/**
 * A `weighted` or `highestRandomWeight` service with `healthCheck` registers itself with each
 * child (Traefik's getWRRServiceHandler, getHRWServiceHandler): the first child that refuses
 * fails the service's build, in Traefik's words (`parent`: the service's qualified name), at the
 * path (below the service) of the child's reference. A weighted child with `status` or `headers`
 * is a plain handler there, which cannot take it. Undefined when every child takes it.
 */
export function parentHealthCheckRefusal(
  parent: string,
  svc: ServiceConfig,
  lookup: (name: string) => ServiceConfig | undefined,
): { message: string; path: (string | number)[] } | undefined {
  if (svc.kind === 'failover') return failoverRefusal(parent, svc, lookup);
  const children =
    svc.kind === 'weighted' && svc.weighted.healthCheck !== undefined
      ? svc.weighted.services.map((s, i) => ({ s, path: ['weighted', 'services', i] }))
      : svc.kind === 'highestRandomWeight' && svc.highestRandomWeight.healthCheck !== undefined
        ? svc.highestRandomWeight.services.map((s, i) => ({
            s,
            path: ['highestRandomWeight', 'services', i],
          }))
        : [];
  for (const { s, path } of children) {
    if ('status' in s && s.status !== undefined) {
      return {
        message: `child service ${s.name} of ${parent} not a healthcheck.StatusUpdater (http.HandlerFunc)`,
        path: [...path, 'status'],
      };
    }
    if ('headers' in s && s.headers !== undefined) {
      return {
        message: `child service ${s.name} of ${parent} not a healthcheck.StatusUpdater (http.HandlerFunc)`,
        path: [...path, 'headers'],
      };
    }
    const child = lookup(s.name);
    const why = child === undefined ? undefined : statusUpdaterRefusal(child, lookup);
    if (why !== undefined)
      return {
        message: `cannot register ${s.name} as updater for ${parent}: ${why}`,
        path: [...path, 'name'],
      };
  }
  return undefined;
}

/**
 * A failover registers itself with its main service (Traefik v3.7+ getFailoverServiceHandler,
 * pkg/server/service/service.go): refused when the main service cannot report its health, unless
 * `errors.status` lists some status (`isErrorDefined`: the failover is then built, and follows
 * the main's answers only). With `healthCheck` on the failover it also registers with its
 * fallback, refused the same way. Main first, as Traefik builds it first.
 */
function failoverRefusal(
  parent: string,
  svc: ServiceConfig & { kind: 'failover' },
  lookup: (name: string) => ServiceConfig | undefined,
): { message: string; path: (string | number)[] } | undefined {
  const f = svc.failover;
  if (!failoverFollowsMain(svc, lookup) && !((f.errors?.status?.length ?? 0) > 0)) {
    const why = statusUpdaterRefusal(lookup(f.service)!, lookup);
    return {
      message: `cannot register ${f.service} as updater for ${parent}: ${why}`,
      path: ['failover', 'service'],
    };
  }
  if (f.healthCheck === undefined) return undefined;
  const fallback = lookup(f.fallback);
  const why = fallback === undefined ? undefined : statusUpdaterRefusal(fallback, lookup);
  return why === undefined
    ? undefined
    : {
        message: `cannot register ${f.fallback} as updater for ${parent}: ${why}`,
        path: ['failover', 'fallback'],
      };
}

/**
 * The failover follows its main service's health: the main takes its updater (Traefik's
 * getFailoverServiceHandler: RegisterStatusUpdater succeeded). Otherwise (allowed only with
 * `errors.status`) the main's status stays up as SetHandler set it, and the failover switches on
 * the main's answers only. A main in another provider (lookup undefined) is not judged: true.
 */
export function failoverFollowsMain(
  svc: ServiceConfig & { kind: 'failover' },
  lookup: (name: string) => ServiceConfig | undefined,
): boolean {
  const main = lookup(svc.failover.service);
  return main === undefined || statusUpdaterRefusal(main, lookup) === undefined;
}
