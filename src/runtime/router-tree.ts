import type { RouterConfig } from '../config/dynamic/schema.ts';
import type { ConfigIssue } from '../config/issues.ts';
import { providerOf, qualify } from '../core/qualified-name.ts';

/**
 * Traefik's multi-layer routing (v3.6, pkg/server/router/router.go ParseRouterTree): a router
 * naming others in `parentRefs` is their child. Its rule is matched after its parent's
 * middlewares ran, only under that parent; a router with children is a parent and has no service.
 * The tree of a merged configuration (names qualified), with Traefik's checks:
 *
 * - a parent that does not exist, or a child with `entryPoints`, `tls` or `observability`: the
 *   child is left out (an error);
 * - a cycle: a warning on the router that closes it, and that link is dropped (Traefik's
 *   handleCycle: the traversal goes from the roots, children in name order);
 * - a router no root reaches: left out;
 * - a router with neither a service nor a child, or with both: left out.
 */
export interface RouterTree {
  /** Parent → its children (qualified, in name order), for the routers kept. */
  readonly children: ReadonlyMap<string, readonly string[]>;
  /** Routers that are someone's child: not routed by themselves. */
  readonly nested: ReadonlySet<string>;
  /** Routers left out, each with its error in `issues`. */
  readonly left: ReadonlySet<string>;
}

const NO_TREE: RouterTree = { children: new Map(), nested: new Set(), left: new Set() };

export function routerTree(
  routers: Readonly<Record<string, RouterConfig>>,
  issues: ConfigIssue[],
): RouterTree {
  const names = Object.keys(routers);
  if (!names.some((n) => routers[n]!.parentRefs !== undefined)) {
    // The common case, no tree: only the dead-end check (a router without a service).
    let deadEnds: Set<string> | undefined;
    for (const n of names) {
      if (routers[n]!.service !== undefined) continue;
      deadEnds ??= new Set();
      deadEnds.add(n);
      issues.push(treeError(n, [], 'router has no service and no child routers'));
    }
    return deadEnds === undefined ? NO_TREE : { children: new Map(), nested: new Set(), left: deadEnds };
  }
  const left = new Set<string>();
  const nested = new Set<string>();
  const children = new Map<string, string[]>();
  const fail = (name: string, key: string[], message: string): void => {
    if (left.has(name)) return;
    left.add(name);
    issues.push(treeError(name, key, message));
  };
  const roots: string[] = [];
  for (const name of names) {
    const r = routers[name]!;
    if (r.parentRefs === undefined) {
      roots.push(name);
      continue;
    }
    nested.add(name);
    r.parentRefs.forEach((ref, i) => {
      const parent = name.includes('@') ? qualify(ref, providerOf(name)) : ref;
      if (!Object.hasOwn(routers, parent)) {
        fail(name, ['parentRefs', String(i)], `parent router \`${ref}\` does not exist`);
        return;
      }
      const list = children.get(parent);
      if (list === undefined) children.set(parent, [name]);
      else if (!list.includes(name)) list.push(name);
    });
    if (r.tls !== undefined) fail(name, ['tls'], 'a child router (with parentRefs) cannot have tls');
    else if (r.observability !== undefined)
      fail(name, ['observability'], 'a child router (with parentRefs) cannot have observability');
    else if (r.entryPoints !== undefined)
      fail(name, ['entryPoints'], 'a child router (with parentRefs) cannot have entryPoints');
  }
  for (const list of children.values()) list.sort();
  roots.sort();
  // Depth first from the roots; a link back into the current path closes a cycle.
  const visited = new Set<string>();
  const onPath = new Set<string>();
  const path: string[] = [];
  const visit = (name: string): void => {
    visited.add(name);
    onPath.add(name);
    path.push(name);
    const list = children.get(name) ?? [];
    for (const child of [...list]) {
      if (onPath.has(child)) {
        const cycle = [...path.slice(path.indexOf(child)), child].join(' -> ');
        issues.push({
          severity: 'warning',
          message: `cyclic reference detected in router tree: ${cycle}; the link to \`${child}\` is ignored`,
          path: ['http', 'routers', name],
        });
        list.splice(list.indexOf(child), 1);
        continue;
      }
      if (!visited.has(child)) visit(child);
    }
    path.pop();
    onPath.delete(name);
  };
  for (const root of roots) visit(root);
  for (const name of names) {
    if (!visited.has(name)) {
      fail(name, ['parentRefs'], 'router is not reachable: no root router leads to it');
      continue;
    }
    const r = routers[name]!;
    const hasChildren = (children.get(name)?.length ?? 0) > 0;
    if (r.service === undefined && !hasChildren) fail(name, [], 'router has no service and no child routers');
    else if (r.service !== undefined && hasChildren)
      fail(
        name,
        ['service'],
        'router has both a service and child routers (routers naming it in parentRefs)',
      );
  }
  for (const [parent, list] of children) {
    const kept = list.filter((c) => !left.has(c));
    if (left.has(parent)) children.delete(parent);
    else children.set(parent, kept);
  }
  return { children, nested, left };
}

function treeError(name: string, key: string[], message: string): ConfigIssue {
  return { severity: 'error', message, path: ['http', 'routers', name, ...key] };
}
