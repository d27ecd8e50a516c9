import type { KubeBuild, Obj } from './kube-build.ts';
import { normalize, quoteMeta } from './kube-build.ts';

/**
 * What Traefik's FillExtensionBuilderRegistry (pkg/provider/kubernetes/crd/kubernetes.go) gives
 * the Gateway provider: with the kubernetesCRD provider configured, its `namespaces` (empty: all);
 * `null` when it is not configured.
 */
export type CrdRegistry = { readonly namespaces: readonly string[] } | null;

/**
 * Why a reference to the CRD provider's `kind` (Middleware, TraefikService) in namespace `ns` is
 * refused, as Traefik: no builder registered for it without the CRD provider ("unsupported …"),
 * a namespace the CRD provider does not watch ("namespace … is not allowed"); undefined: allowed.
 */
export function crdRefused(
  crd: CrdRegistry,
  what: string,
  kind: string,
  name: string,
  ns: string,
): string | undefined {
  if (crd === null) return `unsupported ${what} traefik.io/${kind}/${name}`;
  if (crd.namespaces.length > 0 && !crd.namespaces.includes(ns)) return `namespace "${ns}" is not allowed`;
  return undefined;
}

interface HeaderFilter {
  readonly set?: readonly { readonly name: string; readonly value: string }[];
  readonly add?: readonly { readonly name: string; readonly value: string }[];
  readonly remove?: readonly string[];
}

interface PathModifier {
  readonly type?: string;
  readonly replaceFullPath?: string;
  readonly replacePrefixMatch?: string;
}

export interface HttpRouteFilter {
  readonly type?: string;
  readonly requestHeaderModifier?: HeaderFilter;
  readonly responseHeaderModifier?: HeaderFilter;
  readonly requestRedirect?: {
    readonly scheme?: string;
    readonly hostname?: string;
    readonly port?: number;
    readonly path?: PathModifier;
    readonly statusCode?: number;
  };
  readonly urlRewrite?: { readonly hostname?: string; readonly path?: PathModifier };
  readonly extensionRef?: { readonly group?: string; readonly kind?: string; readonly name?: string };
  readonly cors?: CorsFilter;
}

/** Gateway API v1.5's HTTPCORSFilter (GEP-1767, Standard since v1.5). */
interface CorsFilter {
  readonly allowOrigins?: readonly string[];
  readonly allowCredentials?: boolean;
  readonly allowMethods?: readonly string[];
  readonly allowHeaders?: readonly string[];
  readonly exposeHeaders?: readonly string[];
  readonly maxAge?: number;
}

/** The CRD's default of `cors.maxAge` (`+kubebuilder:default=5`): the API server writes it. */
const CORS_DEFAULT_MAX_AGE = 5;

/**
 * A CORS filter as the headers middleware Traefik builds for it (traefik/traefik#13437, v3.8):
 * `allowOrigins` → `accessControlAllowOriginList` (`*` and exact origins), an origin with a
 * wildcard host (`https://*.example.com`) → an anchored `accessControlAllowOriginListRegex`;
 * `allowMethods`, `allowHeaders`, `exposeHeaders`, `allowCredentials` and `maxAge` → the
 * matching `accessControl*` keys. The headers middleware answers the preflight itself and,
 * with credentials, echoes the request's origin, method and headers for a `*`
 * (traefik/traefik#13368).
 */
function corsHeaders(c: CorsFilter): Obj {
  const list: string[] = [];
  const regex: string[] = [];
  for (const o of c.allowOrigins ?? []) {
    if (o === '*' || !o.includes('*')) list.push(o);
    else regex.push(`^${o.split('*').map(quoteMeta).join('.+')}$`);
  }
  const out: Obj = {};
  if (list.length > 0) out['accessControlAllowOriginList'] = list;
  if (regex.length > 0) out['accessControlAllowOriginListRegex'] = regex;
  if (c.allowCredentials === true) out['accessControlAllowCredentials'] = true;
  if ((c.allowMethods ?? []).length > 0) out['accessControlAllowMethods'] = [...c.allowMethods!];
  if ((c.allowHeaders ?? []).length > 0) out['accessControlAllowHeaders'] = [...c.allowHeaders!];
  if ((c.exposeHeaders ?? []).length > 0) out['accessControlExposeHeaders'] = [...c.exposeHeaders!];
  out['accessControlMaxAge'] = c.maxAge ?? CORS_DEFAULT_MAX_AGE;
  return out;
}

/** The middleware names of a router (or a backendRef's service), in filter order. */
export interface FilterChain {
  readonly names: string[];
}

/** A filter's middleware: built here (`mw`), or the CRD provider's (an ExtensionRef, no `mw`). */
interface FilterEntry {
  readonly name: string;
  readonly mw?: Obj;
}

/**
 * The middlewares of one router (or backendRef service) built from filters, as Traefik's
 * loadMiddlewares (pkg/provider/kubernetes/gateway/httproute.go): each filter is
 * `<parent>-<type>-<i>`, of the middleware of the same name (gateway-middlewares.ts);
 * ExtensionRef to a Traefik Middleware (`traefik.io`/`Middleware`) names the CRD provider's
 * `<ns>-<name>@kubernetescrd`. A ReplacePrefixMatch takes the match's path (`/` by default) as
 * the prefix to replace. The middlewares run in the filters' order (Traefik's loadMiddlewares keeps
 * them in a slice since its traefik/traefik#13367 httproute.go). `CORS` → a `headers` middleware (corsHeaders, Traefik v3.8). An
 * unsupported filter (RequestMirror …) is an error. Nothing is registered here.
 */
