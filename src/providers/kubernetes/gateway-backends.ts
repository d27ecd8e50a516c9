import type { KubeBuild, Obj } from './kube-build.ts';
import { normalize } from './kube-build.ts';
import type { ReferenceGrants } from './reference-grants.ts';

export interface BackendRef {
  readonly name?: string;
  readonly namespace?: string;
  readonly port?: number;
  readonly weight?: number;
  readonly kind?: string;
  readonly group?: string;
  readonly filters?: readonly unknown[];
}

/** A rule's weighted children, and the ResolvedRefs failure of its backendRefs. */
export interface Backends {
  readonly children: Obj[];
  readonly failure: { reason: string; message: string } | undefined;
}

/**
 * The weighted children of a rule's backendRefs, as Traefik's loadHTTPService: a reference to
 * another namespace needs a ReferenceGrant there (RefNotPermitted); a core Service needs its
 * port (BackendNotFound when it or its port is missing); a TraefikService is the CRD provider's
 * `<ns>-<name>@kubernetescrd` (`name@provider` as it is); another kind is InvalidKind.
 * A refused backendRef is left out (Traefik keeps it as a 500 share of the traffic).
 */
export function backends(
  b: KubeBuild,
  grants: ReferenceGrants,
  rule: { readonly backendRefs?: readonly BackendRef[] },
  ns: string,
  where: string,
): Backends {
  const children: Obj[] = [];
  let failure: Backends['failure'];
  const fail = (reason: string, message: string): void => {
    b.error(where, message);
    failure = { reason, message };
  };
  for (const ref of rule.backendRefs ?? []) {
    const kind = ref.kind ?? 'Service';
    const group = ref.group ?? '';
    const to = ref.namespace ?? ns;
    const what = `backend ${group}/${kind}/${to}/${ref.name ?? ''}`;
    if ((ref.filters ?? []).length > 0)
      b.warn(where, `${what}: backendRef filters are not supported: ignored`);
    if (
      !grants.allows({
        fromKind: 'HTTPRoute',
        fromNamespace: ns,
        toGroup: group,
        toKind: kind,
        toName: ref.name ?? '',
        toNamespace: to,
      })
    ) {
      fail('RefNotPermitted', `${what}: another namespace without a ReferenceGrant there`);
      continue;
    }
    const weight = ref.weight ?? 1;
    if (group === 'traefik.io' && kind === 'TraefikService' && ref.name !== undefined) {
      const name = ref.name.includes('@') ? ref.name : `${normalize(`${to}-${ref.name}`)}@kubernetescrd`;
      if (weight > 0) children.push({ name, weight });
      continue;
    }
    if (kind !== 'Service' || group !== '') {
      fail('InvalidKind', `${what}: unsupported kind (core Services and TraefikServices are)`);
      continue;
    }
    if (ref.port === undefined) {
      fail('UnsupportedProtocol', `${what}: port is required`);
      continue;
    }
    const before = b.issues.length;
    const lb = b.loadBalancer({ name: ref.name, namespace: to, port: ref.port }, ns, where);
    if (lb === undefined) {
      failure = {
        reason: 'BackendNotFound',
        message: b.issues
          .slice(before)
          .map((i) => i.message)
          .join('; '),
      };
      continue;
    }
    if (weight > 0) children.push({ name: lb, weight });
  }
  return { children, failure };
}
