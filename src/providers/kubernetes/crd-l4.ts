import { createHash } from 'node:crypto';
import { type ServiceL4, serverAddresses } from './crd-l4-servers.ts';
import { transportSecrets } from './crd-services.ts';
import type { KubeObject } from './informer.ts';
import { type KubeBuild, normalize, type Obj } from './kube-build.ts';

/** The CRD provider's layer-4 kinds. Absent lists are empty. */
export interface Layer4Objects {
  readonly ingressRouteTCPs?: readonly KubeObject[];
  readonly ingressRouteUDPs?: readonly KubeObject[];
  readonly middlewareTCPs?: readonly KubeObject[];
  readonly serversTransportTCPs?: readonly KubeObject[];
}

interface Ref {
  readonly name?: string;
  readonly namespace?: string;
}

interface TcpRoute {
  readonly match?: string;
  readonly priority?: number;
  readonly syntax?: string;
  readonly middlewares?: unknown;
  readonly services?: unknown;
}

interface UdpRoute {
  readonly services?: unknown;
}

interface IngressRouteTcpSpec {
  readonly entryPoints?: readonly string[];
  readonly routes?: unknown;
  readonly tls?: {
    readonly passthrough?: boolean;
    readonly secretName?: string;
    readonly options?: Ref;
    readonly certResolver?: string;
    readonly domains?: readonly unknown[];
  };
}

interface IngressRouteUdpSpec {
  readonly entryPoints?: readonly string[];
  readonly routes?: unknown;
}

/**
 * IngressRouteTCP, IngressRouteUDP, MiddlewareTCP and ServersTransportTCP objects into the `tcp`
 * and `udp` sections, as Traefik's CRD provider builds them (pkg/provider/kubernetes/crd:
 * kubernetes_tcp.go, kubernetes_udp.go, and kubernetes.go for the two object kinds):
 *
 * - a route of an IngressRouteTCP is a router *and* a service of the same name,
 *   `<ns>-<name>-<first 10 bytes of sha256(match) in hex>` (not normalized, unlike an
 *   IngressRoute's: `default-test.route-673acf455cb2dab0b43a`);
 *   one route service is that service's load balancer; several are a weighted service of
 *   children `<router>-<service>-<port>` (weight 1 unless given);
 * - a route of an IngressRouteUDP is a router and a service `<ns>-<name>-<index of the route>`
 *   (not normalized, as Traefik's), children named as for TCP;
 * - MiddlewareTCP and ServersTransportTCP objects are `normalize(<ns>-<name>)`.
 *
 * An object with an error is reported under its kind and name (`ingressroutetcp shop/db: …`) and
 * the route concerned is left out (as IngressRoutes are here; Traefik keeps the router and fails
 * it at run time when its service could not be built).
 */
export function crdLayer4(
  b: KubeBuild,
  objs: Layer4Objects,
  handled: (o: KubeObject) => boolean = () => true,
): void {
  for (const mw of objs.middlewareTCPs ?? []) {
    const ns = mw.metadata.namespace ?? 'default';
    const name = normalize(`${ns}-${mw.metadata.name}`);
    // The spec is the middleware as it is (ipAllowList, the older ipWhiteList, inFlightConn):
    // the dynamic configuration's schema checks it and names the object in its issues.
    b.tcp.middlewares[name] = { ...((mw.spec ?? {}) as Obj) };
    b.source('tcp/middlewares', name, `middlewaretcp ${ns}/${mw.metadata.name}`);
  }
  for (const st of objs.serversTransportTCPs ?? []) serversTransportTcp(b, st);
  for (const ir of objs.ingressRouteTCPs ?? []) if (handled(ir)) ingressRouteTcp(b, ir);
  for (const ir of objs.ingressRouteUDPs ?? []) if (handled(ir)) ingressRouteUdp(b, ir);
}

/**
 * A ServersTransportTCP: `dialTimeout`, `dialKeepAlive`, `terminationDelay`, `proxyProtocol`
 * as written; its `tls` with the secrets turned into PEM (`rootCAs`, `rootCAsSecrets`,
 * `certificatesSecrets`), `serverName`, `insecureSkipVerify`, `peerCertURI`, `spiffe`.
 */
