/**
 * What is particular to the gandiv5 provider, against the Gandi double: values already in the
 * record set kept when ours is added and when it is withdrawn, the personal access token and the
 * deprecated API key, and the TTL floor of 300 s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { Dns01ConfigError } from './dns01-env.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import { ImmediateScheduler, zoneLocator } from './test-dns01-helpers.ts';
import { type FakeApi, MemoryBackend } from './test-fake-dns-api.ts';
import { GANDI_BASE_PATH, startFakeGandi } from './test-fake-gandi.ts';

const CHALLENGE: DnsChallengeConfig = { provider: 'gandiv5', propagation: { disableChecks: true } };
const RECORD = '_acme-challenge.www.example.com.';

describe('the gandiv5 DNS provider', () => {
  const backend = new MemoryBackend();
  let api: FakeApi;
  let url: string;
  const build = (env: Record<string, string>) =>
    dnsProviderFor(
      CHALLENGE,
      { GANDIV5_API_URL: url, ...env },
      { zones: zoneLocator('example.com.'), scheduler: new ImmediateScheduler() },
    );

  before(async () => {
    api = await startFakeGandi({
      authorizations: ['Bearer pat', 'Apikey old-key'],
      domains: ['example.com'],
      backend,
    });
    url = `${api.url}${GANDI_BASE_PATH}`;
  });
  after(() => api.close());

  it('keeps another value of the set when adding ours and when taking it out', async () => {
    const other = build({ GANDIV5_PERSONAL_ACCESS_TOKEN: 'pat' });
    await other.present(RECORD, 'theirs');
    api.calls.length = 0;
    const p = build({ GANDIV5_PERSONAL_ACCESS_TOKEN: 'pat', GANDIV5_TTL: '600' });
    await p.present(RECORD, 'ours');
    assert.deepEqual(backend.values(RECORD).sort(), ['ours', 'theirs']);
    assert.deepEqual(JSON.parse(api.calls[1]?.body ?? ''), {
      rrset_ttl: 600,
      rrset_values: ['ours', 'theirs'],
    });
    await p.cleanup(RECORD, 'ours');
    assert.deepEqual(backend.values(RECORD), ['theirs']);
    assert.deepEqual(
      api.calls.map((c) => c.method),
      ['GET', 'PUT', 'GET', 'PUT'],
    );
    await other.cleanup(RECORD, 'theirs');
    assert.equal(api.calls.at(-1)?.method, 'DELETE', 'the last value goes with the set');
    assert.deepEqual(backend.values(RECORD), []);
  });

  it('sends the deprecated API key as "Apikey"', async () => {
    api.calls.length = 0;
    const p = build({ GANDIV5_API_KEY: 'old-key' });
    await p.present(RECORD, 'v');
    await p.cleanup(RECORD, 'v');
    assert.ok(api.calls.every((c) => c.headers.authorization === 'Apikey old-key'));
  });

  it('refuses a TTL under 300 s', () => {
    assert.throws(
      () => build({ GANDIV5_PERSONAL_ACCESS_TOKEN: 'pat', GANDIV5_TTL: '120' }),
      (e: Error) => e instanceof Dns01ConfigError && /GANDIV5_TTL=120 must be at least 300/.test(e.message),
    );
  });
});
