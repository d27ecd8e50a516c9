import type { HttpSection } from '../config/dynamic/schema.ts';
import { formatIssue } from '../config/issues.ts';
import { providerNameOf } from '../core/qualified-name.ts';
import { compileTcpRule, defaultTcpPriority } from '../router/tcp/index.ts';
import { type L4Object, l4Objects, l4Reached, qualifyRef } from '../runtime/reached.ts';
import type { RuntimeSnapshot } from '../runtime/types.ts';
import { disabledMiddlewareView, middlewareKind, record, strings, text } from './disabled-views.ts';
import { traefikInlineConfig, traefikType } from './traefik-config.ts';
import {
  counts,
  hasError,
  issuesOf,
  type MiddlewareView,
  type ObjectStatus,
  objectStatus,
  routerStatus,
  type SectionCounts,
  usedByField,
} from './views.ts';

/*
 * The layer 4 views of the admin API: Traefik's `/api/tcp/routers|services|middlewares` and
 * `/api/udp/routers|services` (pkg/api/handler_tcp.go, handler_udp.go), in the shape of our HTTP
 * views (views.ts): `status` enabled or disabled and `issues` (Traefik's `error`; an enabled
 * object with issues is what Traefik calls `warning`). Traefik's own fields are kept: a router's
 * `tls` and `using` (the entry points it is really served on), a service's `usedBy` and
 * `serverStatus` (address → UP or DOWN, as its health check sees it now).
 *
 * Enabled and disabled objects are read the same way, field by field from what the configuration
 * holds (disabled-views.ts's readers): an object validation left out keeps what was written.
 */

export type L4Kind = 'tcp' | 'udp';

/** Where the admin server's entry points are, for routers that name none and for `using`. */
export interface L4EntryPoints {
  /** TCP entry points a router without `entryPoints` is on. */
  readonly tcpDefaults: readonly string[];
  /** The UDP entry points (`address: ":port/udp"`): a UDP router without `entryPoints` is on all. */
  readonly udp: readonly string[];
}

export interface L4RouterView {
  readonly name: string;
  readonly provider: string;
  /** TCP only. */
  readonly rule?: string;
  readonly priority?: number;
  readonly middlewares?: readonly string[];
  readonly tls?: unknown;
  readonly entryPoints: readonly string[];
  /** The entry points whose connections (or datagrams) it is given now. */
  readonly using: readonly string[];
  readonly service: string;
  readonly status: ObjectStatus;
  /** Traefik's `error` (traefik-errors.ts). */
  readonly error?: readonly string[];
  readonly issues: readonly string[];
}

export interface L4ServerView {
  readonly address: string;
  /** TCP only: as its health check sees it (always up without one). */
  readonly status?: 'up' | 'down';
}

export interface L4ServiceView {
  readonly name: string;
  readonly provider: string;
  /** Traefik's lowercased kind: `loadbalancer`, `weighted`; absent when it has none. */
  readonly type?: string;
  readonly status: ObjectStatus;
  readonly error?: readonly string[];
  readonly issues: readonly string[];
  readonly servers?: readonly L4ServerView[];
  /** Traefik's field: server address → `UP` or `DOWN` (TCP load balancers that were built). */
  readonly serverStatus?: Readonly<Record<string, 'UP' | 'DOWN'>>;
  readonly services?: readonly string[];
  /** The routers that name it; absent when none (Traefik's omitempty). */
  readonly usedBy?: readonly string[];
  /** Traefik's inline configuration of an enabled one: `loadBalancer` or `weighted` (traefik-config.ts). */
  readonly [traefikKey: string]: unknown;
}

/** Traefik's status of a TCP/UDP service or middleware: `enabled` without error if never built. */
function l4ObjectStatus(
  snap: RuntimeSnapshot,
  kind: L4Kind,
  section: 'services' | 'middlewares',
  name: string,
  issues: Parameters<typeof objectStatus>[4],
  off: boolean,
): { readonly status: ObjectStatus; readonly error?: readonly string[] } {
  if (!l4Reached(snap, kind).has(`${section}/${name}`)) return { status: 'enabled' };
  return objectStatus(snap, kind, section, name, issues, off);
}

