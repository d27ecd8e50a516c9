import { startRedis } from '../../../test/helpers/redis.ts';
import { redisProviderSchema } from '../../config/static/providers.ts';
import { KvProvider } from '../kv/kv-provider.ts';
import { providerContract } from '../provider.contract.ts';
import { RedisStore } from './redis-store.ts';

providerContract('redis', async () => {
  const redis = await startRedis();
  const cfg = redisProviderSchema.parse({ endpoints: [redis.endpoint] });
  const routes = new Set<string>();
  const write = async (name: string): Promise<void> => {
    await redis.command(
      'MSET',
      `traefik/http/services/${name}/loadbalancer/servers/0/url`,
      'http://127.0.0.1:9',
      `traefik/http/routers/${name}/rule`,
      `PathPrefix(\`/${name}\`)`,
      `traefik/http/routers/${name}/service`,
      name,
    );
  };
  return {
    provider: () => new KvProvider('redis', new RedisStore(cfg), cfg.rootKey, {}),
    put: async (name) => {
      routes.add(name);
      await write(name);
    },
    remove: async (name) => {
      routes.delete(name);
      await redis.command(
        'DEL',
        `traefik/http/services/${name}/loadbalancer/servers/0/url`,
        `traefik/http/routers/${name}/rule`,
        `traefik/http/routers/${name}/service`,
      );
    },
    stop: () => redis.stop(),
    // Redis without persistence comes back empty: the routes are written again, as a
    // deployment would reseed its cache.
    start: async () => {
      await redis.start();
      for (const r of routes) await write(r);
    },
    close: () => redis.close(),
  };
});
