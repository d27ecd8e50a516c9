import { parseGoBool } from '../../core/go-bool.ts';
import {
  type BackendTLSPolicies,
  type PolicyTransport,
  type PolicyUse,
  registerPolicyTransport,
} from './gateway-backend-tls.ts';
import { type CrdRegistry, crdRefused, filterError, type HttpRouteFilter } from './gateway-filters.ts';
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

/**
 * A rule's weighted children, and the ResolvedRefs failure of its backendRefs. A child made of a
 * backendRef that is a Service (or refused) is named after the router using it (`templates`,
 * routerChildren): only a TraefikService child has its own name.
 */
export interface Backends {
  readonly children: Obj[];
  readonly templates: ReadonlyMap<Obj, ChildTemplate>;
  readonly failure: { reason: string; message: string } | undefined;
  /** The BackendTLSPolicies its backends matched (reported per listener on their ancestors). */
  readonly uses: readonly PolicyUse[];
}

/**
 * A rule's weighted children and its ResolvedRefs failure while its backendRefs are read (the
 * HTTPRoute and GRPCRoute readers alike).
 */
export class BackendsBuilder {
  readonly #b: KubeBuild;
  readonly #where: string;
  readonly #children: Obj[] = [];
  readonly #templates = new Map<Obj, ChildTemplate>();
  readonly #uses: PolicyUse[] = [];
  #failure: Backends['failure'];

  constructor(b: KubeBuild, where: string) {
    this.#b = b;
    this.#where = where;
  }

  /** A refused backendRef: reported, and the rule's failure. */
  fail(reason: string, message: string): void {
    this.#b.error(this.#where, message);
    this.#failure = { reason, message };
  }

  /**
   * A child by name. Weight 0 is kept, as Traefik's loadService lists every backendRef (its wrr
   * Balancer's Add then ignores a weight of 0: it takes no traffic).
   */
  child(name: string, weight: number): void {
    this.#children.push({ name, weight });
  }

  /**
   * A refused backendRef's share of the traffic, as Traefik's loadService: a weighted child
   * named after the router and the backendRef (`ref`) that answers 500 (WRRService.Status).
   */
  refused(ref: BackendIdentity, weight: number, status = 500): void {
    const c = { name: '', weight, status };
    this.#children.push(c);
    this.#templates.set(c, ref);
  }

  /**
   * What `b.loadBalancer` gave (the name it built the load balancer under, taken back out of the
   * configuration as the template of the routers' own): the child, or undefined, a
   * BackendNotFound failure whose message is what it reported since `before` (the index of
   * `b.issues` before the call).
   */
  loadBalancer(
    lb: string | undefined,
    ref: BackendIdentity,
    weight: number,
    before: number,
    transport?: PolicyTransport,
  ): void {
    if (lb !== undefined) {
      const template = this.#b.detachService(lb);
      const c = { name: '', weight };
      this.#children.push(c);
      this.#templates.set(c, { ...ref, lb: template, transport });
      return;
    }
    const message = this.#b.issues
      .slice(before)
      .map((i) => i.message)
      .join('; ');
    this.#failure = { reason: 'BackendNotFound', message };
  }

