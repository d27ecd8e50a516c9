import type { KubeObject } from './informer.ts';
import { type KubeBuild, normalize, type Obj, type ServiceRef } from './kube-build.ts';

/** A service as a route or a TraefikService names it. */
export interface RouteService {
  readonly name?: string;
  readonly namespace?: string;
  readonly kind?: string;
  readonly port?: number | string;
  readonly scheme?: string;
  readonly weight?: number;
  readonly passHostHeader?: boolean;
  readonly serversTransport?: string;
  readonly sticky?: unknown;
  readonly strategy?: string;
  readonly responseForwarding?: unknown;
  readonly nativeLB?: boolean;
  readonly nodePortLB?: boolean;
  readonly healthCheck?: unknown;
  readonly passiveHealthCheck?: unknown;
  /** Traefik v3.7's LoadBalancerSpec.Middlewares: Middleware references run when it is chosen. */
  readonly middlewares?: readonly MiddlewareRef[];
}

/** A reference to a Middleware resource (Traefik's MiddlewareRef). */
export interface MiddlewareRef {
  readonly name?: string;
  readonly namespace?: string;
}

/**
 * Middleware references as the configuration names them, Traefik's makeMiddlewareKeys
 * (resolveReference), for a route's middlewares and for a service reference's (Traefik v3.7):
 * `<ns>-<name>@kubernetescrd` could name any namespace, so it is refused unless
 * allowCrossNamespace; another provider's `x@p` needs a namespace crossProviderNamespaces allows
 * (the referring resource's, `ownNs`), and ignores `namespace`; a plain name in another
 * namespace needs allowCrossNamespace. Undefined when one is refused (reported).
 */
export function middlewareKeys(
  b: KubeBuild,
  refs: readonly MiddlewareRef[],
  ownNs: string,
  where: string,
): string[] | undefined {
  const out: string[] = [];
  let ok = true;
  for (const m of refs) {
    const mname = m.name ?? '';
    if (b.crossProvider(where, `middleware ${mname}`, mname, ownNs)) {
      ok = false;
      continue;
    }
    if (mname.includes('@') && m.namespace !== undefined && m.namespace !== '')
      b.warn(
        where,
        `middleware ${mname}: namespace ${JSON.stringify(m.namespace)} is ignored in cross-provider context`,
      );
    const mns = m.namespace ?? ownNs;
    if (!mname.includes('@') && b.crossNamespace(where, `middleware ${mns}/${mname}`, mns, ownNs)) ok = false;
    out.push(b.ref(mname, mns));
  }
  return ok ? out : undefined;
}

/**
 * A service reference's middlewares (Traefik v3.7's LoadBalancerSpec.Middlewares) as the
 * `middlewares` of the reference it becomes: `{}` when it has none, undefined when refused.
 */
export function refMiddlewares(
  b: KubeBuild,
  r: RouteService,
  ownNs: string,
  where: string,
  key = 'middlewares',
): Obj | undefined {
  if (r.middlewares === undefined || r.middlewares.length === 0) return {};
  const keys = middlewareKeys(b, r.middlewares, ownNs, where);
  return keys === undefined ? undefined : { [key]: keys };
}

/** The load-balancer strategies of Traefik's dynamic.BalancerStrategy. */
const STRATEGIES = new Set(['wrr', 'p2c', 'hrw', 'leasttime']);

type Ref = RouteService & { readonly percent?: number };

/**
 * TraefikService objects (`weighted`, `mirroring`, `highestRandomWeight`, `failover`) and
 * ServersTransport objects, named `<ns>-<name>` (Traefik's kubernetes_http.go and
 * kubernetes.go). A child of kind Service becomes its load balancer; of kind TraefikService, a
 * reference. A ServersTransport's secrets become PEM text: `rootCAs` (`{secret}` or
 * `{configMap}` entries, or the older `rootCAsSecrets`) and `certificatesSecrets`.
 */
