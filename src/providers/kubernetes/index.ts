export { KubernetesCrdProvider } from './crd-provider.ts';
export { KubernetesIngressProvider } from './ingress-provider.ts';
