import { providerOf, qualify } from '../core/qualified-name.ts';

/** A TCP or UDP service as configured: a load balancer, or a weighted set of other services. */
type ServiceSpec =
  | { readonly kind: 'loadBalancer' }
  | {
      readonly kind: 'weighted';
      readonly weighted: { readonly services: readonly { name: string; weight: number }[] };
    };

/**
 * Builds services that may refer to others (weighted ones) by qualified name: each once
 * (memoised), children first; a missing child, a child that cannot be built, or a cycle makes
 * the parent unbuildable (null). `leaf` builds a load balancer (null: reported by it),
 * `weighted` a weighted node over built children. `built` ends up holding every service asked
 * for, by qualified name (null: could not be built).
 */
export function serviceTree<S extends ServiceSpec, N>(
  specs: Readonly<Record<string, S>>,
  leaf: (qualified: string, spec: Extract<S, { kind: 'loadBalancer' }>) => N | null,
  weighted: (qualified: string, children: N[], weights: number[]) => N,
  built: Map<string, N | null> = new Map(),
): (qualified: string) => N | null {
  const building = new Set<string>();
  const build = (qualified: string): N | null => {
    const done = built.get(qualified);
    if (done !== undefined) return done;
    const spec = specs[qualified];
    if (spec === undefined || building.has(qualified)) return null;
    building.add(qualified);
    let node: N | null = null;
    if (spec.kind === 'loadBalancer') node = leaf(qualified, spec as Extract<S, { kind: 'loadBalancer' }>);
    else {
      const children = (spec as Extract<ServiceSpec, { kind: 'weighted' }>).weighted.services;
      const provider = providerOf(qualified);
      const kids = children.map((c) => build(qualify(c.name, provider)));
      if (kids.every((k) => k !== null)) {
        node = weighted(
          qualified,
          kids as N[],
          children.map((c) => c.weight),
        );
      }
    }
    building.delete(qualified);
    built.set(qualified, node);
    return node;
  };
  return build;
}