export function crdServices(
  b: KubeBuild,
  traefikServices: readonly KubeObject[],
  transports: readonly KubeObject[],
): void {
  for (const ts of traefikServices) {
    const ns = ts.metadata.namespace ?? 'default';
    const where = `traefikservice ${ns}/${ts.metadata.name}`;
    const name = normalize(`${ns}-${ts.metadata.name}`);
    const spec = (ts.spec ?? {}) as Record<string, Obj | undefined>;
    const kinds = ['weighted', 'mirroring', 'highestRandomWeight', 'failover'].filter(
      (k) => spec[k] !== undefined,
    );
    if (kinds.length !== 1) {
      b.error(
        where,
        `needs exactly one of weighted, mirroring, highestRandomWeight, failover (has ${kinds.length})`,
      );
      continue;
    }
    // Traefik v3.7 has middlewares on a TraefikService's references (LoadBalancerSpec), not on
    // the TraefikService itself: never dropped silently (an auth step would go).
    if (spec['middlewares'] !== undefined) {
      b.error(
        where,
        '`middlewares` is not a TraefikService field: Traefik v3.7 reads them on each service reference (a weighted child, the mirroring service, failover service and fallback)',
      );
      continue;
    }
    const kind = kinds[0]!;
    const body = spec[kind]!;
    const child = (r: Ref | undefined): string | undefined =>
      r === undefined ? b.error(where, `${kind}: a service is missing`) : routeService(b, r, ns, where);
    let ok = true;
    const out: Obj = {};
    if (kind === 'weighted' || kind === 'highestRandomWeight') {
      const list: Obj[] = [];
      for (const r of (body['services'] ?? []) as Ref[]) {
        const n = child(r);
        const mws = refMiddlewares(b, r, ns, where);
        if (n === undefined || mws === undefined) ok = false;
        else list.push({ name: n, weight: r.weight ?? 1, ...mws });
      }
      out['services'] = list;
      if (body['sticky'] !== undefined) out['sticky'] = body['sticky'];
    } else if (kind === 'mirroring') {
      const main = child(body as Ref);
      const mainMws = refMiddlewares(b, body as Ref, ns, where);
      if (main === undefined || mainMws === undefined) ok = false;
      out['service'] = main;
      Object.assign(out, mainMws);
      const mirrors: Obj[] = [];
      for (const m of (body['mirrors'] ?? []) as Ref[]) {
        const n = child(m);
        // A mirror's middlewares (Traefik v3.7 MirrorService.Middlewares) run on its copies.
        const mws = refMiddlewares(b, m, ns, where);
        if (n === undefined || mws === undefined) ok = false;
        else mirrors.push({ name: n, ...(m.percent !== undefined ? { percent: m.percent } : {}), ...mws });
      }
      out['mirrors'] = mirrors;
      for (const k of ['mirrorBody', 'maxBodySize']) if (body[k] !== undefined) out[k] = body[k];
    } else {
      // Traefik v3.7's TraefikService failover (PR #12733): `service` and `fallback` are service
      // references (LoadBalancerSpec) like a weighted child's, a Kubernetes Service unless `kind`
      // says TraefikService; `errors` (status, maxRequestBodyBytes) and `healthCheck` are the
      // dynamic configuration's, as written.
      const mainRef = body['service'] as Ref | undefined;
      const fbRef = body['fallback'] as Ref | undefined;
      const main = child(mainRef);
      const fb = child(fbRef);
      const mainMws = mainRef === undefined ? {} : refMiddlewares(b, mainRef, ns, where);
      const fbMws = fbRef === undefined ? {} : refMiddlewares(b, fbRef, ns, where, 'fallbackMiddlewares');
      if (main === undefined || fb === undefined || mainMws === undefined || fbMws === undefined) ok = false;
      out['service'] = main;
      out['fallback'] = fb;
      Object.assign(out, mainMws, fbMws);
      for (const k of ['errors', 'healthCheck']) if (body[k] !== undefined) out[k] = body[k];
    }
    if (!ok) continue;
    b.services[name] = { [kind]: out };
    b.source('http/services', name, where);
  }

  for (const st of transports) {
    const ns = st.metadata.namespace ?? 'default';
    const where = `serverstransport ${ns}/${st.metadata.name}`;
    const name = normalize(`${ns}-${st.metadata.name}`);
    const spec = { ...((st.spec ?? {}) as Obj) };
    const secrets = transportSecrets(b, ns, spec, where);
    delete spec['rootCAs'];
    delete spec['rootCAsSecrets'];
    delete spec['certificatesSecrets'];
    if (secrets === undefined) continue;
    if (secrets.rootCAs.length > 0) spec['rootCAs'] = secrets.rootCAs;
    if (secrets.certificates.length > 0) spec['certificates'] = secrets.certificates;
    b.serversTransports[name] = spec;
    b.source('http/serverstransports', name, where);
  }
}

/**
 * The secrets a ServersTransport or the `tls` of a ServersTransportTCP names, as PEM text
 * (Traefik's kubernetes.go): `rootCAs` (`{secret}` entries, and `{configMap}` ones read from the
 * ConfigMap's `tls.ca` or `ca.crt` as its loadCAConfigMap; both in one entry is an error, as Traefik's) and the older `rootCAsSecrets` from each Secret's
 * `tls.ca` or `ca.crt`; `certificatesSecrets` as client certificates. Undefined when one is
 * unusable (reported): Traefik skips that secret and keeps the transport, we leave the transport
 * out, so that a backend is never dialled with a trust store other than the one written.
 */
