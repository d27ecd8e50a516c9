import { issue } from '../../config/issues.ts';
import type { DockerProviderConfig } from '../../config/static/providers.ts';
import { type ProviderValidation, updateFromData } from '../dynamic-data.ts';
import { EngineError, lines } from '../engine-client.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { type Constraint, compileConstraints } from './constraints.ts';
import { DockerClient } from './docker-client.ts';
import { containersConfig } from './docker-config.ts';

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
export class DockerProvider implements Provider {
  readonly name = 'docker';
  readonly #cfg: DockerProviderConfig;
  readonly #validation: ProviderValidation;
  readonly #constraint: Constraint | { error: string };

  constructor(cfg: DockerProviderConfig, validation: ProviderValidation) {
    this.#cfg = cfg;
    this.#validation = validation;
    this.#constraint = compileConstraints(cfg.constraints);
  }

  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
    return this.#run(signal);
  }

  async *#run(signal: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    const constraint = this.#constraint;
    if (typeof constraint !== 'function') {
      yield {
        config: undefined,
        issues: [
          issue('error', `invalid constraints: ${constraint.error}`, ['providers', 'docker', 'constraints']),
        ],
      };
      return;
    }
    try {
      const client = new DockerClient(this.#cfg);
      await client.negotiate(signal);
      const events = this.#cfg.watch ? await client.events(signal) : undefined;
      const build = async (): Promise<ProviderUpdate> => {
        const built = containersConfig(await client.containers(signal), this.#cfg, constraint);
        return updateFromData(built.data, this.name, built.sourceOf, this.#validation, built.issues, {
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
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    }
  }
}
