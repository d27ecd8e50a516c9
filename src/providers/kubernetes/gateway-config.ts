import type { ConfigIssue } from '../../config/issues.ts';
import { type ProviderValidation, type SourceOf, updateFromData } from '../dynamic-data.ts';
import type { ProviderUpdate } from '../provider.ts';
import { type StatusAddress, statusAddresses } from './gateway-addresses.ts';
import { BackendTLSPolicies } from './gateway-backend-tls.ts';
import {
  type BackendRef,
  type Backends,
  backendServiceName,
  backends,
  isInternalService,
  registerChildren,
  routerChildren,
} from './gateway-backends.ts';
import { type CrdRegistry, filterError, filterMiddlewares, type HttpRouteFilter } from './gateway-filters.ts';
import { frontendTls } from './gateway-frontend-tls.ts';
import { GRPC_UNAVAILABLE, type GrpcMatch, grpcBackends, grpcMatchRule } from './gateway-grpc.ts';
import { dropChildlessListenerRouters, listenerRouters } from './gateway-isolation.ts';
import { l4RouteConfig } from './gateway-l4.ts';
import {
  type Attach,
  allowsNamespace,
  gatewayListeners,
  isListenerSetParent,
  type ParentRef,
  parentListeners,
} from './gateway-listeners.ts';
import { listenerSetAllowed, listenerSetStatus, listenerSetsOf } from './gateway-listenersets.ts';
import { gatewayRouterName, hostnames, type Match, matchRule } from './gateway-match.ts';
import {
  type Condition,
  condition,
  GATEWAY_CONTROLLER,
  objectPath,
  routeParents,
  type StatusUpdate,
} from './gateway-status.ts';
import type { KubeObject } from './informer.ts';
import { KubeBuild, type Obj } from './kube-build.ts';
import { ReferenceGrants } from './reference-grants.ts';

export interface GatewayObjects {
  readonly gatewayClasses: readonly KubeObject[];
  readonly gateways: readonly KubeObject[];
  readonly httpRoutes: readonly KubeObject[];
  readonly grpcRoutes?: readonly KubeObject[];
  /** `v1` TCPRoutes and TLSRoutes (Standard since Gateway API v1.6 and v1.5). */
  readonly tcpRoutes?: readonly KubeObject[];
  readonly tlsRoutes?: readonly KubeObject[];
  /** `v1` BackendTLSPolicies and the ConfigMaps of their CAs. */
  readonly backendTLSPolicies?: readonly KubeObject[];
  /** ConfigMaps: the CAs of BackendTLSPolicies and of the Gateways' `spec.tls.frontend`. */
  readonly configMaps?: readonly KubeObject[];
  readonly services: readonly KubeObject[];
  readonly endpointSlices: readonly KubeObject[];
  readonly secrets: readonly KubeObject[];
  readonly referenceGrants?: readonly KubeObject[];
  /** The cluster's Namespaces (their labels: `allowedRoutes.namespaces.from: Selector`). */
  readonly namespaces?: readonly KubeObject[];
  /** `v1` ListenerSets (Standard since Gateway API v1.5): more listeners for a Gateway. */
  readonly listenerSets?: readonly KubeObject[];
}

export interface GatewayOptions {
  readonly allowEmptyServices: boolean;
  readonly allowExternalNameServices: boolean;
  /** A backend Service without `traefik.io/service.nativelb` is its cluster IP. */
  readonly nativeLBByDefault?: boolean;
  /** What every Gateway's `status.addresses` says (Traefik's StatusAddress). */
  readonly statusAddress?: StatusAddress | undefined;
  /**
   * Traefik's experimentalChannel: accepted, and since Traefik v3.8 (Gateway API v1.6.1, TCPRoute
   * Standard) it enables no resource.
   */
  readonly experimentalChannel?: boolean;
  /**
   * Traefik's crossProviderNamespaces: undefined lets every route name another provider's
   * TraefikService (`name@provider`); a list lets only the routes of its namespaces.
   */
  readonly crossProviderNamespaces?: readonly string[] | undefined;
  /** Only these Gateways (`namespace/name`); empty or absent: all of our GatewayClasses'. */
  readonly gateways?: readonly string[];
  /** Only the Gateways of these GatewayClasses (ours still); empty or absent: all ours. */
  readonly gatewayClasses?: readonly string[];
  /**
   * Traefik's FillExtensionBuilderRegistry: with the kubernetesCRD provider configured, an
   * ExtensionRef to a Traefik Middleware and a backendRef to a TraefikService are that provider's
   * objects (only in its `namespaces`, when it lists some); `null`: not configured, both refused.
   * Absent: configured, every namespace.
   */
  readonly crd?: { readonly namespaces: readonly string[] } | null;
  /** Our GatewayClasses' status is not written (another controller owns it). */
  readonly disableGatewayClassStatus?: boolean;
  /** The watched namespaces (empty or absent: all): a Selector admits only these. */
  readonly namespaces?: readonly string[];
  /** The entry points with `http.tls` (an HTTP listener does not go to them, as in Traefik). */
  readonly httpTlsEntryPoints?: readonly string[];
  /** Entry point name → the port of its address (a listener goes to the entry point of its port). */
  readonly entryPointPorts: Readonly<Record<string, number>>;
}

