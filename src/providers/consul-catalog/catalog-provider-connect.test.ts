import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FakeConsul, startFakeConsul } from '../../../test/helpers/fake-consul.ts';
import { consulCatalogProviderSchema } from '../../config/static/providers.ts';
import { type Issued, TestPki } from '../../upstream/test-pki.ts';
import { EngineError } from '../engine-client.ts';
import type { ProviderUpdate } from '../provider.ts';
import { ConsulCatalogProvider } from './catalog-provider.ts';

let pki: TestPki;
let leaf1: Issued;
let leaf2: Issued;

before(() => {
  pki = new TestPki('Connect CA');
  leaf1 = pki.issue('traefik-1', ['spiffe://td.consul/ns/default/dc/dc1/svc/traefik']);
  leaf2 = pki.issue('traefik-2', ['spiffe://td.consul/ns/default/dc/dc1/svc/traefik']);
});

after(() => pki.remove());

/** The provider against a fake Consul with one Connect-native service `web`; polling the catalog hourly. */
async function setup(): Promise<{
  consul: FakeConsul;
  updates: AsyncIterator<ProviderUpdate>;
  stop: () => Promise<void>;
}> {
  const consul = await startFakeConsul();
  consul.register({
    id: 'web-1',
    name: 'web',
    connectNative: true,
    address: '127.0.0.1',
    port: 9443,
    tags: ['traefik.consulcatalog.connect=true'],
  });
  const cfg = consulCatalogProviderSchema.parse({
    endpoint: { address: consul.endpoint },
    connectAware: true,
    serviceName: 'edge',
    refreshInterval: '1h',
  });
  const ctl = new AbortController();
  const updates = new ConsulCatalogProvider(cfg, {}).watch(ctl.signal)[Symbol.asyncIterator]();
  return {
    consul,
    updates,
    stop: async () => {
      ctl.abort();
      await updates.return?.();
      await consul.close();
    },
  };
}

const leafOf = (u: ProviderUpdate): string | undefined =>
  u.config?.http.serversTransports['tls-default-dc1-web']?.certificates?.[0]?.certFile;

describe('ConsulCatalogProvider with connectAware', () => {
  it('reads the roots and the leaf of serviceName first, then follows a rotated leaf without polling', async () => {
    const { consul, updates, stop } = await setup();
    try {
      consul.setConnectRoots([pki.ca.certPem], 'td.consul');
      consul.setConnectLeaf('edge', leaf1.certPem, leaf1.keyPem);
      const first = (await updates.next()).value as ProviderUpdate;
      assert.deepEqual(first.issues, []);
      assert.equal(leafOf(first), leaf1.certPem);
      assert.deepEqual(first.config?.http.serversTransports['tls-default-dc1-web']?.rootCAs, [
        pki.ca.certPem,
      ]);
      // refreshInterval is an hour: only the blocking query on the leaf can bring this.
      consul.setConnectLeaf('edge', leaf2.certPem, leaf2.keyPem);
      const second = (await updates.next()).value as ProviderUpdate;
      assert.equal(leafOf(second), leaf2.certPem);
      assert.ok(consul.seen.some((s) => s.startsWith('GET /v1/agent/connect/ca/leaf/edge?index=')));
    } finally {
      await stop();
    }
  });

  it('fails (to be restarted with backoff) when the agent cannot give the leaf', async () => {
    const { consul, updates, stop } = await setup();
    try {
      consul.setConnectRoots([pki.ca.certPem], 'td.consul');
      await assert.rejects(updates.next(), (e: unknown) => {
        assert.ok(e instanceof EngineError);
        assert.match(e.message, /leaf\/edge: status 500/);
        return true;
      });
    } finally {
      await stop();
    }
  });
});
