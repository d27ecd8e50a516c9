import { startFakeConsul } from '../../../test/helpers/fake-consul.ts';
import { consulCatalogProviderSchema } from '../../config/static/providers.ts';
import { providerContract } from '../provider.contract.ts';
import { ConsulCatalogProvider } from './catalog-provider.ts';

providerContract('consulCatalog (a Consul catalog API on loopback, blocking queries)', async () => {
  const consul = await startFakeConsul();
  const cfg = consulCatalogProviderSchema.parse({ endpoint: { address: consul.endpoint }, watch: true });
  return {
    provider: () => new ConsulCatalogProvider(cfg, {}),
    put: async (name) => {
      consul.register({
        id: `${name}-1`,
        name,
        address: '127.0.0.1',
        port: 9,
        tags: [`traefik.http.routers.${name}.rule=PathPrefix(\`/${name}\`)`],
      });
    },
    remove: async (name) => consul.deregister(`${name}-1`),
    stop: () => consul.stop(),
    start: () => consul.start(),
    close: () => consul.close(),
  };
});
