import type { EcsProviderConfig } from '../../config/static/providers.ts';
import type { Constraint } from '../docker/constraints.ts';
import {
  type ContainerInfo,
  containersConfig,
  type DockerData,
  normalizeName,
} from '../docker/docker-config.ts';

export interface EcsPortMapping {
  readonly containerPort: number;
  readonly hostPort: number;
}

/** Traefik's `machine`: where a task's container runs. */
export interface EcsMachine {
  /** Lowercased: `running` (an EC2 instance's state, or the task's last status). */
  readonly state: string;
  readonly privateIP: string;
  readonly ports: readonly EcsPortMapping[];
  /** The task's health status (awsvpc tasks only): `HEALTHY`, `UNHEALTHY`, `UNKNOWN` or ''. */
  readonly healthStatus: string;
}

/** Traefik's `ecsInstance`: one container of a running task. */
export interface EcsInstance {
  /** `<task group, its first ':' a '-'>-<container name>`. */
  readonly name: string;
  /** The last 12 characters of the task's ARN. */
  readonly id: string;
  readonly machine: EcsMachine;
  /** The container definition's docker labels. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Traefik's filterInstance (pkg/provider/ecs/config.go), before the labels: a container whose
 * machine is not `running`, whose task is UNHEALTHY, or without a private IP is left out.
 */
export function machineUsable(m: EcsMachine): boolean {
  return m.state === 'running' && m.healthStatus !== 'UNHEALTHY' && m.privateIP !== '';
}

/**
 * The configuration of the ECS containers, as Traefik's buildConfiguration
 * (pkg/provider/ecs/config.go): each usable instance, enabled (`exposedByDefault`, else
 * `traefik.enable`) and passing `constraints` on its labels, is decoded from its docker labels
 * with the label grammar (the Docker provider's, TCP and UDP too); its service is named
 * `normalize(name)` and `defaultRule` renders with `.Name` that name and `.Labels`. The server's
 * port (getPort): a `server.port` label that is one of the container's ports is its host port,
 * any other is taken as it is; without the label, the lowest host port. The address is the
 * machine's private IP. Configurations are keyed `<service>-<id>` and merged in that order.
 */
export function ecsConfig(
  instances: readonly EcsInstance[],
  cfg: Pick<EcsProviderConfig, 'exposedByDefault' | 'defaultRule'>,
  constraint: Constraint,
): DockerData {
  const containers: ContainerInfo[] = [];
  for (const inst of instances) {
    if (!machineUsable(inst.machine)) continue;
    const serviceName = normalizeName(inst.name);
    const hostPorts = [...new Set(inst.machine.ports.map((p) => p.hostPort))].sort((a, b) => a - b);
    containers.push({
      id: inst.id,
      name: `${serviceName}-${inst.id}`,
      serviceName,
      ruleName: serviceName,
      labels: inst.labels,
      health: '',
      networkMode: 'ecs',
      networks: { ecs: inst.machine.privateIP },
      ports: hostPorts,
      portMap: new Map(inst.machine.ports.map((p) => [p.containerPort, p.hostPort])),
      bindings: {},
    });
  }
  return containersConfig(
    containers,
    {
      exposedByDefault: cfg.exposedByDefault,
      network: '',
      defaultRule: cfg.defaultRule,
      allowEmptyServices: false,
      useBindPortIP: false,
    },
    constraint,
    'ecs instance',
  );
}
