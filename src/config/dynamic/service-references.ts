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
