import { createHash } from 'node:crypto';
import { type ConfigIssue, issue } from '../../config/issues.ts';
import type { SourceOf } from '../dynamic-data.ts';
import type { KubeObject } from './informer.ts';

export interface CrdObjects {
  readonly ingressRoutes: readonly KubeObject[];
  readonly middlewares: readonly KubeObject[];
  readonly services: readonly KubeObject[];
  readonly endpointSlices: readonly KubeObject[];
}

export interface CrdOptions {
  readonly allowEmptyServices: boolean;
  readonly allowCrossNamespace: boolean;
}

type Obj = Record<string, unknown>;

interface RouteService {
  readonly name?: string;
  readonly namespace?: string;
  readonly kind?: string;
  readonly port?: number | string;
  readonly scheme?: string;
  readonly weight?: number;
  readonly passHostHeader?: boolean;
}

interface RouteSpec {
  readonly match?: string;
  readonly kind?: string;
  readonly priority?: number;
  readonly middlewares?: readonly { readonly name?: string; readonly namespace?: string }[];
  readonly services?: readonly RouteService[];
}

interface IngressRouteSpec {
  readonly entryPoints?: readonly string[];
  readonly routes?: readonly RouteSpec[];
  readonly tls?: {
    readonly certResolver?: string;
    readonly secretName?: string;
    readonly options?: { readonly name?: string };
    readonly domains?: readonly unknown[];
  };
}

interface ServiceSpec {
  readonly type?: string;
  readonly ports?: readonly { readonly name?: string; readonly port?: number }[];
}

interface SliceJson {
  readonly ports?: readonly { readonly name?: string; readonly port?: number }[] | null;
  readonly endpoints?:
    | readonly {
        readonly addresses?: readonly string[];
        readonly conditions?: { readonly ready?: boolean | null; readonly serving?: boolean | null };
      }[]
    | null;
}

/** Traefik's provider.Normalize, as the CRD provider names objects. */
function normalize(s: string): string {
  return s.replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '');
}

/**
 * IngressRoutes and Middlewares (`traefik.io/v1alpha1`) with the Services and EndpointSlices
 * they use, as Traefik's CRD provider turns them into configuration (pkg/provider/kubernetes/crd):
 *
 * - a route is a router named `normalize(<ns>-<name>-<first 10 bytes of sha256(match) in hex>)`
 *   with the route's match, priority, entry points and middlewares (`<ns>-<name>`, or a name with
 *   `@` as it is), its TLS resolver;
 * - one Kubernetes service is a load balancer named `<ns>-<service>-<port>` whose servers are the
 *   ready endpoints of its EndpointSlices (port matched by name; scheme `https` for port 443 or a
 *   port named `https…`, else `http`, unless the route says); several are a weighted service named
 *   after the router;
 * - a Middleware object is a middleware named `<ns>-<name>` (a chain's members are references).
 *
 * A reference to another namespace needs `allowCrossNamespace`. A service with no endpoints
 * leaves its router out (with `allowEmptyServices`: a load balancer without servers, 503).
 */
