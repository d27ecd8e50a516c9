import { type Condition, condition } from './gateway-status.ts';
import type { KubeObject } from './informer.ts';
import type { KubeBuild, Obj } from './kube-build.ts';
import { type LabelSelector, labelSelectorMatcher } from './label-selector.ts';
import type { ReferenceGrants } from './reference-grants.ts';

/** The Gateway API's group. */
export const GROUP = 'gateway.networking.k8s.io';

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
  readonly allowedRoutes?: {
    readonly namespaces?: { readonly from?: string; readonly selector?: LabelSelector | null };
    readonly kinds?: readonly { readonly group?: string; readonly kind?: string }[];
  };
}

/** A listener of one of our Gateways, its entry point (when it has one) and its status. */
export interface Attach {
  /** The Gateway serving the listener (a ListenerSet's parent Gateway for one of its listeners). */
  readonly gw: KubeObject;
  /** The ListenerSet declaring the listener (Traefik v3.8's listenerOwner); absent: the Gateway. */
  readonly set?: KubeObject;
  readonly listener: Listener;
  readonly entryPoint: string | undefined;
  /** Valid and resolved: routes attached to it are routed. */
  readonly attached: boolean;
  /** The route kinds it takes (its supportedKinds, narrowed by `allowedRoutes.kinds`). */
  readonly kinds: readonly string[];
  /** The namespaces whose routes it admits (Traefik's AllowedNamespaces); `all` for `from: All`. */
  readonly namespaces: ReadonlySet<string> | 'all';
  /**
   * The Gateway's client certificate validation of this listener's port (gateway-frontend-tls.ts):
   * the TLS options its listener routers take (gateway-isolation.ts), `key` naming it
   * (`<ns>-<gateway>-<port>-frontend`).
   */
  readonly frontendTls?: { readonly key: string; readonly options: Obj };
  readonly status: { name: string; supportedKinds: Obj[]; attachedRoutes: number; conditions: Condition[] };
  /**
   * Traefik v3.8's RouterNames: the listener routers (gateway-isolation.ts) this listener is the
   * most specific match for; its HTTP routes' routers are their children.
   */
  readonly routerNames: string[];
}

/** A route's `parentRefs` entry. */
export interface ParentRef {
  readonly kind?: string;
  readonly group?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly sectionName?: string;
  readonly port?: number;
}

/**
 * The listeners a route's parent names (in the route's namespace `routeNs` unless it names
 * another), as Traefik v3.8's matchingGatewayListenersForParentRef: a Gateway's own listeners, or
 * a ListenerSet's (`kind: ListenerSet`); empty when the parent is none of ours (another
 * controller's to report on) or a ListenerSet of ours with no listener (`sets`: the ListenerSets
 * of our Gateways, `namespace/name`, allowed or not, which still get a route status).
 */
export function parentListeners(parent: ParentRef, routeNs: string, listeners: readonly Attach[]): Attach[] {
  const kind = parent.kind ?? 'Gateway';
  if ((parent.group ?? GROUP) !== GROUP || (kind !== 'Gateway' && kind !== 'ListenerSet')) return [];
  const pNs = parent.namespace ?? routeNs;
  const named = (o: KubeObject | undefined): boolean =>
    o !== undefined && o.metadata.name === parent.name && (o.metadata.namespace ?? 'default') === pNs;
  return listeners.filter((a) => (kind === 'Gateway' ? a.set === undefined && named(a.gw) : named(a.set)));
}

/** Whether a route's parent is one of `sets` (`namespace/name` of our Gateways' ListenerSets). */
export function isListenerSetParent(parent: ParentRef, routeNs: string, sets: ReadonlySet<string>): boolean {
  return (
    (parent.group ?? GROUP) === GROUP &&
    parent.kind === 'ListenerSet' &&
    sets.has(`${parent.namespace ?? routeNs}/${parent.name ?? ''}`)
  );
}

