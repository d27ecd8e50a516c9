import { fakeKubeOutage, startFakeKube } from '../../../test/helpers/fake-kube.ts';
import { endpointSliceFor, ingressRouteFor, serviceFor } from '../../../test/helpers/kube-objects.ts';
import { kubernetesCrdProviderSchema } from '../../config/static/providers.ts';
import { providerContract } from '../provider.contract.ts';
import { KubernetesCrdProvider } from './crd-provider.ts';

providerContract('kubernetesCRD (a Kubernetes API server on loopback)', async () => {
  const kube = await startFakeKube();
  const cfg = kubernetesCrdProviderSchema.parse({ endpoint: kube.url, token: 'test-token' });
  return {
    provider: () => new KubernetesCrdProvider(cfg, {}, {}),
    put: async (name) => {
      kube.apply(serviceFor('default', name));
      kube.apply(endpointSliceFor('default', name, ['127.0.0.1'], 9));
      kube.apply(ingressRouteFor('default', name, `PathPrefix(\`/${name}\`)`, name));
    },
    remove: async (name) => {
      kube.remove('IngressRoute', 'default', name);
      kube.remove('EndpointSlice', 'default', `${name}-abcde`);
      kube.remove('Service', 'default', name);
    },
    ...fakeKubeOutage(kube),
  };
});
