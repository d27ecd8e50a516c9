import type { ConfigIssue, ConfigPath } from '../issues.ts';
import type { DynamicConfig, HttpSection } from './schema.ts';
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
  resolveName: (name: string) => Ref,
  usable: (section: HttpSection, what: string, name: string, path: ConfigPath) => boolean,
  report: (severity: ConfigIssue['severity'], message: string, path: ConfigPath) => void,
): void {
  const isOff = (name: string): boolean => disabled.has(`services/${name}`) || broken.has(`services/${name}`);
  const children = new Map<string, { name: string; path: ConfigPath }[]>();
  for (const [name, svc] of Object.entries(http.services)) {
    if (disabled.has(`services/${name}`)) continue;
    const local: { name: string; path: ConfigPath }[] = [];
    let ok = true;
    for (const ref of serviceReferences(svc)) {
      const path: ConfigPath = ['http', 'services', name, ...ref.path];
      const r = resolveName(ref.name);
      if (r.kind === 'local' && isOff(r.name)) local.push({ name: r.name, path });
      else if (!usable('services', 'service', ref.name, path)) ok = false;
      else if (r.kind === 'local') local.push({ name: r.name, path });
    }
    if (ok) children.set(name, local);
    else disabled.add(`services/${name}`);
  }

  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'active');
    stack.push(name);
    for (const next of children.get(name) ?? []) {
      const s = state.get(next.name);
      if (s === 'active') {
        const cycle = stack.slice(stack.indexOf(next.name));
        for (const c of cycle) {
          if (disabled.has(`services/${c}`)) continue;
          disabled.add(`services/${c}`);
          report('error', `service cycle: ${[...cycle, next.name].join(' → ')}`, ['http', 'services', c]);
        }
      } else if (s === undefined && children.has(next.name)) visit(next.name);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of children.keys()) if (!state.has(name)) visit(name);

  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, local] of children) {
      if (disabled.has(`services/${name}`)) continue;
      const off = local.find((m) => isOff(m.name));
      if (off === undefined) continue;
      report('error', `service \`${off.name}\` is disabled because of its own errors`, off.path);
      disabled.add(`services/${name}`);
      changed = true;
    }
  }
}
