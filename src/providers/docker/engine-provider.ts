import { issue } from '../../config/issues.ts';
import type { DockerProviderConfig, SwarmProviderConfig } from '../../config/static/providers.ts';
import type { ProviderValidation } from '../dynamic-data.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { type Constraint, compileConstraints, constraintIssues } from './constraints.ts';
import { DockerClient } from './docker-client.ts';

/**
 * What the docker and swarm providers share: their configuration's `constraints` compiled once
 * (an invalid expression is the provider's one error, reported and final), a client that has
 * negotiated the Engine API version, and an end that is quiet when the provider is stopped.
 * Each provider says what it reads from the engine (`read`).
 */
export abstract class EngineProvider<C extends DockerProviderConfig | SwarmProviderConfig>
  implements Provider
{
  abstract readonly name: string;
  protected readonly cfg: C;
  protected readonly validation: ProviderValidation;
  readonly #constraint: Constraint | { error: string };
  /** What the constraints say but do not refuse (a regexp that does not compile), on every update. */
  readonly #constraintWarnings: readonly string[];

  constructor(cfg: C, validation: ProviderValidation) {
    this.cfg = cfg;
    this.validation = validation;
    const warnings: string[] = [];
    this.#constraint = compileConstraints(cfg.constraints, 'labels', warnings);
    this.#constraintWarnings = warnings;
  }

  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
    return this.#run(signal);
  }

  /** The provider's updates, from an engine whose API version is negotiated. */
  protected abstract read(
    client: DockerClient,
    constraint: Constraint,
    signal: AbortSignal,
  ): AsyncGenerator<ProviderUpdate, void, undefined>;

  async *#run(signal: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    const constraint = this.#constraint;
    if (typeof constraint !== 'function') {
      yield {
        config: undefined,
        issues: [
          issue('error', `invalid constraints: ${constraint.error}`, ['providers', this.name, 'constraints']),
        ],
      };
      return;
    }
    let client: DockerClient | undefined;
    try {
      client = new DockerClient(this.cfg);
      await client.negotiate(signal);
      const warnings = constraintIssues(this.#constraintWarnings, this.name);
      for await (const u of this.read(client, constraint, signal)) {
        yield warnings.length === 0 ? u : { ...u, issues: [...warnings, ...u.issues] };
      }
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    } finally {
      client?.close();
    }
  }
}
