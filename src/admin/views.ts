import { serviceReferences } from '../config/dynamic/service-references.ts';
import { type ConfigIssue, formatIssue } from '../config/issues.ts';
import { providerNameOf, providerOf, qualify } from '../core/qualified-name.ts';
import { defaultPriority } from '../router/index.ts';
import type { ReloadStatus } from '../runtime/config-watcher.ts';
import {
  type HttpReached,
  hasError,
  httpReached,
  httpRouterRefs,
  issuesOf,
  objectNames,
} from '../runtime/reached.ts';
import { LoadBalancerNode } from '../runtime/service-nodes.ts';
import type { RuntimeSnapshot } from '../runtime/types.ts';
import {
  disabledMiddlewareView,
  disabledObject,
  disabledRouterView,
  disabledServiceView,
} from './disabled-views.ts';
import type { InternalObjects } from './internal-views.ts';
import {
  DEFAULT_OBSERVABILITY,
  observabilityView,
  type RouterObservabilityView,
} from './observability-view.ts';
import { traefikInlineConfig, traefikServiceConfig, traefikType } from './traefik-config.ts';
import { type ErrorContext, errorField, traefikErrors, traefikStatusOf } from './traefik-errors.ts';

/*
 * The JSON the admin API serves (and the dashboard reads). Everything is derived from one
 * snapshot, read once per request, so that a view never mixes generations.
 */

/** Traefik's statuses (pkg/config/runtime StatusEnabled, StatusWarning, StatusDisabled). */
export type ObjectStatus = 'enabled' | 'warning' | 'disabled';

export interface RouterView {
  readonly name: string;
  readonly provider: string;
  readonly rule: string;
  /** An internal router's: `default` (Traefik's internal provider since v3.4, PR #11619). */
  readonly ruleSyntax?: string;
  /** A bigint for an internal router's Go math.MaxInt-based priority (written exactly). */
  readonly priority: number | bigint;
  readonly entryPoints: readonly string[];
  /** Absent when empty (Traefik's `json:"middlewares,omitempty"`). */
  readonly middlewares?: readonly string[];
  /** Absent for a parent router (multi-layer routing), whose children name services. */
  readonly service?: string;
  /**
   * A root router's observability with Traefik's defaults filled in (pkg/server/aggregator.go
   * applyDefaultObservabilityModel: every unset key true, `traceVerbosity` `minimal`).
   */
  readonly observability?: RouterObservabilityView;
  /** Traefik's `parentRefs` (qualified), for a child router. */
  readonly parentRefs?: readonly string[];
  /** The router's own `tls`, `options` defaulted to `default` (Traefik's newRouterRepresentation). */
  readonly tls?: {
    readonly options: string;
    readonly certResolver?: string;
    readonly domains?: readonly unknown[];
  };
  readonly status: ObjectStatus;
  /** Traefik's `error` (admin/traefik-errors.ts), absent when empty as Go's omitempty. */
  readonly error?: readonly string[];
  readonly issues: readonly string[];
}

export interface PoolView {
  readonly idle: number;
  readonly busy: number;
  readonly connecting: number;
  readonly opened: number;
  readonly closed: number;
  readonly reused: number;
}

export interface ServerView {
  readonly url: string;
  readonly status: 'up' | 'down';
  readonly inFlight: number;
  readonly pool: PoolView;
}

export interface ServiceView {
  readonly name: string;
  readonly provider: string;
  /**
   * Traefik's lowercased kind (`loadbalancer`, traefikType); absent for a service whose kind
   * cannot be told and for an internal service (Traefik's extractType finds none: omitted).
   */
  readonly type?: string;
  readonly status: ObjectStatus;
  readonly error?: readonly string[];
  readonly issues: readonly string[];
  readonly servers?: readonly ServerView[];
  /** Traefik's map of a load balancer's servers: URL → UP or DOWN (runtime ServiceInfo GetAllStatus). */
  readonly serverStatus?: Readonly<Record<string, 'UP' | 'DOWN'>>;
  readonly services?: readonly string[];
  /** Its own middlewares as written (Traefik v3.7's Service.Middlewares, in its API's JSON). */
  readonly middlewares?: readonly string[];
  /** The routers that name it (Traefik's usedBy). */
  readonly usedBy?: readonly string[];
  /** Traefik's inline configuration: `loadBalancer`, `weighted`… (admin/traefik-config.ts). */
  readonly [traefikKey: string]: unknown;
}

