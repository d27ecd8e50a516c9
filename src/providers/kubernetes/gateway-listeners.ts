import { type Condition, condition } from './gateway-status.ts';
import type { KubeObject } from './informer.ts';
import type { KubeBuild, Obj } from './kube-build.ts';
import type { ReferenceGrants } from './reference-grants.ts';

const GROUP = 'gateway.networking.k8s.io';

export interface Listener {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
  readonly hostname?: string;
  readonly tls?: {
    readonly mode?: string;
    readonly certificateRefs?: readonly {
      name?: string;
      namespace?: string;
      kind?: string;
      group?: string;
    }[];
  };
  readonly allowedRoutes?: { readonly namespaces?: { readonly from?: string } };
}

/** A listener of one of our Gateways, its entry point (when it has one) and its status. */
export interface Attach {
  readonly gw: KubeObject;
  readonly listener: Listener;
  readonly entryPoint: string | undefined;
  /** Valid and resolved: routes attached to it are routed. */
  readonly attached: boolean;
  readonly status: { name: string; supportedKinds: Obj[]; attachedRoutes: number; conditions: Condition[] };
}

/**
 * The listeners of one of our Gateways, as Traefik's: HTTP and HTTPS ones go to the entry point
 * whose address has their port; an HTTPS listener's certificateRefs are TLS Secrets (in another
 * namespace only with a ReferenceGrant there). Each gets the conditions Traefik writes (Accepted,
 * ResolvedRefs, Programmed); one that fails any is not attached (its routes are not routed).
 */
export function gatewayListeners(
  b: KubeBuild,
  grants: ReferenceGrants,
  gw: KubeObject,
  entryPointPorts: Readonly<Record<string, number>>,
): Attach[] {
  const spec = (gw.spec ?? {}) as { listeners?: readonly Listener[] };
  const ns = gw.metadata.namespace ?? 'default';
  const where = `gateway ${ns}/${gw.metadata.name}`;
  const out: Attach[] = [];
  for (const l of spec.listeners ?? []) {
    const conds: Condition[] = [];
    let ok = true;
    const fail = (type: string, reason: string, message: string): void => {
      ok = false;
      conds.push(condition(gw, type, false, reason, message));
    };
    const ep = Object.entries(entryPointPorts).find(([, port]) => port === l.port)?.[0];
    if (l.protocol !== 'HTTP' && l.protocol !== 'HTTPS') {
      b.warn(where, `listener ${l.name}: protocol ${l.protocol} is not supported yet: ignored`);
      fail('Accepted', 'UnsupportedProtocol', `Unsupported listener protocol ${l.protocol}`);
    } else if (ep === undefined) {
      b.error(where, `listener ${l.name}: no entry point listens on port ${l.port}`);
      fail('Accepted', 'PortUnavailable', `No entry point listens on port ${l.port}`);
    } else if (l.protocol === 'HTTPS' && l.tls?.mode !== undefined && l.tls.mode !== 'Terminate') {
      b.warn(where, `listener ${l.name}: TLS mode ${l.tls.mode} is not supported yet: ignored`);
      fail('Accepted', 'UnsupportedValue', `Unsupported TLS mode ${l.tls.mode}`);
    } else {
      conds.push(condition(gw, 'Accepted', true, 'Accepted', 'No error found'));
      if (l.protocol === 'HTTPS') certificates(b, grants, gw, l, where, fail);
      if (ok) conds.push(condition(gw, 'ResolvedRefs', true, 'ResolvedRefs', 'No error found'));
    }
    conds.push(
      ok
        ? condition(gw, 'Programmed', true, 'Programmed', 'No error found')
        : condition(gw, 'Programmed', false, 'Invalid', 'Listener is not valid'),
    );
    out.push({
      gw,
      listener: l,
      entryPoint: ep,
      attached: ok,
      status: {
        name: l.name,
        // Traefik's supportedRouteKinds for HTTP and HTTPS listeners.
        supportedKinds: [
          { group: GROUP, kind: 'HTTPRoute' },
          { group: GROUP, kind: 'GRPCRoute' },
        ],
        attachedRoutes: 0,
        conditions: conds,
      },
    });
  }
  return out;
}

/** An HTTPS listener's certificateRefs into `tls.certificates`; a refused or missing one fails it. */
function certificates(
  b: KubeBuild,
  grants: ReferenceGrants,
  gw: KubeObject,
  l: Listener,
  where: string,
  fail: (type: string, reason: string, message: string) => void,
): void {
  const ns = gw.metadata.namespace ?? 'default';
  for (const ref of l.tls?.certificateRefs ?? []) {
    if (ref.name === undefined) continue;
    const to = ref.namespace ?? ns;
    if ((ref.kind ?? 'Secret') !== 'Secret' || (ref.group ?? '') !== '') {
      b.error(
        where,
        `listener ${l.name}: certificate ${ref.group ?? ''}/${ref.kind}: only Secrets are supported`,
      );
      fail('ResolvedRefs', 'InvalidCertificateRef', `Unsupported certificate ref kind ${ref.kind}`);
      continue;
    }
    const allowed = grants.allows({
      fromKind: 'Gateway',
      fromNamespace: ns,
      toGroup: '',
      toKind: 'Secret',
      toName: ref.name,
      toNamespace: to,
    });
    if (!allowed) {
      b.error(
        where,
        `listener ${l.name}: certificate ${to}/${ref.name}: another namespace without a ReferenceGrant there`,
      );
      fail(
        'ResolvedRefs',
        'RefNotPermitted',
        `Cannot load certificate ${to}/${ref.name}: missing ReferenceGrant`,
      );
      continue;
    }
    if (b.certificate(to, ref.name, where) === undefined)
      fail('ResolvedRefs', 'InvalidCertificateRef', `Cannot load certificate ${to}/${ref.name}`);
    else b.addCertificate(to, ref.name, where);
  }
}
