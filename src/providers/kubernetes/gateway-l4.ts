/*
 * TCPRoutes and TLSRoutes (`gateway.networking.k8s.io/v1`, Standard since Gateway API v1.6 and v1.5) as
 * Traefik's pkg/provider/kubernetes/gateway/tcproute.go and tlsroute.go build them (loadTCPRoutes,
 * loadTLSRoutes, loadTCPWRRService, loadTCPService, loadTCPServers, hostSNIRule), with
 * getBackendAddresses of kubernetes.go for the servers.
 */

import { type BackendTLSPolicies, type PolicyUse, registerPolicyTransport } from './gateway-backend-tls.ts';
import {
  type BackendRef,
  backendServiceName,
  crossProviderAllowed,
  isInternalService,
  nativeLBAnnotation,
} from './gateway-backends.ts';
import {
  type Attach,
  allowsNamespace,
  isListenerSetParent,
  type ParentRef,
  parentListeners,
} from './gateway-listeners.ts';
import { gatewayRouterName, hostnames } from './gateway-match.ts';
import {
  type Condition,
  condition,
  GATEWAY_CONTROLLER,
  objectPath,
  routeParents,
  type StatusUpdate,
} from './gateway-status.ts';
import type { KubeObject } from './informer.ts';
import type { KubeBuild, Obj, SliceJson } from './kube-build.ts';
import type { ReferenceGrants } from './reference-grants.ts';

export type L4Kind = 'TCPRoute' | 'TLSRoute';

interface L4Spec {
  readonly parentRefs?: readonly ParentRef[];
  readonly hostnames?: readonly string[];
  readonly rules?: readonly { readonly backendRefs?: readonly BackendRef[] }[];
}

/**
 * A TCPRoute or a TLSRoute: its parents' statuses, and for each listener of ours that takes it
 * (sectionName/port, the listener's kinds and namespaces; a TLSRoute's hostnames intersecting the
 * listener's) one TCP router per rule:
 *
 * - `normalize(<kind>-<ns>-<name>-gw-<gwns>-<gw>-ep-<entry point>-<rule>)-<hash>` (Traefik's
 *   makeRouterName with an empty rule, gatewayRouterName) on the listener's entry point;
 * - a TCPRoute's rule is ``HostSNI(`*`)``, with `tls` (passthrough as the listener's mode) on a
 *   TLS listener; a TLSRoute's is its hostnames' ``HostSNI``/``HostSNIRegexp`` (priority: the
 *   longest hostname less its wildcards) and always has `tls` (passthrough as the listener's mode);
 * - its service `<router>-wrr`, a weighted service over each backendRef's load balancer
 *   `<router>-svc-<ns>-<service>-<backendRef index>` (traefik/traefik#13367, backendServiceName;
 *   servers: the ready endpoints' `host:port`), a cross-provider
 *   TraefikService (`name@provider`) as it is; a refused backendRef is `<router>-err-lb`, a load
 *   balancer without servers, with its weight (its connections are closed) and the parent's
 *   ResolvedRefs says why. A rule with one `…@internal` TraefikService routes to it directly.
 */
