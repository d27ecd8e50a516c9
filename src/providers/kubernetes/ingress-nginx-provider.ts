import type { KubernetesIngressNginxProviderConfig } from '../../config/static/providers.ts';
import { type ProviderValidation, updateFromData } from '../dynamic-data.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { StatusWriter } from './gateway-status.ts';
import type { ResourceSpec } from './informer.ts';
import { nginxIngressConfig } from './ingress-nginx-config.ts';
import { KubeClient } from './kube-client.ts';
import { watchKube } from './kube-watch.ts';

const CORE = '/api/v1';
const NETWORKING = '/apis/networking.k8s.io/v1';

/**
 * Traefik's Kubernetes Ingress NGINX provider (pkg/provider/kubernetes/ingress-nginx): Ingresses
 * written for ingress-nginx, with IngressClasses, Services, EndpointSlices, Secrets and ConfigMaps
 * (custom-headers), followed by informers in `watchNamespace` (all when empty); the
 * configuration is built again at every change. Objects are `name@kubernetesingressnginx`.
 */
export class KubernetesIngressNginxProvider implements Provider {
  readonly name = 'kubernetesingressnginx';
  readonly #cfg: KubernetesIngressNginxProviderConfig;
  readonly #validation: ProviderValidation;
  readonly #nonTlsEntryPoints: readonly string[];
  readonly #env: NodeJS.ProcessEnv;

  constructor(
    cfg: KubernetesIngressNginxProviderConfig,
    validation: ProviderValidation,
    nonTlsEntryPoints: readonly string[],
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.#cfg = cfg;
    this.#validation = validation;
    this.#nonTlsEntryPoints = nonTlsEntryPoints;
    this.#env = env;
  }

  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
    return this.#run(signal);
  }

  async *#run(signal: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    const cfg = this.#cfg;
    const resources = {
      ingresses: { prefix: NETWORKING, plural: 'ingresses' },
      ingressClasses: { prefix: NETWORKING, plural: 'ingressclasses', clusterScoped: true },
      services: { prefix: CORE, plural: 'services' },
      endpointSlices: { prefix: '/apis/discovery.k8s.io/v1', plural: 'endpointslices' },
      secrets: { prefix: CORE, plural: 'secrets' },
      configMaps: { prefix: CORE, plural: 'configmaps' },
    } satisfies Record<string, ResourceSpec>;
    let client: KubeClient;
    try {
      client = new KubeClient(cfg, this.#env);
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    }
    const writer = new StatusWriter(client, signal);
    const opts = { ...cfg, nonTlsEntryPoints: this.#nonTlsEntryPoints };
    const namespaces = cfg.watchNamespace === '' ? [] : [cfg.watchNamespace];
    yield* watchKube(
      client,
      resources,
      namespaces,
      cfg.throttleDuration,
      (items) => {
        const built = nginxIngressConfig(items, opts);
        writer.submit(built.statuses);
        const issues = [...built.issues, ...writer.takeFailures()];
        return updateFromData(built.data, this.name, built.sourceOf, this.#validation, issues);
      },
      signal,
    );
  }
}
