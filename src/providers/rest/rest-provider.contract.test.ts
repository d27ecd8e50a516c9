import { providerContract } from '../provider.contract.ts';
import { RestProvider } from './rest-provider.ts';

// The REST provider is its own engine: what a client PUTs. Each "put" or "remove" PUTs the whole
// set of routes again, to every provider the suite made, as one Traefik REST client would; a new
// provider gets the current set at once (a client that pushes its state to a restarted proxy).
providerContract('rest', async () => {
  const routes = new Set<string>();
  const made: RestProvider[] = [];
  const bodyOf = (): string => {
    const routers = Object.fromEntries([...routes].map((r) => [r, { rule: `Path(\`/${r}\`)`, service: r }]));
    const services = Object.fromEntries(
      [...routes].map((r) => [r, { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9' }] } }]),
    );
    return JSON.stringify({ http: { routers, services } });
  };
  const send = (p: RestProvider): void => {
    const answer = p.put(bodyOf());
    if (answer.status !== 200) throw new Error(answer.message);
  };
  const push = (): void => {
    for (const p of made) send(p);
  };
  return {
    provider: () => {
      const p = new RestProvider({});
      made.push(p);
      send(p);
      return p;
    },
    put: async (name) => {
      routes.add(name);
      push();
    },
    remove: async (name) => {
      routes.delete(name);
      push();
    },
    close: async () => {},
  };
});
