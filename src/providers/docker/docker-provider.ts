import type { DockerProviderConfig } from '../../config/static/providers.ts';
import { updateFromData } from '../dynamic-data.ts';
import { EngineError, lines } from '../engine-client.ts';
import type { ProviderUpdate } from '../provider.ts';
import type { Constraint } from './constraints.ts';
import type { DockerClient } from './docker-client.ts';
import { containersConfig } from './docker-config.ts';
import { EngineProvider } from './engine-provider.ts';

interface DockerEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly status?: string;
}

/**
 * Traefik's docker provider (pkg/provider/docker/pdocker.go): the running containers' labels
 * are the provider's configuration. With `watch`, the events stream is opened first, then the
 * containers are listed (no event is missed in between), and every `start`, `die` or
 * `health_status` event lists them again. The stream ending or the daemon failing fails the
 * provider: the supervisor reconnects with backoff while the last good configuration serves.
 */
export class DockerProvider extends EngineProvider<DockerProviderConfig> {
  readonly name = 'docker';

  protected async *read(
    client: DockerClient,
    constraint: Constraint,
    signal: AbortSignal,
  ): AsyncGenerator<ProviderUpdate, void, undefined> {
    const events = this.cfg.watch ? await client.events(signal) : undefined;
    const build = async (): Promise<ProviderUpdate> => {
      const built = containersConfig(await client.containers(signal), this.cfg, constraint, 'container');
      return updateFromData(built.data, this.name, built.sourceOf, this.validation, built.issues, {
        quietCase: true,
      });
    };
    yield await build();
    if (events === undefined) return;
    for await (const line of lines(events)) {
      const e = JSON.parse(line) as DockerEvent;
      const action = e.Action ?? e.status ?? '';
      if (e.Type !== undefined && e.Type !== 'container') continue;
      if (action === 'start' || action === 'die' || action.startsWith('health_status')) yield await build();
    }
    if (!signal.aborted) throw new EngineError('docker: the events stream ended');
  }
}
