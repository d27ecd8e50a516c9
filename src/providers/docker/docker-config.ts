import { deepEqual } from '../../config/dynamic/merge.ts';
import { type ConfigIssue, type ConfigPath, issue } from '../../config/issues.ts';
import type { DockerProviderConfig } from '../../config/static/providers.ts';
import { renderTemplateWith } from '../../config/template/index.ts';
import type { SourceOf } from '../dynamic-data.ts';
import type { Constraint } from './constraints.ts';
import { findKey, parseLabels } from './labels.ts';

/** What the provider needs of a container (from `GET /containers/{id}/json`). */
export interface ContainerInfo {
  readonly id: string;
  /** Without the leading `/`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `State.Health.Status`: '' when the container has no health check. */
  readonly health: string;
  /**
   * `State.Running` (Docker only; absent = running): a container that is not running is left
   * out unless its `traefik.docker.allownonrunning` label is true.
   */
  readonly running?: boolean;
  /** `HostConfig.NetworkMode`: `host`, `bridge`, `container:<id>`, a network name. */
  readonly networkMode: string;
  /** `networkMode` `host`: where the host is reached (docker-client hostNetworkAddress); 127.0.0.1 when absent. */
  readonly hostAddress?: string;
  /** Network name → the container's address there (IPv4, else global IPv6). */
  readonly networks: Readonly<Record<string, string>>;
  /** Exposed ports (TCP and UDP), ascending. */
  readonly ports: readonly number[];
  /** `80/tcp` → host bindings. */
  readonly bindings: Readonly<
    Record<string, readonly { readonly hostIp: string; readonly hostPort: string }[]>
  >;
  /**
   * `networkMode` `container:<id>`: the network of that container (Traefik's getIPAddress
   * inspects it), which `networkMode` and `networks` then describe; `network` is its
   * `traefik.docker.network` label, when set.
   */
  readonly viaContainer?: { readonly network: string | undefined };
  /** What `constraints` test when not the labels (Consul Catalog: its tags, as keys). */
  readonly constraintInput?: Readonly<Record<string, string>>;
  /**
   * Consul Connect (Traefik's consulcatalog config.go): every load balancer of the item reaches
   * its server over `https://` through this serversTransport, which joins the configuration
   * unless a label defines one by that name.
   */
  readonly serversTransport?: { readonly name: string; readonly config: Readonly<Record<string, unknown>> };
  /**
   * Consul Connect, TCP (Traefik's consulcatalog config.go addServerTCP and
   * connectCert.tcpServersTransport): every TCP load balancer of the item reaches its server with
   * `tls: true` through this TCP serversTransport, which joins the configuration.
   */
  readonly tcpServersTransport?: {
    readonly name: string;
    readonly config: Readonly<Record<string, unknown>>;
  };
  /**
   * The name of the item's own service and router when not `normalize(name)` (Nomad's getName:
   * a canary's name carries a hash of its tags).
   */
  readonly serviceName?: string;
  /** `.Name` in `defaultRule` when not the service's name (Nomad's model: the service as named). */
  readonly ruleName?: string;
  /**
   * ECS (Traefik's pkg/provider/ecs getPort): a port label naming a container port means its
   * host port.
   */
  readonly portMap?: ReadonlyMap<number, number>;
}

/** The options of a label provider that shape its configuration (docker, swarm, consulCatalog). */
export type LabelProviderOptions = Pick<
  DockerProviderConfig,
  'exposedByDefault' | 'network' | 'defaultRule' | 'allowEmptyServices' | 'useBindPortIP'
>;

export interface DockerData {
  readonly data: Record<string, unknown>;
  readonly sourceOf: SourceOf;
  readonly issues: ConfigIssue[];
}

type Obj = Record<string, unknown>;

/** Traefik's `normalize`: runs of characters other than letters and digits become `-`, trimmed. */
export function normalizeName(s: string): string {
  return s.replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '');
}

