import { isIP } from 'node:net';
import { type Picker, shuffledRoundRobin, shuffledWeighted } from '../balancer/index.ts';
import { parseServerAddress } from '../config/dynamic/server-address.ts';
import type {
  TcpHealthCheckConfig,
  TcpSectionConfig,
  TcpServersTransportConfig,
} from '../config/dynamic/tcp.ts';
import { schemaDefaults } from '../config/schema-defaults.ts';
import { loadModule } from '../core/lazy-module.ts';
import type { Logger } from '../core/logger.ts';
import { providerOf, qualify } from '../core/qualified-name.ts';
import {
  activeCheckOptions,
  DEFAULT_HEALTH_CHECK_INTERVAL_MS,
  DEFAULT_HEALTH_CHECK_TIMEOUT_MS,
} from '../health/active-options.ts';
import type { ProbeTarget } from '../health/probe.ts';
import { TcpInFlightConn, TcpIpAllowList } from '../middleware/tcp/index.ts';
import { compileTcpRule } from '../router/tcp/index.ts';
import { loadUpstreamTls } from '../upstream/transport-tls.ts';
import type { TcpRouteSpot } from './build-dispatch.ts';
import { type ActiveHealthHub, type ActiveMonitorLike, activeMonitorModule } from './server-health.ts';

type TcpProbeModule = typeof import('../health/tcp-probe.ts');

import { serviceTree } from './service-tree.ts';
import type {
  TcpMiddleware,
  TcpRoute,
  TcpRouteTls,
  TcpServerRuntime,
  TcpServerTls,
  TcpServiceNode,
  TcpTransport,
} from './types.ts';

/** Traefik's error for a router left without entry points (pkg/config/runtime GetRoutersByEntryPoints). */
export const NO_ENTRY_POINT = 'no valid entryPoint for this router';

export interface TcpBuildContext {
  readonly logger: Logger;
  /** Shared state that survives reloads (health probes, in-flight counts), by key. */
  readonly shared: <T extends object>(key: string, create: () => T) => T;
  /** The entry points of a router that names none; undefined = every entry point. */
  readonly defaultEntryPoints: readonly string[] | undefined;
  /** `traefik`: Traefik's words for the error, for the log (ConfigIssue.traefik). */
  readonly err: (path: (string | number)[], message: string, traefik?: string) => void;
  readonly warn: (path: (string | number)[], message: string) => void;
  /** Workers: health checks probe in the control plane only (src/workers/health-hub.ts). */
  readonly activeHealth?: ActiveHealthHub;
  /** Told the shared key of each service's health check (BuildResult.healthKeys). */
  readonly healthKey?: (key: string, service: string) => void;
  /** The static `tcpServersTransport`: for services that name no transport of their own. */
  readonly defaultTransport?: TcpServersTransportConfig;
}

export interface TcpBuild {
  readonly spots: readonly TcpRouteSpot[];
  /**
   * The services built, by qualified name: every one (those no router reaches too, whose health
   * checks are not started: runtime/reached.ts withoutUnreachedHealth).
   */
  readonly services: ReadonlyMap<string, TcpServiceNode>;
  /** Some router terminates TLS: TLS must be loaded. */
  readonly terminates: boolean;
}

/**
 * Server health of one TCP load balancer (active probes), shared across reloads by its settings.
 * With workers the control plane probes and forwards each verdict; a worker mirrors them (the
 * hub's monitor) instead of probing, as HTTP services do (runtime/server-health.ts).
 */
class TcpServerHealth {
  readonly #monitor: ActiveMonitorLike;
  /** The hub this process reports its own probes' verdicts to (control plane), else null. */
  readonly #reports: { readonly hub: ActiveHealthHub; readonly key: string } | null;
  #closed = false;

