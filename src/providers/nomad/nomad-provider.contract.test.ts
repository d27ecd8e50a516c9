import { startFakeNomad } from '../../../test/helpers/fake-nomad.ts';
import { nomadProviderSchema } from '../../config/static/providers.ts';
import { providerContract } from '../provider.contract.ts';
import { NomadProvider } from './nomad-provider.ts';

providerContract('nomad (a Nomad API on loopback, event stream)', async () => {
  const nomad = await startFakeNomad();
  const cfg = nomadProviderSchema.parse({ endpoint: { address: nomad.address }, watch: true });
  /** One instance of the service `name`, its router on `/<name>`. */
  const route = (name: string): void => {
    const tags = [`traefik.http.routers.${name}.rule=PathPrefix(\`/${name}\`)`];
    nomad.register({ id: `${name}-1`, name, address: '127.0.0.1', port: 9, tags });
  };
  const { stop, start, close } = nomad;
  return {
    provider: () => new NomadProvider(cfg, {}),
    put: async (name) => route(name),
    remove: async (name) => nomad.deregister(`${name}-1`),
    stop,
    start,
    close,
  };
});
