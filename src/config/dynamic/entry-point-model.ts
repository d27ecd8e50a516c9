import { providerOf, qualify } from '../../core/qualified-name.ts';
import type { DynamicConfig, RouterConfig } from './schema.ts';
import type { RouterTlsConfig } from './tls.ts';

/**
 * What the static entry points impose on routers (Traefik's "models": entryPointModels in
 * pkg/provider/traefik/internal.go, applyModel in pkg/server/aggregator.go). A router that names
 * no entry point gets the `asDefault` ones. An entry point has a model when it has
 * `http.middlewares`, `http.tls` or `observability`, and every entry point has one once the static
 * `core` section is present (its `defaultRuleSyntax`). On each entry point with a model, a router
 * becomes a copy of its own, named `<ep>-<router>` when the router is on several entry points:
 * the entry point's middlewares run before the router's, the copy without its own `tls` takes the
 * entry point's whole `http.tls` (so it serves HTTPS there), and it takes the entry point's
 * observability keys it does not set. On the entry points without a model the router stays
 * itself under its own name.
 */
export interface EntryPointModel {
  /** The proxy's entry points, for routers that name none. */
  readonly all: readonly string[];
  /** The `asDefault: true` ones; empty = every entry point (unless `noDefaults`). */
  readonly defaults: readonly string[];
  /**
   * A router that names no entry point has none (Traefik's getDefaultsEntrypoints gives none when
   * only UDP entry points or `traefik` are marked `asDefault`, or none is routable): it is left
   * as it is, and the build disables it.
   */
  readonly noDefaults?: boolean;
  /** Entry point → middlewares prepended to its routers' (names resolve in the router's provider). */
  readonly middlewares: ReadonlyMap<string, readonly string[]>;
  /** Entry point → its `observability`, for those that set one. */
  readonly observability: ReadonlyMap<string, RouterObservability>;
  /** Entry point → its `http.tls` as a router's `tls`, for those that set one. */
  readonly tls: ReadonlyMap<string, RouterTlsConfig>;
  /** The static `core` section is present: every entry point has a model. */
  readonly everyEntryPoint: boolean;
  /** `core.defaultRuleSyntax`, when `core` is present: the syntax of routers without their own. */
  readonly defaultRuleSyntax?: string | undefined;
}

/**
 * Traefik's applyModel: with the static `core` section, every HTTP router (but those a provider
 * gave its `defaultRule`) and every TCP router without a `ruleSyntax` takes
 * `core.defaultRuleSyntax` (the HTTP and TCP models of pkg/provider/traefik/internal.go).
 */
function withDefaultRuleSyntax(config: DynamicConfig, syntax: string): DynamicConfig {
  const http: Record<string, RouterConfig> = {};
  for (const [name, r] of Object.entries(config.http.routers)) {
    http[name] = r.ruleSyntax === undefined || r.ruleSyntax === '' ? { ...r, ruleSyntax: syntax } : r;
  }
  const tcp = config.tcp;
  if (tcp === undefined) return { ...config, http: { ...config.http, routers: http } };
  const tcpRouters: typeof tcp.routers = {};
  for (const [name, r] of Object.entries(tcp.routers)) {
    tcpRouters[name] = r.ruleSyntax === undefined || r.ruleSyntax === '' ? { ...r, ruleSyntax: syntax } : r;
  }
  return { ...config, http: { ...config.http, routers: http }, tcp: { ...tcp, routers: tcpRouters } };
}