  constructor(
    targets: readonly ProbeTarget[],
    hc: TcpHealthCheckConfig,
    logger: Logger,
    hub: { readonly hub: ActiveHealthHub; readonly key: string } | null,
  ) {
    const mirror = hub === null ? null : hub.hub.monitor(hub.key, targets.length, () => {});
    this.#reports = mirror === null ? hub : null;
    if (mirror !== null) {
      this.#monitor = mirror;
      return;
    }
    // Zero or negative: Traefik's defaults, as its NewServiceTCPHealthChecker (30s, 5s; a
    // non-positive unhealthyInterval is 30s, not `interval`).
    const intervalMs = hc.interval > 0 ? hc.interval : DEFAULT_HEALTH_CHECK_INTERVAL_MS;
    const timeoutMs = hc.timeout > 0 ? hc.timeout : DEFAULT_HEALTH_CHECK_TIMEOUT_MS;
    const opts = activeCheckOptions({
      mode: 'tcp',
      intervalMs,
      unhealthyIntervalMs:
        hc.unhealthyInterval === undefined
          ? intervalMs
          : hc.unhealthyInterval > 0
            ? hc.unhealthyInterval
            : DEFAULT_HEALTH_CHECK_INTERVAL_MS,
      timeoutMs,
      ...(hc.port === undefined ? {} : { port: hc.port }),
    });
    const probeOpts = { send: hc.send, expect: hc.expect, timeoutMs, port: hc.port };
    const reports = this.#reports;
    // The probers are loaded by the first TCP health check built (see core/lazy-module.ts).
    const { tcpProbe } = loadModule<TcpProbeModule>(import.meta.url, '../health/tcp-probe.ts');
    this.#monitor = new (activeMonitorModule().ActiveHealthMonitor)(targets, opts, {
      logger,
      probe: (target, _o, signal) => tcpProbe(target, probeOpts, signal),
      ...(reports === null
        ? {}
        : {
            onChange: (index: number, healthy: boolean) => {
              if (!this.#closed) reports.hub.changed(reports.key, index, healthy);
            },
          }),
    });
  }

  up(index: number): boolean {
    return this.#monitor.thresholds.healthy[index] === 1;
  }

  start(): void {
    this.#reports?.hub.track(this.#reports.key, this.#monitor.thresholds);
    this.#monitor.start();
  }

  close(): void {
    this.#closed = true;
    this.#reports?.hub.track(this.#reports.key, null);
    this.#monitor.stop();
  }
}

class TcpLoadBalancer implements TcpServiceNode {
  readonly name: string;
  readonly servers: readonly TcpServerRuntime[];
  readonly #picker: Picker;
  readonly #health: TcpServerHealth | null;
  readonly #accept: ((i: number) => boolean) | undefined;
  /** It has `healthCheck`: its status is what a weighted parent with `healthCheck` follows. */
  readonly #checked: boolean;

  constructor(
    name: string,
    servers: readonly TcpServerRuntime[],
    health: TcpServerHealth | null,
    checked: boolean,
  ) {
    this.name = name;
    this.servers = servers;
    this.#checked = checked;
    // Traefik's TCP servers have no weight: round robin, from a random server (Traefik shuffles
    // them when it builds the load balancer, tcp/service.go).
    this.#picker = shuffledRoundRobin(servers.length);
    this.#health = health;
    this.#accept = health === null ? undefined : (i) => health.up(i);
  }

  /**
   * The status a weighted parent with `healthCheck` follows: Traefik's WRRLoadBalancer reports
   * a change of status only (pkg/tcp/wrr_load_balancer.go SetStatus), so one with a health check
   * and no server stays up (the parent gives it its share, and its connections are closed).
   */
  available(): boolean {
    if (this.servers.length === 0) return this.#checked;
    const h = this.#health;
    if (h === null) return true;
    for (let i = 0; i < this.servers.length; i++) if (h.up(i)) return true;
    return false;
  }

  pick(): TcpServerRuntime | undefined {
    const i = this.#picker.pick(this.#accept);
    return i < 0 ? undefined : this.servers[i];
  }

  serverStates(): { address: string; up: boolean }[] {
    const h = this.#health;
    return this.servers.map((s, i) => ({ address: s.address, up: h === null || h.up(i) }));
  }
}

class TcpWeighted implements TcpServiceNode {
  readonly name: string;
  readonly #children: readonly TcpServiceNode[];
  readonly #picker: Picker;
  /**
   * With `healthCheck`, the children with a usable server; without, undefined: every child gets
   * its share, as Traefik v3.5+'s WRRLoadBalancer learns a child's status only through the
   * updater a parent with `healthCheck` registers (pkg/server/service/tcp/service.go BuildTCP).
   */
  readonly #accept: ((i: number) => boolean) | undefined;

  constructor(
    name: string,
    children: readonly TcpServiceNode[],
    weights: readonly number[],
    healthCheck: boolean,
  ) {
    this.name = name;
    this.#children = children;
    this.#picker = shuffledWeighted(weights);
    this.#accept = healthCheck ? (i) => children[i]!.available() : undefined;
  }