/** Names of one section's objects (for lookups by short name). */
export function l4Names(snap: RuntimeSnapshot, kind: L4Kind, section: HttpSection): string[] {
  return l4Objects(snap, kind, section).map((o) => o.name);
}

function routerView(snap: RuntimeSnapshot, kind: L4Kind, o: L4Object, eps: L4EntryPoints): L4RouterView {
  const v = o.value;
  const issues = issuesOf(snap, 'routers', o.name, kind);
  const written = strings(v['entryPoints']);
  const entryPoints = written.length > 0 ? written : kind === 'tcp' ? eps.tcpDefaults : eps.udp;
  const service = qualifyRef(text(v['service']), o.name);
  const common = { name: o.name, provider: providerNameOf(o.name) };
  if (kind === 'udp') {
    const built = snap.udp.routers.has(o.name);
    // Traefik's rule: one UDP router per entry point; `using` says where this one won.
    const using = entryPoints.filter((ep) => snap.udp.entryPoint(ep)?.router === o.name);
    return {
      ...common,
      entryPoints,
      using,
      service,
      ...routerStatus(snap, kind, o.name, undefined, issues, !built || o.disabled || hasError(issues)),
      issues: issues.map(formatIssue),
    };
  }
  const rule = text(v['rule']);
  const built = snap.tcp.routers.has(o.name);
  const using = built ? entryPoints.filter((ep) => servesOn(snap, ep, o.name)) : [];
  const asked = Number(text(v['priority']));
  const syntax = v['ruleSyntax'];
  const compiled = compileTcpRule(rule, typeof syntax === 'string' ? syntax : undefined);
  const priority =
    Number.isInteger(asked) && asked !== 0
      ? asked
      : defaultTcpPriority(rule, compiled.ok && compiled.catchAll);
  const tls = v['tls'];
  return {
    ...common,
    rule,
    priority,
    entryPoints,
    using,
    // Absent when empty (Traefik's TCPRouter `json:"middlewares,omitempty"`).
    ...(strings(v['middlewares']).length === 0
      ? {}
      : { middlewares: strings(v['middlewares']).map((m) => qualifyRef(m, o.name)) }),
    service,
    ...(tls === undefined ? {} : { tls: tls ?? {} }),
    ...routerStatus(
      snap,
      kind,
      o.name,
      rule,
      issues,
      !built || o.disabled || hasError(issues),
      v['ruleSyntax'],
    ),
    issues: issues.map(formatIssue),
  };
}

/** Whether the dispatcher of entry point `ep` holds TCP router `name`. */
function servesOn(snap: RuntimeSnapshot, ep: string, name: string): boolean {
  const routes = snap.tcp.entryPoint(ep);
  return [routes.tcp, routes.tcpTls].some((t) => t?.list().some((r) => r.name === name) === true);
}

function serviceView(snap: RuntimeSnapshot, kind: L4Kind, o: L4Object): L4ServiceView {
  const v = o.value;
  const issues = issuesOf(snap, 'services', o.name, kind);
  const lines = issues.map(formatIssue);
  // Parsed: `{ kind, loadBalancer | weighted }`; as written: `{ loadBalancer | weighted }`.
  const tag = text(v['kind']);
  const type =
    tag === 'loadBalancer' || tag === 'weighted'
      ? tag
      : 'loadBalancer' in v
        ? 'loadBalancer'
        : 'weighted' in v
          ? 'weighted'
          : 'unknown';
  // Every TCP service is built (build-tcp.ts); Traefik builds, and shows the servers of, only
  // those a router reaches.
  const tcpNode =
    kind === 'tcp' && l4Reached(snap, kind).has(`services/${o.name}`)
      ? snap.tcp.services.get(o.name)
      : undefined;
  const node = tcpNode ?? (kind === 'udp' ? snap.udp.services.get(o.name) : undefined);
  const usedBy = usedByField(
    l4Objects(snap, kind, 'routers')
      .filter((r) => qualifyRef(text(r.value['service']), r.name) === o.name)
      .map((r) => r.name),
  );
  // Only services a router uses are built: one that is not, with issues, was left out.
  const off = o.disabled || hasError(issues) || (node === undefined && issues.length > 0);
  const base = {
    name: o.name,
    provider: providerNameOf(o.name),
    ...traefikType(type),
    ...(o.disabled || type === 'unknown' ? {} : traefikInlineConfig(type, v[type])),
    ...l4ObjectStatus(snap, kind, 'services', o.name, issues, off),
  } as const;
  if (type === 'weighted') {
    const children = record(v['weighted'])['services'];
    const services = (Array.isArray(children) ? children : []).map((c) =>
      qualifyRef(text(record(c)['name']), o.name),
    );
    return { ...base, issues: lines, services, ...usedBy };
  }
  const written = record(v['loadBalancer'])['servers'];
  const addresses = (Array.isArray(written) ? written : []).map((s) => text(record(s)['address']));
  const states = tcpNode?.serverStates?.() ?? null;
  if (states === null)
    return { ...base, issues: lines, servers: addresses.map((address) => ({ address })), ...usedBy };
  const serverStatus: Record<string, 'UP' | 'DOWN'> = {};
  const servers = states.map((s): L4ServerView => {
    serverStatus[s.address] = s.up ? 'UP' : 'DOWN';
    if (!s.up) lines.push(`server ${s.address} is down`);
    return { address: s.address, status: s.up ? 'up' : 'down' };
  });
  return { ...base, issues: lines, servers, serverStatus, ...usedBy };
}

