import type { KubeObject } from './informer.ts';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

interface GrantSpec {
  readonly from?: readonly { readonly group?: string; readonly kind?: string; readonly namespace?: string }[];
  readonly to?: readonly { readonly group?: string; readonly kind?: string; readonly name?: string }[];
}

/** What refers (a Gateway API kind in a namespace) to what (group, kind, name, namespace). */
export interface Reference {
  readonly fromKind: 'HTTPRoute' | 'GRPCRoute' | 'TCPRoute' | 'TLSRoute' | 'Gateway' | 'ListenerSet';
  readonly fromNamespace: string;
  /** '' for the core group (Service, Secret). */
  readonly toGroup: string;
  readonly toKind: string;
  readonly toName: string;
  readonly toNamespace: string;
}

/**
 * Gateway API ReferenceGrants (`gateway.networking.k8s.io/v1`, Standard since Gateway API v1.5), as Traefik's
 * isReferenceGranted: a reference within one namespace is always allowed; one to another
 * namespace only when a ReferenceGrant in the target namespace lists the referrer
 * (`from`: the Gateway API group, its kind and namespace) and the target (`to`: group, kind, and
 * the name, or any name when `to.name` is empty).
 */
export class ReferenceGrants {
  readonly #byNamespace = new Map<string, GrantSpec[]>();

  constructor(grants: readonly KubeObject[]) {
    for (const g of grants) {
      const ns = g.metadata.namespace ?? 'default';
      const list = this.#byNamespace.get(ns) ?? [];
      list.push((g.spec ?? {}) as GrantSpec);
      this.#byNamespace.set(ns, list);
    }
  }

  allows(r: Reference): boolean {
    if (r.toNamespace === r.fromNamespace) return true;
    return (this.#byNamespace.get(r.toNamespace) ?? []).some(
      (g) =>
        (g.from ?? []).some(
          (f) => f.group === GATEWAY_GROUP && f.kind === r.fromKind && f.namespace === r.fromNamespace,
        ) &&
        (g.to ?? []).some(
          (t) =>
            (t.group ?? '') === r.toGroup &&
            t.kind === r.toKind &&
            (t.name === undefined || t.name === '' || t.name === r.toName),
        ),
    );
  }
}