  /** Up while a child is, and with no child at all (Traefik's SetStatus, as above). */
  available(): boolean {
    return this.#children.length === 0 || this.#children.some((c) => c.available());
  }

  pick(): TcpServerRuntime | undefined {
    const i = this.#picker.pick(this.#accept);
    return i < 0 ? undefined : this.#children[i]!.pick();
  }

  serverStates(): null {
    return null;
  }
}

/** Go's crypto/tls, when a client config has neither ServerName nor InsecureSkipVerify. */
const GO_NO_SERVER_NAME = 'tls: either ServerName or InsecureSkipVerify must be specified in the tls.Config';

/**
 * `named`: the service names its serversTransport `t`, which gives the termination delay and the
 * PROXY protocol version. Else `t` is default@internal, whose dial settings apply but whose
 * terminationDelay and proxyProtocol do not: Traefik's DialerManager.Build (pkg/tcp/dialer.go)
 * takes those from the service's deprecated keys only, and since TCPServersLoadBalancer lost its
 * SetDefaults (the v3 code with TCP health checks) a service without them gets a termination delay of 0 and no PROXY header
 * (traefik/traefik#12802, still open for v3.7.18 and v3.8.0).
 */
function transportOf(
  t: TcpServersTransportConfig,
  named: boolean,
  lbProxy: 0 | 1 | 2,
  lbDelay: number | undefined,
): TcpTransport {
  return {
    dialTimeoutMs: t.dialTimeout,
    keepAliveMs: t.dialKeepAlive,
    terminationDelayMs: named ? t.terminationDelay : (lbDelay ?? 0),
    proxyProtocol: named ? (t.proxyProtocol?.version ?? 0) : lbProxy,
    idleTimeoutMs: t.idleTimeout,
  };
}

/**
 * The TCP part of a snapshot: routers (rule, TLS mode, middlewares, service) with the entry
 * points they serve, for the dispatcher's per entry point tables (build-dispatch.ts). Objects
 * with a problem are reported and left out; the rest is built.
 */