export function l4RouteConfig(
  b: KubeBuild,
  grants: ReferenceGrants,
  route: KubeObject,
  listeners: readonly Attach[],
  statuses: StatusUpdate[],
  kind: L4Kind,
  cross?: readonly string[],
  sets: ReadonlySet<string> = new Set(),
  policies?: BackendTLSPolicies,
): void {
  const ns = route.metadata.namespace ?? 'default';
  const where = `${kind.toLowerCase()} ${ns}/${route.metadata.name}`;
  const spec = (route.spec ?? {}) as L4Spec;
  const parents: Obj[] = [];
  for (const parent of spec.parentRefs ?? []) {
    const ofGateway = parentListeners(parent, ns, listeners);
    // A parent that is not one of our Gateways (or their ListenerSets) is another controller's.
    if (ofGateway.length === 0 && !isListenerSetParent(parent, ns, sets)) continue;
    // Traefik's updateRouteConditionAccepted: the reason changes until the condition is True.
    let accepted: Condition = condition(route, 'Accepted', false, 'NoMatchingParent');
    const accept = (reason: string): void => {
      if (accepted.status !== 'True') accepted = condition(route, 'Accepted', reason === 'Accepted', reason);
    };
    let resolved: Condition | undefined;
    for (const a of ofGateway) {
      let ok =
        (parent.sectionName === undefined || a.listener.name === parent.sectionName) &&
        (parent.port === undefined || a.listener.port === parent.port);
      if (ok && (!a.kinds.includes(kind) || !allowsNamespace(a, ns))) {
        accept('NotAllowedByListeners');
        ok = false;
      }
      const hosts = kind === 'TLSRoute' ? hostnames(spec.hostnames ?? [], a.listener.hostname) : [];
      if (ok && hosts === undefined) {
        accept('NoMatchingListenerHostname');
        ok = false;
      }
      if (ok) {
        a.status.attachedRoutes++;
        // Only a listener in an attached state makes the route attached.
        if (a.attached) accept('Accepted');
      }
      // Traefik (traefik/traefik#13332, tlsroute.go loadTLSServers): a TLSRoute's backends take
      // their BackendTLSPolicy, whatever the listener's mode (its load balancer is one per
      // Service port, shared by the listeners).
      const tlsPolicies = kind === 'TLSRoute' ? policies : undefined;
      const built = new L4Build(b, grants, route, kind, a, hosts ?? [], where, cross, tlsPolicies);
      resolved = built.resolved;
      if (ok && a.attached && a.entryPoint !== undefined) built.commit();
      // Traefik's loadTLSRoutes loads the route for every listener of its parent Gateway, and
      // loadTLSServers records the policy's ancestor for each, the route attached there or not.
      for (const uses of built.policyUses) tlsPolicies?.record(uses, a.gw.metadata.name, a.listener.name);
    }
    parents.push({
      parentRef: parent, // as the route wrote it (Traefik's)
      controllerName: GATEWAY_CONTROLLER,
      conditions: resolved === undefined ? [accepted] : [accepted, resolved],
    });
  }
  if (parents.length === 0) return;
  // Traefik's client: ours, then the parents other controllers wrote (routeParents).
  statuses.push({
    kind,
    object: route,
    path: objectPath(route, kind === 'TCPRoute' ? 'tcproutes' : 'tlsroutes'),
    status: { parents: routeParents(route, parents) },
  });
}

/**
 * The routers and services of one route on one listener (Traefik's loadTCPRoute /
 * loadTLSRoute), kept aside until `commit` (Traefik merges them only when the route is accepted
 * on an attached listener), and the ResolvedRefs condition they give.
 */
class L4Build {
  readonly routers: Obj = {};
  readonly services: Obj = {};
  resolved: Condition;
  readonly #b: KubeBuild;
  readonly #grants: ReferenceGrants;
  readonly #route: KubeObject;
  readonly #kind: L4Kind;
  readonly #where: string;
  readonly #messages: string[] = [];
  readonly #cross: readonly string[] | undefined;
  readonly #policies: BackendTLSPolicies | undefined;
  /** The BackendTLSPolicies its backends used, for their statuses. */
  readonly policyUses: (readonly PolicyUse[])[] = [];

  constructor(
    b: KubeBuild,
    grants: ReferenceGrants,
    route: KubeObject,
    kind: L4Kind,
    a: Attach,
    hosts: readonly string[],
    where: string,
    cross: readonly string[] | undefined,
    policies?: BackendTLSPolicies,
  ) {
    this.#b = b;
    this.#policies = policies;
    this.#cross = cross;
    this.#grants = grants;
    this.#route = route;
    this.#kind = kind;
    this.#where = where;
    this.resolved = condition(route, 'ResolvedRefs', true, 'ResolvedRefs');
    const ns = route.metadata.namespace ?? 'default';
    const spec = (route.spec ?? {}) as L4Spec;
    const gwNs = a.gw.metadata.namespace ?? 'default';
    const passthrough = a.listener.tls?.mode === 'Passthrough';
    (spec.rules ?? []).forEach((rule, ri) => {
      const refs = rule.backendRefs ?? [];
      // Should not happen: the CRD's validation requires backendRefs.
      if (refs.length === 0) return;
      // Traefik's makeRouterName with an empty rule (gateway-match.ts).
      const name = gatewayRouterName(
        kind,
        '',
        ns,
        route.metadata.name,
        gwNs,
        a.gw.metadata.name,
        a.entryPoint ?? '',
        ri,
        a.set,
      );
      // Traefik's RuleSyntax "default" (the v3 syntax): core.defaultRuleSyntax does not apply.
      const router: Obj = { entryPoints: [a.entryPoint], rule: 'HostSNI(`*`)', ruleSyntax: 'default' };
      if (kind === 'TLSRoute') {
        const sni = hostSNIRule(hosts);
        router['rule'] = sni.rule;
        if (sni.priority !== 0) router['priority'] = sni.priority;
        router['tls'] = passthrough ? { passthrough: true } : {};
      } else if (a.listener.protocol === 'TLS' && a.listener.tls !== undefined && a.listener.tls !== null) {
        router['tls'] = passthrough ? { passthrough: true } : {};
      }
      const first = refs[0]!;
      if (refs.length === 1 && isInternalService(first)) {
        if (!crossProviderAllowed(cross, ns)) {
          // Traefik: the rule has no router, the parent's ResolvedRefs says why.
          const message = `Cannot load ${kind} BackendRef ${first.name ?? ''}: internal service reference is not allowed: ${kind} namespace "${ns}" is not in crossProviderNamespaces`;
          this.resolved = condition(route, 'ResolvedRefs', false, 'RefNotPermitted', message);
          this.#messages.push(message);
          return;
        }
        router['service'] = first.name;
        this.routers[name] = router;
        return;
      }
      router['service'] = this.#weighted(name, refs);
      this.routers[name] = router;
    });
  }

