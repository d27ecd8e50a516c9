/**
 * What is particular to the hetzner provider, against the Hetzner double: the Cloud API's RRSet
 * actions followed until they succeed (quoted TXT values), the legacy DNS API selected by
 * HETZNER_API_KEY, and the token preferred when both are set, as lego does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import { ImmediateScheduler, zoneLocator } from './test-dns01-helpers.ts';
import { type FakeApi, MemoryBackend } from './test-fake-dns-api.ts';
import { startFakeHetzner } from './test-fake-hetzner.ts';

const CHALLENGE: DnsChallengeConfig = { provider: 'hetzner', propagation: { disableChecks: true } };
const RECORD = '_acme-challenge.www.example.com.';

describe('the hetzner DNS provider', () => {
  const backend = new MemoryBackend();
  let api: FakeApi;
  const build = (env: Record<string, string>, scheduler = new ImmediateScheduler()) =>
    dnsProviderFor(CHALLENGE, env, { zones: zoneLocator('example.com.'), scheduler });

  before(async () => {
    api = await startFakeHetzner({ token: 'tok', apiKey: 'key', zones: ['example.com'], backend });
  });
  after(() => api.close());

  it('adds the quoted value to the RRSet and polls the action until it succeeds', async () => {
    api.calls.length = 0;
    const scheduler = new ImmediateScheduler();
    const p = build(
      {
        HETZNER_API_TOKEN: 'tok',
        HETZNER_API_KEY: 'key',
        HETZNER_API_URL: `${api.url}/v1`,
        HETZNER_POLLING_INTERVAL: '3',
      },
      scheduler,
    );
    await p.present(RECORD, 'v1');
    assert.deepEqual(backend.values(RECORD), ['v1']);
    await p.cleanup(RECORD, 'v1');
    assert.deepEqual(backend.values(RECORD), []);
    assert.deepEqual(
      api.calls.map((c) => `${c.method} ${c.path}`),
      [
        'POST /v1/zones/example.com/rrsets/_acme-challenge.www/TXT/actions/add_records',
        'GET /v1/actions/13',
        'GET /v1/actions/13',
        'POST /v1/zones/example.com/rrsets/_acme-challenge.www/TXT/actions/remove_records',
        'GET /v1/actions/14',
        'GET /v1/actions/14',
      ],
    );
    assert.deepEqual(JSON.parse(api.calls[0]?.body ?? ''), { ttl: 60, records: [{ value: '"v1"' }] });
    assert.deepEqual(scheduler.delays, [3000, 3000]);
    assert.ok(api.calls.every((c) => c.headers.authorization === 'Bearer tok'));
  });

  it('uses the legacy DNS API with HETZNER_API_KEY alone', async () => {
    api.calls.length = 0;
    const p = build({ HETZNER_API_KEY: 'key', HETZNER_API_URL: api.url });
    await p.present(RECORD, 'v2');
    assert.deepEqual(backend.values(RECORD), ['v2']);
    await p.cleanup(RECORD, 'v2');
    assert.deepEqual(backend.values(RECORD), []);
    assert.deepEqual(
      api.calls.map((c) => `${c.method} ${c.path}${c.query.size > 0 ? `?${c.query}` : ''}`),
      [
        'GET /api/v1/zones?name=example.com',
        'POST /api/v1/records',
        'GET /api/v1/zones?name=example.com',
        'GET /api/v1/records?zone_id=z1',
        `DELETE /api/v1/records/${api.calls[4]?.path.split('/').pop()}`,
      ],
    );
    assert.ok(api.calls.every((c) => c.headers['auth-api-token'] === 'key'));
  });
});