/**
 * The Gateway API features Traefik v3.8 claims in its GatewayClasses' `status.supportedFeatures`
 * (pkg/provider/kubernetes/gateway/features.go SupportedFeatures: the Gateway, HTTPRoute,
 * ReferenceGrant, BackendTLSPolicy, GRPCRoute and TLSRoute core features, its extended ones, and
 * TCPRoute; Gateway API v1.6.1 names), sorted by name as Traefik writes them.
 */
export const SUPPORTED_FEATURES: readonly string[] = [
  'BackendTLSPolicy',
  'BackendTLSPolicySANValidation',
  'GRPCRoute',
  'GRPCRouteNamedRouteRule',
  'Gateway',
  'GatewayHTTPListenerIsolation',
  'GatewayHTTPSListenerDetectMisdirectedRequests',
  'GatewayPort8080',
  'HTTPRoute',
  'HTTPRoute303RedirectStatusCode',
  'HTTPRoute307RedirectStatusCode',
  'HTTPRoute308RedirectStatusCode',
  'HTTPRouteBackendProtocolH2C',
  'HTTPRouteBackendProtocolWebSocket',
  'HTTPRouteBackendRequestHeaderModification',
  'HTTPRouteCORS',
  'HTTPRouteDestinationPortMatching',
  'HTTPRouteHostRewrite',
  'HTTPRouteMethodMatching',
  'HTTPRouteNamedRouteRule',
  'HTTPRouteParentRefPort',
  'HTTPRoutePathRedirect',
  'HTTPRoutePathRewrite',
  'HTTPRoutePortRedirect',
  'HTTPRouteQueryParamMatching',
  'HTTPRouteResponseHeaderModification',
  'HTTPRouteSchemeRedirect',
  'ReferenceGrant',
  'TCPRoute',
  'TLSRoute',
  'TLSRouteModeMixed',
  'TLSRouteModeTerminate',
];

interface Rule {
  readonly matches?: readonly (Match & GrpcMatch)[];
  readonly backendRefs?: readonly BackendRef[];
  readonly filters?: readonly HttpRouteFilter[];
}

/**
 * Gateway API (`gateway.networking.k8s.io/v1`) Gateways and HTTPRoutes as Traefik's gateway
 * provider builds them (pkg/provider/kubernetes/gateway):
 *
 * - a GatewayClass is ours when its `controllerName` is `traefik.io/gateway-controller`; each
 *   listener (HTTP or HTTPS) of its Gateways goes to the entry point whose address has the
 *   listener's port; an HTTPS listener's `certificateRefs` (TLS Secrets, in another namespace only
 *   with a ReferenceGrant) join `tls.certificates`;
 * - an HTTPRoute attaches through `parentRefs` (a Gateway, optionally one listener by
 *   `sectionName` or `port`) when the listener allows its namespace (`Same` by default, or `All`)
 *   and their hostnames intersect;
 * - each match of each rule is a router `<kind>-<ns>-<name>-gw-<gwns>-<gw>-ep-<ep>-<rule>-<sha256
 *   of its rule, 20 hex digits>` (Traefik's makeRouterName; gateway-match.ts), its filters middlewares
 *   (gateway-filters.ts), its backendRefs a weighted service `<router>-wrr` over the load
 *   balancers `<router>-svc-<ns>-<service>-<backendRef index>` (traefik/traefik#13367; a
 *   BackendTLSPolicy's serversTransport of the same name) (weight 0: no traffic; another namespace only with a
 *   ReferenceGrant there, reference-grants.ts);
 * - ListenerSets (gateway-listenersets.ts) add listeners to the Gateways that allow them, and a
 *   parent router per listener hostname isolates the listeners of an entry point
 *   (gateway-isolation.ts), as Traefik v3.8;
 * - the statuses Traefik writes: GatewayClass Accepted (reason Handled); Gateway Accepted and Programmed, each
 *   listener's attachedRoutes and Accepted/ResolvedRefs/Programmed; each HTTPRoute parent's
 *   Accepted and ResolvedRefs (RefNotPermitted, BackendNotFound, InvalidKind).
 */
