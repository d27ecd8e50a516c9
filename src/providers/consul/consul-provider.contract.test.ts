import { startFakeConsul } from '../../../test/helpers/fake-consul.ts';
import { consulProviderSchema } from '../../config/static/providers.ts';
import { KvProvider } from '../kv/kv-provider.ts';
import { providerContract } from '../provider.contract.ts';
import { ConsulStore } from './consul-store.ts';

providerContract('consul (a Consul KV API on loopback)', async () => {
  const consul = await startFakeConsul();
  const cfg = consulProviderSchema.parse({ endpoints: [consul.endpoint] });
  return {
    provider: () => new KvProvider('consul', new ConsulStore(cfg), cfg.rootKey, {}),
    put: async (name) => {
      consul.put(`traefik/http/services/${name}/loadbalancer/servers/0/url`, 'http://127.0.0.1:9');
      consul.put(`traefik/http/routers/${name}/rule`, `PathPrefix(\`/${name}\`)`);
      consul.put(`traefik/http/routers/${name}/service`, name);
    },
    remove: async (name) => {
      consul.del(`traefik/http/routers/${name}/`, true);
      consul.del(`traefik/http/services/${name}/`, true);
    },
    stop: () => consul.stop(),
    start: () => consul.start(),
    close: () => consul.close(),
  };
});
