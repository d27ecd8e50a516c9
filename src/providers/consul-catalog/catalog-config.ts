import { type ConfigIssue, issue } from '../../config/issues.ts';
import type { ConsulCatalogProviderConfig } from '../../config/static/providers.ts';
import { canaryName } from '../docker/canary-name.ts';
import type { Constraint } from '../docker/constraints.ts';
import { type ContainerInfo, containersConfig, type DockerData } from '../docker/docker-config.ts';
import {
  type ConnectCerts,
  connectTcpTransport,
  connectTransport,
  connectTransportName,
} from './connect-certs.ts';

/**
 * One instance of a service, as `GET /v1/health/service/<name>` returns it (or, for a Connect
 * service, `GET /v1/health/connect/<name>`: its sidecar proxies or Connect-native instances).
 */
export interface CatalogEntry {
  readonly Node?: { readonly Node?: string; readonly Address?: string; readonly Datacenter?: string };
  readonly Service?: {
    readonly ID?: string;
    readonly Service?: string;
    /** Consul Enterprise; absent or '' = `default`. */
    readonly Namespace?: string;
    readonly Tags?: readonly string[] | null;
    readonly Address?: string;
    readonly Port?: number;
  };
  readonly Checks?: readonly { readonly CheckID?: string; readonly Status?: string }[] | null;
}

/**
 * Consul's aggregated status of an instance's checks (api.HealthChecks.AggregatedStatus):
 * maintenance when a maintenance check is there, else the worst of critical, warning, passing.
 */
export function aggregatedStatus(checks: CatalogEntry['Checks']): string {
  let passing = false;
  let warning = false;
  let critical = false;
  for (const c of checks ?? []) {
    const id = c.CheckID ?? '';
    if (id === '_node_maintenance' || id.startsWith('_service_maintenance:')) return 'maintenance';
    if (c.Status === 'passing') passing = true;
    else if (c.Status === 'warning') warning = true;
    else if (c.Status === 'critical') critical = true;
  }
  if (critical) return 'critical';
  if (warning) return 'warning';
  if (passing) return 'passing';
  return 'passing';
}

/** The instances read for one catalog service (its name, as listed by `/v1/catalog/services`). */
export interface CatalogService {
  readonly name: string;
  readonly entries: readonly CatalogEntry[];
}

/** Go's strconv.ParseBool, which Traefik's label decoder uses. */
function parseBool(v: string): boolean | undefined {
  if (/^(1|t|true)$/i.test(v)) return true;
  if (/^(0|f|false)$/i.test(v)) return false;
  return undefined;
}

/** `<prefix>.consulcatalog.<option>` among `tags` (lowercase key), or undefined. */
export function optionTag(
  tags: readonly string[] | null | undefined,
  prefix: string,
  option: 'connect' | 'canary',
): string | undefined {
  const key = `${prefix.toLowerCase()}.consulcatalog.${option}`;
  let value: string | undefined;
  for (const t of tags ?? []) {
    const eq = t.indexOf('=');
    if (eq > 0 && t.slice(0, eq).toLowerCase() === key) value = t.slice(eq + 1);
  }
  return value;
}

/**
 * Whether a service is reached through Consul Connect: its tag, else `connectByDefault`
 * (Traefik's extraConf.ConsulCatalog.Connect). A value Go would not parse is an error.
 */
export function isConnect(
  tags: readonly string[] | null | undefined,
  cfg: ConsulCatalogProviderConfig,
): boolean | { error: string } {
  return optionBool(tags, cfg.prefix, 'connect', cfg.connectByDefault);
}

/** A boolean option tag (Traefik's extraConf.ConsulCatalog), `absent` when not there. */
function optionBool(
  tags: readonly string[] | null | undefined,
  prefix: string,
  option: 'connect' | 'canary',
  absent: boolean,
): boolean | { error: string } {
  const v = optionTag(tags, prefix, option);
  if (v === undefined) return absent;
  const b = parseBool(v.trim());
  return b ?? { error: `${prefix}.consulcatalog.${option}: not a boolean: ${JSON.stringify(v)}` };
}