export function gatewayConfig(
  objs: GatewayObjects,
  opts: GatewayOptions,
): { data: Obj; sourceOf: SourceOf; issues: ConfigIssue[]; statuses: StatusUpdate[] } {
  // Cross-namespace references are decided by ReferenceGrants, below.
  const b = new KubeBuild(objs, { ...opts, allowCrossNamespace: true });
  const grants = new ReferenceGrants(objs.referenceGrants ?? []);
  const statuses: StatusUpdate[] = [];
  const classes = new Set<string>();
  const onlyClasses = opts.gatewayClasses ?? [];
  for (const c of objs.gatewayClasses) {
    if ((c.spec as { controllerName?: string } | undefined)?.controllerName !== GATEWAY_CONTROLLER) continue;
    // Traefik's gatewayClasses option: the other classes are not handled.
    if (onlyClasses.length > 0 && !onlyClasses.includes(c.metadata.name)) continue;
    classes.add(c.metadata.name);
    if (opts.disableGatewayClassStatus === true) continue;
    // Traefik's loadConfigurationFromGateways: reason Handled (not the API's Accepted), in place
    // of the Accepted condition only (upsertGatewayClassConditionAccepted keeps the others), and
    // v3.8's SupportedFeatures (features.go), sorted by name.
    const accepted = condition(c, 'Accepted', true, 'Handled', 'Handled by Traefik controller');
    const current = (c as { status?: { conditions?: readonly Condition[] } }).status?.conditions ?? [];
    statuses.push({
      kind: 'GatewayClass',
      object: c,
      path: objectPath(c, 'gatewayclasses', true),
      status: {
        conditions: [...current.filter((x) => x.type !== 'Accepted'), accepted],
        supportedFeatures: SUPPORTED_FEATURES.map((name) => ({ name })),
      },
    });
  }
  // Traefik's gateways option (managesGateway): only the Gateways it names.
  const only = opts.gateways ?? [];
  const ours = objs.gateways.filter((gw) => {
    const cls = (gw.spec as { gatewayClassName?: string } | undefined)?.gatewayClassName;
    if (cls === undefined || !classes.has(cls)) return false;
    return only.length === 0 || only.includes(`${gw.metadata.namespace ?? 'default'}/${gw.metadata.name}`);
  });
  const listeners: Attach[] = [];
  const scope = { objects: objs.namespaces ?? [], watched: opts.namespaces ?? [] };
  const httpTls = new Set(opts.httpTlsEntryPoints ?? []);
  const configMaps = new Map(
    (objs.configMaps ?? []).map((c) => [`${c.metadata.namespace ?? 'default'}/${c.metadata.name}`, c]),
  );
  // The Gateways with a listener in AllowInsecureFallback (InsecureFrontendValidationMode).
  const insecure = new Set<KubeObject>();
  // Traefik v3.8's loadListenerSetListeners: the ListenerSets naming each Gateway (oldest first),
  // allowed by its `allowedListeners` or not (those get a status only), add their listeners after
  // its own, claiming protocol, hostname and port from the same set.
  const sets = new Map<KubeObject, { set: KubeObject; allowed: boolean }[]>();
  const setNames = new Set<string>();
  for (const gw of ours) {
    const allocated = new Set<string>();
    const own = gatewayListeners(b, grants, gw, opts.entryPointPorts, scope, httpTls, allocated);
    const mine = listenerSetsOf(objs.listenerSets ?? [], gw).map((set) => ({
      set,
      allowed: listenerSetAllowed(gw, set, scope),
    }));
    sets.set(gw, mine);
    for (const { set, allowed } of mine) {
      setNames.add(`${set.metadata.namespace ?? 'default'}/${set.metadata.name}`);
      if (allowed)
        own.push(...gatewayListeners(b, grants, gw, opts.entryPointPorts, scope, httpTls, allocated, set));
    }
    // The Gateway's client certificate validation applies to the listeners of its ports, its
    // ListenerSets' included (they serve on the Gateway's ports).
    const front = frontendTls(b, grants, gw, own, configMaps);
    if (front.insecure) insecure.add(gw);
    listeners.push(...front.listeners);
  }
  const addresses =
    opts.statusAddress === undefined || ours.length === 0 ? [] : statusAddresses(b, opts.statusAddress);

  // Traefik v3.8 reads BackendTLSPolicies (v1, and ConfigMaps) whatever experimentalChannel says.
  const policies = new BackendTLSPolicies(b, objs.backendTLSPolicies ?? [], objs.configMaps ?? []);
  const cross = opts.crossProviderNamespaces;
  const crd = opts.crd === undefined ? { namespaces: [] } : opts.crd;
  // Traefik v3.8's buildListenerRouters: the isolation of a listener depends on the other
  // listeners of its entry point (gateway-isolation.ts).
  const parentRouters = listenerRouters(b, listeners);
  // Traefik v3.8's loadHTTPAndGRPCRoutes: HTTPRoutes and GRPCRoutes together, oldest first
  // (creationTimestamp, then namespace, then name: compareRoutes), sharing what is attached to
  // each listener (HostnameConflict) and which router serves each rule (servedRules).
  const httpAndGrpc: [KubeObject, RouteKind][] = [
    ...objs.httpRoutes.map((r): [KubeObject, RouteKind] => [r, 'HTTPRoute']),
    ...(objs.grpcRoutes ?? []).map((r): [KubeObject, RouteKind] => [r, 'GRPCRoute']),
  ];
  httpAndGrpc.sort(([x], [y]) => compareRoutes(x, y));
  const shared: SharedRoutes = { attached: new Map(), served: new Map() };
  for (const [route, kind] of httpAndGrpc)
    routeConfig(b, grants, route, listeners, statuses, kind, policies, cross, crd, setNames, shared);
  // Traefik v3.8 (loadConfigurationFromGateways) reads TLSRoutes then TCPRoutes, both `v1`,
  // without experimentalChannel.
  for (const route of objs.tlsRoutes ?? [])
    l4RouteConfig(b, grants, route, listeners, statuses, 'TLSRoute', cross, setNames, policies);
  denyUnknownHost(b);
  for (const route of objs.tcpRoutes ?? [])
    l4RouteConfig(b, grants, route, listeners, statuses, 'TCPRoute', cross, setNames);
  dropChildlessListenerRouters(b, parentRouters);

  statuses.push(...policies.statuses());
  for (const gw of ours) {
    const all = listeners.filter((l) => l.gw === gw);
    // Traefik v3.8: the Gateway's status reports its own listeners, a ListenerSet's its own.
    const mine = all.filter((l) => l.set === undefined);
    // A Gateway is accepted as soon as one listener serving it is valid, whoever declares it.
    const accepted = all.length === 0 || all.some((l) => l.attached);
    let attachedListenerSets = 0;
    for (const { set, allowed } of sets.get(gw) ?? []) {
      const st = listenerSetStatus(set, allowed, all, accepted);
      if (st.accepted) attachedListenerSets++;
      statuses.push({
        kind: 'ListenerSet',
        object: set,
        path: objectPath(set, 'listenersets'),
        status: st.status,
      });
    }
    statuses.push({
      kind: 'Gateway',
      object: gw,
      path: objectPath(gw, 'gateways'),
      status: {
        conditions: gatewayConditions(gw, mine, accepted, insecure.has(gw)),
        listeners: mine.map((l) => l.status),
        // Traefik v3.8's makeGatewayStatus: the ListenerSets accepted (always written).
        attachedListenerSets,
        ...(addresses.length > 0 ? { addresses } : {}),
      },
    });
  }
  return { ...b.result(), statuses };
}

