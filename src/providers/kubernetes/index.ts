export { KubernetesCrdProvider } from './crd-provider.ts';