  /** Adds the routers and services to the build. */
  commit(): void {
    const b = this.#b;
    for (const [name, r] of Object.entries(this.routers)) {
      b.tcp.routers[name] = r;
      b.source('tcp/routers', name, this.#where);
    }
    for (const [name, s] of Object.entries(this.services)) {
      b.tcp.services[name] = s;
      b.source('tcp/services', name, this.#where);
    }
    for (const m of this.#messages) b.error(this.#where, m);
    this.#messages.length = 0;
  }

  /** Traefik's loadTCPWRRService: a weighted service even for one backendRef. */
  #weighted(router: string, refs: readonly BackendRef[]): string {
    const name = `${router}-wrr`;
    const services: Obj[] = [];
    for (const [index, ref] of refs.entries()) {
      const weight = ref.weight ?? 1;
      const got = this.#service(router, index, ref);
      if ('failure' in got) {
        this.resolved = got.failure;
        this.#messages.push(got.failure.message);
        const errName = `${router}-err-lb`;
        this.services[errName] = { loadBalancer: { servers: [] } };
        services.push({ name: errName, weight });
        continue;
      }
      if (got.lb !== undefined) this.services[got.name] = { loadBalancer: got.lb };
      services.push({ name: got.name, weight });
    }
    this.services[name] = { weighted: { services } };
    return name;
  }

  #fail(reason: string, message: string): { failure: Condition } {
    return { failure: condition(this.#route, 'ResolvedRefs', false, reason, message) };
  }

  /** Traefik's loadTCPService / loadTLSService and loadTCPServers / loadTLSServers. */
  #service(
    router: string,
    index: number,
    ref: BackendRef,
  ): { name: string; lb?: Obj } | { failure: Condition } {
    const kind = ref.kind ?? 'Service';
    const group = ref.group === undefined || ref.group === '' ? 'core' : ref.group;
    const routeNs = this.#route.metadata.namespace ?? 'default';
    const ns = ref.namespace !== undefined && ref.namespace !== '' ? ref.namespace : routeNs;
    const refName = ref.name ?? '';
    const what = `Cannot load ${this.#kind} BackendRef ${group}/${kind}/${ns}/${refName}`;
    // traefik/traefik#13322 (tcproute.go / tlsroute.go loadTCPService / loadTLSService): a
    // cross-provider name (`name@provider`) with a namespace is refused before anything else.
    if (ref.namespace !== undefined && ref.namespace !== '' && refName.includes('@'))
      return this.#fail(
        'RefNotPermitted',
        `${what}: namespace is not allowed with a cross-provider reference`,
      );
    const granted = this.#grants.allows({
      fromKind: this.#kind,
      fromNamespace: routeNs,
      toGroup: group === 'core' ? '' : group,
      toKind: kind,
      toName: refName,
      toNamespace: ns,
    });
    if (!granted) return this.#fail('RefNotPermitted', `${what}: missing ReferenceGrant`);
    if (group !== 'core' || kind !== 'Service') {
      // Traefik's loadTCPBackendRef: a cross-provider TraefikService (e.g. `name@file`) only,
      // from a namespace crossProviderNamespaces allows.
      if (kind === 'TraefikService' && refName.includes('@')) {
        if (!crossProviderAllowed(this.#cross, routeNs))
          return this.#fail(
            'RefNotPermitted',
            `${what}: TraefikService reference is not allowed: ${this.#kind} namespace "${routeNs}" is not in crossProviderNamespaces`,
          );
        return { name: refName };
      }
      return this.#fail('InvalidKind', `${what}: unsupported BackendRef ${group}/${kind}/${refName}`);
    }
    if (ref.port === undefined || ref.port === 0)
      return this.#fail('UnsupportedProtocol', `${what} port is required`);
    // Traefik's loadTCPService / loadTLSService (traefik/traefik#13367): the router's own.
    const name = backendServiceName(router, { ns, name: refName, index });
    const found = backendAddresses(this.#b, ns, refName, ref.port);
    if ('error' in found)
      return this.#fail(
        'BackendNotFound',
        `Cannot load ${this.#kind} BackendRef ${ns}/${refName}: ${found.error}`,
      );
    if ((found.port.protocol ?? 'TCP') !== 'TCP')
      return this.#fail(
        'UnsupportedProtocol',
        `Cannot load ${this.#kind} BackendRef ${ns}/${refName}: only TCP protocol is supported`,
      );
    const policy = this.#policies?.forTcpBackend(ns, refName, ref.port, found.port.name);
    if (policy !== undefined && policy.uses.length > 0) this.policyUses.push(policy.uses);
    if (policy?.failure !== undefined)
      return this.#fail(policy.failure.reason, `${what}: ${policy.failure.message}`);
    if (policy?.transport !== undefined)
      return {
        name,
        lb: {
          servers: found.addresses.map((address) => ({ address, tls: true })),
          // Traefik's loadTLSService: the transport named as the service (traefik/traefik#13367).
          serversTransport: registerPolicyTransport(this.#b, name, policy.transport, true),
        },
      };
    return { name, lb: { servers: found.addresses.map((address) => ({ address })) } };
  }
}

