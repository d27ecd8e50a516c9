import { startFakeKube } from '../../../test/helpers/fake-kube.ts';
import { ingressFor, loopbackServices } from '../../../test/helpers/kube-objects.ts';
import { kubernetesIngressNginxProviderSchema } from '../../config/static/providers.ts';
import { providerContract } from '../provider.contract.ts';
import { kubernetesIngressNginxProvider } from './ingress-nginx-provider.ts';

providerContract('kubernetesIngressNGINX (a Kubernetes API server on loopback)', async () => {
  const kube = await startFakeKube();
  const cfg = kubernetesIngressNginxProviderSchema.parse({ endpoint: kube.url, token: 'test-token' });
  return {
    provider: () => kubernetesIngressNginxProvider(cfg, {}, ['web'], {}),
    put: async (name) => {
      for (const o of loopbackServices('default', { [name]: 9 })) kube.apply(o);
      kube.apply(
        ingressFor('default', name, '', [{ path: `/${name}`, pathType: 'Exact', service: name }], {
          annotations: { 'kubernetes.io/ingress.class': 'nginx' },
        }),
      );
    },
    remove: async (name) => {
      kube.remove('Ingress', 'default', name);
      kube.remove('EndpointSlice', 'default', `${name}-abcde`);
      kube.remove('Service', 'default', name);
    },
    stop: async () => {
      kube.failWith = 500;
      kube.dropWatches();
    },
    start: async () => {
      kube.failWith = null;
    },
    close: () => kube.close(),
  };
});