/** Whether the listener's `allowedRoutes.namespaces` admits a route of namespace `ns`. */
export function allowsNamespace(a: Attach, ns: string): boolean {
  return a.namespaces === 'all' || a.namespaces.has(ns);
}

/** The Namespace objects (cluster-scoped, all of them) and the watched namespaces (empty: all). */
export interface NamespaceScope {
  readonly objects: readonly KubeObject[];
  readonly watched: readonly string[];
}

/**
 * Traefik's allowedNamespaces (pkg/provider/kubernetes/gateway/kubernetes.go): `Same` (the
 * default) is the Gateway's namespace, `All` every one, `Selector` the Namespaces whose labels
 * its `selector` matches (metav1.LabelSelectorAsSelector; no selector: none), less those the
 * provider does not watch (its client's ListNamespaces, a warning each); another `from`, or a
 * malformed selector, an error.
 */
function allowedNamespaces(
  b: KubeBuild,
  where: string,
  gwNs: string,
  l: Listener,
  scope: NamespaceScope,
): ReadonlySet<string> | 'all' | { readonly error: string } {
  const rn = l.allowedRoutes?.namespaces;
  const from = rn?.from ?? 'Same';
  if (from === 'All') return 'all';
  if (from === 'Same') return new Set([gwNs]);
  if (from !== 'Selector') return { error: `unsupported RouteSelectType: "${from}"` };
  const match = labelSelectorMatcher(rn?.selector);
  if (typeof match === 'string') return { error: `malformed selector: ${match}` };
  const out = new Set<string>();
  for (const n of scope.objects) {
    if (!match(n.metadata.labels ?? {})) continue;
    if (scope.watched.length > 0 && !scope.watched.includes(n.metadata.name)) {
      b.warn(where, `listener ${l.name}: namespace ${n.metadata.name} is not within the watched namespaces`);
      continue;
    }
    out.add(n.metadata.name);
  }
  return out;
}

/**
 * The route kinds a listener's protocol takes, as Traefik v3.8's supportedRouteKinds
 * (pkg/provider/kubernetes/gateway/kubernetes.go, Gateway API v1.6): HTTP and HTTPS take
 * HTTPRoutes and GRPCRoutes, TCP TCPRoutes and TLS TLSRoutes (no longer TCPRoutes, as Gateway API
 * v1.5 decided), none of them behind `experimentalChannel` any more. Another protocol is not
 * accepted.
 */
function supportedKinds(
  protocol: string,
): string[] | { type: string; ok: boolean; reason: string; message: string } {
  switch (protocol) {
    case 'HTTP':
    case 'HTTPS':
      return ['HTTPRoute', 'GRPCRoute'];
    case 'TCP':
      return ['TCPRoute'];
    case 'TLS':
      return ['TLSRoute'];
    default:
      return {
        type: 'Accepted',
        ok: false,
        reason: 'UnsupportedProtocol',
        message: `Unsupported listener protocol "${protocol}"`,
      };
  }
}

/**
 * The listeners of one of our Gateways, as Traefik's loadGatewayListeners: a listener's protocol
 * gives its route kinds (supportedKinds; `allowedRoutes.kinds` narrows them, a kind it does not
 * support is `InvalidRouteKinds`); it goes to the entry point whose address has its port; HTTP
 * and TCP listeners take no `tls`; HTTPS and TLS ones need it: `Passthrough` (TLS only) needs no
 * certificate, `Terminate` (the default) takes its certificateRefs, TLS Secrets (in another
 * namespace only with a ReferenceGrant there). Each gets the conditions Traefik writes
 * (Accepted, ResolvedRefs, Programmed); one that fails any is not attached (its routes are not
 * routed).
 */
