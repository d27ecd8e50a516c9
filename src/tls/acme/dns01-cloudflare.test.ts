/**
 * What is particular to the cloudflare provider, against the Cloudflare double: lego's two
 * credential forms and their variable names (CF_… and CLOUDFLARE_…, each also as …_FILE), the
 * split zone/DNS tokens, the TTL floor, and the zone id looked up once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { Dns01ConfigError } from './dns01-env.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import { ImmediateScheduler, zoneLocator } from './test-dns01-helpers.ts';
import { CLOUDFLARE_BASE_PATH, startFakeCloudflare } from './test-fake-cloudflare.ts';
import { type FakeApi, MemoryBackend } from './test-fake-dns-api.ts';

const CHALLENGE: DnsChallengeConfig = { provider: 'cloudflare', propagation: { disableChecks: true } };
const RECORD = '_acme-challenge.www.example.com.';

describe('the cloudflare DNS provider', () => {
  const backend = new MemoryBackend();
  let api: FakeApi;
  let base: string;
  const files: Record<string, string> = {
    '/run/secrets/cf_key': 'global-key\n',
    '/run/secrets/cf_token': 'dns-only\n',
  };
  const build = (env: Record<string, string>) =>
    dnsProviderFor(
      CHALLENGE,
      { CLOUDFLARE_API_URL: base, ...env },
      {
        zones: zoneLocator('example.com.'),
        scheduler: new ImmediateScheduler(),
        readFile: (p) => {
          const f = files[p];
          if (f === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
          return f;
        },
      },
    );

  before(async () => {
    api = await startFakeCloudflare({
      zones: { 'example.com': 'zone-1' },
      tokens: {
        'dns-only': { zoneRead: false, dnsEdit: true },
        'zone-only': { zoneRead: true, dnsEdit: false },
        both: { zoneRead: true, dnsEdit: true },
      },
      key: { email: 'admin@example.com', key: 'global-key' },
      backend,
    });
    base = `${api.url}${CLOUDFLARE_BASE_PATH}`;
  });
  after(() => api.close());

  it('reads zones with CF_ZONE_API_TOKEN and edits records with CF_DNS_API_TOKEN (…_FILE)', async () => {
    api.calls.length = 0;
    const p = build({ CF_DNS_API_TOKEN_FILE: '/run/secrets/cf_token', CF_ZONE_API_TOKEN: 'zone-only' });
    await p.present(RECORD, 'v1');
    await p.cleanup(RECORD, 'v1');
    assert.deepEqual(
      api.calls.map((c) => `${c.method} ${c.path} ${c.headers.authorization}`),
      [
        `GET ${CLOUDFLARE_BASE_PATH}/zones Bearer zone-only`,
        `POST ${CLOUDFLARE_BASE_PATH}/zones/zone-1/dns_records Bearer dns-only`,
        `DELETE ${CLOUDFLARE_BASE_PATH}/zones/zone-1/dns_records/${/rec\d+/.exec(api.calls[2]?.path ?? '')?.[0]} Bearer dns-only`,
      ],
    );
    assert.deepEqual(JSON.parse(api.calls[1]?.body ?? ''), {
      type: 'TXT',
      name: '_acme-challenge.www.example.com',
      content: 'v1',
      ttl: 120,
    });
  });

  it('fails when one token lacks Zone:Read and no zone token is given', async () => {
    await assert.rejects(
      build({ CF_DNS_API_TOKEN: 'dns-only' }).present(RECORD, 'v1'),
      /answered 403: 10000: Authentication error/,
    );
  });

  it('uses the email and global key (CLOUDFLARE_EMAIL, CF_API_KEY_FILE), preferred over a token, as lego does', async () => {
    api.calls.length = 0;
    const p = build({
      CLOUDFLARE_EMAIL: 'admin@example.com',
      CF_API_KEY_FILE: '/run/secrets/cf_key',
      CF_DNS_API_TOKEN: 'both',
    });
    await p.present(RECORD, 'v2');
    await p.cleanup(RECORD, 'v2');
    for (const c of api.calls) {
      assert.equal(c.headers['x-auth-email'], 'admin@example.com');
      assert.equal(c.headers['x-auth-key'], 'global-key');
      assert.equal(c.headers.authorization, undefined);
    }
  });

  it('looks the zone id up once for several records', async () => {
    api.calls.length = 0;
    const p = build({ CLOUDFLARE_DNS_API_TOKEN: 'both', CLOUDFLARE_TTL: '300' });
    await p.present(RECORD, 'a');
    await p.present('_acme-challenge.api.example.com.', 'b');
    assert.equal(api.calls.filter((c) => c.method === 'GET').length, 1);
    assert.equal(JSON.parse(api.calls[1]?.body ?? '').ttl, 300);
    await p.cleanup(RECORD, 'a');
    await p.cleanup('_acme-challenge.api.example.com.', 'b');
  });

  it('refuses a TTL under 120 and an unreadable key file at start-up, naming them', () => {
    assert.throws(
      () => build({ CF_DNS_API_TOKEN: 'both', CLOUDFLARE_TTL: '60' }),
      (e: Error) => e instanceof Dns01ConfigError && /CLOUDFLARE_TTL=60 must be at least 120/.test(e.message),
    );
    assert.throws(
      () => build({ CF_API_EMAIL: 'a@b.c', CF_API_KEY_FILE: '/nope' }),
      (e: Error) =>
        e instanceof Dns01ConfigError && /cannot read CF_API_KEY_FILE \(\/nope\): ENOENT/.test(e.message),
    );
  });
});
