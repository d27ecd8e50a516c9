/**
 * The Kubernetes objects a router or a load balancer was made from, for the access log's
 * Kubernetes fields (Traefik v3.7 PR #12913, `KubernetesIngressName` & co.; v3.8 PR #12985,
 * `KubernetesIngressRouteName` & co. and the Service of the load balancer that took the request).
 *
 * As Traefik's `ObservabilityMetadata` (pkg/config/dynamic, unexposed to user configuration), it
 * is no key of the schema: a file cannot set it (a router's or service's unknown key is refused).
 * The Kubernetes providers put it on the objects they made once their configuration is validated
 * (providers/kubernetes/kube-build.ts attachKubernetesMeta); it travels with them by reference
 * through the merge and the entry-point model (copies are spreads), and by structured clone to
 * the workers. The snapshot build reads it once per router and load balancer.
 */

/** The resource a router was made from (Traefik's KubernetesMetadata{Kind, Namespace, Name}). */
export interface KubernetesObjectRef {
  readonly kind: 'Ingress' | 'IngressRoute';
  readonly namespace: string;
  readonly name: string;
}

/** The Kubernetes Service a load balancer's servers come from. */
export interface KubernetesServiceRef {
  readonly name: string;
  readonly namespace: string;
  /** The port as the route names it: its number, or its name (Traefik's portString). */
  readonly port: string;
}

/** The key on a router or service config object. */
export const KUBERNETES_META = 'kubernetes';

export function kubernetesObjectOf(router: object): KubernetesObjectRef | undefined {
  return (router as { readonly [KUBERNETES_META]?: KubernetesObjectRef })[KUBERNETES_META];
}

export function kubernetesServiceOf(service: object): KubernetesServiceRef | undefined {
  return (service as { readonly [KUBERNETES_META]?: KubernetesServiceRef })[KUBERNETES_META];
}

/** Puts `meta` on a router or service config object (made by a provider, not yet shared). */
export function setKubernetesMeta(target: object, meta: KubernetesObjectRef | KubernetesServiceRef): void {
  (target as Record<string, unknown>)[KUBERNETES_META] = meta;
}
