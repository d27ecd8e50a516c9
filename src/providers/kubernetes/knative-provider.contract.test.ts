import { fakeKubeOutage, startFakeKube } from '../../../test/helpers/fake-kube.ts';
import { knativeIngressFor } from '../../../test/helpers/kube-objects.ts';
import { knativeProviderSchema } from '../../config/static/providers.ts';
import { providerContract } from '../provider.contract.ts';
import { KnativeProvider } from './knative-provider.ts';

const KNATIVE = 'networking.internal.knative.dev/v1alpha1';

providerContract('knative (a Kubernetes API server on loopback)', async () => {
  const kube = await startFakeKube();
  const cfg = knativeProviderSchema.parse({ endpoint: kube.url, token: 'test-token' });
  return {
    provider: () => new KnativeProvider(cfg, {}, {}),
    put: async (name) => {
      kube.apply({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: 'default' },
        spec: { clusterIP: '127.0.0.1', ports: [{ name: 'http', port: 9 }] },
      });
      kube.apply(
        knativeIngressFor('default', name, {
          rules: [
            {
              http: {
                paths: [
                  {
                    path: `/${name}`,
                    splits: [{ serviceName: name, serviceNamespace: 'default', servicePort: 9 }],
                  },
                ],
              },
            },
          ],
        }),
      );
    },
    remove: async (name) => {
      kube.remove('Ingress', 'default', name, KNATIVE);
      kube.remove('Service', 'default', name);
    },
    ...fakeKubeOutage(kube),
  };
});
