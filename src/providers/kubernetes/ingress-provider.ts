import type { KubernetesIngressProviderConfig } from '../../config/static/providers.ts';
import { type ProviderValidation, updateFromData } from '../dynamic-data.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { StatusWriter } from './gateway-status.ts';
import { NODES, type ResourceSpec, SERVICE_RESOURCES } from './informer.ts';
import { ingressConfig } from './ingress-config.ts';
import { attachKubernetesMeta } from './kube-build.ts';
import { runKubeProvider } from './kube-watch.ts';

/**
 * Traefik's Kubernetes Ingress provider (pkg/provider/kubernetes/ingress): Ingresses and
 * IngressClasses (`networking.k8s.io/v1`) with Services, Secrets and EndpointSlices, followed by
 * informers; the configuration is built again at every change. Objects are `name@kubernetes`.
 */
export class KubernetesIngressProvider implements Provider {
  readonly name = 'kubernetes';
  readonly #cfg: KubernetesIngressProviderConfig;
  readonly #validation: ProviderValidation;
  readonly #env: NodeJS.ProcessEnv;

  constructor(
    cfg: KubernetesIngressProviderConfig,
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
    const net = '/apis/networking.k8s.io/v1';
    const resources = {
      ingresses: {
        prefix: net,
        plural: 'ingresses',
        ...(cfg.labelSelector === '' ? {} : { labelSelector: cfg.labelSelector }),
      },
      ...SERVICE_RESOURCES,
      // Cluster-scoped, as Traefik's ingress client: IngressClasses unless either option turns
      // their lookup off, Nodes (for service.nodeportlb) unless disableClusterScopeResources.
      ingressClasses:
        cfg.disableIngressClassLookup || cfg.disableClusterScopeResources
          ? undefined
          : { prefix: net, plural: 'ingressclasses', clusterScoped: true },
      nodes: cfg.disableClusterScopeResources ? undefined : NODES,
    } satisfies Record<string, ResourceSpec | undefined>;
    yield* runKubeProvider(
      cfg,
      this.#env,
      resources,
      cfg.namespaces,
      cfg.throttleDuration,
      (client) => {
        // Traefik's UpdateIngressStatus: a PUT on the Ingress's status subresource when it differs.
        const writer = new StatusWriter(client, signal);
        return (items) => {
          const built = ingressConfig(items, { ...cfg, allowCrossNamespace: false });
          writer.submit(built.statuses);
          const issues = [...built.issues, ...writer.takeFailures()];
          return attachKubernetesMeta(
            updateFromData(built.data, this.name, built.sourceOf, this.#validation, issues),
            built.meta,
          );
        };
      },
      signal,
    );
  }
}
