import type { KnativeProviderConfig } from '../../config/static/providers.ts';
import { type ProviderValidation, updateFromData } from '../dynamic-data.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { StatusWriter } from './gateway-status.ts';
import { KNATIVE_API, knativeConfig } from './knative-config.ts';
import { runKubeProvider } from './kube-watch.ts';

/**
 * Traefik's experimental Knative provider (pkg/provider/kubernetes/knative): Knative Serving's
 * Ingresses (`networking.internal.knative.dev/v1alpha1`, filtered by labelSelector) with the
 * Services and Secrets they name, followed by informers (client.go WatchAll); the configuration
 * is built again at every change (knative-config.ts) and the handled Ingresses' status written
 * back through their status subresource. Objects are `name@knative`.
 */
export class KnativeProvider implements Provider {
  readonly name = 'knative';
  readonly watch: (signal: AbortSignal) => AsyncIterable<ProviderUpdate>;

  constructor(
    cfg: KnativeProviderConfig,
    validation: ProviderValidation,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const resources = {
      ingresses: {
        prefix: KNATIVE_API,
        plural: 'ingresses',
        ...(cfg.labelSelector === '' ? {} : { labelSelector: cfg.labelSelector }),
      },
      // Traefik's knative client filters neither (no `owner!=helm` on Secrets).
      services: { prefix: '/api/v1', plural: 'services' },
      secrets: { prefix: '/api/v1', plural: 'secrets' },
    };
    this.watch = (signal) =>
      runKubeProvider(
        cfg,
        env,
        resources,
        cfg.namespaces,
        cfg.throttleDuration,
        (client) => {
          const writer = new StatusWriter(client, signal);
          return (items) => {
            const built = knativeConfig(items, cfg);
            writer.submit(built.statuses);
            const issues = [...built.issues, ...writer.takeFailures()];
            return updateFromData(built.data, this.name, built.sourceOf, validation, issues);
          };
        },
        signal,
      );
  }
}
