import { createHash } from 'node:crypto';
import type { ConfigIssue } from '../../config/issues.ts';
import type { SourceOf } from '../dynamic-data.ts';
import { crdLayer4, type Layer4Objects } from './crd-l4.ts';
import { crdMiddlewares } from './crd-middlewares.ts';
import {
  crdServices,
  type MiddlewareRef,
  middlewareKeys,
  type RouteService,
  refMiddlewares,
  routeService,
} from './crd-services.ts';
import { crdTls } from './crd-tls.ts';
import type { KubeObject } from './informer.ts';
import { KubeBuild, type KubernetesMeta, normalize, type Obj, type ServiceOptions } from './kube-build.ts';

/** The objects the CRD provider watches, by kind. Absent lists are empty. */
export interface CrdObjects extends Layer4Objects {
  readonly ingressRoutes: readonly KubeObject[];
  readonly middlewares: readonly KubeObject[];
  readonly services: readonly KubeObject[];
  readonly endpointSlices: readonly KubeObject[];
  readonly traefikServices?: readonly KubeObject[];
  readonly tlsOptions?: readonly KubeObject[];
  readonly tlsStores?: readonly KubeObject[];
  readonly serversTransports?: readonly KubeObject[];
  readonly secrets?: readonly KubeObject[];
  /** For ServersTransport(TCP) `rootCAs` `{configMap}` entries. */
  readonly configMaps?: readonly KubeObject[];
  /** Cluster-scoped, for nodePortLB; not watched with disableClusterScopeResources. */
  readonly nodes?: readonly KubeObject[];
}

export interface CrdOptions extends ServiceOptions {
  /** The `ingressClass` option: which `kubernetes.io/ingress.class` annotation is ours. */
  readonly ingressClass?: string;
}

/**
 * Traefik's shouldProcessIngress (pkg/provider/kubernetes/crd/kubernetes.go), for IngressRoute,
 * IngressRouteTCP and IngressRouteUDP: the `kubernetes.io/ingress.class` annotation equals the
 * `ingressClass` option (both may be empty), or is `traefik` while the option is empty.
 */
function ofOurClass(o: KubeObject, ingressClass: string): boolean {
  const a = o.metadata.annotations?.['kubernetes.io/ingress.class'] ?? '';
  return a === ingressClass || (ingressClass === '' && a === 'traefik');
}

interface RouteSpec {
  readonly kind?: string;
  readonly match?: string;
  readonly syntax?: string;
  readonly observability?: unknown;
  readonly priority?: number;
  readonly middlewares?: readonly MiddlewareRef[];
  readonly services?: readonly RouteService[];
}

interface IngressRouteSpec {
  readonly entryPoints?: readonly string[];
  /** Multi-layer routing: the IngressRoutes whose routers are this one's routers' parents. */
  readonly parentRefs?: readonly { readonly name?: string; readonly namespace?: string }[];
  readonly routes?: readonly RouteSpec[];
  readonly tls?: {
    readonly certResolver?: string;
    readonly secretName?: string;
    readonly options?: { readonly name?: string; readonly namespace?: string };
    readonly domains?: readonly unknown[];
  };
}

/**
 * Traefik's CRD objects (`traefik.io/v1alpha1`) with the Services, EndpointSlices and Secrets
 * they use, as Traefik's CRD provider turns them into configuration
 * (pkg/provider/kubernetes/crd/kubernetes_http.go):
 *
 * - a route of an IngressRoute is a router `normalize(<ns>-<name>-<first 10 bytes of
 *   sha256(match) in hex>)` with the route's match, priority, middlewares (`<ns>-<name>`, or a
 *   name with `@` as it is), the IngressRoute's entry points and TLS (`secretName` → a
 *   certificate, `options` → `<ns>-<name>`, `certResolver`, `domains`);
 * - `parentRefs` (multi-layer routing): every router of each referenced IngressRoute is a parent
 *   of every router of this one; a route without services is a router without a service (a
 *   parent); another namespace's parent needs allowCrossNamespace, else the IngressRoute is
 *   skipped with an error;
 * - a route's only service, of kind Service, is a load balancer named after the router
 *   (kube-build.ts); several are a weighted service named after the router over load balancers
 *   `<ns>-<service>-<port as written>`; of kind TraefikService, a reference `<ns>-<name>`;
 * - Middleware, TraefikService, ServersTransport, TLSOption and TLSStore objects are named
 *   `<ns>-<name>` (a TLSOption or TLSStore named `default` stays `default`);
 * - IngressRouteTCP, IngressRouteUDP, MiddlewareTCP and ServersTransportTCP: crd-l4.ts.
 */
