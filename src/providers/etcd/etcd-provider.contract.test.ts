import { startEtcd } from '../../../test/helpers/etcd.ts';
import { etcdProviderSchema } from '../../config/static/providers.ts';
import { KvProvider } from '../kv/kv-provider.ts';
import { providerContract } from '../provider.contract.ts';
import { EtcdStore } from './etcd-store.ts';

providerContract('etcd', async () => {
  const etcd = await startEtcd();
  const cfg = etcdProviderSchema.parse({ endpoints: [etcd.endpoint] });
  return {
    provider: () => new KvProvider('etcd', new EtcdStore(cfg), cfg.rootKey, {}),
    put: async (name) => {
      await etcd.put(`traefik/http/services/${name}/loadbalancer/servers/0/url`, 'http://127.0.0.1:9');
      await etcd.put(`traefik/http/routers/${name}/rule`, `PathPrefix(\`/${name}\`)`);
      await etcd.put(`traefik/http/routers/${name}/service`, name);
    },
    remove: async (name) => {
      await etcd.delPrefix(`traefik/http/routers/${name}/`);
      await etcd.delPrefix(`traefik/http/services/${name}/`);
    },
    stop: () => etcd.stop(),
    start: () => etcd.start(),
    close: () => etcd.close(),
  };
});