export interface MiddlewareView {
  readonly name: string;
  readonly provider: string;
  /** Traefik's lowercased kind (traefikType); absent when it has none. */
  readonly type?: string;
  readonly status: ObjectStatus;
  readonly error?: readonly string[];
  readonly issues: readonly string[];
  readonly config: unknown;
  /** The routers that name it (Traefik's usedBy). */
  readonly usedBy?: readonly string[];
  /** Traefik's inline configuration: `rateLimit`, `headers`… (admin/traefik-config.ts). */
  readonly [traefikKey: string]: unknown;
}

export interface SectionCounts {
  readonly total: number;
  readonly warnings: number;
  readonly errors: number;
}

export interface OverviewView {
  readonly version: string;
  readonly generation: number;
  readonly reloads: {
    readonly applied: number;
    readonly rejected: number;
    readonly lastAppliedAt: number;
    readonly lastRejectedAt: number;
    readonly lastRejection: { readonly provider: string; readonly issues: readonly string[] } | null;
  };
  readonly http: {
    readonly routers: SectionCounts;
    readonly services: SectionCounts;
    readonly middlewares: SectionCounts;
  };
  /**
   * Issues of the configuration in force that concern no router, service or middleware: reported
   * until fixed (a file that cannot be parsed rejects its update whole: `reloads.lastRejection`).
   */
  readonly issues: readonly { readonly severity: ConfigIssue['severity']; readonly text: string }[];
}

/** Sections whose objects carry their own issues in their views. */
const SHOWN_SECTIONS = new Set(['routers', 'services', 'middlewares']);
/** `tcp` and `udp` objects have their views too (l4-views.ts); their servers transports do not. */
const SHOWN_KINDS = new Set(['http', 'tcp', 'udp']);

const NO_POOL: PoolView = { idle: 0, busy: 0, connecting: 0, opened: 0, closed: 0, reused: 0 };

export { hasError, issuesOf, objectNames };