export function crdConfig(
  objs: CrdObjects,
  opts: CrdOptions,
): { data: Obj; sourceOf: SourceOf; issues: ConfigIssue[]; meta: KubernetesMeta } {
  const b = new KubeBuild(objs, { ...opts, crdSuffixRule: true });

  crdMiddlewares(b, objs.middlewares);
  crdServices(b, objs.traefikServices ?? [], objs.serversTransports ?? []);
  crdTls(b, objs.tlsOptions ?? [], objs.tlsStores ?? []);
  const handled = (o: KubeObject): boolean => ofOurClass(o, opts.ingressClass ?? '');
  crdLayer4(b, objs, handled);

  // The router names of each IngressRoute's routes, for the parentRefs of others.
  const routersOf = new Map<string, string[]>();
  for (const ir of objs.ingressRoutes) {
    if (!handled(ir)) continue;
    const ns = ir.metadata.namespace ?? 'default';
    const names: string[] = [];
    for (const route of (ir.spec as IngressRouteSpec | undefined)?.routes ?? []) {
      if (route.match !== undefined && route.match !== '')
        names.push(routerName(ns, ir.metadata.name, route.match));
    }
    routersOf.set(`${ns}/${ir.metadata.name}`, names);
  }
  for (const ir of objs.ingressRoutes) {
    if (!handled(ir)) continue;
    const ns = ir.metadata.namespace ?? 'default';
    const where = `ingressroute ${ns}/${ir.metadata.name}`;
    const spec = (ir.spec ?? {}) as IngressRouteSpec;
    // Its routers name it in the access log (Traefik v3.8 PR #12985: KubernetesIngressRoute*).
    b.owner = { kind: 'IngressRoute', namespace: ns, name: ir.metadata.name };
    let parents: string[] | undefined;
    if (spec.parentRefs !== undefined && spec.parentRefs.length > 0) {
      parents = [];
      for (const ref of spec.parentRefs) {
        const pns = ref.namespace !== undefined && ref.namespace !== '' ? ref.namespace : ns;
        if (b.crossNamespace(where, `parent ingressroute ${pns}/${ref.name ?? ''}`, pns, ns)) {
          parents = undefined;
          break;
        }
        const names = routersOf.get(`${pns}/${ref.name ?? ''}`);
        if (names === undefined) {
          b.error(where, `parent ingressroute ${pns}/${ref.name ?? ''} does not exist`);
          parents = undefined;
          break;
        }
        parents.push(...names);
      }
      if (parents === undefined) continue;
    }
    let tls: Obj | undefined;
    if (spec.tls !== undefined) {
      tls = {};
      if (spec.tls.certResolver !== undefined) tls['certResolver'] = spec.tls.certResolver;
      if (spec.tls.domains !== undefined) tls['domains'] = spec.tls.domains;
      if (spec.tls.secretName !== undefined && spec.tls.secretName !== '')
        b.addCertificate(ns, spec.tls.secretName, where);
    }
    // Traefik's loadIngressRouteConfiguration: a TLSOption of another namespace is refused unless
    // allowCrossNamespace, and every route of the IngressRoute is skipped for it (checked per
    // route there; reported once here). Another provider's (`x@file`) ignores `namespace`.
    const opt = spec.tls?.options;
    let tlsRefused = false;
    if (tls !== undefined && opt?.name !== undefined && opt.name !== '') {
      const optNs = opt.namespace !== undefined && opt.namespace !== '' ? opt.namespace : ns;
      if (opt.name.includes('@')) {
        // Traefik's resolveReference: `…@kubernetescrd` needs allowCrossNamespace, and another
        // provider's name a namespace that crossProviderNamespaces allows.
        if (b.crossProvider(where, `tls.options ${opt.name}`, opt.name, ns)) tlsRefused = true;
        else if (opt.namespace !== undefined && opt.namespace !== '')
          b.warn(
            where,
            `tls.options ${opt.name}: namespace ${JSON.stringify(opt.namespace)} is ignored in cross-provider context`,
          );
        tls['options'] = opt.name;
      } else if (b.crossNamespace(where, `tlsoption ${optNs}/${opt.name}`, optNs, ns)) tlsRefused = true;
      else tls['options'] = b.ref(opt.name, optNs);
    }
    for (const route of spec.routes ?? []) {
      // As Traefik's loadIngressRouteConfiguration: a kind other than Rule, or no match, skips
      // the route with an error.
      if (route.kind !== undefined && route.kind !== '' && route.kind !== 'Rule') {
        b.error(where, `unsupported match kind ${JSON.stringify(route.kind)}: only "Rule" is supported`);
        continue;
      }
      if (route.match === undefined || route.match === '') {
        b.error(where, 'a route with an empty match rule');
        continue;
      }
      if (tlsRefused) continue;
      const match = route.match;
      const name = routerName(ns, ir.metadata.name, match);
      b.source('http/routers', name, where);
      const routeMws = middlewareKeys(b, route.middlewares ?? [], ns, where);
      let ok = routeMws !== undefined;
      const refs = routeMws ?? [];
      const children: { name: string; weight: number | undefined; middlewares: Obj }[] = [];
      const services = route.services ?? [];
      for (const s of services) {
        // Traefik's loadIngressRouteConfiguration: a route's only Kubernetes Service is the load
        // balancer named after the router; several are a weighted service of that name.
        const built = routeService(b, s, ns, where, services.length === 1 ? name : undefined);
        // Traefik v3.7's LoadBalancerSpec.Middlewares: run when this service is chosen.
        const mws = refMiddlewares(b, s, ns, where);
        if (built === undefined || mws === undefined) ok = false;
        else children.push({ name: built, weight: s.weight, middlewares: mws });
      }
      if (!ok) continue;
      // Without services, a parent of the routers naming it (Traefik's multi-layer routing; the
      // tree's checks report one that nobody names).
      let service: string | undefined = children[0]?.name;
      const only = children.length === 1 ? children[0]! : undefined;
      if (only !== undefined && only.middlewares['middlewares'] !== undefined) {
        if (only.name === name) {
          // The route's own load balancer (named after the router): its middlewares are its own.
          const lb = b.services[name] as Obj;
          b.services[name] = { ...lb, ...only.middlewares };
        } else {
          // A TraefikService or another provider's service, shared: the route reaches it through
          // a weighted service of its own whose one child carries them.
          b.services[name] = {
            weighted: { services: [{ name: only.name, weight: 1, ...only.middlewares }] },
          };
          b.source('http/services', name, where);
          service = name;
        }
      }
      if (children.length > 1) {
        b.services[name] = {
          weighted: {
            services: children.map((c) => ({ name: c.name, weight: c.weight ?? 1, ...c.middlewares })),
          },
        };
        b.source('http/services', name, where);
        service = name;
      }
      const router: Obj = { rule: match };
      if (service !== undefined) router['service'] = service;
      if (parents !== undefined) router['parentRefs'] = parents;
      if (route.priority !== undefined && route.priority !== 0) router['priority'] = route.priority;
      // Traefik's route `syntax` is the router's ruleSyntax (`v2` reads v2's matchers); a `v3`
      // is kept too, so that core.defaultRuleSyntax does not override it. `observability` is the router's.
      if (route.syntax !== undefined && route.syntax !== '') router['ruleSyntax'] = route.syntax;
      if (route.observability !== undefined && route.observability !== null)
        router['observability'] = route.observability;
      if (spec.entryPoints !== undefined && spec.entryPoints.length > 0)
        router['entryPoints'] = spec.entryPoints;
      if (refs.length > 0) router['middlewares'] = refs;
      if (tls !== undefined) router['tls'] = tls;
      b.routers[name] = router;
    }
  }
  b.owner = null;
  return b.result();
}

/** Traefik's makeRouterName: `normalize(<ns>-<name>-<first 10 bytes of sha256(match) in hex>)`. */
function routerName(ns: string, name: string, match: string): string {
  const hash = createHash('sha256').update(match).digest('hex').slice(0, 20);
  return normalize(`${ns}-${name}-${hash}`);
}
