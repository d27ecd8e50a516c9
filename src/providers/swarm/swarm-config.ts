import type { SwarmProviderConfig } from '../../config/static/providers.ts';
import type { Constraint } from '../docker/constraints.ts';
import { type ContainerInfo, containersConfig, type DockerData } from '../docker/docker-config.ts';

/** What the provider reads of a swarm service (`GET /services`). */
export interface SwarmService {
  readonly ID?: string;
  readonly Spec?: {
    readonly Name?: string;
    readonly Labels?: Readonly<Record<string, string>> | null;
  };
  readonly Endpoint?: {
    readonly Spec?: { readonly Mode?: string };
    readonly Ports?: readonly { readonly TargetPort?: number; readonly Protocol?: string }[] | null;
    readonly VirtualIPs?: readonly { readonly NetworkID?: string; readonly Addr?: string }[] | null;
  };
}

/** What it reads of a task (`GET /tasks`). */
export interface SwarmTask {
  readonly ID?: string;
  readonly ServiceID?: string;
  readonly NodeID?: string;
  readonly Status?: { readonly State?: string };
  readonly NetworksAttachments?:
    | readonly {
        readonly Network?: { readonly ID?: string; readonly Spec?: { readonly Name?: string } };
        readonly Addresses?: readonly string[] | null;
      }[]
    | null;
}

export interface SwarmState {
  readonly services: readonly SwarmService[];
  readonly tasks: readonly SwarmTask[];
  /** Network id → name. */
  readonly networks: Readonly<Record<string, string>>;
  /** Node id → its address (`Status.Addr`). */
  readonly nodes: Readonly<Record<string, string>>;
}

const ip = (cidr: string): string => cidr.split('/')[0] ?? '';

/**
 * Swarm services as Traefik's swarm provider reads them (pkg/provider/docker/pswarm.go,
 * shared.go): the service's labels (not its containers') in the Docker provider's grammar; by
 * default one server per running task at its address on the chosen network (`network` or the
 * `traefik.swarm.network` label; else the first); with `traefik.swarm.lbswarm=true` one server,
 * the service's virtual IP. The port: the label, else the lowest target port the service
 * publishes. *Ours:* a task on the `host` network (no address of its own) is reached at its
 * node's address.
 */
export function swarmConfig(state: SwarmState, cfg: SwarmProviderConfig, constraint: Constraint): DockerData {
  const items: ContainerInfo[] = [];
  for (const svc of state.services) {
    const name = svc.Spec?.Name;
    if (name === undefined) continue;
    const labels = svc.Spec?.Labels ?? {};
    const ports = [
      ...new Set(
        (svc.Endpoint?.Ports ?? [])
          .filter((p) => (p.Protocol ?? 'tcp') === 'tcp')
          .map((p) => p.TargetPort ?? 0),
      ),
    ]
      .filter((p) => p > 0)
      .sort((a, b) => a - b);
    const base = { name, labels, ports, bindings: {}, health: '', networkMode: 'swarm' };
    const lbswarm = Object.entries(labels).some(
      ([k, v]) => /^traefik\.(swarm|docker)\.lbswarm$/i.test(k) && /^(1|t|true)$/i.test(v.trim()),
    );
    if (lbswarm) {
      const networks: Record<string, string> = {};
      for (const v of svc.Endpoint?.VirtualIPs ?? []) {
        const n = state.networks[v.NetworkID ?? ''] ?? v.NetworkID ?? '';
        if (v.Addr !== undefined && v.Addr !== '') networks[n] = ip(v.Addr);
      }
      items.push({ ...base, id: svc.ID ?? name, networks });
      continue;
    }
    for (const t of state.tasks) {
      if (t.ServiceID !== svc.ID || t.Status?.State !== 'running') continue;
      const networks: Record<string, string> = {};
      for (const a of t.NetworksAttachments ?? []) {
        const n = a.Network?.Spec?.Name ?? state.networks[a.Network?.ID ?? ''] ?? '';
        const addr = (a.Addresses ?? [])[0];
        if (addr !== undefined) networks[n] = ip(addr);
        else if (n === 'host') networks[n] = state.nodes[t.NodeID ?? ''] ?? '127.0.0.1';
      }
      items.push({ ...base, id: t.ID ?? name, networks });
    }
    if (
      !state.tasks.some((t) => t.ServiceID === svc.ID && t.Status?.State === 'running') &&
      cfg.allowEmptyServices
    )
      items.push({ ...base, id: svc.ID ?? name, networks: {}, health: 'starting' });
  }
  // Swarm tasks carry no port bindings (`bindings: {}`): with `useBindPortIP`, no binding is
  // found and each server is the task's own address, as Traefik's getIPPort falls back.
  return containersConfig(items, cfg, constraint, 'swarm service');
}
