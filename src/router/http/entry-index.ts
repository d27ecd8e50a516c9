/**
 * The candidate index of one entry point. Each route is filed under one discriminator, from what
 * its rule requires (rule/hints.ts):
 * - exact hosts → `exact` Map host → candidates whose matcher was compiled for that host (Host
 *   leaves folded away), merged with the `*.parent` routes for that host's parent;
 * - wildcard hosts only → `wild` Map parent → candidates compiled for "one label under parent"
 *   (used for hosts without an exact entry);
 * - host-less, by whichever of path prefix / header value has the smaller bucket:
 *   `paths` (radix tree of prefixes) or `headers` (name → value → candidates);
 * - anything else → `residual`.
 * All lists are sorted by rank. Lists for a request are disjoint except that one route may sit in
 * several header lists (the merge skips repeated ranks).
 */
import type { Candidate, HintedRoute } from './candidate.ts';
import { mergeByRank, PrefixIndex } from './prefix-index.ts';

export interface EntryIndex<T> {
  readonly exact: ReadonlyMap<string, readonly Candidate<T>[]>;
  readonly wild: ReadonlyMap<string, readonly Candidate<T>[]>;
  readonly paths: PrefixIndex<Candidate<T>>;
  /** Header names (lowercase) that some host-less route is filed under; parallel to `headerValues`. */
  readonly headerNames: readonly string[];
  readonly headerValues: readonly ReadonlyMap<string, readonly Candidate<T>[]>[];
  /** Lowest rank filed under a header value: until the walk reaches it, headers need no scan. */
  readonly headerMinRank: number;
  readonly residual: readonly Candidate<T>[];
}

function push<K, V>(m: Map<K, V[]>, key: K, v: V): void {
  const list = m.get(key);
  if (list === undefined) m.set(key, [v]);
  else if (list[list.length - 1] !== v) list.push(v);
}

function parentOf(host: string): string | undefined {
  const dot = host.indexOf('.');
  return dot > 0 ? host.slice(dot + 1) : undefined;
}

/** Number of candidates a request would walk in the path list of prefix `p`. */
function pathCost(p: string, pop: ReadonlyMap<string, number>): number {
  let n = 0;
  for (let len = 1; len <= p.length; len++) n += pop.get(p.slice(0, len)) ?? 0;
  return n;
}

/** `routes` in rank order; `entryPoint` undefined selects only routes listening everywhere. */
export function buildEntryIndex<T>(
  routes: readonly HintedRoute<T>[],
  entryPoint: string | undefined,
): EntryIndex<T> {
  const mine = routes.filter(
    (r) => r.entryPoints.length === 0 || (entryPoint !== undefined && r.entryPoints.includes(entryPoint)),
  );

  const exactRoutes = new Map<string, HintedRoute<T>[]>();
  const wildRoutes = new Map<string, HintedRoute<T>[]>();
  const hostless: HintedRoute<T>[] = [];
  for (const r of mine) {
    const h = r.hints.hosts;
    if (h.kind === 'any') {
      hostless.push(r);
      continue;
    }
    for (const host of h.exact) push(exactRoutes, host, r);
    for (const parent of h.wildcardParents) push(wildRoutes, parent, r);
  }

  const exact = new Map<string, readonly Candidate<T>[]>();
  for (const [host, own] of exactRoutes) {
    const parent = parentOf(host);
    const wild = parent === undefined ? undefined : wildRoutes.get(parent);
    const all = wild === undefined ? own : mergeByRank(own, wild);
    const list: Candidate<T>[] = [];
    for (const r of all) {
      const c = r.forHost(host);
      if (c !== undefined) list.push(c);
    }
    if (list.length > 0) exact.set(host, list);
  }
  const wild = new Map<string, readonly Candidate<T>[]>();
  for (const [parent, routes] of wildRoutes) {
    const list: Candidate<T>[] = [];
    for (const r of routes) {
      const c = r.forWildcardParent(parent);
      if (c !== undefined) list.push(c);
    }
    if (list.length > 0) wild.set(parent, list);
  }

  // Host-less routes: file each under the discriminator with the smaller bucket.
  const pathPop = new Map<string, number>();
  const headerPop = new Map<string, number>();
  for (const r of hostless) {
    const { paths, headers } = r.hints;
    if (paths.kind === 'prefixes') for (const p of paths.prefixes) pathPop.set(p, (pathPop.get(p) ?? 0) + 1);
    if (headers.kind === 'values') {
      for (const [n, v] of headers.values)
        headerPop.set(`${n}\n${v}`, (headerPop.get(`${n}\n${v}`) ?? 0) + 1);
    }
  }
  const prefixed: [string, Candidate<T>][] = [];
  const byHeader = new Map<string, Map<string, Candidate<T>[]>>();
  let headerMinRank = Number.MAX_VALUE;
  const residual: Candidate<T>[] = [];
  for (const r of hostless) {
    const { paths, headers } = r.hints;
    let pc = Number.POSITIVE_INFINITY;
    let hc = Number.POSITIVE_INFINITY;
    if (paths.kind === 'prefixes') pc = Math.max(...paths.prefixes.map((p) => pathCost(p, pathPop)));
    if (headers.kind === 'values')
      hc = Math.max(...headers.values.map(([n, v]) => headerPop.get(`${n}\n${v}`)!));
    if (pc === Number.POSITIVE_INFINITY && hc === Number.POSITIVE_INFINITY) {
      residual.push(r.full);
    } else if (pc <= hc && paths.kind === 'prefixes') {
      for (const p of paths.prefixes) prefixed.push([p, r.full]);
    } else if (headers.kind === 'values') {
      headerMinRank = Math.min(headerMinRank, r.rank);
      for (const [n, v] of headers.values) {
        let values = byHeader.get(n);
        if (values === undefined) {
          values = new Map();
          byHeader.set(n, values);
        }
        push(values, v, r.full);
      }
    }
  }

  return {
    exact,
    wild,
    paths: PrefixIndex.build(prefixed),
    headerNames: [...byHeader.keys()],
    headerValues: [...byHeader.values()],
    headerMinRank,
    residual,
  };
}