function serversTransportTcp(b: KubeBuild, st: KubeObject): void {
  const ns = st.metadata.namespace ?? 'default';
  const where = `serverstransporttcp ${ns}/${st.metadata.name}`;
  const name = normalize(`${ns}-${st.metadata.name}`);
  const spec = { ...((st.spec ?? {}) as Obj) };
  const tls = spec['tls'] as Obj | undefined | null;
  if (tls !== undefined && tls !== null) {
    const secrets = transportSecrets(b, ns, tls, where);
    if (secrets === undefined) return;
    const out: Obj = { ...tls };
    delete out['rootCAs'];
    delete out['rootCAsSecrets'];
    delete out['certificatesSecrets'];
    if (secrets.rootCAs.length > 0) out['rootCAs'] = secrets.rootCAs;
    if (secrets.certificates.length > 0) out['certificates'] = secrets.certificates;
    spec['tls'] = out;
  }
  b.tcp.serversTransports[name] = spec;
  b.source('tcp/serverstransports', name, where);
}

function ingressRouteTcp(b: KubeBuild, ir: KubeObject): void {
  const ns = ir.metadata.namespace ?? 'default';
  const where = `ingressroutetcp ${ns}/${ir.metadata.name}`;
  const spec = (ir.spec ?? {}) as IngressRouteTcpSpec;
  // Traefik's getTLSTCP: the secret is read for termination only; with passthrough the
  // backend presents its own certificate and `secretName` is not used.
  const t = spec.tls;
  if (t !== undefined && t.passthrough !== true && t.secretName !== undefined && t.secretName !== '')
    b.addCertificate(ns, t.secretName, where);
  for (const route of b.list<TcpRoute>(spec.routes, where, 'routes') ?? []) {
    const match = route.match ?? '';
    if (match.trim() === '') {
      b.error(where, 'a route with an empty match');
      continue;
    }
    const hash = createHash('sha256').update(match).digest('hex').slice(0, 20);
    // Traefik's makeID(namespace, makeServiceKey(match, name)), not normalized: `test.route`'s
    // router is `default-test.route-<hash>` (kubernetes_tcp.go loadIngressRouteTCPConfiguration;
    // its IngressRoutes' keys are normalized, kubernetes_http.go).
    const name = `${ns}-${ir.metadata.name}-${hash}`;
    b.source('tcp/routers', name, where);
    let ok = true;
    const refs: string[] = [];
    const mws = b.list<Ref>(route.middlewares, where, 'middlewares');
    if (mws === undefined) ok = false;
    for (const m of mws ?? []) {
      const ref = reference(b, m, ns, where, 'middlewaretcp');
      if (ref === undefined) ok = false;
      else refs.push(ref);
    }
    const service = services(b, route.services, name, ns, where, match, 'tcp');
    if (service === undefined) ok = false;
    let tls: Obj | undefined;
    if (t !== undefined) {
      tls = {};
      if (t.passthrough === true) tls['passthrough'] = true;
      if (t.certResolver !== undefined && t.certResolver !== '') tls['certResolver'] = t.certResolver;
      if (t.domains !== undefined) tls['domains'] = t.domains;
      if (t.options?.name !== undefined && t.options.name !== '') {
        // Traefik resolves the TLSOption with the cross-namespace rules of any reference.
        const opt = reference(b, t.options, ns, where, 'tlsoption');
        if (opt === undefined) ok = false;
        else tls['options'] = opt;
      }
    }
    if (!ok) continue;
    const router: Obj = { rule: match, service: name };
    if (route.priority !== undefined && route.priority !== 0) router['priority'] = route.priority;
    // Traefik's `syntax` is the router's ruleSyntax (`v2` reads v2's matchers); a `v3` is kept
    // too, so that core.defaultRuleSyntax does not override it.
    if (route.syntax !== undefined && route.syntax !== '') router['ruleSyntax'] = route.syntax;
    if (spec.entryPoints !== undefined && spec.entryPoints.length > 0)
      router['entryPoints'] = spec.entryPoints;
    if (refs.length > 0) router['middlewares'] = refs;
    if (tls !== undefined) router['tls'] = tls;
    b.tcp.routers[name] = router;
  }
}

function ingressRouteUdp(b: KubeBuild, ir: KubeObject): void {
  const ns = ir.metadata.namespace ?? 'default';
  const where = `ingressrouteudp ${ns}/${ir.metadata.name}`;
  const spec = (ir.spec ?? {}) as IngressRouteUdpSpec;
  (b.list<UdpRoute>(spec.routes, where, 'routes') ?? []).forEach((route, i) => {
    // Traefik's key: `<ns>-<name>-<index>`, not normalized (kubernetes_udp.go).
    const name = `${ns}-${ir.metadata.name}-${i}`;
    b.source('udp/routers', name, where);
    if (services(b, route.services, name, ns, where, `#${i}`, 'udp') === undefined) return;
    const router: Obj = { service: name };
    if (spec.entryPoints !== undefined && spec.entryPoints.length > 0)
      router['entryPoints'] = spec.entryPoints;
    b.udp.routers[name] = router;
  });
}