export function buildTcpRoutes(tcp: TcpSectionConfig | undefined, ctx: TcpBuildContext): TcpBuild {
  if (tcp === undefined) return { spots: [], services: new Map(), terminates: false };
  const services = new Map<string, TcpServiceNode | null>();
  /** Where a service's build problems go: nowhere while the unrouted services are built. */
  let report = ctx.err;

  const buildLoadBalancer = (
    qualified: string,
    lb: Extract<TcpSectionConfig['services'][string], { kind: 'loadBalancer' }>['loadBalancer'],
  ): TcpServiceNode | null => {
    // For services that name none: the static tcpServersTransport (Traefik's default@internal,
    // pkg/provider/traefik/internal.go serverTransportTCP), else the dynamic defaults.
    let t: TcpServersTransportConfig = ctx.defaultTransport ?? schemaDefaults().tcpServersTransport;
    let tname = '';
    // A service that names no serversTransport keeps the deprecated service-level values, and
    // without them a termination delay of 0 (transportOf says why).
    let lbDelay: number | undefined =
      lb.terminationDelay === undefined ? undefined : lb.terminationDelay < 0 ? -1 : lb.terminationDelay;
    let lbProxy: 0 | 1 | 2 = lb.proxyProtocol?.version ?? 0;
    if (lb.serversTransport !== undefined) {
      tname = qualify(lb.serversTransport, providerOf(qualified));
      // Traefik's default@internal, named: the static transport as its internal provider copies
      // it (serverTransportTCP: dial settings and TLS, no terminationDelay, so 0).
      const found =
        tname === 'default@internal' ? { ...t, terminationDelay: 0 } : tcp.serversTransports[tname];
      if (found === undefined) {
        report(
          ['tcp', 'services', qualified, 'loadBalancer', 'serversTransport'],
          `unknown serversTransport ${lb.serversTransport}`,
        );
        return null;
      }
      t = found;
      lbDelay = undefined;
      lbProxy = 0;
    }
    const transport = transportOf(t, tname !== '', lbProxy, lbDelay);
    let tls: ReturnType<typeof loadUpstreamTls> | undefined;
    const servers: TcpServerRuntime[] = [];
    const targets: ProbeTarget[] = [];
    for (const [i, s] of lb.servers.entries()) {
      const a = parseServerAddress(s.address, 'tcp');
      // Traefik's BuildTCP skips such a server ("Failed to split host port"); the validation
      // warned about it (validate-l4.ts).
      if ('error' in a) continue;
      let serverTls: TcpServerTls | null = null;
      if (s.tls) {
        tls ??= loadUpstreamTls({
          ...(t.tls ?? {}),
          certificates: t.tls?.certificates ?? [],
          rootCAs: t.tls?.rootCAs ?? [],
        });
        if (!tls.ok) {
          report(
            tname === ''
              ? ['tcp', 'services', qualified, 'loadBalancer', 'servers', i, 'tls']
              : ['tcp', 'serversTransports', tname, 'tls', ...tls.path],
            tls.message,
          );
          return null;
        }
        const u = tls.tls;
        serverTls = {
          // Read at each connection: a SPIFFE transport's context follows the SVID's rotations.
          get secureContext() {
            return u.secureContext;
          },
          servername: u.serverName ?? (isIP(a.host) === 0 ? a.host : undefined),
          rejectUnauthorized: !u.insecureSkipVerify,
          // Traefik's tcp DialerManager.Build: tls.peerCertURI checks the server's URI SAN
          // (pkg/tls VerifyPeerCertificate), as for HTTP serversTransports.
          checkServerIdentity: u.checkServerIdentity,
          // Traefik's tcpTLSDialer (pkg/tcp/dialer.go, v3.6 on) runs tls.Client(conn, config) on
          // the dialled connection, which never takes the server name from the address (as
          // tls.Dialer did before): without serverName, insecureSkipVerify or SPIFFE, Go refuses
          // the handshake before sending anything, so the dial fails (and so does the health
          // check, which dials the same way).
          refusal:
            (t.tls?.serverName ?? '') === '' &&
            t.tls?.insecureSkipVerify !== true &&
            t.tls?.spiffe === undefined
              ? GO_NO_SERVER_NAME
              : undefined,
        };
      }
      servers.push({
        address: s.address,
        host: a.host,
        port: a.port,
        service: qualified,
        transport,
        tls: serverTls,
        unusable: a.unusable,
      });
      targets.push({
        host: a.host,
        port: a.port,
        authority: s.address,
        ...(a.unusable === undefined ? {} : { unusable: a.unusable }),
        ...(serverTls === null ? {} : { tls: serverTls }),
      });
    }
    const hc = lb.healthCheck;
    // The same key in the control plane and in every worker: the hub's name for this check.
    const healthKey = `tcp-health|${qualified}|${JSON.stringify([lb.servers, hc, tls?.ok === true ? tls.tls.id : null])}`;
    const hub = ctx.activeHealth === undefined ? null : { hub: ctx.activeHealth, key: healthKey };
    if (hc !== undefined && servers.length > 0) ctx.healthKey?.(healthKey, qualified);
    const health =
      hc === undefined || servers.length === 0
        ? null
        : ctx.shared(
            healthKey,
            () => new TcpServerHealth(targets, hc, ctx.logger.child({ service: qualified }), hub),
          );
    return new TcpLoadBalancer(qualified, servers, health, hc !== undefined);
  };

  const buildService = serviceTree<TcpSectionConfig['services'][string], TcpServiceNode>(
    tcp.services,
    (qualified, svc) => buildLoadBalancer(qualified, svc.loadBalancer),
    (qualified, kids, weights) => {
      const spec = tcp.services[qualified];
      return new TcpWeighted(
        qualified,
        kids,
        weights,
        spec?.kind === 'weighted' && spec.weighted.healthCheck !== undefined,
      );
    },
    services,
  );

  // ipAllowList keeps no state: one for every router. An inFlightConn counts per use: Traefik
  // builds each TCP router's chain anew (pkg/server/router/tcp/manager.go buildTCPHandler, once
  // per router and entry point; pkg/server/middleware/tcp BuildChain), so two routers using it,
  // or one listing it twice, count apart. Kept across reloads by router, use and settings.
  const allowLists = new Map<string, TcpMiddleware>();
  for (const [name, m] of Object.entries(tcp.middlewares)) {
    if (m.type === 'ipAllowList') allowLists.set(name, new TcpIpAllowList(m.config.sourceRange));
  }
  const middlewareFor = (name: string, router: string, seen: Map<string, number>): TcpMiddleware => {
    const m = tcp.middlewares[name]!;
    if (m.type === 'ipAllowList') return allowLists.get(name)!;
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    return ctx.shared(
      `tcp-mw|${name}|@${router}#${n}|${JSON.stringify(m)}`,
      () => new TcpInFlightConn(m.config.amount),
    );
  };

  const spots: TcpRouteSpot[] = [];
  let terminates = false;
  for (const [name, r] of Object.entries(tcp.routers)) {
    const provider = providerOf(name);
    const base = ['tcp', 'routers', name];
    const rule = compileTcpRule(r.rule, r.ruleSyntax);
    if (!rule.ok) {
      ctx.err([...base, 'rule'], `${rule.error.message} (at offset ${rule.error.offset})`);
      continue;
    }
    const service = buildService(qualify(r.service, provider));
    if (service === null) {
      // Traefik's BuildTCP (pkg/server/service/tcp/service.go), logged by addTCPHandlers.
      const q = qualify(r.service, provider);
      if (tcp.services[q] === undefined)
        ctx.err(
          [...base, 'service'],
          `unknown TCP service ${r.service}`,
          `the service "${q}" does not exist`,
        );
      continue;
    }
    let ok = true;
    const names = r.middlewares.map((m, i) => {
      const q = qualify(m, provider);
      if (tcp.middlewares[q] === undefined) {
        // pkg/server/middleware/tcp/middlewares.go BuildChain.
        ctx.err(
          [...base, 'middlewares', i],
          `unknown TCP middleware ${m}`,
          `middleware "${q}" does not exist`,
        );
        ok = false;
      }
      return q;
    });
    if (!ok) continue;
    let tls: TcpRouteTls = { kind: 'none' };
    if (r.tls !== undefined) {
      if (r.tls.passthrough) tls = { kind: 'passthrough' };
      else {
        let options = r.tls.options ?? 'default';
        if (options !== 'default' && !options.includes('@')) options = `${options}@${provider}`;
        tls = { kind: 'terminate', options };
        terminates = true;
      }
    }
    const entryPoints =
      r.entryPoints !== undefined && r.entryPoints.length > 0
        ? r.entryPoints
        : (ctx.defaultEntryPoints ?? []);
    if (entryPoints.length === 0 && ctx.defaultEntryPoints !== undefined) {
      // Traefik's GetTCPRoutersByEntryPoints: no default entry point (getDefaultsEntrypoints with
      // only UDP entry points or `traefik` marked `asDefault`) disables the router.
      ctx.err(base, NO_ENTRY_POINT);
      continue;
    }
    const route = (use: string): TcpRoute => {
      const seen = new Map<string, number>();
      const mws = names.map((q) => middlewareFor(q, use, seen));
      return { router: name, tls, middlewares: mws, service };
    };
    const entry = (value: TcpRoute) => ({
      name,
      rule: r.rule,
      syntax: r.ruleSyntax,
      ...(r.priority !== 0 ? { priority: r.priority } : {}),
      value,
    });
    // Traefik builds a TCP router's chain once per entry point (buildTCPHandler in its
    // entry point loop): an inFlightConn counts per entry point too.
    const counts = names.some((q) => tcp.middlewares[q]!.type === 'inFlightConn');
    if (counts && entryPoints.length > 1) {
      for (const ep of entryPoints) spots.push({ entryPoints: [ep], entry: entry(route(`${name}|${ep}`)) });
    } else spots.push({ entryPoints, entry: entry(route(name)) });
  }
  // Traefik builds a TCP router's service before its middlewares (pkg/server/router/tcp/
  // manager.go buildTCPHandler: BuildTCP, then the chain), so a router a middleware error
  // disabled still has its service built, its health checker included (pkg/server/service/tcp
  // service.go BuildTCP, launched by LaunchHealthCheck). Validation left such routers out of
  // `tcp`: every service no router here built is built now, its problems unreported (Traefik
  // builds no other). Only the health checks of the services a router reaches are started
  // (runtime/reached.ts l4Reached, withoutUnreachedHealth), and the API shows only their servers.
  report = () => {};
  for (const name of Object.keys(tcp.services)) buildService(name);
  const built = new Map<string, TcpServiceNode>();
  for (const [n, node] of services) if (node !== null) built.set(n, node);
  return { spots, services: built, terminates };
}
