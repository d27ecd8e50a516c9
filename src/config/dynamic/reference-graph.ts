import type { ConfigIssue, ConfigPath } from '../issues.ts';

/** One reference from an object to another of the same section, and where it is written. */
export interface Edge {
  readonly name: string;
  readonly path: ConfigPath;
}

export interface GraphChecks {
  /** Local references per usable object (objects already disabled are left out). */
  readonly edges: ReadonlyMap<string, readonly Edge[]>;
  isOff(name: string): boolean;
  disable(name: string): void;
  /** Where a cycle through `name` is reported, and how the cycle reads from `name`. */
  cycleIssue(name: string, cycle: readonly string[], at: number): { path: ConfigPath; message: string };
  /** "middleware" or "service", for the message about a disabled member. */
  readonly what: string;
  report(severity: ConfigIssue['severity'], message: string, path: ConfigPath): void;
}

/**
 * Chains of middlewares and services of services: every object on a cycle is disabled (depth-first
 * search, colouring nodes), then every object that refers to a disabled one, to a fixpoint, each
 * with its own issue.
 */
export function checkReferenceGraph(g: GraphChecks): void {
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'active');
    stack.push(name);
    for (const next of g.edges.get(name) ?? []) {
      const s = state.get(next.name);
      if (s === 'active') {
        const cycle = stack.slice(stack.indexOf(next.name));
        cycle.forEach((c, i) => {
          if (g.isOff(c)) return;
          g.disable(c);
          const { path, message } = g.cycleIssue(c, cycle, i);
          g.report('error', message, path);
        });
      } else if (s === undefined && g.edges.has(next.name)) visit(next.name);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of g.edges.keys()) if (!state.has(name)) visit(name);

  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, local] of g.edges) {
      if (g.isOff(name)) continue;
      const off = local.find((m) => g.isOff(m.name));
      if (off === undefined) continue;
      g.report('error', `${g.what} \`${off.name}\` is disabled because of its own errors`, off.path);
      g.disable(name);
      changed = true;
    }
  }
}
