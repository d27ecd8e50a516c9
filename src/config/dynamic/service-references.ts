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