  /** BackendTLSPolicies a backend matched. */
  used(uses: readonly PolicyUse[]): void {
    for (const u of uses) if (!this.#uses.includes(u)) this.#uses.push(u);
  }

  result(): Backends {
    return { children: this.#children, templates: this.#templates, failure: this.#failure, uses: this.#uses };
  }
}

/** Which backendRef of a rule a child stands for: its namespace, name and index in the rule. */
export interface BackendIdentity {
  readonly ns: string;
  readonly name: string;
  readonly index: number;
}

/**
 * A child named per router, the load balancer it stands for (none: refused) and its
 * BackendTLSPolicy's transport (registered under the child's name, registerPolicyTransport).
 */
export interface ChildTemplate extends BackendIdentity {
  readonly lb?: Obj | undefined;
  readonly transport?: PolicyTransport | undefined;
}

/**
 * The service Traefik makes of a route's backendRef (traefik/traefik#13367, v3.7.6 and v3.6.25,
 * GHSA-6p8f-p8j2-rqmv; the same in its httproute.go, grpcroute.go, tcproute.go, tlsroute.go and
 * udproute.go): `<router>-svc-<namespace>-<name>-<backendRef index>`, one per router, so that
 * two routes sharing a Service port no longer share one service (before: `<ns>-<name>-<port>`,
 * `<ns>-<name>-http-<port>` since v3.2). Normalized only for a name holding `@` (a
 * cross-provider TraefikService refused), as Traefik's loadTCPService.
 */
export function backendServiceName(router: string, ref: BackendIdentity): string {
  const name = `${router}-svc-${ref.ns}-${ref.name}-${ref.index}`;
  return ref.name.includes('@') ? normalize(name) : name;
}

/**
 * A router's own backend service: its configuration, the backendRef it stands for and its
 * BackendTLSPolicy's transport.
 */
export interface RouterService {
  service: Obj;
  readonly index: number;
  readonly transport: PolicyTransport | undefined;
}

/**
 * The router `router`'s own children of a rule's backends: each Service (or refused) child named
 * by backendServiceName, and the services to register under those names (registerChildren, once
 * the router's children are final).
 */
export function routerChildren(
  router: string,
  backends: Backends,
): { children: Obj[]; lbs: Map<string, RouterService> } {
  const lbs = new Map<string, RouterService>();
  const children = backends.children.map((c) => {
    const t = backends.templates.get(c);
    if (t === undefined) return c;
    const name = backendServiceName(router, t);
    if (t.lb !== undefined) lbs.set(name, { service: t.lb, index: t.index, transport: t.transport });
    return { ...c, name };
  });
  return { children, lbs };
}

function withTransport(
  b: KubeBuild,
  name: string,
  service: Obj,
  transport: PolicyTransport | undefined,
): Obj {
  if (transport === undefined) return { ...service };
  const lb = service['loadBalancer'] as Obj;
  return {
    ...service,
    loadBalancer: { ...lb, serversTransport: registerPolicyTransport(b, name, transport) },
  };
}

/**
 * Registers the services of the children that take traffic (no `status`); a BackendTLSPolicy's
 * transport under the service's name, which its load balancer uses (Traefik since
 * traefik/traefik#13367).
 */
export function registerChildren(
  b: KubeBuild,
  children: readonly Obj[],
  lbs: ReadonlyMap<string, RouterService>,
  where: string,
): void {
  for (const c of children) {
    const lb = c['status'] === undefined ? lbs.get(String(c['name'])) : undefined;
    if (lb === undefined) continue;
    b.services[String(c['name'])] = withTransport(b, String(c['name']), lb.service, lb.transport);
    b.source('http/services', String(c['name']), where);
  }
}

/**
 * The weighted children of a rule's backendRefs, as Traefik's loadHTTPService: a reference to
 * another namespace needs a ReferenceGrant there (RefNotPermitted); a core Service needs its
 * port (BackendNotFound when it or its port is missing); a TraefikService is the CRD provider's
 * `<ns>-<name>@kubernetescrd` (`name@provider` as it is); another kind is InvalidKind.
 * A Service's load balancer is a template each router names its own (routerChildren). A refused
 * backendRef keeps its weight as a child answering 500 (Traefik's loadService gives it
 * `Status: 500`), named as the Service's would be (backendServiceName).
 */
export function backends(
  b: KubeBuild,
  grants: ReferenceGrants,
  rule: { readonly backendRefs?: readonly BackendRef[] },
  ns: string,
  where: string,
  policies?: BackendTLSPolicies,
  cross?: readonly string[],
  crd: CrdRegistry = { namespaces: [] },
): Backends {
  const out = new BackendsBuilder(b, where);
  for (const [index, ref] of (rule.backendRefs ?? []).entries()) {
    const kind = ref.kind ?? 'Service';
    // Traefik's loadService: an empty group is `core`, and so is `core` written out.
    const group = ref.group === 'core' ? '' : (ref.group ?? '');
    const to = ref.namespace ?? ns;
    const what = `backend ${group}/${kind}/${to}/${ref.name ?? ''}`;
    const weight = ref.weight ?? 1;
    // Traefik's loadHTTPService: the backendRef's service, refused or not, is named after the
    // router and the backendRef (backendServiceName).
    const id: BackendIdentity = { ns: to, name: ref.name ?? '', index };
    const fail = (reason: string, message: string): void => {
      out.fail(reason, message);
      out.refused(id, weight);
    };
    // Traefik's loadHTTPRoute sends a rule whose one backendRef is internal (`…@internal`) to it
    // without loadService: neither its namespace nor its filters are looked at.
    const single = (rule.backendRefs ?? []).length === 1 && isInternalService(ref);
    // Traefik's loadService (traefik/traefik#13322): a cross-provider name (`name@provider`) with
    // a namespace is refused before anything else.
    if (!single && ref.namespace !== undefined && ref.namespace !== '' && (ref.name ?? '').includes('@')) {
      fail('RefNotPermitted', `${what}: namespace is not allowed with a cross-provider reference`);
      continue;
    }
    if (
      !single &&
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
    // Traefik's loadService (httproute.go, traefik/traefik#12544): the backendRef's filters are
    // loaded next, whatever its kind, with the route's namespace (traefik/traefik#13462); one that
    // cannot be loaded refuses the backend, InvalidKind, "Cannot load filters on HTTPBackendRef …".
    const filtersError = single
      ? undefined
      : filterError((ref.filters ?? []) as readonly HttpRouteFilter[], ns, crd);
    if (filtersError !== undefined) {
      fail(
        'InvalidKind',
        `Cannot load filters on HTTPBackendRef ${group === '' ? 'core' : group}/${kind}/${to}/${ref.name ?? ''}: ${filtersError}`,
      );
      continue;
    }
    if (group === 'traefik.io' && kind === 'TraefikService' && ref.name !== undefined) {
      if (ref.name.includes('@') && !crossProviderAllowed(cross, ns)) {
        fail(
          'RefNotPermitted',
          `${what}: TraefikService reference is not allowed: HTTPRoute namespace "${ns}" is not in crossProviderNamespaces`,
        );
        continue;
      }
      // GHSA-96qj-4jj5-wcjc (CVE-2026-44774, fixed in Traefik 3.6.17 and 3.7.1): a route author
      // must not publish the REST provider's write API, which `providers.rest.insecure` alone
      // puts on a router; any other `@internal` service (api, dashboard, ping…) stays allowed.
      if (ref.name === 'rest@internal') {
        fail(
          'InvalidKind',
          `${what}: rest@internal cannot be a route's backend (providers.rest.insecure publishes it)`,
        );
        continue;
      }
      if (!ref.name.includes('@')) {
        const refused = crdRefused(crd, 'HTTPBackendRef', 'TraefikService', ref.name, to);
        if (refused !== undefined) {
          fail('InvalidKind', `${what}: ${refused}`);
          continue;
        }
      }
      const name = ref.name.includes('@') ? ref.name : `${normalize(`${to}-${ref.name}`)}@kubernetescrd`;
      out.child(name, weight);
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
    const tls = backendTLS(b, policies, to, ref.name, ref.port);
    out.used(tls.uses);
    if (tls.failure !== undefined) {
      fail(tls.failure.reason, `${what}: ${tls.failure.message}`);
      continue;
    }
    const native = nativeLBAnnotation(b, to, ref.name);
    if (typeof native === 'object') {
      fail(
        'BackendNotFound',
        `${what}: annotation traefik.io/service.nativelb must be a boolean (Go's strconv.ParseBool)`,
      );
      continue;
    }
    // A policy's serversTransport makes the servers https, whatever the appProtocol.
    const protocol = tls.transport === undefined ? httpServiceProtocol(b, to, ref.name, ref.port) : {};
    if (protocol === undefined) {
      fail(
        'UnsupportedProtocol',
        `${what}: only the TCP protocol and the appProtocols http, https, kubernetes.io/h2c, kubernetes.io/ws and kubernetes.io/wss are supported`,
      );
      continue;
    }
    const lb = b.loadBalancer(
      {
        name: ref.name,
        namespace: to,
        port: ref.port,
        nativeLB: native,
        gatewayBackend: true,
        ...protocol,
        ...tlsScheme(tls.transport),
      },
      ns,
      where,
    );
    out.loadBalancer(lb, id, weight, before, tls.transport);
    if (lb === undefined) out.refused(id, weight);
  }
  return out.result();
}

/**
 * The Service's `traefik.io/service.nativelb` annotation (Traefik's gateway
 * parseServiceAnnotations): true or false overrides nativeLBByDefault; absent is undefined; a
 * value Go cannot read as a bool is `{ invalid }`, the value (Traefik refuses the backend).
 */
export function nativeLBAnnotation(
  b: KubeBuild,
  ns: string,
  name: string | undefined,
): boolean | undefined | { readonly invalid: string } {
  if (name === undefined) return undefined;
  const annotations = b.service(ns, name)?.metadata.annotations ?? {};
  // Label decoding reads keys case-insensitively.
  const key = Object.keys(annotations).find((k) => k.toLowerCase() === 'traefik.io/service.nativelb');
  if (key === undefined) return undefined;
  const value = annotations[key]!;
  return parseGoBool(value) ?? { invalid: value };
}

/**
 * The scheme of an HTTPRoute backend's servers from its Service port, as Traefik's
 * getHTTPServiceProtocol (pkg/provider/kubernetes/gateway/httproute.go, GEP-1911): a port whose
 * protocol is not TCP is refused (undefined); without `appProtocol`, `{}` (the load balancer's
 * own rule: https for port 443 or a name starting with https, else http); `kubernetes.io/h2c` is
 * h2c, `http` and `kubernetes.io/ws` http, `https` and `kubernetes.io/wss` https; another value
 * is refused. A Service or port that does not exist is left to the load balancer
 * (BackendNotFound).
 */
function httpServiceProtocol(
  b: KubeBuild,
  ns: string,
  name: string | undefined,
  port: number,
): { scheme?: string } | undefined {
  const svc = name === undefined ? undefined : b.service(ns, name);
  const sp = ((svc?.spec ?? {}) as { ports?: readonly ServicePortSpec[] }).ports?.find(
    (p) => p.port === port,
  );
  if (sp === undefined) return {};
  // The API server defaults a port's protocol to TCP.
  if ((sp.protocol ?? 'TCP') !== 'TCP') return undefined;
  if (sp.appProtocol === undefined || sp.appProtocol === null) return {};
  switch (sp.appProtocol.toLowerCase()) {
    case 'kubernetes.io/h2c':
      return { scheme: 'h2c' };
    case 'http':
    case 'kubernetes.io/ws':
      return { scheme: 'http' };
    case 'https':
    case 'kubernetes.io/wss':
      return { scheme: 'https' };
    default:
      return undefined;
  }
}

interface ServicePortSpec {
  readonly port?: number;
  readonly protocol?: string;
  readonly appProtocol?: string | null;
}

/**
 * The BackendTLSPolicies of a backend Service port (Traefik's loadHTTPServers / loadGRPCServers):
 * none without policies or a Service.
 */
export function backendTLS(
  b: KubeBuild,
  policies: BackendTLSPolicies | undefined,
  ns: string,
  name: string | undefined,
  port: number,
): ReturnType<BackendTLSPolicies['forBackend']> {
  const svc = name === undefined ? undefined : b.service(ns, name);
  if (policies === undefined || svc === undefined || name === undefined)
    return { transport: undefined, failure: undefined, uses: [] };
  const sp = ((svc.spec ?? {}) as { ports?: readonly { name?: string; port?: number }[] }).ports?.find(
    (p) => p.port === port,
  );
  return policies.forBackend(ns, name, port, sp?.name);
}

/**
 * With a policy's serversTransport, the servers are `https://` (Traefik's); the transport is the
 * router's own service's (routerChildren).
 */
export function tlsScheme(transport: PolicyTransport | undefined): { scheme?: string } {
  return transport === undefined ? {} : { scheme: 'https' };
}

/**
 * Traefik's isCrossProviderNamespaceAllowed: without crossProviderNamespaces every namespace may
 * refer to another provider's objects; with it, only those it lists.
 */
export function crossProviderAllowed(cross: readonly string[] | undefined, ns: string): boolean {
  return cross === undefined || cross.includes(ns);
}

/** Traefik's isInternalService: a TraefikService reference named `…@internal`. */
export function isInternalService(ref: BackendRef): boolean {
  return (
    ref.group === 'traefik.io' && ref.kind === 'TraefikService' && (ref.name ?? '').endsWith('@internal')
  );
}
