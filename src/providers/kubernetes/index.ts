export { KubernetesCrdProvider } from './crd-provider.ts';
export { KubernetesGatewayProvider } from './gateway-provider.ts';
export { kubernetesIngressNginxProvider } from './ingress-nginx-provider.ts';
export { KubernetesIngressProvider } from './ingress-provider.ts';
export { KnativeProvider } from './knative-provider.ts';
