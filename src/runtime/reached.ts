import { type DisabledObject, objectKey } from '../config/dynamic/disabled.ts';
import type { HttpSection } from '../config/dynamic/schema.ts';
import { serviceMiddlewareReferences, serviceReferences } from '../config/dynamic/service-references.ts';
import type { ConfigIssue } from '../config/issues.ts';
import { providerOf, qualify } from '../core/qualified-name.ts';
import { NO_ENTRY_POINT } from './build-tcp.ts';
import type { RuntimeSnapshot } from './types.ts';

/*
 * What Traefik builds of a configuration: the services and middlewares its routers reach. Traefik
 * builds a service only for a router that needs it (pkg/server/service/service.go BuildHTTP, from
 * pkg/server/router/router.go buildHTTPHandler; TCP: pkg/server/router/tcp/manager.go), so only
 * those carry its errors and a serverStatus in its API, and only their load balancers run health
 * checks (the health checkers are made by getLoadBalancerServiceHandler and launched by
 * LaunchHealthCheck). The admin API (admin/views.ts, l4-views.ts) and the configuration watcher
 * (which stops the health checks of services no router reaches) both read it from here. Computed
 * once per snapshot, never on the request path.
 */

/** Readers of what a configuration holds, as written (an object validation left out included). */
export function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function text(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

export function strings(v: unknown): string[] {
  if (typeof v === 'string') return v === '' ? [] : v.split(',').map((x) => x.trim());
  return Array.isArray(v) ? v.map(text).filter((x) => x !== '') : [];
}

/** `http` (absent), `tcp` or `udp`: which part of the configuration an object is in. */
export type Kind = 'tcp' | 'udp' | undefined;

/** The disabled object of `section` (of `kind`) named `name`, if the snapshot left one out. */
export function disabledObject(
  snapshot: RuntimeSnapshot,
  section: HttpSection,
  name: string,
  kind?: Kind,
): DisabledObject | undefined {
  return snapshot.disabled.get(objectKey(section, name, kind));
}

/** Names of the disabled objects of one section of `kind` (absent: `http`). */
export function disabledNames(snapshot: RuntimeSnapshot, section: HttpSection, kind?: Kind): string[] {
  const out: string[] = [];
  for (const d of snapshot.disabled.values()) if (d.section === section && d.kind === kind) out.push(d.name);
  return out;
}

/** The snapshot's issues about one object of `kind` (`http`, `tcp`, `udp`). */
export function issuesOf(
  snapshot: RuntimeSnapshot,
  section: HttpSection,
  name: string,
  kind: 'http' | 'tcp' | 'udp' = 'http',
): ConfigIssue[] {
  return snapshot.issues.filter((i) => i.path[0] === kind && i.path[1] === section && i.path[2] === name);
}

export function hasError(issues: readonly ConfigIssue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}

/** Every object of a section, those left out because of errors included, sorted by name. */
export function objectNames(snapshot: RuntimeSnapshot, section: HttpSection): string[] {
  return [...Object.keys(snapshot.config.http[section]), ...disabledNames(snapshot, section)].sort();
}

/** A name as a disabled object writes it, qualified in `provider` (`''` stays `''`). */
function qualifyWritten(name: string, provider: string): string {
  return name === '' || name.includes('@') || provider === '' ? name : `${name}@${provider}`;
}

/** A router, in force or left out, with its service and middlewares qualified. */
export interface RouterRefs {
  readonly name: string;
  readonly service: string | undefined;
  readonly middlewares: readonly string[];
  /**
   * Traefik builds its handler (buildRouterHandler): it has a valid entry point
   * (GetRoutersByEntryPoints), a priority under the users' and known TLS options
   * (buildEntryPointHandler, pkg/server/router/router.go). Its service is then built before its
   * middlewares and before its rule is added to the muxer (buildHTTPHandler, then muxer.AddRoute):
   * a router disabled by a middleware or its rule still has its service built.
   */
  readonly built: boolean;
}

/** The HTTP routers of a snapshot, in force or left out (RouterRefs). */
export function httpRouterRefs(snapshot: RuntimeSnapshot): RouterRefs[] {
  const out: RouterRefs[] = [];
  for (const name of objectNames(snapshot, 'routers')) {
    const r = snapshot.config.http.routers[name];
    const provider = providerOf(name);
    if (r !== undefined) {
      out.push({
        name,
        service: r.service === undefined ? undefined : qualify(r.service, provider),
        middlewares: r.middlewares.map((m) => qualify(m, provider)),
        built: true,
      });
      continue;
    }
    const d = disabledObject(snapshot, 'routers', name);
    if (d === undefined) continue;
    const v = record(d.value);
    const service = qualifyWritten(text(v['service']), provider);
    const early = issuesOf(snapshot, 'routers', name).some(
      (i) =>
        i.severity === 'error' &&
        (i.path[3] === 'entryPoints' ||
          i.path[3] === 'priority' ||
          i.path[3] === 'tls' ||
          // No default entry point for a router that names none (build-snapshot.ts).
          i.message === NO_ENTRY_POINT),
    );
    out.push({
      name,
      service: service === '' ? undefined : service,
      middlewares: strings(v['middlewares']).map((m) => qualifyWritten(m, provider)),
      built: !early,
    });
  }
  return out;
}

export interface HttpReached {
  /**
   * The services Traefik builds (BuildHTTP): those of the routers it gets to build, the services
   * under them, and the services of the `errors` middlewares it builds (customerrors.New builds
   * its service). Only those have a serverStatus (runtime ServiceInfo UpdateServerStatus) and run
   * health checks.
   */
  readonly builtServices: ReadonlySet<string>;
  /** The services and middlewares (`services/n`, `middlewares/n`) Traefik builds. */
  readonly reached: ReadonlySet<string>;
}

const httpCache = new WeakMap<RuntimeSnapshot, HttpReached>();

/** What Traefik builds of the snapshot's HTTP section (HttpReached), once per snapshot. */
export function httpReached(snapshot: RuntimeSnapshot, routers?: readonly RouterRefs[]): HttpReached {
  const done = httpCache.get(snapshot);
  if (done !== undefined) return done;
  const refs = routers ?? httpRouterRefs(snapshot);
  const builtServices = new Set<string>();
  const reached = new Set<string>();
  // Services with an error, indexed once (a configuration is applied with this, not only asked).
  const failed = new Set<unknown>();
  for (const i of snapshot.issues)
    if (i.severity === 'error' && i.path[0] === 'http' && i.path[1] === 'services') failed.add(i.path[2]);
  const serviceOk = (name: string): boolean =>
    disabledObject(snapshot, 'services', name) === undefined && !failed.has(name);
  const todo: string[] = [];
  const mws: string[] = [];
  for (const r of refs) {
    if (!r.built || r.service === undefined) continue;
    todo.push(r.service);
    // buildHTTPHandler returns on its service's error, before the middlewares' chain is built.
    if (serviceOk(r.service)) mws.push(...r.middlewares);
  }
  while (todo.length > 0 || mws.length > 0) {
    for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
      if (builtServices.has(name)) continue;
      builtServices.add(name);
      reached.add(`services/${name}`);
      const cfg = snapshot.config.http.services[name];
      if (cfg === undefined) continue;
      const provider = providerOf(name);
      for (const ref of serviceReferences(cfg)) todo.push(qualify(ref.name, provider));
      // Its own middlewares and its references' (Traefik v3.7 wrapMiddlewares), built with it.
      for (const ref of serviceMiddlewareReferences(cfg)) mws.push(qualify(ref.name, provider));
    }
    for (let name = mws.pop(); name !== undefined; name = mws.pop()) {
      if (reached.has(`middlewares/${name}`)) continue;
      reached.add(`middlewares/${name}`);
      const cfg = snapshot.config.http.middlewares[name];
      const provider = providerOf(name);
      // A chain builds its members (pkg/middlewares/chain, BuildChain in its provider's context).
      if (cfg?.type === 'chain') {
        const members = (cfg.config as { middlewares?: readonly string[] }).middlewares ?? [];
        for (const m of members) mws.push(qualify(m, provider));
      }
      // An error page builds its service (pkg/middlewares/customerrors New: serviceBuilder.BuildHTTP).
      if (cfg?.type === 'errors') {
        const service = (cfg.config as { service?: string }).service;
        if (service !== undefined && service !== '') todo.push(qualify(service, provider));
      }
    }
  }
  const out = { builtServices, reached };
  httpCache.set(snapshot, out);
  return out;
}

