/**
 * What is particular to the ovh provider, against the OVH double: go-ovh's signature with the
 * API's clock (an hour ahead of ours here, asked once), the zone refresh that publishes each
 * change, OVH_ENDPOINT's names, and OAuth2 access tokens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { Dns01ConfigError } from './dns01-env.ts';
import { ovhSignature } from './dns01-ovh.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import { ImmediateScheduler, zoneLocator } from './test-dns01-helpers.ts';
import { type FakeApi, MemoryBackend } from './test-fake-dns-api.ts';
import { startFakeOvh } from './test-fake-ovh.ts';

const CHALLENGE: DnsChallengeConfig = { provider: 'ovh', propagation: { disableChecks: true } };
const RECORD = '_acme-challenge.www.example.com.';
const KEYS = { OVH_APPLICATION_KEY: 'ak', OVH_APPLICATION_SECRET: 'as', OVH_CONSUMER_KEY: 'ck' };

describe('the ovh DNS provider', () => {
  const backend = new MemoryBackend();
  let api: FakeApi;
  const build = (env: Record<string, string>) =>
    dnsProviderFor(CHALLENGE, env, {
      zones: zoneLocator('example.com.'),
      scheduler: new ImmediateScheduler(),
    });

  before(async () => {
    api = await startFakeOvh({
      applicationKey: 'ak',
      applicationSecret: 'as',
      consumerKey: 'ck',
      accessToken: 'oauth-token',
      zones: ['example.com'],
      clockOffsetS: 3600,
      backend,
    });
  });
  after(() => api.close());

  it("signs with the API's clock, asked once, and publishes each change with a zone refresh", async () => {
    api.calls.length = 0;
    const p = build({ OVH_ENDPOINT: `${api.url}/1.0`, ...KEYS });
    await p.present(RECORD, 'v1');
    assert.deepEqual(backend.values(RECORD), ['v1'], 'published by the refresh');
    await p.cleanup(RECORD, 'v1');
    assert.deepEqual(backend.values(RECORD), []);
    assert.deepEqual(
      api.calls.map((c) => `${c.method} ${c.path.replace(/\d{6,}/, '<id>')}`),
      [
        'GET /1.0/auth/time',
        'POST /1.0/domain/zone/example.com/record',
        'POST /1.0/domain/zone/example.com/refresh',
        'DELETE /1.0/domain/zone/example.com/record/<id>',
        'POST /1.0/domain/zone/example.com/refresh',
      ],
    );
    const create = api.calls[1]!;
    assert.deepEqual(JSON.parse(create.body), {
      fieldType: 'TXT',
      subDomain: '_acme-challenge.www',
      target: 'v1',
      ttl: 120,
    });
    const ts = Number(create.headers['x-ovh-timestamp']);
    assert.ok(ts - Date.now() / 1000 > 3500, 'the timestamp is the API clock, not ours');
    assert.equal(
      create.headers['x-ovh-signature'],
      ovhSignature(
        'as',
        'ck',
        'POST',
        `${api.url}/1.0/domain/zone/example.com/record`,
        create.body,
        String(ts),
      ),
    );
  });

  it('fails with the API message when the secret is wrong', async () => {
    const p = build({ OVH_ENDPOINT: `${api.url}/1.0`, ...KEYS, OVH_APPLICATION_SECRET: 'other' });
    await assert.rejects(p.present(RECORD, 'v1'), (e: Error) =>
      /^ovh: POST .* answered 400: Invalid signature$/.test(e.message),
    );
  });

  it('sends OVH_ACCESS_TOKEN as a Bearer token instead of signing', async () => {
    api.calls.length = 0;
    const p = build({ OVH_ENDPOINT: `${api.url}/1.0`, OVH_ACCESS_TOKEN: 'oauth-token' });
    await p.present(RECORD, 'v2');
    await p.cleanup(RECORD, 'v2');
    assert.ok(
      api.calls.every(
        (c) => c.headers.authorization === 'Bearer oauth-token' && c.headers['x-ovh-signature'] === undefined,
      ),
    );
  });

  it("takes go-ovh's endpoint names and refuses anything else that is not a URL", () => {
    assert.doesNotThrow(() => build({ OVH_ENDPOINT: 'ovh-eu', ...KEYS }));
    assert.doesNotThrow(() => build({ OVH_ENDPOINT: 'ovh-ca', ...KEYS }));
    assert.throws(
      () => build({ OVH_ENDPOINT: 'ovh-mars', ...KEYS }),
      (e: Error) =>
        e instanceof Dns01ConfigError &&
        /OVH_ENDPOINT="ovh-mars" must be one of ovh-eu, ovh-ca, /.test(e.message),
    );
    assert.throws(
      () => build({ OVH_ENDPOINT: 'ovh-eu' }),
      (e: Error) => /OVH_APPLICATION_KEY.*OVH_APPLICATION_SECRET.*OVH_CONSUMER_KEY/.test(e.message),
    );
  });
});
