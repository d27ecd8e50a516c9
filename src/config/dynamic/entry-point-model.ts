import type { DynamicConfig, RouterConfig } from './schema.ts';

/**
 * What the static entry points impose on routers (Traefik's "models", applyModel in
 * pkg/server/configurationwatcher.go): a router that names no entry point gets the `asDefault`
 * ones, and `entryPoints.<ep>.http.middlewares` run before the router's own middlewares on that
 * entry point. A router whose entry points carry different middleware lists is split, one copy
 * per such entry point, named `<ep>-<router>` as Traefik names them.
 */
export interface EntryPointModel {
  /** The proxy's entry points, for routers that name none. */
  readonly all: readonly string[];
  /** The `asDefault: true` ones; empty = every entry point. */
  readonly defaults: readonly string[];
  /** Entry point → middlewares prepended to its routers' (names resolve in the router's provider). */
  readonly middlewares: ReadonlyMap<string, readonly string[]>;
}

export function applyEntryPointModel(config: DynamicConfig, model: EntryPointModel): DynamicConfig {
  if (model.defaults.length === 0 && model.middlewares.size === 0) return config;
  const routers: Record<string, RouterConfig> = {};
  for (const [name, r] of Object.entries(config.http.routers)) {
    const named = r.entryPoints ?? (model.defaults.length > 0 ? model.defaults : undefined);
    const eps = named ?? (model.middlewares.size > 0 ? model.all : undefined);
    if (eps === undefined) {
      routers[name] = r;
      continue;
    }
    const plain: string[] = [];
    for (const ep of eps) {
      const mws = model.middlewares.get(ep);
      if (mws === undefined || mws.length === 0) {
        plain.push(ep);
        continue;
      }
      const copy: RouterConfig = { ...r, entryPoints: [ep], middlewares: [...mws, ...r.middlewares] };
      routers[eps.length > 1 ? `${ep}-${name}` : name] = copy;
    }
    if (plain.length > 0) {
      // A router defaulted to every entry point keeps meaning "every one" when nothing split it.
      const keepAll = named === undefined && plain.length === eps.length;
      routers[name] = keepAll ? r : { ...r, entryPoints: plain };
    }
  }
  return { ...config, http: { ...config.http, routers } };
}

/** The model of a static configuration's entry points (`exclude`: the admin ones, which route nothing). */
export function entryPointModelOf(
  entryPoints: Readonly<
    Record<
      string,
      { readonly asDefault: boolean; readonly http: { readonly middlewares?: readonly string[] | undefined } }
    >
  >,
  exclude: ReadonlySet<string> = new Set(),
): EntryPointModel {
  const names = Object.keys(entryPoints).filter((n) => !exclude.has(n));
  const middlewares = new Map<string, readonly string[]>();
  for (const n of names) {
    const m = entryPoints[n]!.http.middlewares;
    if (m !== undefined && m.length > 0) middlewares.set(n, m);
  }
  return { all: names, defaults: names.filter((n) => entryPoints[n]!.asDefault), middlewares };
}
