import type { SwarmProviderConfig } from '../../config/static/providers.ts';
import type { Constraint } from '../docker/constraints.ts';
import type { DockerClient } from '../docker/docker-client.ts';
import { EngineProvider } from '../docker/engine-provider.ts';
import { updateFromData } from '../dynamic-data.ts';
import type { ProviderUpdate } from '../provider.ts';
import { sleep } from '../sleep.ts';
import { type SwarmService, type SwarmState, type SwarmTask, swarmConfig } from './swarm-config.ts';

/**
 * Traefik's swarm provider (`providers.swarm`, pkg/provider/docker/pswarm.go): the services of a
 * swarm manager's Engine API with their running tasks. Swarm has no event for a task becoming
 * ready, so, as Traefik, the services are read again every `refreshSeconds` (with `watch`);
 * an unchanged configuration is dropped by the supervisor. A failure fails the provider.
 */
export class SwarmProvider extends EngineProvider<SwarmProviderConfig> {
  readonly name = 'swarm';

  protected async *read(
    client: DockerClient,
    constraint: Constraint,
    signal: AbortSignal,
  ): AsyncGenerator<ProviderUpdate, void, undefined> {
    while (!signal.aborted) {
      const [services, tasks, networks, nodes] = await Promise.all([
        client.getJson<SwarmService[]>('/services', signal),
        client.getJson<SwarmTask[]>(
          `/tasks?filters=${encodeURIComponent(JSON.stringify({ 'desired-state': ['running'] }))}`,
          signal,
        ),
        client.getJson<{ Id?: string; Name?: string }[]>('/networks', signal),
        client.getJson<{ ID?: string; Status?: { Addr?: string } }[]>('/nodes', signal),
      ]);
      const state: SwarmState = {
        services,
        tasks,
        networks: Object.fromEntries(networks.map((n) => [n.Id ?? '', n.Name ?? ''])),
        nodes: Object.fromEntries(nodes.map((n) => [n.ID ?? '', n.Status?.Addr ?? ''])),
      };
      const built = swarmConfig(state, this.cfg, constraint);
      yield updateFromData(built.data, this.name, built.sourceOf, this.validation, built.issues, {
        quietCase: true,
      });
      if (!this.cfg.watch) return;
      if (!(await sleep(this.cfg.refreshSeconds, signal))) return;
    }
  }
}