const DENY_UNKNOWN_HOST = 'deny-unknown-host';

/**
 * Traefik's loadTLSRoutes (pkg/provider/kubernetes/gateway/tlsroute.go): once a TLSRoute has a
 * router, a catch-all TCP router `deny-unknown-host` (no `entryPoints`: the default ones, priority 1, TLS
 * terminated) takes the TLS connections no route's SNI matches, but for the HTTPS clients (ALPN
 * `h2` or `http/1.1`), to a load balancer without servers: they are closed. Its rule has no
 * `ruleSyntax`, as Traefik writes it.
 */
function denyUnknownHost(b: KubeBuild): void {
  if (Object.keys(b.tcp.routers).length === 0) return;
  b.tcp.routers[DENY_UNKNOWN_HOST] = {
    rule: 'HostSNI(`*`) && !ALPN(`h2`) && !ALPN(`http/1.1`)',
    priority: 1,
    service: DENY_UNKNOWN_HOST,
    tls: {},
  };
  b.source('tcp/routers', DENY_UNKNOWN_HOST, 'the TLSRoutes');
  b.tcp.services[DENY_UNKNOWN_HOST] = { loadBalancer: { servers: [] } };
  b.source('tcp/services', DENY_UNKNOWN_HOST, 'the TLSRoutes');
}

/**
 * A Gateway's conditions as Traefik's makeGatewayStatus (pkg/provider/kubernetes/gateway/
 * kubernetes.go): an `infrastructure.parametersRef` (Traefik supports none) is Accepted=False,
 * InvalidParameters, and nothing more; listeners that are all invalid are Accepted=False and
 * Programmed=False; some invalid leave the Gateway Accepted and Programmed, the reason of
 * Accepted `ListenersNotValid`. The listeners keep being routed either way.
 */
function gatewayConditions(
  gw: KubeObject,
  mine: readonly Attach[],
  accepted: boolean,
  insecure: boolean,
): Condition[] {
  const all = gatewayConditionsOf(gw, mine, accepted);
  // Gateway API v1.5 (GEP-91): a listener that lets clients without a valid certificate through.
  if (insecure)
    all.push(
      condition(
        gw,
        'InsecureFrontendValidationMode',
        true,
        'ConfigurationChanged',
        'Client certificate validation is in AllowInsecureFallback mode on at least one listener',
      ),
    );
  return all;
}

