import { type CrdRegistry, crdRefused } from './gateway-backends.ts';
import type { KubeBuild, Obj } from './kube-build.ts';
import { normalize } from './kube-build.ts';

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
}

/** The middleware names of a router, in filter order; `redirects` when one answers by itself. */
export interface FilterChain {
  readonly names: string[];
  readonly redirects: boolean;
}

/**
 * The middlewares of one router built from its rule's filters, as Traefik's loadMiddlewares
 * (pkg/provider/kubernetes/gateway/httproute.go): each filter is `<router>-<type>-<i>`, of the
 * middleware of the same name (gateway-middlewares.ts); ExtensionRef to a Traefik Middleware
 * (`traefik.io`/`Middleware`) names the CRD provider's `<ns>-<name>@kubernetescrd`. A
 * ReplacePrefixMatch takes the match's path (`/` by default) as the prefix to replace. Ours: the
 * middlewares run in the filters' order (Traefik's come out of a Go map, in no set order).
 * An unsupported filter (RequestMirror, CORS …) is an error: the router is left out.
 */
export function filterMiddlewares(
  b: KubeBuild,
  filters: readonly HttpRouteFilter[],
  router: string,
  ns: string,
  matchPath: string | undefined,
  where: string,
  crd: CrdRegistry = { namespaces: [] },
): FilterChain | { error: string } {
  const names: string[] = [];
  let redirects = false;
  const prefix = matchPath ?? '/';
  for (const [i, f] of filters.entries()) {
    const name = normalize(`${router}-${(f.type ?? '').toLowerCase()}-${i}`);
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
        redirects = true;
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
        names.push(`${normalize(`${ns}-${e.name}`)}@kubernetescrd`);
        continue;
      }
      default:
        return { error: `filter ${i}: unsupported filter ${f.type ?? '(no type)'}` };
    }
    b.middlewares[name] = mw;
    b.source('http/middlewares', name, where);
    names.push(name);
  }
  return { names, redirects };
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
