import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { providerContract } from '../provider.contract.ts';
import { FileProvider } from './file-provider.ts';

providerContract('file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'file-contract-'));
  const file = join(dir, 'dynamic.yaml');
  const routes = new Set<string>();
  const write = async (): Promise<void> => {
    const routers = [...routes].map((r) => `    ${r}: { rule: "Path(\`/${r}\`)", service: ${r} }`);
    const services = [...routes].map(
      (r) => `    ${r}: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }`,
    );
    const text = `http:\n  routers:\n${routers.join('\n') || '    {}'}\n  services:\n${services.join('\n') || '    {}'}\n`;
    // Atomically, as editors do: a half-written file is never read.
    await writeFile(
      `${file}.tmp`,
      text.replace(/routers:\n {4}\{\}/, 'routers: {}').replace(/services:\n {4}\{\}/, 'services: {}'),
    );
    await rename(`${file}.tmp`, file);
  };
  await write();
  return {
    provider: () => new FileProvider({ filename: file, watch: true, debounceMs: 20 }),
    put: async (name) => {
      routes.add(name);
      await write();
    },
    remove: async (name) => {
      routes.delete(name);
      await write();
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
});
