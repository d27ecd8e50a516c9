/**
 * The gcloud provider against its double (test-fake-gcloud.ts): the service account's JWT
 * exchanged for a token (signature checked with the key's public half), the managed zone found
 * by DNS name, the TXT set replaced as lego replaces it (deleted, added back with ours), others'
 * values kept at cleanup, GCE_ZONE_ID, and the errors.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { Dns01ConfigError } from './dns01-env.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import { ImmediateScheduler, zoneLocator } from './test-dns01-helpers.ts';
import { type FakeApi, MemoryBackend } from './test-fake-dns-api.ts';
import { startFakeGCloud } from './test-fake-gcloud.ts';

const CHALLENGE: DnsChallengeConfig = { provider: 'gcloud', propagation: { disableChecks: true } };
const RECORD = '_acme-challenge.www.example.com.';
const VALUE_A = 'LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo';
const VALUE_B = 'AXZfe0TN8qyy8dOF_Yj7S5pfV7D8x5Dyu8lpt1XdGWk';

describe('the gcloud DNS provider', () => {
  const backend = new MemoryBackend();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let api: FakeApi & { tokens: number };
  let env: Record<string, string>;
  const build = (extra: Record<string, string> = {}) =>
    dnsProviderFor(
      CHALLENGE,
      { ...env, ...extra },
      { zones: zoneLocator('example.com.'), scheduler: new ImmediateScheduler() },
    );

  before(async () => {
    api = await startFakeGCloud({
      project: 'my-project',
      clientEmail: 'acme@my-project.iam.gserviceaccount.com',
      publicKey,
      zones: { 'example-zone': 'example.com' },
      backend,
    });
    env = {
      GCE_SERVICE_ACCOUNT: JSON.stringify({
        type: 'service_account',
        project_id: 'my-project',
        private_key_id: 'k1',
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
        client_email: 'acme@my-project.iam.gserviceaccount.com',
        token_uri: `${api.url}/token`,
      }),
      GCE_API_URL: `${api.url}/dns/v1`,
    };
  });
  after(() => api.close());

  it('gets a token with the signed JWT once, then replaces the TXT set with ours added, and keeps the others at cleanup', async () => {
    api.calls.length = 0;
    const p = build();
    await p.present(RECORD, VALUE_A);
    await p.present(RECORD, VALUE_B);
    assert.deepEqual(backend.values(RECORD).sort(), [VALUE_A, VALUE_B].sort());
    await p.cleanup(RECORD, VALUE_A);
    assert.deepEqual(backend.values(RECORD), [VALUE_B]);
    await p.cleanup(RECORD, VALUE_B);
    assert.deepEqual(backend.values(RECORD), []);
    assert.equal(api.tokens, 1);
    const zone = '/dns/v1/projects/my-project/managedZones';
    const shown = api.calls.map((c) => `${c.method} ${c.path}`);
    assert.deepEqual(shown.slice(0, 6), [
      'POST /token',
      `GET ${zone}`,
      `GET ${zone}/example-zone/rrsets`,
      `POST ${zone}/example-zone/changes`,
      `GET ${zone}/example-zone/changes/1`,
      `GET ${zone}`,
    ]);
    assert.equal(api.calls[1]?.query.get('dnsName'), 'example.com.');
    assert.equal(`${api.calls[2]?.query}`, `name=${encodeURIComponent(RECORD)}&type=TXT`);
    assert.deepEqual(JSON.parse(api.calls[3]?.body ?? ''), {
      additions: [{ name: RECORD, rrdatas: [VALUE_A], ttl: 120, type: 'TXT' }],
    });
    // The second value: the set (as listed) deleted, then added back with ours first.
    const second = api.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/changes')).slice(1, 3);
    assert.deepEqual(JSON.parse(second[0]?.body ?? '').deletions[0].rrdatas, [VALUE_A]);
    assert.deepEqual(JSON.parse(second[1]?.body ?? '').additions[0].rrdatas, [VALUE_B, VALUE_A]);
  });

  it('uses GCE_ZONE_ID without listing the zones', async () => {
    api.calls.length = 0;
    const p = build({ GCE_ZONE_ID: 'example-zone' });
    await p.present(RECORD, VALUE_A);
    await p.cleanup(RECORD, VALUE_A);
    assert.ok(!api.calls.some((c) => c.path === '/dns/v1/projects/my-project/managedZones'));
    assert.ok(api.calls.some((c) => c.path === '/dns/v1/projects/my-project/managedZones/example-zone'));
  });

  it("fails with Cloud DNS's error message, never quoting the key", async () => {
    const p = build({ GCE_PROJECT: 'other-project' });
    await assert.rejects(p.present(RECORD, VALUE_A), (e: Error) => {
      assert.match(e.message, /^gcloud: GET .* answered 404: googleapi: Error 404: Not Found/);
      assert.ok(!e.message.includes('PRIVATE KEY'));
      return true;
    });
  });

  it("fails with the token endpoint's refusal when the key is not the account's", async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const key = JSON.parse(env['GCE_SERVICE_ACCOUNT']!);
    key.private_key = other.export({ type: 'pkcs8', format: 'pem' });
    const p = build({ GCE_SERVICE_ACCOUNT: JSON.stringify(key) });
    await assert.rejects(p.present(RECORD, VALUE_A), /answered 400: oauth2: Invalid JWT Signature\./);
  });

  it('without a key, takes the token and the project from the metadata server, as google.DefaultClient does on GCE', async () => {
    api.calls.length = 0;
    const metadata = { GCE_METADATA_HOST: new URL(api.url).host, GCE_API_URL: `${api.url}/dns/v1` };
    const p = dnsProviderFor(CHALLENGE, metadata, {
      zones: zoneLocator('example.com.'),
      scheduler: new ImmediateScheduler(),
    });
    await p.present(RECORD, VALUE_A);
    await p.cleanup(RECORD, VALUE_A);
    assert.deepEqual(backend.values(RECORD), []);
    const shown = api.calls.map((c) => `${c.method} ${c.path}${c.query.size > 0 ? `?${c.query}` : ''}`);
    assert.deepEqual(shown.slice(0, 3), [
      'GET /computeMetadata/v1/project/project-id',
      'GET /computeMetadata/v1/instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fndev.clouddns.readwrite',
      'GET /dns/v1/projects/my-project/managedZones?dnsName=example.com.',
    ]);
    // Asked once each: the project and the token are kept.
    assert.equal(shown.filter((l) => l.startsWith('GET /computeMetadata')).length, 2);
    for (const c of api.calls.slice(0, 2)) assert.equal(c.headers['metadata-flavor'], 'Google');
    assert.match(String(api.calls[2]?.headers.authorization), /^Bearer ya29\.metadata-/);

    // GCE_PROJECT: the metadata server is asked for the token only.
    api.calls.length = 0;
    const q = dnsProviderFor(
      CHALLENGE,
      { ...metadata, GCE_PROJECT: 'my-project' },
      {
        zones: zoneLocator('example.com.'),
        scheduler: new ImmediateScheduler(),
      },
    );
    await q.present(RECORD, VALUE_A);
    await q.cleanup(RECORD, VALUE_A);
    assert.ok(!api.calls.some((c) => c.path.endsWith('/project/project-id')));
  });

  it('refuses GOOGLE_APPLICATION_CREDENTIALS (not supported yet), and a key that is not one', () => {
    assert.throws(
      () =>
        dnsProviderFor(
          CHALLENGE,
          { GOOGLE_APPLICATION_CREDENTIALS: '/etc/gcp/adc.json' },
          { zones: zoneLocator('example.com.') },
        ),
      (e: Error) =>
        e instanceof Dns01ConfigError &&
        /GOOGLE_APPLICATION_CREDENTIALS is not supported yet/.test(e.message),
    );
    assert.throws(
      () => build({ GCE_SERVICE_ACCOUNT: '{"type":"service_account"}' }),
      (e: Error) => e instanceof Dns01ConfigError && /not a service account key/.test(e.message),
    );
  });
});