export function gatewayListeners(
  b: KubeBuild,
  grants: ReferenceGrants,
  gw: KubeObject,
  entryPointPorts: Readonly<Record<string, number>>,
  scope: NamespaceScope = { objects: [], watched: [] },
  httpTlsEntryPoints: ReadonlySet<string> = new Set(),
  // Traefik's allocatedListeners: protocol, hostname and port of the listeners claimed so far,
  // the Gateway's then its ListenerSets' (Traefik v3.8's loadListenerSetListeners shares it).
  allocated: Set<string> = new Set(),
  // A ListenerSet of `gw` declaring the listeners (Traefik v3.8's listenerOwner): its namespace
  // is `Same` and the ReferenceGrants' `from`, its generation the conditions'.
  set?: KubeObject,
): Attach[] {
  const owner = set ?? gw;
  const ownerKind: 'Gateway' | 'ListenerSet' = set === undefined ? 'Gateway' : 'ListenerSet';
  const spec = (owner.spec ?? {}) as { listeners?: readonly Listener[] };
  const ns = owner.metadata.namespace ?? 'default';
  const where = `${ownerKind.toLowerCase()} ${ns}/${owner.metadata.name}`;
  const out: Attach[] = [];
  for (const l of spec.listeners ?? []) {
    const conds: Condition[] = [];
    let ok = true;
    const fail = (type: string, reason: string, message: string): void => {
      ok = false;
      conds.push(condition(owner, type, false, reason, message));
    };
    // Traefik's entryPointName: the entry point of the listener's port, but not, for an HTTP
    // listener, one with `http.tls` (its routers would all be TLS).
    const ep = Object.entries(entryPointPorts).find(
      ([name, port]) => port === l.port && !(l.protocol === 'HTTP' && httpTlsEntryPoints.has(name)),
    )?.[0];
    const supported = supportedKinds(l.protocol);
    let kinds: string[] = [];
    // Traefik's loadGatewayListeners: after the protocol and the entry point, before the kinds.
    const allowed =
      Array.isArray(supported) && ep !== undefined
        ? allowedNamespaces(b, where, ns, l, scope)
        : new Set<string>();
    const namespaces = allowed === 'all' || allowed instanceof Set ? allowed : new Set<string>();
    if (!Array.isArray(supported)) {
      b.warn(where, `listener ${l.name}: ${supported.message}: ignored`);
      ok = false;
      conds.push(condition(owner, supported.type, supported.ok, supported.reason, supported.message));
    } else if (ep === undefined) {
      const why = Object.values(entryPointPorts).includes(l.port)
        ? `no entry point without http.tls listens on port ${l.port} (an HTTP listener's)`
        : `no entry point listens on port ${l.port}`;
      b.error(where, `listener ${l.name}: ${why}`);
      fail('Accepted', 'PortUnavailable', `Cannot find entryPoint for ${ownerKind}: ${why}`);
    } else if (allowed !== 'all' && 'error' in allowed) {
      b.error(where, `listener ${l.name}: invalid route namespaces selector: ${allowed.error}`);
      fail(
        'ResolvedRefs',
        'InvalidRouteNamespacesSelector',
        `Invalid route namespaces selector: ${allowed.error}`,
      );
    } else {
      kinds = allowedKinds(l, supported, fail);
      const mode = l.tls?.mode ?? 'Terminate';
      // Claimed before the TLS checks, as Traefik does.
      const key = `${l.protocol}|${l.hostname ?? ''}|${l.port}`;
      const duplicate = ok && allocated.has(key);
      if (ok) allocated.add(key);
      if (!ok) {
        // InvalidRouteKinds (ResolvedRefs) already says why.
      } else if (duplicate) {
        // Traefik's loadGatewayListeners: a second listener of the same protocol, hostname and
        // port is refused (HostnameConflict).
        const message = 'A listener with the same protocol, port and hostname already exists';
        b.error(where, `listener ${l.name}: ${message}`);
        fail('Accepted', 'HostnameConflict', message);
        conds.push(condition(owner, 'Programmed', false, 'HostnameConflict', message));
        conds.push(condition(owner, 'Conflicted', true, 'HostnameConflict', message));
      } else if ((l.protocol === 'HTTP' || l.protocol === 'TCP') && l.tls !== undefined && l.tls !== null) {
        fail(
          'Accepted',
          'InvalidTLSConfiguration',
          'TLS configuration must no be defined when using HTTP or TCP protocol',
        );
      } else if (
        (l.protocol === 'HTTPS' || l.protocol === 'TLS') &&
        (l.tls === undefined || l.tls === null)
      ) {
        fail(
          'Accepted',
          'InvalidTLSConfiguration',
          `No TLS configuration for ${ownerKind} Listener ${l.name}:${l.port} and protocol "${l.protocol}"`,
        );
      } else if (l.protocol === 'HTTPS' && mode === 'Passthrough') {
        fail('Accepted', 'UnsupportedProtocol', 'HTTPS protocol is not supported with TLS mode Passthrough');
      } else if (l.protocol === 'HTTPS' || l.protocol === 'TLS') {
        if (mode === 'Passthrough') {
          if ((l.tls?.certificateRefs ?? []).length > 0)
            b.warn(
              where,
              `listener ${l.name}: in Passthrough TLS mode, no TLS settings take effect (the TLS session is not terminated at the Gateway)`,
            );
        } else if ((l.tls?.certificateRefs ?? []).length === 0)
          fail(
            'ResolvedRefs',
            'InvalidCertificateRef',
            'One TLS CertificateRef is required in Terminate mode',
          );
        else {
          certificates(b, grants, owner, ownerKind, l, where, fail);
          // Traefik's loadGatewayListeners: refused certificates also make it not Programmed.
          if (!ok) conds.push(condition(owner, 'Programmed', false, 'Invalid', 'Invalid CertificateRefs'));
        }
      }
    }
    // Traefik v3.8's makeGatewayStatus: a valid listener is Accepted, ResolvedRefs and Programmed;
    // an invalid one has its errors' conditions only (loadGatewayListeners).
    if (ok)
      conds.push(
        condition(owner, 'Accepted', true, 'Accepted', 'No error found'),
        condition(owner, 'ResolvedRefs', true, 'ResolvedRefs', 'No error found'),
        condition(owner, 'Programmed', true, 'Programmed', 'No error found'),
      );
    out.push({
      gw,
      ...(set === undefined ? {} : { set }),
      listener: l,
      entryPoint: ep,
      attached: ok,
      kinds,
      namespaces,
      routerNames: [],
      status: {
        name: l.name,
        supportedKinds: kinds.map((kind) => ({ group: GROUP, kind })),
        attachedRoutes: 0,
        conditions: conds,
      },
    });
  }
  return out;
}

