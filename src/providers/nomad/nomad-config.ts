import type { NomadProviderConfig } from '../../config/static/providers.ts';
import { canaryName } from '../docker/canary-name.ts';
import type { Constraint } from '../docker/constraints.ts';
import {
  type ContainerInfo,
  containersConfig,
  type DockerData,
  normalizeName,
} from '../docker/docker-config.ts';

/**
 * One instance of a Nomad service (Traefik's `item`): a registration of `GET /v1/service/<name>`,
 * or, with `allowEmptyServices`, a service of a task group scaled to zero (no address, port -1).
 */
export interface NomadItem {
  readonly id: string;
  readonly name: string;
  readonly namespace: string;
  readonly node: string;
  readonly datacenter: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
}

/**
 * Traefik's tagsToLabels (pkg/provider/nomad/tag.go): a tag `<prefix>…=value` (the prefix as
 * written, case included) is the label `traefik.<rest>` with the value, both sides trimmed; the
 * other tags are not configuration.
 */
export function tagsToLabels(tags: readonly string[], prefix: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const tag of tags) {
    if (!tag.startsWith(prefix)) continue;
    const eq = tag.indexOf('=');
    if (eq === -1) continue;
    const left = tag.slice(0, eq).trim();
    const key = left.startsWith(`${prefix}.`) ? left.slice(prefix.length + 1) : left;
    labels[`traefik.${key}`] = tag.slice(eq + 1).trim();
  }
  return labels;
}

/** Traefik's getExtraConf: `traefik.enable` and `traefik.nomad.canary`, each true only as "true" (any case). */
export function extraConf(
  tags: readonly string[],
  cfg: Pick<NomadProviderConfig, 'prefix' | 'exposedByDefault'>,
): { enable: boolean; canary: boolean } {
  const labels = tagsToLabels(tags, cfg.prefix);
  const enable = labels['traefik.enable'];
  const canary = labels['traefik.nomad.canary'];
  return {
    enable: enable === undefined ? cfg.exposedByDefault : enable.toLowerCase() === 'true',
    canary: canary !== undefined && canary.toLowerCase() === 'true',
  };
}

/** Whether the provider reads a service with these tags (enabled, and its tags pass `constraints`). */
export function keepsService(
  tags: readonly string[],
  cfg: NomadProviderConfig,
  constraint: Constraint,
): boolean {
  return extraConf(tags, cfg).enable && constraint(tagSet(tags));
}

/** The tags as the keys of a record, which the ``Tag``/``TagRegex`` constraints test. */
function tagSet(tags: readonly string[]): Record<string, string> {
  return Object.fromEntries(tags.map((t) => [t, '']));
}

/** Traefik's getName: the service's name normalised; a canary's carries a hash of its tags. */
export function serviceNameOf(item: NomadItem, canary: boolean): string {
  return canary ? canaryName(item.name, item.tags) : normalizeName(item.name);
}

/**
 * The configuration of Nomad's service instances, as Traefik's nomad provider builds it
 * (pkg/provider/nomad/config.go buildConfig): each instance enabled and passing `constraints`
 * is decoded from its tags with the label grammar (the Docker provider's, so TCP and UDP too),
 * its service named after the Nomad service (getName), `defaultRule` rendered with `.Name` the
 * service's name as registered and `.Labels`; the server is `Address:Port` (a port label wins);
 * an instance without an address is an error, unless `allowEmptyServices` (a group scaled to
 * zero): its services then have no servers (503). Instances of one service merge as replicas.
 * One configuration per instance identity (node, name, id): a second registration with the same
 * three replaces the first, as Traefik's map does, and they merge in the order of
 * `normalize(node-name-id)`. Traefik v3.7.13 made that key collision-free (traefik/traefik#13741):
 * `(n1, web, a-b)` and `(n1, web-a, b)` normalise alike but are two instances, both kept.
 */
export function nomadConfig(
  items: readonly NomadItem[],
  cfg: NomadProviderConfig,
  constraint: Constraint,
): DockerData {
  const byKey = new Map<string, { order: string; info: ContainerInfo }>();
  for (const item of items) {
    const conf = extraConf(item.tags, cfg);
    if (!conf.enable || !constraint(tagSet(item.tags))) continue;
    const key = JSON.stringify([item.node, item.name, item.id]);
    const empty = item.address === '' && cfg.allowEmptyServices;
    const info: ContainerInfo = {
      id: item.id,
      name: item.name,
      serviceName: serviceNameOf(item, conf.canary),
      ruleName: item.name,
      labels: tagsToLabels(item.tags, cfg.prefix),
      constraintInput: tagSet(item.tags),
      // No health in Nomad's registrations; "scaled to zero" keeps the services without servers.
      health: empty ? 'scaled to zero' : '',
      networkMode: 'nomad',
      networks: item.address === '' ? {} : { nomad: item.address },
      ports: item.port > 0 ? [item.port] : [],
      bindings: {},
    };
    byKey.set(key, { order: normalizeName(`${item.node}-${item.name}-${item.id}`), info });
  }
  const ordered = [...byKey]
    .sort(([ka, a], [kb, b]) =>
      a.order !== b.order ? (a.order < b.order ? -1 : 1) : ka < kb ? -1 : ka > kb ? 1 : 0,
    )
    .map(([, c]) => c.info);
  return containersConfig(
    ordered,
    // Enabled and constraints are decided above, with Traefik's own reading of `traefik.enable`.
    {
      exposedByDefault: true,
      network: 'nomad',
      defaultRule: cfg.defaultRule,
      allowEmptyServices: cfg.allowEmptyServices,
      useBindPortIP: false,
    },
    () => true,
    'nomad service',
  );
}
