import type { KnativeProviderConfig } from '../../config/static/providers.ts';
import { type ProviderValidation, updateFromData } from '../dynamic-data.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { StatusWriter } from './gateway-status.ts';
import type { ResourceSpec } from './informer.ts';
import { KNATIVE_API, knativeConfig } from './knative-config.ts';
import { KubeClient } from './kube-client.ts';
import { watchKube } from './kube-watch.ts';

/**
 * Traefik's experimental Knative provider (pkg/provider/kubernetes/knative): Knative Serving's
 * Ingresses (`networking.internal.knative.dev/v1alpha1`, filtered by labelSelector) with the
 * Services and Secrets they name, followed by informers (client.go WatchAll); the configuration
 * is built again at every change and the handled Ingresses' status written back. Objects are
 * `name@knative`.
 */
export class KnativeProvider implements Provider {
  readonly name = 'knative';
  readonly #cfg: KnativeProviderConfig;
  readonly #validation: ProviderValidation;
  readonly #env: NodeJS.ProcessEnv;

  constructor(
    cfg: KnativeProviderConfig,
    validation: ProviderValidation,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.#cfg = cfg;
    this.#validation = validation;
    this.#env = env;
  }

  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
    return this.#run(signal);
  }

  async *#run(signal: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    const cfg = this.#cfg;
    const resources = {
      ingresses: {
        prefix: KNATIVE_API,
        plural: 'ingresses',
        ...(cfg.labelSelector === '' ? {} : { labelSelector: cfg.labelSelector }),
      },
      services: { prefix: '/api/v1', plural: 'services' },
      secrets: { prefix: '/api/v1', plural: 'secrets' },
    } satisfies Record<string, ResourceSpec>;
    let client: KubeClient;
    try {
      client = new KubeClient(cfg, this.#env);
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    }
    const writer = new StatusWriter(client, signal);
    yield* watchKube(
      client,
      resources,
      cfg.namespaces,
      cfg.throttleDuration,
      (items) => {
        const built = knativeConfig(items, cfg);
        writer.submit(built.statuses);
        const issues = [...built.issues, ...writer.takeFailures()];
        return updateFromData(built.data, this.name, built.sourceOf, this.#validation, issues);
      },
      signal,
    );
  }
}