/**
 * The service `name` of a route: its one service's load balancer, or a weighted service over
 * children `<name>-<service>-<port>` (Traefik's naming; the port as written, number or name).
 * Undefined when a service is unusable or there is none (reported).
 */
function services(
  b: KubeBuild,
  value: unknown,
  name: string,
  ns: string,
  where: string,
  route: string,
  proto: 'tcp' | 'udp',
): string | undefined {
  const list = b.list<ServiceL4>(value, where, 'services');
  if (list === undefined) return undefined;
  if (list.length === 0) return b.error(where, `route ${JSON.stringify(route)}: no service`);
  const section = proto === 'tcp' ? b.tcp.services : b.udp.services;
  const built = list.map((s) =>
    proto === 'tcp' ? tcpLoadBalancer(b, s, ns, where) : udpLoadBalancer(b, s, ns, where),
  );
  // Traefik's loadIngressRouteTCPConfiguration and loadIngressRouteUDPConfiguration log a service
  // that cannot be built ("Cannot create service") and go on with the route's other services:
  // the route is served by those that could. With none, its router names a service that does
  // not exist and is not served: here it is not built.
  if (built.every((x) => x === undefined)) return undefined;
  if (list.length === 1) {
    section[name] = built[0];
  } else {
    const children: Obj[] = [];
    list.forEach((s, i) => {
      if (built[i] === undefined) return;
      const child = `${name}-${s.name}-${s.port}`;
      section[child] = built[i];
      b.source(`${proto}/services`, child, where);
      children.push({ name: child, weight: s.weight ?? 1 });
    });
    section[name] = { weighted: { services: children } };
  }
  b.source(`${proto}/services`, name, where);
  return name;
}

/**
 * Traefik's createLoadBalancerServerTCP: the servers, `tls` on each when the route service
 * asks for it, `proxyProtocol` (version 2 unless given), `terminationDelay` only without a
 * serversTransport, and the serversTransport reference.
 */
function tcpLoadBalancer(b: KubeBuild, s: ServiceL4, ns: string, where: string): Obj | undefined {
  const addresses = serverAddresses(b, s, ns, where);
  if (addresses === undefined) return undefined;
  const lb: Obj = {
    servers: addresses.map((address) => (s.tls === true ? { address, tls: true } : { address })),
  };
  if (s.proxyProtocol !== undefined && s.proxyProtocol !== null) {
    const v = s.proxyProtocol.version;
    lb['proxyProtocol'] = { version: v === undefined || v === 0 ? 2 : v };
  }
  const st = s.serversTransport ?? '';
  if (st === '' && s.terminationDelay !== undefined) lb['terminationDelay'] = s.terminationDelay;
  if (st !== '') {
    const ref = transportKey(b, st, ns, where);
    if (ref === undefined) return undefined;
    lb['serversTransport'] = ref;
  }
  return { loadBalancer: lb };
}

function udpLoadBalancer(b: KubeBuild, s: ServiceL4, ns: string, where: string): Obj | undefined {
  const addresses = serverAddresses(b, s, ns, where);
  return addresses === undefined
    ? undefined
    : { loadBalancer: { servers: addresses.map((address) => ({ address })) } };
}

/**
 * Traefik's makeTCPServersTransportKey: `<route namespace>-<name>`; a name with `@` as it is,
 * except `…@kubernetescrd` while allowCrossNamespace is off (it could name another namespace).
 */
function transportKey(b: KubeBuild, name: string, ns: string, where: string): string | undefined {
  if (name.includes('@')) {
    // GHSA-42cj-m3vj-89wv: crossProviderNamespaces applies here too (the route's namespace).
    if (b.crossProvider(where, `serversTransport ${name}`, name, ns)) return undefined;
    return name;
  }
  return normalize(`${ns}-${name}`);
}

/** A middleware or TLSOption reference: `<ns>-<name>`, with the cross-namespace rule; `x@p` as it is. */
function reference(b: KubeBuild, r: Ref, ns: string, where: string, kind: string): string | undefined {
  const name = r.name ?? '';
  if (name === '') return b.error(where, `a ${kind} reference without a name`);
  if (name.includes('@')) {
    // Traefik's resolveReference: `…@kubernetescrd` needs allowCrossNamespace; another
    // provider's name, a namespace crossProviderNamespaces allows.
    if (b.crossProvider(where, `${kind} ${name}`, name, ns)) return undefined;
    return name;
  }
  const rns = r.namespace !== undefined && r.namespace !== '' ? r.namespace : ns;
  if (b.crossNamespace(where, `${kind} ${rns}/${name}`, rns, ns)) return undefined;
  return normalize(`${rns}-${name}`);
}
