import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpProviderSchema } from '../../config/static/providers.ts';
import { providerContract } from '../provider.contract.ts';
import { HttpProvider } from './http-provider.ts';

providerContract('http', async () => {
  const routes = new Set<string>();
  let failing = false;
  const server = createServer((_req, res) => {
    if (failing) {
      res.writeHead(500).end('down for maintenance');
      return;
    }
    // JSON, which the provider reads as YAML, as Traefik does.
    const routers = Object.fromEntries([...routes].map((r) => [r, { rule: `Path(\`/${r}\`)`, service: r }]));
    const services = Object.fromEntries(
      [...routes].map((r) => [r, { loadBalancer: { servers: [{ url: `http://127.0.0.1:9` }] } }]),
    );
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ http: { routers, services } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const cfg = httpProviderSchema.parse({ endpoint: `http://127.0.0.1:${port}/config`, pollInterval: '50ms' });
  return {
    provider: () => new HttpProvider(cfg, {}),
    put: async (name) => {
      routes.add(name);
    },
    remove: async (name) => {
      routes.delete(name);
    },
    stop: async () => {
      failing = true;
    },
    start: async () => {
      failing = false;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
});
