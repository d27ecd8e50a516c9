import type { ConfigIssue, ConfigPath } from '../issues.ts';
import { checkReferenceGraph } from './reference-graph.ts';
import type { DynamicConfig, HttpSection } from './schema.ts';
import { parentHealthCheckRefusal } from './service-references.ts';
import { serviceReferences } from './services.ts';
import type { Ref } from './validate.ts';

/**
 * Services that refer to services (weighted, mirroring, failover, highestRandomWeight): every
 * reference exists and is usable, there is no cycle, and a service whose child is disabled is
 * disabled too (to a fixpoint), each with its own issue.
 */
export function checkServiceGraph(
  http: DynamicConfig['http'],
  disabled: Set<string>,
  broken: ReadonlySet<string>,
  resolveName: (name: string, owner?: string) => Ref,
  usable: (section: HttpSection, what: string, name: string, path: ConfigPath) => boolean,
  report: (severity: ConfigIssue['severity'], message: string, path: ConfigPath) => void,
  /** The provider whose objects these are (Traefik's errors name services qualified). */
  provider: string,
): void {
  const isOff = (name: string): boolean => disabled.has(`services/${name}`) || broken.has(`services/${name}`);
  const children = new Map<string, { name: string; path: ConfigPath }[]>();
  for (const [name, svc] of Object.entries(http.services)) {
    if (disabled.has(`services/${name}`)) continue;
    const local: { name: string; path: ConfigPath }[] = [];
    let ok = true;
    for (const ref of serviceReferences(svc)) {
      const path: ConfigPath = ['http', 'services', name, ...ref.path];
      const r = resolveName(ref.name, name);
      if (r.kind === 'local' && isOff(r.name)) local.push({ name: r.name, path });
      else if (!usable('services', 'service', ref.name, path)) ok = false;
      else if (r.kind === 'local') local.push({ name: r.name, path });
    }
    if (!ok) {
      disabled.add(`services/${name}`);
      continue;
    }
    children.set(name, local);
    // Its children build first (Traefik's getWRRServiceHandler), so a child's own errors come first.
    if (local.some((c) => isOff(c.name))) continue;
    const lookup = (n: string) => {
      const r = resolveName(n, name);
      return r.kind === 'local' ? http.services[r.name] : undefined;
    };
    const refused = parentHealthCheckRefusal(`${name}@${provider}`, svc, lookup);
    if (refused !== undefined) {
      report('error', refused.message, ['http', 'services', name, ...refused.path]);
      disabled.add(`services/${name}`);
    }
  }

  checkReferenceGraph({
    edges: children,
    isOff,
    disable: (name) => disabled.add(`services/${name}`),
    cycleIssue: (c, cycle, i) => ({
      path: ['http', 'services', c],
      message: `service cycle: ${[...cycle.slice(i), ...cycle.slice(0, i), c].join(' → ')}`,
    }),
    what: 'service',
    report,
  });
}