/** `value[key]` of an object as written (anything), or undefined. */
function fieldOf(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * The Traefik errors of the `kind` objects of `snapshot` (traefik-errors.ts), for a router whose
 * service or middleware is disabled by its own: Traefik's router then shows those.
 */
export function errorsOfObjects(
  snapshot: RuntimeSnapshot,
  kind: 'http' | 'tcp' | 'udp',
  visiting: Set<string> = new Set(),
): NonNullable<ErrorContext['errorsOf']> {
  return (section, name) => {
    const key = `${section}/${name}`;
    if (visiting.has(key)) return [];
    visiting.add(key);
    try {
      return traefikErrors(issuesOf(snapshot, section, name, kind), {
        kind,
        name,
        errorsOf: errorsOfObjects(snapshot, kind, visiting),
        written: writtenOf(snapshot, kind, section, name),
      });
    } finally {
      visiting.delete(key);
    }
  };
}

export function routerView(
  snapshot: RuntimeSnapshot,
  name: string,
  allEntryPoints: readonly string[],
): RouterView | undefined {
  const r = snapshot.config.http.routers[name];
  const issues = issuesOf(snapshot, 'routers', name);
  if (r === undefined) {
    const d = disabledObject(snapshot, 'routers', name);
    if (d === undefined) return undefined;
    const v = disabledRouterView(d, issues, allEntryPoints);
    return {
      ...v,
      ...routerStatus(snapshot, 'http', name, v.rule, issues, true, fieldOf(d.value, 'ruleSyntax')),
    };
  }
  const provider = providerOf(name);
  const view: RouterView = {
    name,
    provider: providerNameOf(name),
    rule: r.rule,
    priority: r.priority !== 0 ? r.priority : defaultPriority(r.rule),
    // A child router (parentRefs) gets no default entry points: it is reached through its parents
    // only (Traefik's mergeConfiguration, pkg/server/aggregator.go: `router.ParentRefs == nil`).
    entryPoints: r.entryPoints ?? (r.parentRefs === undefined ? allEntryPoints : []),
    ...(r.middlewares.length === 0 ? {} : { middlewares: r.middlewares.map((m) => qualify(m, provider)) }),
    ...(r.service === undefined ? {} : { service: qualify(r.service, provider) }),
    // Only root routers take it (a child router has none in Traefik's API either).
    ...(r.parentRefs === undefined ? { observability: observabilityView(r.observability) } : {}),
    ...(r.parentRefs === undefined ? {} : { parentRefs: r.parentRefs.map((p) => qualify(p, provider)) }),
    ...(r.tls === undefined
      ? {}
      : {
          tls: {
            options: r.tls.options ?? 'default',
            ...(r.tls.certResolver === undefined ? {} : { certResolver: r.tls.certResolver }),
            ...(r.tls.domains.length === 0 ? {} : { domains: r.tls.domains }),
          },
        }),
    ...routerStatus(
      snapshot,
      'http',
      name,
      r.rule,
      issues,
      !snapshot.routers.has(name) || hasError(issues),
      r.ruleSyntax,
    ),
    issues: issues.map(formatIssue),
  };
  return view;
}

/**
 * A router's Traefik `status` and `error` (traefik-errors.ts): `off` says whether it is out of
 * force here.
 */
export function routerStatus(
  snapshot: RuntimeSnapshot,
  kind: 'http' | 'tcp' | 'udp',
  name: string,
  rule: string | undefined,
  issues: readonly ConfigIssue[],
  off: boolean,
  ruleSyntax?: unknown,
): { readonly status: ObjectStatus; readonly error?: readonly string[] } {
  const errors = traefikErrors(issues, {
    kind,
    name,
    ...(rule === undefined ? {} : { rule }),
    ...(typeof ruleSyntax === 'string' ? { ruleSyntax } : {}),
    errorsOf: errorsOfObjects(snapshot, kind),
  });
  return { status: traefikStatusOf(off, errors), ...errorField(errors) };
}

/**
 * A service or middleware as written when its errors disabled it (else as in force), for its
 * constructor's errors in Traefik's words (traefik-middleware-errors.ts).
 */
function writtenOf(
  snapshot: RuntimeSnapshot,
  kind: 'http' | 'tcp' | 'udp',
  section: 'services' | 'middlewares',
  name: string,
): unknown {
  const d = disabledObject(snapshot, section, name, kind === 'http' ? undefined : kind);
  if (d !== undefined) return d.value;
  if (kind !== 'http') return undefined;
  return snapshot.config.http[section][name];
}

/** An object's Traefik `status` and `error` that is not a router (traefik-errors.ts). */
export function objectStatus(
  snapshot: RuntimeSnapshot,
  kind: 'http' | 'tcp' | 'udp',
  section: 'services' | 'middlewares',
  name: string,
  issues: readonly ConfigIssue[],
  off: boolean,
): { readonly status: ObjectStatus; readonly error?: readonly string[] } {
  const errors = traefikErrors(issues, {
    kind,
    name,
    errorsOf: errorsOfObjects(snapshot, kind),
    written: writtenOf(snapshot, kind, section, name),
  });
  return { status: traefikStatusOf(off, errors), ...errorField(errors) };
}

interface UsedBy extends HttpReached {
  readonly services: ReadonlyMap<string, string[]>;
  readonly middlewares: ReadonlyMap<string, string[]>;
}
const usedByCache = new WeakMap<RuntimeSnapshot, UsedBy>();

/**
 * Which routers name each service and middleware, by name (Traefik's runtime PopulateUsedBy: every
 * router's own service and middlewares, a disabled router's too), and what Traefik builds
 * (runtime/reached.ts), computed once per snapshot.
 */
function usedBy(snapshot: RuntimeSnapshot): UsedBy {
  let u = usedByCache.get(snapshot);
  if (u !== undefined) return u;
  const services = new Map<string, string[]>();
  const middlewares = new Map<string, string[]>();
  const add = (m: Map<string, string[]>, key: string, router: string): void => {
    const l = m.get(key);
    if (l === undefined) m.set(key, [router]);
    else if (!l.includes(router)) l.push(router);
  };
  const refs = httpRouterRefs(snapshot);
  for (const r of refs) {
    if (r.service !== undefined) add(services, r.service, r.name);
    for (const m of r.middlewares) add(middlewares, m, r.name);
  }
  u = { services, middlewares, ...httpReached(snapshot, refs) };
  usedByCache.set(snapshot, u);
  return u;
}

/**
 * Traefik builds only the services and middlewares its routers reach, and records an object's
 * errors when it builds it (pkg/server/service/service.go BuildHTTP, pkg/server/middleware
 * middlewares.go buildConstructor): one no router reaches is `enabled` without `error` there,
 * however broken (its located `issues` stay here for the operator).
 */
function httpObjectStatus(
  snapshot: RuntimeSnapshot,
  section: 'services' | 'middlewares',
  name: string,
  issues: readonly ConfigIssue[],
  off: boolean,
): { readonly status: ObjectStatus; readonly error?: readonly string[] } {
  if (!usedBy(snapshot).reached.has(`${section}/${name}`)) return { status: 'enabled' };
  return objectStatus(snapshot, 'http', section, name, issues, off);
}

/** `a` and `b` merged, sorted, once each (Traefik's PopulateUsedBy sorts usedBy). */
function mergeSorted(a: readonly string[], b: readonly string[] | undefined): string[] {
  return [...new Set([...a, ...(b ?? [])])].sort();
}

/** `{ usedBy }` unless empty (Traefik's `json:"usedBy,omitempty"`). */
export function usedByField(list: readonly string[] | undefined): { readonly usedBy?: readonly string[] } {
  return list === undefined || list.length === 0 ? {} : { usedBy: list };
}

interface InternalViews {
  readonly routers: readonly RouterView[];
  readonly services: readonly ServiceView[];
  readonly middlewares: readonly MiddlewareView[];
}
const internalCache = new WeakMap<RuntimeSnapshot, WeakMap<InternalObjects, InternalViews>>();

/**
 * The views of Traefik's internal provider's objects (admin/internal-views.ts) for a snapshot,
 * computed once per snapshot: always enabled, their usedBy the internal routers and the
 * configuration's routers that name them (Traefik's runtime PopulateUsedBy).
 */
export function internalViews(snapshot: RuntimeSnapshot, objs: InternalObjects): InternalViews {
  let bySnap = internalCache.get(snapshot);
  const hit = bySnap?.get(objs);
  if (hit !== undefined) return hit;
  const u = usedBy(snapshot);
  const users = (pick: (r: InternalObjects['routers'][number]) => readonly string[], name: string) =>
    objs.routers.filter((r) => pick(r).includes(name)).map((r) => r.name);
  const v: InternalViews = {
    routers: objs.routers.map(
      ({ middlewares, ...r }): RouterView => ({
        ...r,
        ...(middlewares.length === 0 ? {} : { middlewares }),
        provider: 'internal',
        observability: DEFAULT_OBSERVABILITY,
        status: 'enabled',
        issues: [],
      }),
    ),
    services: objs.services.map(
      (name): ServiceView => ({
        name,
        provider: 'internal',
        status: 'enabled',
        issues: [],
        ...usedByField(
          mergeSorted(
            users((r) => [r.service], name),
            u.services.get(name),
          ),
        ),
      }),
    ),
    middlewares: objs.middlewares.map(
      (m): MiddlewareView => ({
        // Already in Traefik's shape (internal-views.ts): its configuration under its type's key.
        [m.type]: m.config,
        ...m,
        ...traefikType(m.type),
        provider: 'internal',
        status: 'enabled',
        issues: [],
        ...usedByField(
          mergeSorted(
            users((r) => r.middlewares, m.name),
            u.middlewares.get(m.name),
          ),
        ),
      }),
    ),
  };
  if (bySnap === undefined) {
    bySnap = new WeakMap();
    internalCache.set(snapshot, bySnap);
  }
  bySnap.set(objs, v);
  return v;
}

/** `own` and `internal` (both sorted by name) as one list sorted by name. */
export function withInternal<T extends { readonly name: string }>(
  own: readonly T[],
  internal: readonly T[],
): T[] {
  if (internal.length === 0) return own as T[];
  return [...own, ...internal].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function routerViews(snapshot: RuntimeSnapshot, allEntryPoints: readonly string[]): RouterView[] {
  const out: RouterView[] = [];
  for (const name of objectNames(snapshot, 'routers')) {
    const v = routerView(snapshot, name, allEntryPoints);
    if (v !== undefined) out.push(v);
  }
  return out;
}

export function serviceView(snapshot: RuntimeSnapshot, name: string): ServiceView | undefined {
  const cfg = snapshot.config.http.services[name];
  if (cfg === undefined) {
    const d = disabledObject(snapshot, 'services', name);
    if (d === undefined) return undefined;
    const own = issuesOf(snapshot, 'services', name);
    return { ...disabledServiceView(d, own), ...httpObjectStatus(snapshot, 'services', name, own, true) };
  }
  const provider = providerOf(name);
  const node = snapshot.services.get(name);
  const own = issuesOf(snapshot, 'services', name);
  const issues = own.map(formatIssue);
  const base = {
    name,
    provider: providerNameOf(name),
    ...traefikType(cfg.kind),
    ...traefikServiceConfig(cfg),
    ...httpObjectStatus(snapshot, 'services', name, own, node === undefined || hasError(own)),
    ...(cfg.middlewares === undefined ? {} : { middlewares: cfg.middlewares }),
  };
  const used = usedByField(usedBy(snapshot).services.get(name));
  if (cfg.kind !== 'loadBalancer') {
    const services = serviceReferences(cfg).map((r) => qualify(r.name, provider));
    return { ...base, issues, services, ...used };
  }
  if (!(node instanceof LoadBalancerNode)) {
    const servers = cfg.loadBalancer.servers.map(
      (s): ServerView => ({ url: s.url, status: 'down', inFlight: 0, pool: NO_POOL }),
    );
    return { ...base, issues, servers, ...used };
  }
  const servers = node.servers.map((s, i): ServerView => {
    const st = s.pool.stats;
    const up = node.health === null || node.health.isUp(i);
    if (!up) issues.push(`server ${s.url} is down`);
    return {
      url: s.url,
      status: up ? 'up' : 'down',
      inFlight: node.inFlight[i] ?? 0,
      pool: {
        idle: st.idle,
        busy: st.busy,
        connecting: st.connecting,
        opened: st.opened,
        closed: st.closed,
        reused: st.reused,
      },
    };
  });
  // Traefik marks every server UP when it builds the service, then as its health check finds it;
  // a service no router uses is never built: no serverStatus (GetAllStatus nil, omitempty).
  if (!usedBy(snapshot).builtServices.has(name)) return { ...base, issues, servers, ...used };
  const serverStatus: Record<string, 'UP' | 'DOWN'> = {};
  for (const s of servers) serverStatus[s.url] = s.status === 'up' ? 'UP' : 'DOWN';
  return { ...base, issues, servers, ...(servers.length === 0 ? {} : { serverStatus }), ...used };
}

export function serviceViews(snapshot: RuntimeSnapshot): ServiceView[] {
  const out: ServiceView[] = [];
  for (const name of objectNames(snapshot, 'services')) {
    const v = serviceView(snapshot, name);
    if (v !== undefined) out.push(v);
  }
  return out;
}

export function middlewareView(snapshot: RuntimeSnapshot, name: string): MiddlewareView | undefined {
  const cfg = snapshot.config.http.middlewares[name];
  const issues = issuesOf(snapshot, 'middlewares', name);
  if (cfg === undefined) {
    const d = disabledObject(snapshot, 'middlewares', name);
    if (d === undefined) return undefined;
    return {
      ...disabledMiddlewareView(d, issues),
      ...httpObjectStatus(snapshot, 'middlewares', name, issues, true),
    };
  }
  return {
    name,
    provider: providerNameOf(name),
    ...traefikType(cfg.type, cfg.config),
    ...traefikInlineConfig(cfg.type, cfg.config),
    ...httpObjectStatus(
      snapshot,
      'middlewares',
      name,
      issues,
      !snapshot.middlewares.has(name) || hasError(issues),
    ),
    issues: issues.map(formatIssue),
    config: cfg.config,
    ...usedByField(usedBy(snapshot).middlewares.get(name)),
  };
}

export function middlewareViews(snapshot: RuntimeSnapshot): MiddlewareView[] {
  const out: MiddlewareView[] = [];
  for (const name of objectNames(snapshot, 'middlewares')) {
    const v = middlewareView(snapshot, name);
    if (v !== undefined) out.push(v);
  }
  return out;
}

/**
 * Traefik's overview counts (pkg/api/handler_overview.go getHTTPSection…): `disabled` objects as
 * errors, `warning` ones as warnings.
 */
export function counts(views: readonly { status: ObjectStatus }[]): SectionCounts {
  let warnings = 0;
  let errors = 0;
  for (const v of views) {
    if (v.status === 'disabled') errors++;
    else if (v.status === 'warning') warnings++;
  }
  return { total: views.length, warnings, errors };
}

export function overviewView(
  snapshot: RuntimeSnapshot,
  reloads: ReloadStatus,
  version: string,
  allEntryPoints: readonly string[],
  internal?: InternalObjects,
): OverviewView {
  const int = internal === undefined ? undefined : internalViews(snapshot, internal);
  const last = reloads.lastRejection;
  return {
    version,
    generation: snapshot.generation,
    reloads: {
      applied: reloads.applied,
      rejected: reloads.rejected,
      lastAppliedAt: reloads.lastAppliedAt,
      lastRejectedAt: reloads.lastRejectedAt,
      lastRejection: last === null ? null : { provider: last.provider, issues: last.issues.map(formatIssue) },
    },
    http: {
      // Traefik's counts take its internal provider's objects too (pkg/api/handler_overview.go).
      routers: counts(withInternal(routerViews(snapshot, allEntryPoints), int?.routers ?? [])),
      services: counts(withInternal(serviceViews(snapshot), int?.services ?? [])),
      middlewares: counts(withInternal(middlewareViews(snapshot), int?.middlewares ?? [])),
    },
    issues: snapshot.issues
      .filter((i) => !(SHOWN_KINDS.has(String(i.path[0])) && SHOWN_SECTIONS.has(String(i.path[1]))))
      .map((i) => ({ severity: i.severity, text: formatIssue(i) })),
  };
}

/**
 * The middlewares a router's requests go through, in order, chains replaced by their members
 * (what runs; a chain itself does nothing). A cycle was reported by validation; it stops here.
 */
export function flattenChain(
  snapshot: RuntimeSnapshot,
  names: readonly string[],
  provider: string,
): string[] {
  const out: string[] = [];
  const visiting = new Set<string>();
  const walk = (list: readonly string[], p: string): void => {
    for (const n of list) {
      const q = qualify(n, p);
      const cfg = snapshot.config.http.middlewares[q];
      if (cfg?.type !== 'chain') {
        out.push(q);
        continue;
      }
      if (visiting.has(q)) continue;
      visiting.add(q);
      walk(cfg.config.middlewares, providerOf(q));
      visiting.delete(q);
    }
  };
  walk(names, provider);
  return out;
}

/** Traefik's static Providers fields in declaration order (pkg/config/static/static_config.go). */
const TRAEFIK_PROVIDER_FIELDS: readonly (readonly [key: string, field: string])[] = [
  ['docker', 'Docker'],
  ['swarm', 'Swarm'],
  ['file', 'File'],
  ['kubernetesIngress', 'KubernetesIngress'],
  ['kubernetesIngressNGINX', 'KubernetesIngressNGINX'],
  ['kubernetesCRD', 'KubernetesCRD'],
  ['kubernetesGateway', 'KubernetesGateway'],
  ['knative', 'Knative'],
  ['rest', 'Rest'],
  ['consulCatalog', 'ConsulCatalog'],
  ['nomad', 'Nomad'],
  ['ecs', 'Ecs'],
  ['consul', 'Consul'],
  ['etcd', 'Etcd'],
  ['zooKeeper', 'ZooKeeper'],
  ['redis', 'Redis'],
  ['http', 'HTTP'],
];

/**
 * The overview's `providers` as Traefik's getProviders (pkg/api/handler_overview.go) lists them:
 * each static provider that is set, by its Go field name in declaration order, then
 * `plugin-<name>` for each plugin provider (Go's map order is random; ours is by name).
 */
export function traefikProviderNames(providers: Readonly<Record<string, unknown>>): string[] {
  const out = TRAEFIK_PROVIDER_FIELDS.filter(([key]) => providers[key] !== undefined).map(([, f]) => f);
  const plugins = providers['plugin'];
  if (typeof plugins === 'object' && plugins !== null)
    for (const name of Object.keys(plugins).sort()) out.push(`plugin-${name}`);
  return out;
}