function hasModel(model: EntryPointModel, ep: string): boolean {
  const mws = model.middlewares.get(ep);
  return (
    model.everyEntryPoint ||
    (mws !== undefined && mws.length > 0) ||
    model.observability.has(ep) ||
    model.tls.has(ep)
  );
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

export function applyEntryPointModel(
  config: DynamicConfig,
  model: EntryPointModel,
  dropped?: ReadonlyMap<string, ReadonlySet<string>>,
): DynamicConfig {
  if (model.defaultRuleSyntax !== undefined) config = withDefaultRuleSyntax(config, model.defaultRuleSyntax);
  const anyModel =
    model.everyEntryPoint || model.middlewares.size > 0 || model.observability.size > 0 || model.tls.size > 0;
  if (model.defaults.length === 0 && !anyModel) return config;
  const routers: Record<string, RouterConfig> = {};
  /** A parent split into copies: its children name every copy (Traefik's modelRouterNames). */
  const copies = new Map<string, string[]>();
  let nested = false;
  for (const [name, r] of Object.entries(config.http.routers)) {
    // Only root routers take a model; a child stays under its parents (multi-layer routing).
    if (r.parentRefs !== undefined) {
      routers[name] = r;
      nested = true;
      continue;
    }
    if (model.noDefaults === true && (r.entryPoints === undefined || r.entryPoints.length === 0)) {
      routers[name] = r;
      continue;
    }
    const named = r.entryPoints ?? (model.defaults.length > 0 ? model.defaults : undefined);
    const eps = named ?? (anyModel ? model.all : undefined);
    if (eps === undefined) {
      routers[name] = r;
      continue;
    }
    const plain: string[] = [];
    const gone = dropped?.get(name);
    for (const ep of eps) {
      // A copy a core.strictTLSOptions conflict disabled: left out, the others keep their
      // `<ep>-<router>` names (Traefik disables that copy alone, modelRouterNames unchanged).
      if (gone?.has(ep) === true) continue;
      if (!hasModel(model, ep)) {
        plain.push(ep);
        continue;
      }
      const mws = model.middlewares.get(ep);
      const obs = model.observability.get(ep);
      const tls = r.tls ?? model.tls.get(ep);
      const copy: RouterConfig = {
        ...r,
        entryPoints: [ep],
        middlewares: mws === undefined ? r.middlewares : [...mws, ...r.middlewares],
        ...(tls !== undefined ? { tls } : {}),
      };
      if (obs !== undefined) copy.observability = mergeObservability(r.observability, obs);
      if (eps.length > 1) {
        routers[`${ep}-${name}`] = copy;
        const list = copies.get(name);
        if (list === undefined) copies.set(name, [`${ep}-${name}`]);
        else list.push(`${ep}-${name}`);
      } else routers[name] = copy;
    }
    if (plain.length > 0) {
      // A router defaulted to every entry point keeps meaning "every one" when nothing split it.
      const keepAll = named === undefined && plain.length === eps.length;
      routers[name] = keepAll ? r : { ...r, entryPoints: plain };
    }
  }
  if (nested) {
    // Names here are qualified (a merged configuration): a reference is qualified the same way.
    for (const [name, r] of Object.entries(routers)) {
      if (r.parentRefs === undefined) continue;
      const refs: string[] = [];
      for (const ref of r.parentRefs) {
        const parent = name.includes('@') ? qualify(ref, providerOf(name)) : ref;
        if (Object.hasOwn(routers, parent)) refs.push(parent);
        refs.push(...(copies.get(parent) ?? []));
      }
      routers[name] = { ...r, parentRefs: refs };
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
        readonly http: {
          readonly middlewares?: readonly string[] | undefined;
          readonly tls?: RouterTlsConfig | undefined;
        };
        readonly observability?: RouterObservability | undefined;
      }
    >
  >,
  exclude: ReadonlySet<string> = new Set(),
  /** The static `core` section is present (Traefik gives every entry point a model then). */
  core = false,
  /** Its `defaultRuleSyntax`. */
  defaultRuleSyntax?: string,
): EntryPointModel {
  const names = Object.keys(entryPoints).filter((n) => !exclude.has(n));
  const middlewares = new Map<string, readonly string[]>();
  for (const n of names) {
    const m = entryPoints[n]!.http.middlewares;
    if (m !== undefined && m.length > 0) middlewares.set(n, m);
  }
  // Every entry point's, the excluded ones too: a router may name them.
  const observability = new Map<string, RouterObservability>();
  const tls = new Map<string, RouterTlsConfig>();
  for (const [n, ep] of Object.entries(entryPoints)) {
    if (ep.observability !== undefined) observability.set(n, ep.observability);
    if (ep.http.tls !== undefined) tls.set(n, ep.http.tls);
  }
  // Traefik's getDefaultsEntrypoints: with any entry point marked (a UDP one or `traefik` too),
  // the marked ones only.
  const marked = Object.values(entryPoints).some((ep) => ep.asDefault);
  const defaults = names.filter((n) => entryPoints[n]!.asDefault).sort();
  return {
    all: names,
    // Sorted, as Traefik's getDefaultsEntrypoints gives them to the routers.
    defaults,
    ...((marked ? defaults : names).length === 0 ? { noDefaults: true } : {}),
    middlewares,
    observability,
    tls,
    everyEntryPoint: core,
    ...(core && defaultRuleSyntax !== undefined ? { defaultRuleSyntax } : {}),
  };
}