export interface ServicePort {
  readonly name?: string;
  readonly port?: number;
  readonly protocol?: string;
  readonly appProtocol?: string;
}

/**
 * Traefik's getBackendAddresses (pkg/provider/kubernetes/gateway/kubernetes.go): the Service's
 * port `port`, and the `host:port` of its backends: with `traefik.io/service.nativelb` (or
 * nativeLBByDefault) its cluster IP; else each address of its EndpointSlices' ready endpoints
 * once, on the slice port named as the service port, in the slices' order. An error when the
 * Service, its port, its cluster IP (nativeLB) or its EndpointSlices are missing, or it is an
 * ExternalName Service.
 */
export function backendAddresses(
  b: KubeBuild,
  ns: string,
  name: string,
  port: number,
): { addresses: string[]; port: ServicePort } | { error: string } {
  const svc = b.service(ns, name);
  if (svc === undefined) return { error: 'service not found' };
  const spec = (svc.spec ?? {}) as { type?: string; clusterIP?: string; ports?: readonly ServicePort[] };
  if (spec.type === 'ExternalName')
    return { error: 'type ExternalName is not supported for Kubernetes Service reference' };
  const sp = (spec.ports ?? []).find((p) => p.port === port);
  if (sp === undefined) return { error: `service port ${port} not found` };
  const annotated = nativeLBAnnotation(b, ns, name);
  if (typeof annotated === 'object')
    return {
      error: `parsing service annotations config: invalid boolean ${JSON.stringify(annotated.invalid)}`,
    };
  if (annotated ?? b.nativeLBByDefault) {
    const ip = spec.clusterIP ?? '';
    if (ip === '' || ip === 'None') return { error: `no clusterIP found for service: ${ns}/${name}` };
    return { addresses: [joinHostPort(ip, port)], port: sp };
  }
  const slices = b.endpointSlices(ns, name) as unknown as readonly SliceJson[];
  if (slices.length === 0) return { error: 'endpointslices not found' };
  const seen = new Set<string>();
  const addresses: string[] = [];
  for (const slice of slices) {
    const p = (slice.ports ?? []).find(
      (x) => x.name !== undefined && x.name !== null && x.name === (sp.name ?? ''),
    );
    if (p?.port === undefined || p.port === null || p.port === 0) continue;
    for (const e of slice.endpoints ?? []) {
      if (e.conditions?.ready !== true) continue;
      for (const a of e.addresses ?? []) {
        if (seen.has(a)) continue;
        seen.add(a);
        addresses.push(joinHostPort(a, p.port));
      }
    }
  }
  return { addresses, port: sp };
}

/** Go's net.JoinHostPort. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's regexp.QuoteMeta. */
function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * Traefik's hostSNIRule: ``HostSNI(`h`)`` per hostname, ``HostSNIRegexp(`^…$`)`` for a wildcard
 * (its `*.` matching one or more labels), each once, joined by `||`; the priority is the longest
 * hostname's length less its wildcards. No hostname: ``HostSNI(`*`)``, priority 0.
 */
export function hostSNIRule(hosts: readonly string[]): { rule: string; priority: number } {
  let priority = 0;
  const rules: string[] = [];
  const seen = new Set<string>();
  for (const h of hosts) {
    if (h === '') continue;
    const wildcards = h.split('*').length - 1;
    priority = Math.max(priority, h.length - wildcards);
    if (seen.has(h)) continue;
    seen.add(h);
    if (wildcards === 0) rules.push(`HostSNI(\`${h}\`)`);
    else rules.push(`HostSNIRegexp(\`^${quoteMeta(h).replace('\\*\\.', '[a-z0-9-\\.]+\\.')}$\`)`);
  }
  if (rules.length === 0) return { rule: 'HostSNI(`*`)', priority: 0 };
  return { rule: rules.join(' || '), priority };
}