function loadFilters(
  filters: readonly HttpRouteFilter[],
  parent: string,
  ns: string,
  matchPath: string | undefined,
  crd: CrdRegistry,
): { entries: FilterEntry[] } | { error: string } {
  const entries: FilterEntry[] = [];
  const prefix = matchPath ?? '/';
  for (const [i, f] of filters.entries()) {
    const name = normalize(`${parent}-${(f.type ?? '').toLowerCase()}-${i}`);
    let mw: Obj;
    switch (f.type) {
      case 'RequestHeaderModifier':
        mw = { requestHeaderModifier: headerEdits(f.requestHeaderModifier) };
        break;
      case 'ResponseHeaderModifier':
        mw = { responseHeaderModifier: headerEdits(f.responseHeaderModifier) };
        break;
      case 'RequestRedirect': {
        const r = f.requestRedirect ?? {};
        // Traefik: a scheme of http or https drops the request's port unless one is given.
        const port =
          r.port !== undefined
            ? String(r.port)
            : r.scheme === 'http' || r.scheme === 'https'
              ? ''
              : undefined;
        mw = {
          requestRedirect: {
            ...(r.scheme !== undefined ? { scheme: r.scheme } : {}),
            ...(r.hostname !== undefined ? { hostname: r.hostname } : {}),
            ...(port !== undefined ? { port } : {}),
            ...pathEdit(r.path, prefix),
            statusCode: r.statusCode ?? 302,
          },
        };
        break;
      }
      case 'URLRewrite': {
        const u = f.urlRewrite ?? {};
        if (u.hostname === undefined && u.path === undefined)
          return { error: `filter ${i} URLRewrite: empty configuration` };
        mw = {
          urlRewrite: {
            ...(u.hostname !== undefined ? { hostname: u.hostname } : {}),
            ...pathEdit(u.path, prefix),
          },
        };
        break;
      }
      case 'CORS':
        if (f.cors === undefined) return { error: `filter ${i} CORS: no cors` };
        mw = { headers: corsHeaders(f.cors) };
        break;
      case 'ExtensionRef': {
        const e = f.extensionRef;
        if (e === undefined || e.name === undefined)
          return { error: `filter ${i} ExtensionRef: no extensionRef` };
        if (e.group !== 'traefik.io' || e.kind !== 'Middleware')
          return {
            error: `filter ${i}: unsupported filter extension ref ${e.group ?? ''}/${e.kind ?? ''}/${e.name}`,
          };
        const refused = crdRefused(crd, 'filter extension ref', 'Middleware', e.name, ns);
        if (refused !== undefined) return { error: `filter ${i}: ${refused}` };
        entries.push({ name: `${normalize(`${ns}-${e.name}`)}@kubernetescrd` });
        continue;
      }
      default:
        return { error: `filter ${i}: unsupported filter ${f.type ?? '(no type)'}` };
    }
    entries.push({ name, mw });
  }
  return { entries };
}

/**
 * Why `filters` cannot be loaded (loadFilters), or undefined: whether they load does not depend
 * on the router or the match they are built for.
 */
export function filterError(
  filters: readonly HttpRouteFilter[],
  ns: string,
  crd: CrdRegistry = { namespaces: [] },
): string | undefined {
  const r = loadFilters(filters, '', ns, undefined, crd);
  return 'error' in r ? r.error : undefined;
}

/**
 * The middlewares of `parent` (a router, or a backendRef's service) built from `filters`
 * (loadFilters), registered in the configuration: their names in filter order, or the error
 * (the router answers 500, gateway-config.ts).
 */
export function filterMiddlewares(
  b: KubeBuild,
  filters: readonly HttpRouteFilter[],
  parent: string,
  ns: string,
  matchPath: string | undefined,
  where: string,
  crd: CrdRegistry = { namespaces: [] },
): FilterChain | { error: string } {
  const r = loadFilters(filters, parent, ns, matchPath, crd);
  if ('error' in r) return r;
  for (const e of r.entries) {
    if (e.mw === undefined) continue;
    b.middlewares[e.name] = e.mw;
    b.source('http/middlewares', e.name, where);
  }
  return { names: r.entries.map((e) => e.name) };
}

function headerEdits(h: HeaderFilter | undefined): Obj {
  return {
    set: Object.fromEntries((h?.set ?? []).map((x) => [x.name, x.value])),
    add: Object.fromEntries((h?.add ?? []).map((x) => [x.name, x.value])),
    remove: [...(h?.remove ?? [])],
  };
}

function pathEdit(p: PathModifier | undefined, prefix: string): Obj {
  if (p?.type === 'ReplaceFullPath' && p.replaceFullPath !== undefined) return { path: p.replaceFullPath };
  if (p?.type === 'ReplacePrefixMatch' && p.replacePrefixMatch !== undefined)
    return { path: p.replacePrefixMatch, pathPrefix: prefix };
  return {};
}
