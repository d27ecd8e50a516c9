import { existsSync, readFileSync } from 'node:fs';
import type { KubernetesIngressNginxProviderConfig } from '../../config/static/providers.ts';
import { type ProviderValidation, updateFromData } from '../dynamic-data.ts';
import type { Provider } from '../provider.ts';
import { StatusWriter } from './gateway-status.ts';
import type { KubeObject, ResourceSpec } from './informer.ts';
import { nginxIngressConfig } from './ingress-nginx-config.ts';
import { attachKubernetesMeta } from './kube-build.ts';
import { runKubeProvider } from './kube-watch.ts';

const CORE = '/api/v1';
const NETWORKING = '/apis/networking.k8s.io/v1';
const RESOURCES = {
  ingresses: { prefix: NETWORKING, plural: 'ingresses' },
  ingressClasses: { prefix: NETWORKING, plural: 'ingressclasses', clusterScoped: true },
  services: { prefix: CORE, plural: 'services' },
  endpointSlices: { prefix: '/apis/discovery.k8s.io/v1', plural: 'endpointslices' },
  secrets: { prefix: CORE, plural: 'secrets' },
  // The `custom-headers` annotation's ConfigMaps.
  configMaps: { prefix: CORE, plural: 'configmaps' },
} satisfies Record<string, ResourceSpec>;

/**
 * Traefik's Kubernetes Ingress NGINX provider (pkg/provider/kubernetes/ingress-nginx): Ingresses
 * written for ingress-nginx with IngressClasses, Services, EndpointSlices, Secrets and ConfigMaps,
 * followed by informers in `watchNamespace` (all when empty); the configuration is built again at
 * every change, and the handled Ingresses' status written. Objects are
 * `name@kubernetesingressnginx`. `nonTlsEntryPoints`: the static entry points without `http.tls`.
 */
export function kubernetesIngressNginxProvider(
  cfg: KubernetesIngressNginxProviderConfig,
  validation: ProviderValidation,
  nonTlsEntryPoints: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Provider {
  const name = 'kubernetesingressnginx';
  const opts = { ...cfg, nonTlsEntryPoints };
  const selector = cfg.watchNamespaceSelector;
  // watchNamespaceSelector: the Namespaces it selects, followed too; every namespace is listed
  // and the objects of the others are left out (Traefik starts informers per selected namespace).
  const resources = {
    ...RESOURCES,
    namespaces:
      selector === ''
        ? undefined
        : { prefix: CORE, plural: 'namespaces', clusterScoped: true, labelSelector: selector },
  };
  return {
    name,
    watch: (signal) =>
      runKubeProvider(
        { ...cfg, token: fileOrContent(cfg.token) },
        env,
        resources,
        cfg.watchNamespace === '' ? [] : [cfg.watchNamespace],
        cfg.throttleDuration,
        (client) => {
          const writer = new StatusWriter(client, signal);
          return (all) => {
            const items = selector === '' ? all : inNamespaces(all, all.namespaces);
            const built = nginxIngressConfig(items, opts);
            writer.submit(built.statuses);
            const issues = [...built.issues, ...writer.takeFailures()];
            return attachKubernetesMeta(
              updateFromData(built.data, name, built.sourceOf, validation, issues),
              built.meta,
            );
          };
        },
        signal,
      ),
  };
}

/**
 * The provider's `token` is Traefik's types.FileOrContent: the path of an existing file is read
 * (once, when the provider starts), anything else is the token itself.
 */
function fileOrContent(token: string | undefined): string | undefined {
  if (token === undefined || token === '' || !existsSync(token)) return token;
  return readFileSync(token, 'utf8').trim();
}

/** The namespaced objects of `items` in one of `namespaces` (cluster-scoped kinds as they are). */
function inNamespaces<T extends Record<string, KubeObject[]>>(
  items: T,
  namespaces: readonly KubeObject[],
): T {
  const names = new Set(namespaces.map((n) => n.metadata.name));
  const out: Record<string, KubeObject[]> = {};
  for (const [k, list] of Object.entries(items))
    out[k] =
      k === 'ingressClasses' || k === 'namespaces'
        ? list
        : list.filter((o) => names.has(o.metadata.namespace ?? ''));
  return out as T;
}