export function transportSecrets(
  b: KubeBuild,
  ns: string,
  spec: Obj,
  where: string,
): { rootCAs: string[]; certificates: Obj[] } | undefined {
  let ok = true;
  const rootCAs: string[] = [];
  const add = (pem: string | undefined): void => {
    if (pem === undefined) ok = false;
    else rootCAs.push(pem);
  };
  const cas = b.list<{ secret?: string; configMap?: string }>(spec['rootCAs'], where, 'rootCAs');
  const caSecrets = b.list<string>(spec['rootCAsSecrets'], where, 'rootCAsSecrets');
  const certSecrets = b.list<string>(spec['certificatesSecrets'], where, 'certificatesSecrets');
  if (cas === undefined || caSecrets === undefined || certSecrets === undefined) return undefined;
  for (const r of cas) {
    if (r.secret !== undefined && r.configMap !== undefined) {
      b.error(where, 'a rootCAs entry has both secret and configMap');
      ok = false;
    } else if (r.secret !== undefined) add(b.ca(ns, r.secret, where, true));
    else if (r.configMap !== undefined) add(b.configMapCa(ns, r.configMap, where));
    else {
      b.error(where, 'a rootCAs entry has neither secret nor configMap');
      ok = false;
    }
  }
  for (const s of caSecrets) add(b.ca(ns, s, where, true));
  const certificates: Obj[] = [];
  for (const s of certSecrets) {
    const c = b.certificate(ns, s, where);
    if (c === undefined) ok = false;
    else certificates.push(c);
  }
  return ok ? { rootCAs, certificates } : undefined;
}

/**
 * One service of a route or of a TraefikService: kind Service (default) → its load balancer, named
 * `name` when given (a route's only service is named after its router), else as Traefik's
 * fullServiceName: `<ns>-<service>-<port as written>` (`default-web-http` for the port `http`);
 * kind TraefikService → `<ns>-<name>` (`x@kubernetescrd` is this provider's `<ns>-x`; another
 * provider's `x@p` as it is). Undefined when unusable.
 */
export function routeService(
  b: KubeBuild,
  s: RouteService,
  ownNs: string,
  where: string,
  name?: string,
): string | undefined {
  const kind = s.kind ?? 'Service';
  // Traefik's nameAndService: a name with `@` is refused as `…@kubernetescrd` without
  // allowCrossNamespace (GHSA-62fc-8686-hfmq), or from a namespace crossProviderNamespaces does
  // not list (the route's or TraefikService's own namespace, not the reference's `namespace`).
  if (s.name !== undefined && b.crossProvider(where, `service ${s.name}`, s.name, ownNs)) return undefined;
  if (kind === 'TraefikService') {
    if (s.name === undefined || s.name === '')
      return b.error(where, 'a TraefikService reference without a name');
    const ns = s.namespace ?? ownNs;
    if (s.name.endsWith('@kubernetescrd'))
      return normalize(`${ns}-${s.name.slice(0, -'@kubernetescrd'.length)}`);
    if (s.name.includes('@')) return s.name;
    if (b.crossNamespace(where, `traefikservice ${ns}/${s.name}`, ns, ownNs)) return undefined;
    return normalize(`${ns}-${s.name}`);
  }
  if (kind !== 'Service') return b.error(where, `service kind ${kind}: must be Service or TraefikService`);
  if (s.name?.includes('@') === true) return s.name;
  // Its middlewares belong to the reference (the caller's), not to the load balancer.
  const { middlewares: _, ...plain } = s;
  const checked = checkedLoadBalancer(b, plain, where);
  if (checked === undefined) return undefined;
  const port = s.port === undefined || s.port === 0 || s.port === '' ? undefined : s.port;
  const full = port === undefined ? undefined : normalize(`${s.namespace ?? ownNs}-${s.name ?? ''}-${port}`);
  return b.loadBalancer(checked, ownNs, where, name ?? full);
}

/**
 * A route service's `strategy` and `scheme` checked as Traefik's buildServersLB and
 * parseServiceProtocol check them (for a route's services and an errors middleware's service):
 * `RoundRobin` (the v2 name) is wrr, with a warning; a strategy without a balancer, or a scheme
 * other than http, https, h2c, is an error (reported; undefined). Empty values are unset.
 */
export function checkedLoadBalancer(b: KubeBuild, s: ServiceRef, where: string): ServiceRef | undefined {
  // Traefik's getServicePort (crd/kubernetes.go): a Kubernetes Service is reached on the port the
  // reference names; none (or 0, or "") is "ingressRoute service port not defined", never its first.
  if (s.port === undefined || s.port === null || s.port === 0 || s.port === '')
    return b.error(where, `service ${s.name ?? ''}: ingressRoute service port not defined`);
  let strategy = s.strategy === '' ? undefined : s.strategy;
  if (strategy === 'RoundRobin') {
    b.warn(where, `service ${s.name ?? ''}: strategy RoundRobin is deprecated, use wrr`);
    strategy = undefined;
  } else if (strategy !== undefined && !STRATEGIES.has(strategy))
    return b.error(where, `service ${s.name ?? ''}: load-balancer strategy ${strategy} is not supported`);
  const scheme = s.scheme === '' ? undefined : s.scheme;
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https' && scheme !== 'h2c')
    return b.error(where, `service ${s.name ?? ''}: invalid scheme ${JSON.stringify(scheme)} specified`);
  // Traefik's getServicePort: an ExternalName Service is reached on a port number the reference
  // names even when the Service does not list it (with a warning there).
  return { ...s, scheme, strategy, externalNameAnyPort: true };
}