function gatewayConditionsOf(gw: KubeObject, mine: readonly Attach[], accepted: boolean): Condition[] {
  const infra = (gw.spec as { infrastructure?: { parametersRef?: unknown } | null } | undefined)
    ?.infrastructure;
  if (infra?.parametersRef !== undefined && infra.parametersRef !== null)
    return [
      condition(
        gw,
        'Accepted',
        false,
        'InvalidParameters',
        'Gateway infrastructure parametersRef is not supported',
      ),
    ];
  const invalid = mine.filter((l) => !l.attached).length;
  if (!accepted)
    return [
      condition(gw, 'Accepted', false, 'ListenersNotValid', 'At least one Listener must be valid'),
      condition(gw, 'Programmed', false, 'Invalid', 'No Listener is valid'),
    ];
  const some = invalid > 0 ? ', but some Listeners are not valid' : '';
  return [
    condition(
      gw,
      'Accepted',
      true,
      some === '' ? 'Accepted' : 'ListenersNotValid',
      `Gateway successfully scheduled${some}`,
    ),
    condition(gw, 'Programmed', true, 'Programmed', `Gateway successfully programmed${some}`),
  ];
}

/**
 * The provider's update from a build: validated, less the "no servers" warning of the TCP
 * routes' refused backendRefs and of `deny-unknown-host`.
 */
export function gatewayUpdate(
  built: ReturnType<typeof gatewayConfig>,
  provider: string,
  validation: ProviderValidation,
  extraIssues: readonly ConfigIssue[] = [],
): ProviderUpdate {
  const u = updateFromData(built.data, provider, built.sourceOf, validation, [
    ...built.issues,
    ...extraIssues,
  ]);
  // A TCP route's refused backendRef is Traefik's empty `-err-lb` (its ResolvedRefs says why),
  // and `deny-unknown-host` has no server on purpose.
  const quiet = (i: ConfigIssue): boolean =>
    i.severity === 'warning' &&
    i.path[0] === 'tcp' &&
    i.path[1] === 'services' &&
    i.path[4] === 'servers' &&
    (String(i.path[2]).endsWith('-err-lb') || String(i.path[2]).split('@')[0] === DENY_UNKNOWN_HOST);
  return { ...u, issues: u.issues.filter((i) => !quiet(i)) };
}

type RouteKind = 'HTTPRoute' | 'GRPCRoute';

const cmpStr = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/**
 * Traefik v3.8's compareRoutes: oldest creationTimestamp first (a missing one is Go's zero time,
 * the oldest; RFC 3339 in UTC, as the API server writes it, orders as text), then namespace, then
 * name.
 */
function compareRoutes(x: KubeObject, y: KubeObject): number {
  const ts = (o: KubeObject): string =>
    (o.metadata as { creationTimestamp?: string }).creationTimestamp ?? '';
  return (
    cmpStr(ts(x), ts(y)) ||
    cmpStr(x.metadata.namespace ?? 'default', y.metadata.namespace ?? 'default') ||
    cmpStr(x.metadata.name, y.metadata.name)
  );
}

/**
 * What the HTTPRoutes and GRPCRoutes of one build share, as Traefik v3.8's kubernetes.go:
 * `attached` (attachedRoutes): per listener (`<gateway ns>/<gateway>/<listener>`, its
 * listenerRef), the kind of the route that attached each hostname (`` for a route without one,
 * which stands for all); `served` (servedRules): per scope (the router's parents) and rule, the
 * router that serves it.
 */
interface SharedRoutes {
  readonly attached: Map<string, Map<string, RouteKind>>;
  readonly served: Map<string, string>;
}

/** Traefik's findMatchingHostname: equal, or `h1` a wildcard `*.x` over `h2`. */
function hostnameMatches(h1: string, h2: string): boolean {
  if (h1 === h2) return true;
  return h1.startsWith('*.') && h2.endsWith(h1.slice(1));
}

/** Traefik v3.8's attachedRoutes.Conflicts: a hostname attached to the listener by the other kind. */
function conflicts(
  attached: ReadonlyMap<string, RouteKind> | undefined,
  kind: RouteKind,
  hosts: readonly string[],
): boolean {
  if (attached === undefined) return false;
  for (const [h, k] of attached) {
    if (k === kind) continue;
    // The empty hostname stands for all of them.
    if (h === '' || hosts.length === 0) return true;
    for (const x of hosts) if (hostnameMatches(h, x) || hostnameMatches(x, h)) return true;
  }
  return false;
}

/**
 * An HTTPRoute or a GRPCRoute (Traefik's loadHTTPRoutes / loadGRPCRoutes, alike but for the
 * matches, the backends and the filters allowed): its parents, routers and status.
 */
