/**
 * The Nomad provider's endpoint defaults (Traefik's TestProvider_SetDefaults_Endpoint), its Init
 * refusals, and one provider per namespace (ProviderBuilder.BuildProviders).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startFakeNomad } from '../../../test/helpers/fake-nomad.ts';
import { nomadProviderSchema } from '../../config/static/providers.ts';
import { createDynamicProviders, dynamicProviderNames } from '../registry.ts';
import { NomadProvider, nomadEndpoint } from './nomad-provider.ts';

describe('Nomad endpoint defaults (api.DefaultConfig)', () => {
  it('is http://127.0.0.1:4646 without environment', () => {
    const e = nomadEndpoint(nomadProviderSchema.parse({}).endpoint, {});
    assert.deepEqual(
      [e.address, e.region, e.token, e.tls, e.waitMs],
      ['http://127.0.0.1:4646', '', '', undefined, 0],
    );
  });

  it("takes NOMAD_ADDR, NOMAD_REGION, NOMAD_TOKEN and the TLS variables, the file's keys winning", () => {
    const pki = '/etc/ssl/private';
    const env = {
      NOMAD_ADDR: 'https://nomad.example.com',
      NOMAD_REGION: 'us-west',
      NOMAD_TOKEN: 'almighty_token',
      NOMAD_CACERT: `${pki}/nomad-agent-ca.pem`,
      NOMAD_CLIENT_CERT: `${pki}/global-client-nomad.pem`,
      NOMAD_CLIENT_KEY: `${pki}/global-client-nomad-key.pem`,
      NOMAD_SKIP_VERIFY: 'true',
    };
    const tls = {
      ca: env.NOMAD_CACERT,
      cert: env.NOMAD_CLIENT_CERT,
      key: env.NOMAD_CLIENT_KEY,
      insecureSkipVerify: true,
    };
    const fromEnv = nomadEndpoint(nomadProviderSchema.parse({}).endpoint, env);
    assert.deepEqual(fromEnv, {
      address: env.NOMAD_ADDR,
      region: 'us-west',
      token: env.NOMAD_TOKEN,
      tls,
      waitMs: 0,
    });
    const own = nomadProviderSchema.parse({
      endpoint: { address: 'http://10.0.0.1:4646/', token: 't', endpointWaitTime: '2s' },
    }).endpoint;
    const mixed = nomadEndpoint(own, env);
    assert.deepEqual(mixed, {
      address: 'http://10.0.0.1:4646',
      region: 'us-west',
      token: 't',
      tls,
      waitMs: 2000,
    });
  });
});

describe('Nomad provider start', () => {
  const first = async (p: NomadProvider): Promise<string[]> => {
    const ctl = new AbortController();
    for await (const u of p.watch(ctl.signal)) {
      ctl.abort();
      assert.equal(u.config, undefined);
      return u.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    }
    return [];
  };

  it("refuses what Traefik's Init refuses: a wildcard namespace, throttleDuration without watch", async () => {
    const cfg = nomadProviderSchema.parse({ namespaces: ['*'] });
    assert.deepEqual(await first(new NomadProvider(cfg, {}, '*')), [
      'providers.nomad.namespaces: wildcard namespace not supported',
    ]);
    assert.deepEqual(
      await first(new NomadProvider(nomadProviderSchema.parse({ throttleDuration: '1s' }), {})),
      ['providers.nomad.throttleDuration: throttle duration should not be used with polling mode'],
    );
  });

  it('makes one provider per namespace, named nomad-<namespace>, each asking for its own', async () => {
    const nomad = await startFakeNomad();
    try {
      nomad.register({ id: 'a', name: 'a', namespace: 'blue', address: '127.0.0.1', port: 1, tags: [] });
      nomad.register({ id: 'b', name: 'b', namespace: 'green', address: '127.0.0.1', port: 2, tags: [] });
      const providers = {
        nomad: nomadProviderSchema.parse({
          namespaces: ['blue', 'green'],
          endpoint: { address: nomad.address },
        }),
      } as Parameters<typeof dynamicProviderNames>[0];
      assert.deepEqual(dynamicProviderNames(providers), ['nomad-blue', 'nomad-green']);
      const made = await createDynamicProviders(providers, {
        logger: undefined as never,
        validation: {},
      });
      assert.deepEqual(
        made.map((p) => p.name),
        ['nomad-blue', 'nomad-green'],
      );
      const services: string[][] = [];
      for (const p of made) {
        const ctl = new AbortController();
        for await (const u of p.watch(ctl.signal)) {
          ctl.abort();
          services.push(Object.keys(u.config?.http.services ?? {}));
        }
      }
      assert.deepEqual(services, [['a'], ['b']]);
      assert.deepEqual(dynamicProviderNames({ nomad: nomadProviderSchema.parse({}) } as typeof providers), [
        'nomad',
      ]);
    } finally {
      await nomad.close();
    }
  });
});

describe('Nomad over a unix socket (api.NewClient with a unix:// address)', () => {
  it('reads the services through the socket (the Task API of NOMAD_UNIX_ADDR)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nomad-sock-'));
    const nomad = await startFakeNomad({ socketPath: join(dir, 'nomad.sock') });
    try {
      assert.match(nomad.address, /^unix:\/\/.*nomad\.sock$/);
      const e = nomadEndpoint(
        nomadProviderSchema.parse({ endpoint: { address: nomad.address } }).endpoint,
        {},
      );
      assert.deepEqual([e.address, e.socketPath], ['http://127.0.0.1', join(dir, 'nomad.sock')]);
      // NOMAD_ADDR alike.
      assert.equal(
        nomadEndpoint(nomadProviderSchema.parse({}).endpoint, { NOMAD_ADDR: nomad.address }).socketPath,
        join(dir, 'nomad.sock'),
      );
      nomad.register({
        id: 'w1',
        name: 'web',
        address: '127.0.0.1',
        port: 8080,
        tags: ['traefik.enable=true'],
      });
      const p = new NomadProvider(
        nomadProviderSchema.parse({ exposedByDefault: true, endpoint: { address: nomad.address } }),
        {},
      );
      const ctl = new AbortController();
      let servers: unknown;
      for await (const u of p.watch(ctl.signal)) {
        ctl.abort();
        assert.deepEqual(u.issues, []);
        const web = u.config?.http.services['web'];
        servers = web?.kind === 'loadBalancer' ? web.loadBalancer.servers : undefined;
      }
      assert.deepEqual(
        (servers as { url: string }[]).map((x) => x.url),
        ['http://127.0.0.1:8080'],
      );
      assert.deepEqual(
        nomad.seen.map((s) => s.url),
        ['GET /v1/services', 'GET /v1/service/web'],
      );
    } finally {
      await nomad.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the socket when it cannot be reached', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nomad-sock-'));
    try {
      const address = `unix://${join(dir, 'absent.sock')}`;
      const p = new NomadProvider(nomadProviderSchema.parse({ endpoint: { address } }), {});
      await assert.rejects(
        async () => {
          for await (const _ of p.watch(new AbortController().signal)) break;
        },
        (e: Error) => e.message.includes(join(dir, 'absent.sock')),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