/**
 * The configuration of the running containers, as Traefik's docker provider builds it
 * (pkg/provider/docker/config.go):
 *
 * - a container is kept when enabled (`exposedByDefault` or `traefik.enable`), its labels pass
 *   `constraints`, it is running, and it has no health check or is `healthy` (with
 *   `allowEmptyServices`, an unhealthy or starting container keeps its services, without
 *   servers: 503 instead of 404; with the label `traefik.docker.allownonrunning=true`, a
 *   container that is not running does);
 * - without a service label it gets one service named after it (`normalize(name)`, or
 *   `<compose service>_<compose project>` normalised); each load balancer gets one server
 *   `scheme://ip:port` (port from `loadbalancer.server.port`, else the lowest exposed port);
 * - without a router label, and with at most one service, one router named after the service;
 *   a router without a rule gets `defaultRule` (a Go template over `.Name`, `.ContainerName`,
 *   `.Labels`), without a service the container's only service (with several: an error);
 * - `traefik.tcp.*` and `traefik.udp.*` the same way (buildTCPServiceConfiguration,
 *   BuildTCPRouterConfiguration): a TCP or UDP router or service label gives the container one
 *   service of that protocol when it names none, each of its load balancers one server
 *   `ip:port`; a TCP router needs a rule (no default), a router without a service takes the only
 *   one; and a container with TCP or UDP routers or services but no `traefik.http.*` label has no
 *   HTTP router or service;
 * - an error in any of these (no port, no address) leaves the whole container out;
 * - the same name in several containers: identical definitions are one; load balancers that differ
 *   only in their servers are one with all the servers (replicas); anything else is an error and
 *   the object is left out.
 */
