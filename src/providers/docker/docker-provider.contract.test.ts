import { startDockerd } from '../../../test/helpers/dockerd.ts';
import { freePort } from '../../../test/helpers/pebble.ts';
import { dockerProviderSchema } from '../../config/static/providers.ts';
import { providerContract } from '../provider.contract.ts';
import { DockerProvider } from './docker-provider.ts';

providerContract(
  'docker (a real dockerd)',
  async () => {
    const d = await startDockerd();
    const cfg = dockerProviderSchema.parse({ endpoint: d.endpoint });
    const running = new Set<string>();
    return {
      provider: () => new DockerProvider(cfg, {}),
      put: async (name) => {
        const port = await freePort();
        await d.runHttpd(name, port, {
          [`traefik.http.routers.${name}.rule`]: `PathPrefix(\`/${name}\`)`,
          [`traefik.http.services.${name}.loadbalancer.server.port`]: String(port),
        });
        running.add(name);
      },
      remove: async (name) => {
        running.delete(name);
        await d.docker('rm', '-f', name);
      },
      stop: () => d.stop(),
      start: () => d.start([...running]),
      close: () => d.close(),
    };
  },
  { updateTimeoutMs: 30_000 },
);
