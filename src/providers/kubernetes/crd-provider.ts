import type { KubernetesCrdProviderConfig } from '../../config/static/providers.ts';
import { type ProviderValidation, updateFromData } from '../dynamic-data.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { sleep } from '../sleep.ts';
import { crdConfig } from './crd-config.ts';
import { Informer } from './informer.ts';
import { KubeClient } from './kube-client.ts';

/**
 * Traefik's Kubernetes CRD provider (pkg/provider/kubernetes/crd), for IngressRoutes and
 * Middlewares (`traefik.io/v1alpha1`) with core Services and EndpointSlices
 * (`discovery.k8s.io/v1`): one informer per resource (list, watch from its resourceVersion,
 * re-list on 410); the configuration is built again from the stores at every change, after
 * `throttleDuration` when set. Any informer failing fails the provider (restarted with backoff).
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

  async *#run(outer: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    const ctl = new AbortController();
    const abort = (): void => ctl.abort();
    outer.addEventListener('abort', abort, { once: true });
    const signal = ctl.signal;
    const cfg = this.#cfg;
    try {
      const client = new KubeClient(cfg, this.#env);
      const crd = '/apis/traefik.io/v1alpha1';
      const selector = cfg.labelSelector === '' ? {} : { labelSelector: cfg.labelSelector };
      const informers = {
        ingressRoutes: new Informer(
          client,
          { prefix: crd, plural: 'ingressroutes', ...selector },
          cfg.namespaces,
        ),
        middlewares: new Informer(
          client,
          { prefix: crd, plural: 'middlewares', ...selector },
          cfg.namespaces,
        ),
        services: new Informer(client, { prefix: '/api/v1', plural: 'services' }, cfg.namespaces),
        endpointSlices: new Informer(
          client,
          { prefix: '/apis/discovery.k8s.io/v1', plural: 'endpointslices' },
          cfg.namespaces,
        ),
      };
      let pendingLists = Object.keys(informers).length;
      let dirty = false;
      let failure: unknown;
      let wake: (() => void) | undefined;
      const notify = (): void => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      const running = Object.values(informers).map((inf) =>
        inf
          .run(
            signal,
            () => {
              pendingLists--;
              notify();
            },
            () => {
              dirty = true;
              notify();
            },
          )
          .catch((e: unknown) => {
            failure ??= e;
            notify();
          }),
      );
      const build = (): ProviderUpdate => {
        const built = crdConfig(
          {
            ingressRoutes: informers.ingressRoutes.items(),
            middlewares: informers.middlewares.items(),
            services: informers.services.items(),
            endpointSlices: informers.endpointSlices.items(),
          },
          cfg,
        );
        return updateFromData(built.data, this.name, built.sourceOf, this.#validation, built.issues);
      };
      let first = true;
      while (!signal.aborted) {
        if (failure !== undefined) throw failure;
        if (pendingLists === 0 && (first || dirty)) {
          if (!first && cfg.throttleDuration > 0 && !(await sleep(cfg.throttleDuration, signal))) break;
          first = false;
          dirty = false;
          yield build();
          continue;
        }
        await new Promise<void>((r) => {
          wake = r;
        });
      }
      void running;
    } catch (e) {
      if (outer.aborted) return;
      throw e;
    } finally {
      outer.removeEventListener('abort', abort);
      ctl.abort();
    }
  }
}