/**
 * The catalog's instances as Traefik's consulcatalog provider reads them
 * (pkg/provider/consulcatalog/config.go): tags `<prefix>.<key>=<value>` are labels of Traefik's
 * grammar (the Docker provider's, so the same rules: one service named after the Consul service,
 * one router, `defaultRule`, instances of a service merged as replicas, typos reported); the
 * server is the instance's `Service.Address` (else the node's) and `Service.Port`; an instance
 * is kept when its aggregated check status is in `strictChecks` (with `allowEmptyServices`, the
 * service stays without servers, 503). `constraints` test the tags (``Tag``, ``TagRegex``).
 *
 * Consul Connect (`connectAware`): an instance tagged `<prefix>.consulcatalog.connect=true` (or
 * any, with `connectByDefault`) is a sidecar or Connect-native instance; its servers are
 * `https://`, through the serversTransport `tls-<ns>-<dc>-<name>` made from `certs` (a label may
 * define that transport instead). Without connectAware such instances are left out (Traefik
 * filters them); without certs yet, they are left out with an error (Traefik: "Connect
 * certificate is not ready").
 */
export function catalogConfig(
  services: readonly CatalogService[],
  cfg: ConsulCatalogProviderConfig,
  constraint: Constraint,
  certs?: ConnectCerts,
): DockerData {
  const prefix = `${cfg.prefix.toLowerCase()}.`;
  const options = new Set([`${prefix}consulcatalog.connect`, `${prefix}consulcatalog.canary`]);
  const items: ContainerInfo[] = [];
  const issues: ConfigIssue[] = [];
  for (const { name, entries } of services) {
    for (const e of entries) {
      const svc = e.Service;
      if (svc === undefined) continue;
      const where = `consul service ${name}`;
      const connect = isConnect(svc.Tags, cfg);
      const canary = optionBool(svc.Tags, cfg.prefix, 'canary', false);
      if (typeof connect !== 'boolean' || typeof canary !== 'boolean') {
        const bad = typeof connect !== 'boolean' ? connect : (canary as { error: string });
        issues.push(issue('error', bad.error, [], { file: where }));
        continue;
      }
      if (connect && !cfg.connectAware) continue;
      if (connect && certs === undefined) {
        issues.push(issue('error', 'the Connect certificates are not ready: left out', [], { file: where }));
        continue;
      }
      const labels: Record<string, string> = {};
      const tags: Record<string, string> = {};
      for (const t of svc.Tags ?? []) {
        tags[t] = '';
        const eq = t.indexOf('=');
        if (eq <= 0) continue;
        const k = t.slice(0, eq);
        const lower = k.toLowerCase();
        // Read above; not part of the label grammar.
        if (options.has(lower)) continue;
        // The prefix becomes `traefik.` for the label grammar; other tags are not configuration.
        if (lower.startsWith(prefix)) labels[`traefik.${k.slice(prefix.length)}`] = t.slice(eq + 1);
      }
      const status = aggregatedStatus(e.Checks);
      const address = svc.Address !== undefined && svc.Address !== '' ? svc.Address : (e.Node?.Address ?? '');
      const place = {
        namespace: svc.Namespace !== undefined && svc.Namespace !== '' ? svc.Namespace : 'default',
        datacenter: e.Node?.Datacenter ?? '',
        name,
      };
      items.push({
        id: svc.ID ?? name,
        name,
        // Traefik's getName (a canary's service and router are its own) and its model's `.Name`.
        ...(canary ? { serviceName: canaryName(name, svc.Tags ?? []) } : {}),
        ruleName: name,
        labels,
        constraintInput: tags,
        health: (cfg.strictChecks as readonly string[]).includes(status) ? '' : status,
        networkMode: 'consul',
        networks: { consul: address },
        ports: svc.Port !== undefined && svc.Port > 0 ? [svc.Port] : [],
        bindings: {},
        ...(connect && certs !== undefined
          ? {
              serversTransport: {
                name: connectTransportName(place),
                config: connectTransport(certs, place),
              },
              // Traefik's connectCert.tcpServersTransport, under the same name in `tcp`.
              tcpServersTransport: {
                name: connectTransportName(place),
                config: connectTcpTransport(certs, place),
              },
            }
          : {}),
      });
    }
  }
  const built = containersConfig(
    items,
    { ...cfg, network: 'consul', useBindPortIP: false },
    constraint,
    'consul service',
  );
  return { ...built, issues: [...issues, ...built.issues] };
}