function middlewareView(snap: RuntimeSnapshot, o: L4Object): MiddlewareView {
  const issues = issuesOf(snap, 'middlewares', o.name, 'tcp');
  // Enabled ones are `{ type, config }` as a parsed disabled one is: one reader for both.
  const d = { kind: 'tcp', section: 'middlewares', name: o.name, parsed: o.parsed, value: o.value } as const;
  const view = disabledMiddlewareView(d, issues);
  // From the configuration object itself (view.config is a redacted copy): built once per object.
  const inline = o.disabled ? {} : traefikInlineConfig(middlewareKind(d).type, o.value['config']);
  return {
    ...view,
    ...inline,
    ...l4ObjectStatus(snap, 'tcp', 'middlewares', o.name, issues, o.disabled || hasError(issues)),
  };
}

/** The views of one section (`routers`, `services`, or TCP `middlewares`), sorted by name. */
export function l4Views(
  snap: RuntimeSnapshot,
  kind: L4Kind,
  section: 'routers' | 'services' | 'middlewares',
  eps: L4EntryPoints,
): (L4RouterView | L4ServiceView | MiddlewareView)[] {
  const all = l4Objects(snap, kind, section);
  if (section === 'routers') return all.map((o) => routerView(snap, kind, o, eps));
  if (section === 'services') return all.map((o) => serviceView(snap, kind, o));
  return kind === 'tcp' ? all.map((o) => middlewareView(snap, o)) : [];
}

/** One object's view, with its configuration for a service (as the HTTP one has). */
export function l4View(
  snap: RuntimeSnapshot,
  kind: L4Kind,
  section: 'routers' | 'services' | 'middlewares',
  name: string,
  eps: L4EntryPoints,
): unknown {
  const o = l4Objects(snap, kind, section).find((x) => x.name === name);
  if (o === undefined) return undefined;
  if (section === 'routers') return routerView(snap, kind, o, eps);
  if (section === 'middlewares') return middlewareView(snap, o);
  const { kind: _tag, ...config } = o.value;
  return { ...serviceView(snap, kind, o), config };
}

export interface L4Overview {
  readonly tcp: {
    readonly routers: SectionCounts;
    readonly services: SectionCounts;
    readonly middlewares: SectionCounts;
  };
  readonly udp: { readonly routers: SectionCounts; readonly services: SectionCounts };
}

/** The `tcp` and `udp` sections of `/api/overview` (Traefik's handler_overview.go counts). */
export function l4Overview(snap: RuntimeSnapshot, eps: L4EntryPoints): L4Overview {
  const c = (kind: L4Kind, section: 'routers' | 'services' | 'middlewares'): SectionCounts =>
    counts(l4Views(snap, kind, section, eps));
  return {
    tcp: {
      routers: c('tcp', 'routers'),
      services: c('tcp', 'services'),
      middlewares: c('tcp', 'middlewares'),
    },
    udp: { routers: c('udp', 'routers'), services: c('udp', 'services') },
  };
}