export function containersConfig(
  containers: readonly ContainerInfo[],
  cfg: LabelProviderOptions,
  constraint: Constraint,
  /** What an item is called in issues: `container web`, `consul service web`. */
  noun = 'container',
): DockerData {
  const issues: ConfigIssue[] = [];
  const sources = new Map<string, string>();
  const merged: Record<Protocol, Record<string, Obj>> = {
    http: { routers: {}, services: {}, middlewares: {}, serversTransports: {} },
    tcp: {},
    udp: {},
  };
  let tlsData: Obj = {};
  /** protocol/section/name → the container that defined it first, and whether it conflicts. */
  const owner = new Map<string, { where: string; conflict: boolean }>();
  for (const c of [...containers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const where = `${noun} ${c.name}`;
    const parsed = parseLabels(c.labels, where);
    issues.push(...parsed.issues);
    if (!(parsed.enable ?? cfg.exposedByDefault)) continue;
    if (!constraint(c.constraintInput ?? c.labels)) continue;
    // Traefik v3.6 (pkg/provider/docker, traefik.docker.allownonrunning): a container that is
    // not running is left out, unless the label keeps its routers and services, without servers
    // (503 instead of 404, its middlewares still run).
    const stopped = c.running === false;
    if (stopped && !parsed.allowNonRunning) continue;
    const healthy = !stopped && (c.health === '' || c.health === 'healthy');
    if (!stopped && !healthy && !cfg.allowEmptyServices) continue;
    const composeService = c.labels['com.docker.compose.service'];
    const composeProject = c.labels['com.docker.compose.project'];
    const serviceName =
      c.serviceName ??
      normalizeName(
        composeService !== undefined && composeProject !== undefined
          ? `${composeService}_${composeProject}`
          : c.name,
      );
    const fail = (message: string, path: ConfigPath): void => {
      issues.push(issue('error', message, path, { file: where }));
    };
    const warn = (message: string, path: ConfigPath): void => {
      issues.push(issue('warning', message, path, { file: where }));
    };
    const built: Partial<Record<Protocol, Obj>> = {};
    let usable = true;
    let tcpOrUdp = false;
    for (const proto of ['tcp', 'udp'] as const) {
      const l4 = take(parsed.data, proto) as Obj | undefined;
      if (l4 === undefined) continue;
      built[proto] = l4;
      const routers = sectionOf(l4, 'routers');
      const services = sectionOf(l4, 'services');
      // Only middlewares (TCP): kept as they are, and the container still gets its HTTP router.
      if (Object.keys(routers).length === 0 && Object.keys(services).length === 0) continue;
      tcpOrUdp = true;
      if (Object.keys(services).length === 0) services[serviceName] = { loadBalancer: {} };
      for (const [name, svc] of Object.entries(services)) {
        const lbKey =
          typeof svc === 'object' && svc !== null ? findKey(svc as Obj, 'loadBalancer') : undefined;
        if (lbKey === undefined) {
          fail('the load balancer is not defined', [proto, 'services', name]);
          usable = false;
          continue;
        }
        const lb = (svc as Obj)[lbKey] as Obj;
        const serverKey = findKey(lb, 'server');
        const server = { ...((serverKey === undefined ? {} : lb[serverKey]) as Obj) };
        if (serverKey !== undefined) delete lb[serverKey];
        const connect = proto === 'tcp' ? c.tcpServersTransport : undefined;
        if (connect !== undefined) {
          // Traefik's addServerTCP: the Connect transport, and TLS to the server.
          lb[findKey(lb, 'serversTransport') ?? 'serversTransport'] = connect.name;
          server[findKey(server, 'tls') ?? 'tls'] = true;
          const transports = sectionOf(l4, 'serversTransports');
          if (findKey(transports, connect.name) === undefined)
            transports[connect.name] = structuredClone(connect.config);
        }
        if (!healthy) {
          lb['servers'] = [];
          continue;
        }
        const portKey = findKey(server, 'port');
        const portText = portKey === undefined ? undefined : String(server[portKey]);
        if (portKey !== undefined) delete server[portKey];
        const at = serverEndpoint(
          c,
          portText,
          cfg,
          parsed.network,
          proto,
          `traefik.${proto}.services.<name>.loadbalancer.server.port`,
        );
        if ('error' in at) {
          fail(at.error, [proto, 'services', name]);
          usable = false;
          continue;
        }
        if (at.warning !== undefined) warn(at.warning, [proto, 'services', name]);
        lb['servers'] = [{ ...server, address: `${hostPart(at.host)}:${at.port}` }];
      }
      for (const [name, r] of Object.entries(routers)) {
        const router = (typeof r === 'object' && r !== null ? r : {}) as Obj;
        routers[name] = router;
        if (proto === 'tcp' && findKey(router, 'rule') === undefined) {
          fail('empty rule: a TCP router from labels needs one (there is no default)', [
            proto,
            'routers',
            name,
          ]);
          delete routers[name];
          continue;
        }
        if (!attachOnlyService(router, services)) {
          fail(`the router names no service and the container has several ${proto.toUpperCase()} services`, [
            proto,
            'routers',
            name,
            'service',
          ]);
          delete routers[name];
        }
      }
    }
    if (!usable) continue;
    if (!tcpOrUdp || parsed.http) {
      const http = (take(parsed.data, 'http') ?? {}) as Obj;
      built.http = http;
      const routers = sectionOf(http, 'routers');
      const services = sectionOf(http, 'services');
      if (Object.keys(services).length === 0) services[serviceName] = { loadbalancer: {} };
      for (const [name, svc] of Object.entries(services)) {
        const lbKey =
          typeof svc === 'object' && svc !== null ? findKey(svc as Obj, 'loadBalancer') : undefined;
        if (lbKey === undefined) {
          // Traefik's label providers give every service of a container its server (pkg/provider/
          // docker/config.go buildServiceConfiguration → addServer: "load-balancer is not defined"
          // for a service without one, the container left out); `weighted`, `mirroring`,
          // `highestRandomWeight` and `failover` are `label:"-"` in pkg/config/dynamic/
          // http_config.go Service, services of the file, KV and CRD providers. An unhealthy
          // container is not given servers, so not checked either.
          if (healthy) {
            fail('the load balancer is not defined', ['http', 'services', name]);
            usable = false;
          }
          continue;
        }
        const lb = (svc as Obj)[lbKey] as Obj;
        const serverKey = findKey(lb, 'server');
        const server = (serverKey === undefined ? {} : lb[serverKey]) as Obj;
        if (serverKey !== undefined) delete lb[serverKey];
        if (c.serversTransport !== undefined) {
          lb[findKey(lb, 'serversTransport') ?? 'serversTransport'] = c.serversTransport.name;
        }
        if (!healthy) {
          lb['servers'] = [];
          continue;
        }
        const url = serverUrl(
          c,
          server,
          cfg,
          parsed.network,
          c.serversTransport === undefined ? undefined : 'https',
        );
        if ('error' in url) {
          fail(url.error, ['http', 'services', name]);
          usable = false;
          continue;
        }
        if (url.warning !== undefined) warn(url.warning, ['http', 'services', name]);
        lb['servers'] = [{ url: url.url }];
      }
      if (!usable) continue;
      if (Object.keys(routers).length === 0) {
        if (Object.keys(services).length > 1) {
          fail('no router label and several services: say which router uses which service', [
            'http',
            'routers',
          ]);
        } else routers[serviceName] = {};
      }
      for (const [name, r] of Object.entries(routers)) {
        const router = r as Obj;
        if (findKey(router, 'rule') === undefined) {
          try {
            // The process's environment for sprig's `env` and `expandenv`, as Traefik's
            // MakeDefaultRuleTemplate (sprig.TxtFuncMap: os.Getenv): `{{ env "DOMAIN" }}` in a
            // defaultRule rendered empty, the router's Host then matching nothing.
            router['rule'] = renderTemplateWith(
              cfg.defaultRule,
              { Name: c.ruleName ?? serviceName, ContainerName: c.name, Labels: c.labels },
              process.env,
            );
            // Traefik flags it DefaultRule (pkg/provider/configuration.go BuildRouterConfiguration),
            // and applyModel gives such a router no core.defaultRuleSyntax: a default rule is read
            // as v3 unless the router's own ruleSyntax label says otherwise. `default` (Traefik's
            // value for computed rules) is what any syntax but v2 means: v3.
            if (findKey(router, 'ruleSyntax') === undefined) router['ruleSyntax'] = 'default';
          } catch (e) {
            fail(`defaultRule: ${(e as Error).message}`, ['http', 'routers', name]);
            delete routers[name];
            continue;
          }
        }
        if (!attachOnlyService(router, services)) {
          fail('the router names no service and the container has several', [
            'http',
            'routers',
            name,
            'service',
          ]);
          delete routers[name];
        }
      }
      if (c.serversTransport !== undefined) {
        const transports = sectionOf(http, 'serversTransports');
        if (findKey(transports, c.serversTransport.name) === undefined) {
          transports[c.serversTransport.name] = structuredClone(c.serversTransport.config);
        }
      }
    }
    // Into the provider's configuration, name by name.
    for (const proto of PROTOCOLS) {
      const sections = built[proto];
      if (sections === undefined) continue;
      for (const [sectionName, objects] of Object.entries(sections)) {
        if (typeof objects !== 'object' || objects === null) continue;
        merged[proto][sectionName] ??= {};
        const target = merged[proto][sectionName] as Obj;
        for (const [name, value] of Object.entries(objects as Obj)) {
          const key = `${proto}/${sectionName.toLowerCase()}/${name.toLowerCase()}`;
          const first = owner.get(key);
          if (first === undefined) {
            owner.set(key, { where, conflict: false });
            target[name] = value;
            for (const [p, label] of parsed.sources) {
              if (p.startsWith(`${key}/`) || p === key) sources.set(p, label);
            }
            sources.set(key, where);
            continue;
          }
          if (first.conflict || deepEqual(target[name], value)) continue;
          const replicas = mergeReplicas(target[name], value, proto === 'http' ? 'url' : 'address');
          if (replicas !== undefined) {
            target[name] = replicas;
            continue;
          }
          first.conflict = true;
          delete target[name];
          const what = `${proto === 'http' ? '' : `${proto.toUpperCase()} `}${sectionName.replace(/s$/, '')}`;
          issues.push(
            issue(
              'error',
              `${what} \`${name}\` is defined by ${first.where} and ${where} with different configurations`,
              [proto, sectionName, name],
              { file: where },
            ),
          );
        }
      }
    }
    const tls = take(parsed.data, 'tls');
    if (tls !== undefined && Object.keys(tlsData).length === 0) tlsData = tls as Obj;
  }
  const sourceOf: SourceOf = (path) => sources.get(path.map(String).join('/').toLowerCase());
  const data: Obj = { http: merged.http };
  if (Object.keys(merged.tcp).length > 0) data['tcp'] = merged.tcp;
  if (Object.keys(merged.udp).length > 0) data['udp'] = merged.udp;
  if (Object.keys(tlsData).length > 0) data['tls'] = tlsData;
  return { data, sourceOf, issues };
}

type Protocol = 'http' | 'tcp' | 'udp';
const PROTOCOLS: readonly Protocol[] = ['http', 'tcp', 'udp'];

/** The section `name` of `obj` (any case), made when absent. */
function sectionOf(obj: Obj, name: string): Obj {
  const key = findKey(obj, name) ?? name;
  const s = (typeof obj[key] === 'object' && obj[key] !== null ? obj[key] : {}) as Obj;
  obj[key] = s;
  return s;
}

/**
 * Two definitions of one load balancer that differ only in their servers: one with both (the
 * servers told apart by `id`: `url` for HTTP, `address` for TCP and UDP).
 */
function mergeReplicas(a: unknown, b: unknown, id: 'url' | 'address'): unknown {
  const lbOf = (x: unknown): Obj | undefined => {
    if (typeof x !== 'object' || x === null) return undefined;
    const k = findKey(x as Obj, 'loadBalancer');
    return k === undefined ? undefined : ((x as Obj)[k] as Obj);
  };
  const la = lbOf(a);
  const lb = lbOf(b);
  if (la === undefined || lb === undefined) return undefined;
  const { servers: sa, ...ra } = la;
  const { servers: sb, ...rb } = lb;
  if (!deepEqual(ra, rb)) return undefined;
  const seen = new Set<string>();
  const servers = [...((sa as Obj[]) ?? []), ...((sb as Obj[]) ?? [])].filter((s) => {
    const v = String(s[id]);
    if (seen.has(v)) return false;
    seen.add(v);
    return true;
  });
  return { ...(a as Obj), [findKey(a as Obj, 'loadBalancer')!]: { ...la, servers } };
}

/** Traefik's server URL for an HTTP load balancer: `scheme://ip:port`, or the `url` label. */
function serverUrl(
  c: ContainerInfo,
  server: Obj,
  cfg: LabelProviderOptions,
  labelNetwork: string | undefined,
  /** Overrides the scheme label (Consul Connect: always https). */
  forcedScheme?: string,
): { url: string; warning?: string } | { error: string } {
  const get = (k: string): string | undefined => {
    const key = findKey(server, k);
    return key === undefined ? undefined : String(server[key]);
  };
  const explicit = get('url');
  if (explicit !== undefined) {
    // Traefik's addServer (docker, swarm, consulcatalog, nomad config.go): the url is the whole server.
    if (get('scheme') !== undefined || get('port') !== undefined) {
      return { error: 'defining scheme or port is not allowed when URL is defined' };
    }
    return { url: explicit };
  }
  const scheme = forcedScheme ?? get('scheme') ?? 'http';
  const at = serverEndpoint(
    c,
    get('port'),
    cfg,
    labelNetwork,
    'tcp',
    'traefik.http.services.<name>.loadbalancer.server.port',
  );
  if ('error' in at) return at;
  const url = `${scheme}://${hostPart(at.host)}:${at.port}`;
  return at.warning === undefined ? { url } : { url, warning: at.warning };
}

/**
 * Traefik's getIPPort: the port from the label, else the lowest exposed one; the address of the
 * chosen network (the `traefik.docker.network` label, else the provider's `network`, else any),
 * in host mode the address of `host.docker.internal` (else `host.containers.internal`, else
 * 127.0.0.1); with `useBindPortIP`, the host address and port the port is published
 * on, when it is a specific address.
 */
function serverEndpoint(
  c: ContainerInfo,
  portText: string | undefined,
  cfg: LabelProviderOptions,
  labelNetwork: string | undefined,
  proto: 'tcp' | 'udp',
  portLabel: string,
): { host: string; port: number; warning?: string } | { error: string } {
  const labelled = portText !== undefined ? Number(portText) : undefined;
  const port = labelled !== undefined ? (c.portMap?.get(labelled) ?? labelled) : c.ports[0];
  if (port === undefined || !Number.isInteger(port) || port <= 0 || port > 65_535) {
    return {
      error:
        portText !== undefined
          ? `invalid port ${JSON.stringify(portText)} (${portLabel})`
          : `the container exposes no port: set ${portLabel}`,
    };
  }
  if (cfg.useBindPortIP) {
    const b = (
      c.bindings[`${port}/${proto}`] ?? c.bindings[`${port}/${proto === 'tcp' ? 'udp' : 'tcp'}`]
    )?.find((x) => x.hostIp !== '' && x.hostIp !== '0.0.0.0' && x.hostIp !== '::');
    if (b !== undefined) return { host: b.hostIp, port: Number(b.hostPort) };
  }
  if (c.networkMode.startsWith('container:')) {
    return { error: `no address: the network of ${c.networkMode} could not be read` };
  }
  // In another container's network: that container's label, else the provider's network, else
  // this container's label (Traefik's getIPAddress falls back to it only when the other two are
  // empty).
  const wanted =
    c.viaContainer !== undefined
      ? (c.viaContainer.network ?? (cfg.network !== '' ? cfg.network : (labelNetwork ?? '')))
      : (labelNetwork ?? cfg.network);
  // Traefik's getIPAddress (pkg/provider/docker/config.go) looks the network up first, in host
  // mode too, and warns when the container is not on it before it falls back: a compose
  // network is named `<project>_<name>`, and a label without the prefix would otherwise send
  // the traffic to another network's address without a word.
  const missing =
    wanted !== '' && c.networks[wanted] === undefined && Object.keys(c.networks).length > 0
      ? `the container is not on the network ${JSON.stringify(wanted)} (${c.networkMode === 'host' ? 'host networking' : `its networks: ${Object.keys(c.networks).join(', ')}`}); a compose project's (or stack's) prefix missing from the name? Using ${c.networkMode === 'host' ? "the host's address" : 'the first network'}`
      : undefined;
  const at = (host: string): { host: string; port: number; warning?: string } =>
    missing === undefined ? { host, port } : { host, port, warning: missing };
  if (c.networkMode === 'host') return at(c.hostAddress ?? '127.0.0.1');
  const ip =
    (wanted !== '' ? c.networks[wanted] : undefined) ?? Object.values(c.networks).find((x) => x !== '');
  if (ip === undefined || ip === '') return { error: 'the container has no IP address on any network' };
  return at(ip);
}

function hostPart(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

/** Removes and returns the key of `obj` equal to `name` ignoring case. */
function take(obj: Obj, name: string): unknown {
  const k = findKey(obj, name);
  if (k === undefined) return undefined;
  const v = obj[k];
  delete obj[k];
  return v;
}

/**
 * A router from labels that names no service gets the container's only one, as Traefik's
 * provider.BuildRouterConfiguration does (for HTTP, TCP and UDP alike); false when it names none
 * and the container has several.
 */
function attachOnlyService(router: Obj, services: Obj): boolean {
  if (findKey(router, 'service') !== undefined) return true;
  const names = Object.keys(services);
  if (names.length !== 1) return false;
  router['service'] = names[0]!;
  return true;
}