/**
 * Traefik's allowedRouteKinds: without `allowedRoutes.kinds`, the supported kinds; else those of
 * them it lists (each once), a listed kind the protocol does not support failing the listener
 * (`ResolvedRefs=False`, `InvalidRouteKinds`).
 */
function allowedKinds(
  l: Listener,
  supported: readonly string[],
  fail: (type: string, reason: string, message: string) => void,
): string[] {
  const listed = l.allowedRoutes?.kinds ?? [];
  if (listed.length === 0) return [...supported];
  const out: string[] = [];
  for (const k of listed) {
    if (!supported.includes(k.kind ?? '') || (k.group ?? GROUP) !== GROUP) {
      fail(
        'ResolvedRefs',
        'InvalidRouteKinds',
        `Listener protocol "${l.protocol}" does not support RouteGroupKind ${k.group ?? GROUP}/${k.kind ?? ''}`,
      );
      continue;
    }
    if (!out.includes(k.kind!)) out.push(k.kind!);
  }
  return out;
}

/** An HTTPS listener's certificateRefs into `tls.certificates`; a refused or missing one fails it. */
function certificates(
  b: KubeBuild,
  grants: ReferenceGrants,
  owner: KubeObject,
  ownerKind: 'Gateway' | 'ListenerSet',
  l: Listener,
  where: string,
  fail: (type: string, reason: string, message: string) => void,
): void {
  const ns = owner.metadata.namespace ?? 'default';
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
      fromKind: ownerKind,
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