/** A TCP or UDP object, in force or left out. */
export interface L4Object {
  readonly name: string;
  readonly value: Record<string, unknown>;
  readonly disabled: boolean;
  /** False for an object the schema refused: `value` is as written. */
  readonly parsed: boolean;
}

/** A reference written in `owner`'s provider, qualified as the merge qualified names. */
export function qualifyRef(ref: string, owner: string): string {
  return qualifyWritten(ref, providerOf(owner));
}

/** Every object of one section, those left out because of errors included, sorted by name. */
export function l4Objects(snap: RuntimeSnapshot, kind: 'tcp' | 'udp', section: HttpSection): L4Object[] {
  const part = snap.config[kind] as Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined;
  const out: L4Object[] = Object.entries(part?.[section] ?? {}).map(([name, value]) => ({
    name,
    value: record(value),
    disabled: false,
    parsed: true,
  }));
  for (const name of disabledNames(snap, section, kind)) {
    const d = disabledObject(snap, section, name, kind);
    out.push({ name, value: record(d?.value), disabled: true, parsed: d?.parsed ?? false });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const l4Cache = new WeakMap<RuntimeSnapshot, Map<'tcp' | 'udp', ReadonlySet<string>>>();

/**
 * The services and middlewares (`services/n`, `middlewares/n`) Traefik builds, so the only ones
 * that can carry its errors or run health checks: those of the routers its managers get to build,
 * and what is under them. A TCP router is built past its entry points, its rule's parse and its
 * TLS options (a named HostSNI without `tls` does not stop it), its service first, then its
 * middlewares if the service built (pkg/server/router/tcp/manager.go addTCPHandlers,
 * buildTCPHandler); a UDP router past its entry points (pkg/server/router/udp/router.go). A
 * weighted service builds its children.
 */
export function l4Reached(snap: RuntimeSnapshot, kind: 'tcp' | 'udp'): ReadonlySet<string> {
  let byKind = l4Cache.get(snap);
  if (byKind === undefined) {
    byKind = new Map();
    l4Cache.set(snap, byKind);
  }
  const done = byKind.get(kind);
  if (done !== undefined) return done;
  const out = new Set<string>();
  const services = new Map(l4Objects(snap, kind, 'services').map((o) => [o.name, o]));
  const serviceOk = (n: string): boolean => {
    const o = services.get(n);
    return o !== undefined && !o.disabled && !hasError(issuesOf(snap, 'services', n, kind));
  };
  const todo: string[] = [];
  for (const r of l4Objects(snap, kind, 'routers')) {
    const stopped = issuesOf(snap, 'routers', r.name, kind).some(
      (i) =>
        // No default entry point for it (build-tcp.ts, a warning that leaves it out): in no
        // entry point's list (GetTCPRoutersByEntryPoints), so never built.
        i.message.startsWith(NO_ENTRY_POINT) ||
        (i.severity === 'error' &&
          (i.path[3] === 'entryPoints' ||
            i.path[3] === 'tls' ||
            (i.path[3] === 'rule' && !i.message.startsWith('a HostSNI with a name needs')))),
    );
    const service = qualifyRef(text(r.value['service']), r.name);
    if (stopped || service === '') continue;
    todo.push(service);
    if (serviceOk(service))
      for (const m of strings(r.value['middlewares'])) out.add(`middlewares/${qualifyRef(m, r.name)}`);
  }
  for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
    if (out.has(`services/${n}`)) continue;
    out.add(`services/${n}`);
    const children = record(services.get(n)?.value['weighted'])['services'];
    if (Array.isArray(children)) for (const c of children) todo.push(qualifyRef(text(record(c)['name']), n));
  }
  byKind.set(kind, out);
  return out;
}

/** The service a shared health check belongs to (BuildResult.healthKeys). */
export interface HealthKeyOwner {
  readonly kind: 'http' | 'tcp';
  /** Its qualified name. */
  readonly service: string;
}

/**
 * `keys` (the shared objects a build uses) without the health checks of the services Traefik
 * would not build (httpReached, l4Reached): the ResourceCache then stops those probes, as Traefik
 * launches the health checkers of the load balancers it built only (pkg/server/service/service.go
 * LaunchHealthCheck), and starts them once a reload makes a router reach the service. The other
 * services' health state is untouched.
 */
export function withoutUnreachedHealth(
  snapshot: RuntimeSnapshot,
  keys: ReadonlySet<string>,
  healthKeys: ReadonlyMap<string, HealthKeyOwner>,
): ReadonlySet<string> {
  let out: Set<string> | undefined;
  for (const [key, { kind, service }] of healthKeys) {
    const built =
      kind === 'http'
        ? httpReached(snapshot).builtServices.has(service)
        : l4Reached(snapshot, 'tcp').has(`services/${service}`);
    if (built) continue;
    out ??= new Set(keys);
    out.delete(key);
  }
  return out ?? keys;
}