function routeConfig(
  b: KubeBuild,
  grants: ReferenceGrants,
  route: KubeObject,
  listeners: readonly Attach[],
  statuses: StatusUpdate[],
  kind: RouteKind,
  policies: BackendTLSPolicies,
  cross: readonly string[] | undefined,
  crd: CrdRegistry,
  sets: ReadonlySet<string>,
  shared: SharedRoutes,
): void {
  const ns = route.metadata.namespace ?? 'default';
  const where = `${kind.toLowerCase()} ${ns}/${route.metadata.name}`;
  const spec = (route.spec ?? {}) as {
    parentRefs?: readonly ParentRef[];
    hostnames?: readonly string[];
    rules?: readonly Rule[];
  };
  const rules = spec.rules ?? [];
  let ruleBackends: Backends[] | undefined;
  const parents: Obj[] = [];
  for (const parent of spec.parentRefs ?? []) {
    const ofGateway = parentListeners(parent, ns, listeners);
    // A parent that is not one of our Gateways (or their ListenerSets) is another controller's.
    if (ofGateway.length === 0 && !isListenerSetParent(parent, ns, sets)) continue;
    const gwNs = parent.namespace ?? ns;
    let accepted = condition(
      route,
      'Accepted',
      false,
      'NoMatchingParent',
      'No listener matches the parentRef',
    );
    let resolved = condition(route, 'ResolvedRefs', true, 'ResolvedRefs', 'No error found');
    // Traefik v3.8 (matchingGatewayListenersForParentRef keeps every listener of the parent, "so
    // that ResolvedRefs is reported even for parentRefs that match no listener"; loadHTTPRoute
    // runs for each of them, attached or not): the backends decide ResolvedRefs, whether the
    // route is accepted there or not. Of several failing routers, loadHTTPRoute / loadGRPCRoute
    // keep the last one's condition (and loadWRRService its last failing backendRef's).
    if (ofGateway.length > 0) {
      // A rule whose own filters cannot load routes to `<router>-err-wrr` without loading its
      // backendRefs (loadHTTPRoute / loadGRPCRoute): they count for nothing, ResolvedRefs included.
      ruleBackends ??= rules.map((r, ri) =>
        ruleFiltersFail(kind, r, ns, crd)
          ? NO_BACKENDS
          : kind === 'GRPCRoute'
            ? grpcBackends(b, grants, r, ns, `${where} rule ${ri}`, policies)
            : backends(b, grants, r, ns, `${where} rule ${ri}`, policies, cross, crd),
      );
      const failure = ruleBackends.findLast((x) => x.failure !== undefined)?.failure;
      if (failure !== undefined)
        resolved = condition(route, 'ResolvedRefs', false, failure.reason, failure.message);
      // Its loadHTTPServers / loadGRPCServers record the BackendTLSPolicies' ancestors for each
      // of those listeners too, the route attached there or not.
      for (const a of ofGateway)
        for (const rb of ruleBackends) policies.record(rb.uses, a.gw.metadata.name, a.listener.name);
    }
    const matching = ofGateway.filter(
      (a) =>
        (parent.sectionName === undefined || a.listener.name === parent.sectionName) &&
        (parent.port === undefined || a.listener.port === parent.port),
    );
    // Traefik's updateRouteConditionAccepted: once a listener accepted the route, another that
    // does not (a TCP listener of the same Gateway…) leaves it accepted.
    const refuse = (reason: string, message: string): void => {
      if (accepted.status !== 'True') accepted = condition(route, 'Accepted', false, reason, message);
    };
    for (const a of matching) {
      // Only listeners whose kinds include the route's (HTTP and HTTPS ones) take it.
      if (!a.kinds.includes(kind) || !allowsNamespace(a, ns)) {
        refuse('NotAllowedByListeners', 'Not allowed by the listener');
        continue;
      }
      const hosts = hostnames(spec.hostnames ?? [], a.listener.hostname);
      if (hosts === undefined) {
        refuse('NoMatchingListenerHostname', 'No matching hostname');
        continue;
      }
      // Traefik v3.8 (traefik/traefik#13421, the Gateway API's GRPCRoute cross-serving rule): an
      // HTTPRoute and a GRPCRoute whose hostnames intersect on one listener: the first of them
      // (compareRoutes) is accepted, the other refused there, `HostnameConflict`.
      const listenerKey = `${a.gw.metadata.namespace ?? 'default'}/${a.gw.metadata.name}/${a.listener.name}`;
      if (conflicts(shared.attached.get(listenerKey), kind, hosts)) {
        refuse(
          'HostnameConflict',
          `A route of another kind is attached to listener ${a.listener.name} with an intersecting hostname`,
        );
        continue;
      }
      let attachedHere = shared.attached.get(listenerKey);
      if (attachedHere === undefined) {
        attachedHere = new Map();
        shared.attached.set(listenerKey, attachedHere);
      }
      if (hosts.length === 0) attachedHere.set('', kind);
      for (const h of hosts) attachedHere.set(h, kind);
      a.status.attachedRoutes++;
      if (!a.attached || a.entryPoint === undefined) continue;
      accepted = condition(route, 'Accepted', true, 'Accepted', 'Route accepted');
      rules.forEach((rule, ri) => {
        routers(
          b,
          route,
          rule,
          ri,
          rules.length,
          ruleBackends![ri]!,
          hosts,
          { ...a, entryPoint: a.entryPoint! },
          gwNs,
          where,
          kind,
          crd,
          shared.served,
        );
      });
    }
    parents.push({
      parentRef: parent, // as the route wrote it (Traefik's)
      controllerName: GATEWAY_CONTROLLER,
      // Traefik v3.8's loadHTTPRoutes: a parent without listeners (a ListenerSet its Gateway does
      // not allow) loads nothing, and its status has no ResolvedRefs condition.
      conditions: ofGateway.length > 0 ? [accepted, resolved] : [accepted],
    });
  }
  if (parents.length === 0) return;
  // Traefik's client: ours, then the parents other controllers wrote (routeParents).
  statuses.push({
    kind,
    object: route,
    path: objectPath(route, kind === 'GRPCRoute' ? 'grpcroutes' : 'httproutes'),
    status: { parents: routeParents(route, parents) },
  });
}

