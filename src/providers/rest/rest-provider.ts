import { emptyDynamicConfig } from '../../config/dynamic/sections.ts';
import { formatIssue, hasErrors } from '../../config/issues.ts';
import { parseYaml } from '../../config/yaml-source.ts';
import { type ProviderValidation, updateFromYaml } from '../dynamic-data.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';

/** What a PUT gets back: Traefik's 200 with the configuration as JSON, or its 400 with a message. */
export type RestAnswer =
  | { readonly status: 200; readonly body: unknown }
  | { readonly status: 400; readonly message: string };

/**
 * Traefik's REST provider (pkg/provider/rest/rest.go): `PUT /api/providers/rest` replaces the
 * provider's whole dynamic configuration with the body, YAML or JSON (Traefik decodes it as a
 * `.yaml` file); its objects are `name@rest`. Until the first PUT it has no configuration (an empty
 * one here). A body that does not decode is answered 400 and changes nothing; a decoded one is
 * answered 200 with the configuration and handed to the watcher like any provider's update, the
 * objects with errors left out and logged, as for a file. It keeps nothing across restarts.
 */
export class RestProvider implements Provider {
  readonly name = 'rest';
  readonly #validation: ProviderValidation;
  #current: ProviderUpdate = { config: emptyDynamicConfig(), issues: [] };
  #version = 0;
  readonly #waiting = new Set<() => void>();

  constructor(validation: ProviderValidation) {
    this.#validation = validation;
  }

  /** A PUT's body: replaces the configuration when it decodes. */
  put(text: string): RestAnswer {
    const update = updateFromYaml(text, 'PUT /api/providers/rest', this.name, this.#validation, {
      wholeDecode: true,
    });
    if (update.config === undefined) {
      const errors = update.issues.filter((i) => i.severity === 'error');
      return {
        status: 400,
        message: (hasErrors(errors) ? errors : update.issues).map(formatIssue).join('\n'),
      };
    }
    this.#current = update;
    this.#version++;
    for (const wake of this.#waiting) wake();
    this.#waiting.clear();
    return { status: 200, body: parseYaml(text, 'rest').data ?? {} };
  }

  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
    return this.#run(signal);
  }

  /** The configuration now, then the latest one after each PUT (a whole one: none is needed in between). */
  async *#run(signal: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    let seen = -1;
    while (!signal.aborted) {
      if (seen !== this.#version) {
        seen = this.#version;
        yield this.#current;
        continue;
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal.removeEventListener('abort', wake);
          this.#waiting.delete(wake);
          resolve();
        };
        this.#waiting.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }
}
