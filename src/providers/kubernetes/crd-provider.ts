import type { KubernetesCrdProviderConfig } from '../../config/static/providers.ts';
import { type ProviderValidation, updateFromData } from '../dynamic-data.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { crdConfig } from './crd-config.ts';
import { NODES, type ResourceSpec, SERVICE_RESOURCES } from './informer.ts';
import { attachKubernetesMeta } from './kube-build.ts';
import { runKubeProvider } from './kube-watch.ts';

const CRD = '/apis/traefik.io/v1alpha1';

/**
 * Traefik's Kubernetes CRD provider (pkg/provider/kubernetes/crd): the ten `traefik.io/v1alpha1`
 * kinds with core Services, Secrets, ConfigMaps and EndpointSlices (`discovery.k8s.io/v1`), each followed by
 * an informer (list, watch from its resourceVersion, re-list on 410); the configuration is built
 * again from the stores at every change (kube-watch.ts).
 */
export class KubernetesCrdProvider implements Provider {
  readonly name = 'kubernetescrd';
  readonly #cfg: KubernetesCrdProviderConfig;
  readonly #validation: ProviderValidation;
  readonly #env: NodeJS.ProcessEnv;

  constructor(
    cfg: KubernetesCrdProviderConfig,
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
    const selector = cfg.labelSelector === '' ? {} : { labelSelector: cfg.labelSelector };
    const crd = (plural: string): ResourceSpec => ({ prefix: CRD, plural, ...selector });
    const resources = {
      ingressRoutes: crd('ingressroutes'),
      middlewares: crd('middlewares'),
      traefikServices: crd('traefikservices'),
      tlsOptions: crd('tlsoptions'),
      tlsStores: crd('tlsstores'),
      serversTransports: crd('serverstransports'),
      ingressRouteTCPs: crd('ingressroutetcps'),
      ingressRouteUDPs: crd('ingressrouteudps'),
      middlewareTCPs: crd('middlewaretcps'),
      serversTransportTCPs: crd('serverstransporttcps'),
      ...SERVICE_RESOURCES,
      // Traefik's CRD client watches ConfigMaps too (client.go WatchAll), for rootCAs `configMap`.
      configMaps: { prefix: '/api/v1', plural: 'configmaps' },
      // Traefik's CRD client watches Nodes (for nodePortLB) unless disableClusterScopeResources.
      nodes: cfg.disableClusterScopeResources ? undefined : NODES,
    } satisfies Record<string, ResourceSpec | undefined>;
    yield* runKubeProvider(
      cfg,
      this.#env,
      resources,
      cfg.namespaces,
      cfg.throttleDuration,
      () => (items) => {
        const built = crdConfig(items, cfg);
        return attachKubernetesMeta(
          updateFromData(built.data, this.name, built.sourceOf, this.#validation, built.issues),
          built.meta,
        );
      },
      signal,
    );
  }
}