/** Traefik's loadGRPCMiddlewares: a GRPCRoute takes RequestHeaderModifier and ExtensionRef only. */
function grpcUnsupportedFilter(kind: RouteKind, rule: Rule): HttpRouteFilter | undefined {
  return kind === 'GRPCRoute'
    ? (rule.filters ?? []).find((f) => f.type !== 'RequestHeaderModifier' && f.type !== 'ExtensionRef')
    : undefined;
}

/** Whether a rule's own filters cannot load (its routers then answer from `<router>-err-wrr`). */
function ruleFiltersFail(kind: RouteKind, rule: Rule, ns: string, crd: CrdRegistry): boolean {
  return (
    grpcUnsupportedFilter(kind, rule) !== undefined || filterError(rule.filters ?? [], ns, crd) !== undefined
  );
}

/** The backends of a rule whose backendRefs are not loaded. */
const NO_BACKENDS: Backends = { children: [], templates: new Map(), failure: undefined, uses: [] };

function routers(
  b: KubeBuild,
  route: KubeObject,
  rule: Rule,
  ri: number,
  ruleCount: number,
  service: Backends,
  hosts: readonly string[],
  a: Attach & { entryPoint: string },
  gwNs: string,
  where: string,
  kind: RouteKind,
  crd: CrdRegistry,
  served: Map<string, string>,
): void {
  const ns = route.metadata.namespace ?? 'default';
  const matches = rule.matches === undefined || rule.matches.length === 0 ? [{}] : rule.matches;
  // Traefik's loadGRPCMiddlewares: a GRPCRoute takes RequestHeaderModifier and ExtensionRef only.
  const unsupported = grpcUnsupportedFilter(kind, rule);
  matches.forEach((m: Match & GrpcMatch, mi) => {
    const matched = kind === 'GRPCRoute' ? grpcMatchRule(m, hosts) : matchRule(m, hosts);
    if ('error' in matched) {
      b.error(where, `rule ${ri} match ${mi}: ${matched.error}`);
      return;
    }
    // Traefik's loadHTTPRoute: an earlier rule of the route wins over a later one of the same
    // priority (`priority + len(route.Spec.Rules) - ri`); its loadGRPCRoute adds nothing.
    const built =
      kind === 'GRPCRoute' ? matched : { rule: matched.rule, priority: matched.priority + ruleCount - ri };
    // Traefik's makeRouterName: two matches of one rule that build the same rule are one router;
    // two routes never are, whatever their names normalise to (gateway-match.ts).
    const name = gatewayRouterName(
      kind,
      built.rule,
      ns,
      route.metadata.name,
      gwNs,
      a.gw.metadata.name,
      a.entryPoint,
      ri,
      a.set,
    );
    // Traefik v3.8's servedRules: of the routers with one rule in one scope (the listener
    // routers they are children of), only the first built, the oldest route's (compareRoutes),
    // serves it; the others, which could never be reached before it, are not built.
    const scope = `${a.routerNames.join(',')}\u0000${built.rule}`;
    const servedBy = served.get(scope);
    if (servedBy !== undefined && servedBy !== name) {
      b.warn(where, `rule ${ri}: ${built.rule} is already served by router ${servedBy}`);
      return;
    }
    served.set(scope, name);
    // Traefik's loadHTTPRoute / loadGRPCRoute: filters it cannot load route to `<router>-err-wrr`,
    // one child `invalid-httproute-filter` answering 500 (`invalid-grpcroute-filter`, gRPC
    // Unavailable: our 503, gateway-grpc.ts), without the middlewares.
    const invalid = (error: string): void => {
      b.error(where, `rule ${ri}: ${error}`);
      const child =
        kind === 'GRPCRoute'
          ? { name: 'invalid-grpcroute-filter', weight: 1, status: GRPC_UNAVAILABLE }
          : { name: 'invalid-httproute-filter', weight: 1, status: 500 };
      b.services[`${name}-err-wrr`] = { weighted: { services: [child] } };
      b.source('http/services', `${name}-err-wrr`, where);
      b.routers[name] = routerOf(built, a, `${name}-err-wrr`, []);
      b.source('http/routers', name, where);
    };
    if (unsupported !== undefined) {
      invalid(`unsupported filter ${unsupported.type ?? ''}`);
      return;
    }
    const path = kind === 'GRPCRoute' ? undefined : m.path?.value;
    const chain = filterMiddlewares(b, rule.filters ?? [], name, ns, path, where, crd);
    if ('error' in chain) {
      invalid(chain.error);
      return;
    }
    // Traefik (traefik/traefik#13367): each router its own service per backendRef.
    const perRouter = routerChildren(name, service);
    const names = chain.names;
    // Traefik v3.7 (traefik/traefik#12544, named since #13367 by httproute.go loadService): a
    // backendRef's filters are its own service's middlewares, `<service>-<filter type>-<index>`
    // with `<service>` the router's `<router>-svc-<ns>-<name>-<backendRef index>`, run after the
    // router's when that backend is picked, with the route's namespace for an ExtensionRef
    // (v3.7.7, traefik/traefik#13462). Filters that cannot load refused the backend already
    // (backends(): its child answers 500, ResolvedRefs=False). A TraefikService backend has no
    // service of the provider's (the CRD provider's backend builder returns none): Traefik builds
    // its filters' middlewares and applies them nowhere (`if service != nil`), as here.
    // A rule whose one backendRef is internal goes to it without loadService (below): its
    // filters are not built.
    const internalOnly = (rule.backendRefs ?? []).length === 1 && isInternalService(rule.backendRefs![0]!);
    const active = kind === 'HTTPRoute' && !internalOnly ? (rule.backendRefs ?? []) : [];
    // backends() gives one child per backendRef (weight 0 included, as Traefik's loadService), in order.
    const children =
      active.length !== perRouter.children.length
        ? perRouter.children
        : perRouter.children.map((c, i) => {
            const ref = active[i]!;
            const filters = (ref.filters ?? []) as readonly HttpRouteFilter[];
            if (filters.length === 0 || c['status'] !== undefined) return c;
            const at = (rule.backendRefs ?? []).indexOf(ref);
            const svc = backendServiceName(name, {
              ns: ref.namespace ?? ns,
              name: ref.name ?? '',
              index: at,
            });
            const backendChain = filterMiddlewares(b, filters, svc, ns, path, where, crd);
            const own = perRouter.lbs.get(String(c['name']));
            if ('error' in backendChain || backendChain.names.length === 0 || own === undefined) return c;
            const had = (own.service['middlewares'] as string[] | undefined) ?? [];
            own.service = { ...own.service, middlewares: [...had, ...backendChain.names] };
            return c;
          });
    // Traefik's loadHTTPRoute: a rule whose one backendRef is an internal TraefikService
    // (`api@internal`…) has it as the router's own service, whatever its weight, the only place an
    // internal service may be used (a weighted child cannot be one); refused (crossProviderNamespaces,
    // rest@internal), it is the weighted service's refused share below.
    if (kind === 'HTTPRoute' && internalOnly) {
      const target = String(rule.backendRefs![0]!.name);
      if (service.failure === undefined) {
        b.routers[name] = routerOf(built, a, target, names);
        b.source('http/routers', name, where);
        return;
      }
      // Refused by crossProviderNamespaces: Traefik's router has no service, which its router
      // manager does not serve ("the service is missing on the router"). rest@internal stays a
      // refused share answering 500 (ours, GHSA-96qj-4jj5-wcjc).
      if (target !== 'rest@internal') return;
    }
    registerChildren(b, children, perRouter.lbs, where);
    // Traefik's loadService / loadGRPCService: the rule's `<router>-wrr` is a weighted service
    // even without children (no backendRefs), and with children of weight 0 only (which its wrr
    // Balancer's Add ignores): a request no redirect answers gets its 503 "no available server".
    b.services[`${name}-wrr`] = { weighted: { services: children } };
    b.source('http/services', `${name}-wrr`, where);
    b.routers[name] = routerOf(built, a, `${name}-wrr`, names);
    b.source('http/routers', name, where);
  });
}

function routerOf(
  built: { readonly rule: string; readonly priority: number },
  a: Attach & { entryPoint: string },
  service: string,
  middlewares: readonly string[],
): Obj {
  return {
    rule: built.rule,
    // Traefik's RuleSyntax "default" (the v3 syntax, which these rules are written in):
    // core.defaultRuleSyntax v2 does not apply to them (pkg/provider/kubernetes/gateway).
    ruleSyntax: 'default',
    priority: built.priority,
    // Traefik v3.8 (listener isolation): a child of its listener's routers, which hold the entry
    // point and the TLS configuration (gateway-isolation.ts).
    parentRefs: [...a.routerNames],
    service,
    ...(middlewares.length > 0 ? { middlewares: [...middlewares] } : {}),
  };
}