export function crdConfig(
  objs: CrdObjects,
  opts: CrdOptions,
): { data: Obj; sourceOf: SourceOf; issues: ConfigIssue[] } {
  const routers: Obj = {};
  const services: Obj = {};
  const middlewares: Obj = {};
  const sources = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  const svcIndex = new Map(objs.services.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
  const slicesOf = (ns: string, svc: string): SliceJson[] =>
    objs.endpointSlices
      .filter((e) => e.metadata.namespace === ns && e.metadata.labels?.['kubernetes.io/service-name'] === svc)
      .map((e) => e as unknown as SliceJson);

  for (const mw of objs.middlewares) {
    const ns = mw.metadata.namespace ?? 'default';
    const name = normalize(`${ns}-${mw.metadata.name}`);
    const spec = { ...((mw.spec ?? {}) as Obj) };
    const chain = spec['chain'] as { middlewares?: { name?: string; namespace?: string }[] } | undefined;
    if (chain !== undefined) {
      spec['chain'] = {
        middlewares: (chain.middlewares ?? []).map((m) => mwRef(m, ns)),
      };
    }
    middlewares[name] = spec;
    sources.set(`http/middlewares/${name.toLowerCase()}`, `middleware ${ns}/${mw.metadata.name}`);
  }

  for (const ir of objs.ingressRoutes) {
    const ns = ir.metadata.namespace ?? 'default';
    const where = `ingressroute ${ns}/${ir.metadata.name}`;
    const spec = (ir.spec ?? {}) as IngressRouteSpec;
    const fail = (message: string): void => {
      issues.push(issue('error', message, [], { file: where }));
    };
    for (const route of spec.routes ?? []) {
      const match = route.match ?? '';
      const hash = createHash('sha256').update(match).digest('hex').slice(0, 20);
      const name = normalize(`${ns}-${ir.metadata.name}-${hash}`);
      sources.set(`http/routers/${name.toLowerCase()}`, where);
      const refs: string[] = [];
      let ok = true;
      for (const m of route.middlewares ?? []) {
        if (m.namespace !== undefined && m.namespace !== ns && !opts.allowCrossNamespace) {
          fail(`middleware ${m.namespace}/${m.name}: another namespace (allowCrossNamespace is off)`);
          ok = false;
        }
        refs.push(mwRef(m, ns));
      }
      const children: { name: string; weight: number | undefined }[] = [];
      for (const s of route.services ?? []) {
        const built = loadBalancer(s, ns, where);
        if (built === undefined) {
          ok = false;
          continue;
        }
        children.push({ name: built, weight: s.weight });
      }
      if (!ok || children.length === 0) {
        if (children.length === 0 && ok) fail(`route ${JSON.stringify(match)}: no service`);
        continue;
      }
      let service = children[0]!.name;
      if (children.length > 1) {
        services[name] = {
          weighted: { services: children.map((c) => ({ name: c.name, weight: c.weight ?? 1 })) },
        };
        sources.set(`http/services/${name.toLowerCase()}`, where);
        service = name;
      }
      const router: Obj = { rule: match, service };
      if (route.priority !== undefined && route.priority !== 0) router['priority'] = route.priority;
      if (spec.entryPoints !== undefined && spec.entryPoints.length > 0)
        router['entryPoints'] = spec.entryPoints;
      if (refs.length > 0) router['middlewares'] = refs;
      if (spec.tls !== undefined) {
        const tls: Obj = {};
        if (spec.tls.certResolver !== undefined) tls['certResolver'] = spec.tls.certResolver;
        if (spec.tls.domains !== undefined) tls['domains'] = spec.tls.domains;
        if (spec.tls.secretName !== undefined) {
          issues.push(issue('warning', 'tls.secretName is not supported yet (ignored)', [], { file: where }));
        }
        if (spec.tls.options !== undefined) {
          issues.push(
            issue('warning', 'tls.options (TLSOption) is not supported yet (ignored)', [], { file: where }),
          );
        }
        router['tls'] = tls;
      }
      routers[name] = router;
    }
    void fail;
  }

  /** The load balancer of one route service; its name, or undefined (reported) when unusable. */
  function loadBalancer(s: RouteService, routeNs: string, where: string): string | undefined {
    const ns = s.namespace ?? routeNs;
    const report = (message: string): undefined => {
      issues.push(issue('error', message, [], { file: where }));
      return undefined;
    };
    if (s.name === undefined) return report('a route service without a name');
    if (s.name.includes('@')) return s.name;
    if (s.kind !== undefined && s.kind !== 'Service')
      return report(`service kind ${s.kind} is not supported yet`);
    if (ns !== routeNs && !opts.allowCrossNamespace) {
      return report(`service ${ns}/${s.name}: another namespace (allowCrossNamespace is off)`);
    }
    const svc = svcIndex.get(`${ns}/${s.name}`);
    if (svc === undefined) return report(`service ${ns}/${s.name} not found`);
    const sspec = (svc.spec ?? {}) as ServiceSpec;
    if (sspec.type === 'ExternalName')
      return report(`service ${ns}/${s.name}: ExternalName services are not supported yet`);
    const port = (sspec.ports ?? []).find((p) =>
      typeof s.port === 'number' ? p.port === s.port : p.name === s.port,
    );
    if (port === undefined) return report(`service ${ns}/${s.name} has no port ${JSON.stringify(s.port)}`);
    const name = normalize(`${ns}-${s.name}-${port.port}`);
    const scheme =
      s.scheme ?? (port.port === 443 || (port.name ?? '').startsWith('https') ? 'https' : 'http');
    const urls = new Set<string>();
    for (const slice of slicesOf(ns, s.name)) {
      const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? ''));
      if (sp?.port === undefined) continue;
      for (const e of slice.endpoints ?? []) {
        // Serving (nil = serving); a terminating endpoint that still serves is kept.
        const serving = e.conditions?.serving ?? e.conditions?.ready ?? true;
        if (serving === false) continue;
        for (const a of e.addresses ?? [])
          urls.add(`${scheme}://${a.includes(':') ? `[${a}]` : a}:${sp.port}`);
      }
    }
    if (urls.size === 0 && !opts.allowEmptyServices) return report(`service ${ns}/${s.name}: no endpoints`);
    const lb: Obj = { servers: [...urls].sort().map((url) => ({ url })) };
    if (s.passHostHeader !== undefined) lb['passHostHeader'] = s.passHostHeader;
    services[name] = { loadBalancer: lb };
    sources.set(`http/services/${name.toLowerCase()}`, `service ${ns}/${s.name}`);
    return name;
  }

  function mwRef(m: { name?: string; namespace?: string }, ns: string): string {
    const n = m.name ?? '';
    return n.includes('@') ? n : normalize(`${m.namespace ?? ns}-${n}`);
  }

  const sourceOf: SourceOf = (path) => {
    const p = path.map(String);
    return sources.get(p.slice(0, 3).join('/').toLowerCase());
  };
  return { data: { http: { routers, services, middlewares } }, sourceOf, issues };
}
