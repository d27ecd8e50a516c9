import { startZooKeeper } from '../../../test/helpers/zookeeper.ts';
import { zooKeeperProviderSchema } from '../../config/static/providers.ts';
import { KvProvider } from '../kv/kv-provider.ts';
import { providerContract } from '../provider.contract.ts';
import { ZooKeeperStore } from './zk-store.ts';

providerContract(
  'zookeeper (a real ZooKeeper on loopback)',
  async () => {
    const zk = await startZooKeeper();
    const cfg = zooKeeperProviderSchema.parse({ endpoints: [zk.endpoint] });
    return {
      provider: () => new KvProvider('zookeeper', new ZooKeeperStore(cfg), cfg.rootKey, {}),
      put: async (name) => {
        await zk.put(`traefik/http/services/${name}/loadbalancer/servers/0/url`, 'http://127.0.0.1:9');
        await zk.put(`traefik/http/routers/${name}/rule`, `PathPrefix(\`/${name}\`)`);
        await zk.put(`traefik/http/routers/${name}/service`, name);
      },
      remove: async (name) => {
        await zk.delTree(`traefik/http/routers/${name}`);
        await zk.delTree(`traefik/http/services/${name}`);
      },
      stop: () => zk.stop(),
      start: () => zk.start(),
      close: () => zk.close(),
    };
  },
  // A connection the provider makes while a restarted ZooKeeper is still starting may be taken
  // and never answered: the session timeout (10 s, zk-store.ts) ends it, then the provider retries
  // (backoff up to 500 ms here) and reads. Each update may come that late, and then some on a
  // loaded machine: the default 10 s per update raced that timeout.
  { updateTimeoutMs: 30_000 },
);
