import type { ConsulCatalogProviderConfig } from '../../config/static/providers.ts';
import type { Constraint } from '../docker/constraints.ts';
import { type ContainerInfo, containersConfig, type DockerData } from '../docker/docker-config.ts';

/** One instance of a service, as `GET /v1/health/service/<name>` returns it. */
export interface CatalogEntry {
  readonly Node?: { readonly Node?: string; readonly Address?: string };
  readonly Service?: {
    readonly ID?: string;
    readonly Service?: string;
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

/**
 * The catalog's instances as Traefik's consulcatalog provider reads them
 * (pkg/provider/consulcatalog/config.go): tags `<prefix>.<key>=<value>` are labels of Traefik's
 * grammar (the Docker provider's, so the same rules: one service named after the Consul service,
 * one router, `defaultRule`, instances of a service merged as replicas, typos reported); the
 * server is the instance's `Service.Address` (else the node's) and `Service.Port`; an instance
 * is kept when its aggregated check status is in `strictChecks` (with `allowEmptyServices`, the
 * service stays without servers, 503). `constraints` test the tags (``Tag``, ``TagRegex``).
 */
export function catalogConfig(
  entries: readonly CatalogEntry[],
  cfg: ConsulCatalogProviderConfig,
  constraint: Constraint,
): DockerData {
  const prefix = `${cfg.prefix.toLowerCase()}.`;
  const items: ContainerInfo[] = [];
  for (const e of entries) {
    const svc = e.Service;
    if (svc?.Service === undefined) continue;
    const labels: Record<string, string> = {};
    const tags: Record<string, string> = {};
    for (const t of svc.Tags ?? []) {
      tags[t] = '';
      const eq = t.indexOf('=');
      if (eq <= 0) continue;
      const k = t.slice(0, eq);
      // The prefix becomes `traefik.` for the label grammar; other tags are not configuration.
      if (k.toLowerCase().startsWith(prefix)) labels[`traefik.${k.slice(prefix.length)}`] = t.slice(eq + 1);
    }
    const status = aggregatedStatus(e.Checks);
    const address = svc.Address !== undefined && svc.Address !== '' ? svc.Address : (e.Node?.Address ?? '');
    items.push({
      id: svc.ID ?? svc.Service,
      name: svc.Service,
      labels,
      constraintInput: tags,
      health: (cfg.strictChecks as readonly string[]).includes(status) ? '' : status,
      networkMode: 'consul',
      networks: { consul: address },
      ports: svc.Port !== undefined && svc.Port > 0 ? [svc.Port] : [],
      bindings: {},
    });
  }
  return containersConfig(
    items,
    { ...cfg, network: 'consul', useBindPortIP: false },
    constraint,
    'consul service',
  );
}
