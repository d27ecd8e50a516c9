import type { DynamicConfig, RouterConfig } from './schema.ts';

/**
 * What the static entry points impose on routers (Traefik's "models", applyModel in
 * pkg/server/configurationwatcher.go): a router that names no entry point gets the `asDefault`
 * ones, and `entryPoints.<ep>.http.middlewares` run before the router's own middlewares on that
 * entry point. A router whose entry points carry different middleware lists is split, one copy
 * per such entry point, named `<ep>-<router>` as Traefik names them. An entry point with an
 * `observability` section has a model too (pkg/provider/traefik/internal.go entryPointModels): its
 * routers are split the same way, and each copy takes the entry point's keys it does not set.
 */
export interface EntryPointModel {
  /** The proxy's entry points, for routers that name none. */
  readonly all: readonly string[];
  /** The `asDefault: true` ones; empty = every entry point. */
  readonly defaults: readonly string[];
  /** Entry point → middlewares prepended to its routers' (names resolve in the router's provider). */
  readonly middlewares: ReadonlyMap<string, readonly string[]>;
  /** Entry point → its `observability`, for those that set one. */
  readonly observability: ReadonlyMap<string, RouterObservability>;
}

export type RouterObservability = NonNullable<RouterConfig['observability']>;

/** Traefik's applyModel: each key the router leaves unset is the entry point's. */
function mergeObservability(
  own: RouterObservability | undefined,
  ep: RouterObservability,
): RouterObservability {
  if (own === undefined) return ep;
  return {
    ...((own.accessLogs ?? ep.accessLogs) !== undefined
      ? { accessLogs: own.accessLogs ?? ep.accessLogs }
      : {}),
    ...((own.metrics ?? ep.metrics) !== undefined ? { metrics: own.metrics ?? ep.metrics } : {}),
    ...((own.tracing ?? ep.tracing) !== undefined ? { tracing: own.tracing ?? ep.tracing } : {}),
    ...((own.traceVerbosity ?? ep.traceVerbosity) !== undefined
      ? { traceVerbosity: own.traceVerbosity ?? ep.traceVerbosity }
      : {}),
  };
}

export function applyEntryPointModel(config: DynamicConfig, model: EntryPointModel): DynamicConfig {
  if (model.defaults.length === 0 && model.middlewares.size === 0 && model.observability.size === 0)
    return config;
  const routers: Record<string, RouterConfig> = {};
  for (const [name, r] of Object.entries(config.http.routers)) {
    const named = r.entryPoints ?? (model.defaults.length > 0 ? model.defaults : undefined);
    const eps = named ?? (model.middlewares.size > 0 || model.observability.size > 0 ? model.all : undefined);
    if (eps === undefined) {
      routers[name] = r;
      continue;
    }
    const plain: string[] = [];
    for (const ep of eps) {
      const mws = model.middlewares.get(ep);
      const obs = model.observability.get(ep);
      if ((mws === undefined || mws.length === 0) && obs === undefined) {
        plain.push(ep);
        continue;
      }
      const copy: RouterConfig = {
        ...r,
        entryPoints: [ep],
        middlewares: mws === undefined ? r.middlewares : [...mws, ...r.middlewares],
      };
      if (obs !== undefined) copy.observability = mergeObservability(r.observability, obs);
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
      {
        readonly asDefault: boolean;
        readonly http: { readonly middlewares?: readonly string[] | undefined };
        readonly observability?: RouterObservability | undefined;
      }
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
  // Every entry point's, the excluded ones too: a router may name them.
  const observability = new Map<string, RouterObservability>();
  for (const [n, ep] of Object.entries(entryPoints)) {
    if (ep.observability !== undefined) observability.set(n, ep.observability);
  }
  return { all: names, defaults: names.filter((n) => entryPoints[n]!.asDefault), middlewares, observability };
}
