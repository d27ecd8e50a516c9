/**
 * What is particular to the route53 provider, against the Route 53 double (which checks every
 * SigV4 signature): values of others at the record name kept, DELETE only of a set that held ours
 * alone, changes followed until INSYNC, AWS_HOSTED_ZONE_ID, private zones, session tokens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import { elements, text } from './route53-xml.ts';
import { ImmediateScheduler, zoneLocator } from './test-dns01-helpers.ts';
import { type FakeApi, MemoryBackend } from './test-fake-dns-api.ts';
import { startFakeRoute53 } from './test-fake-route53.ts';

const CHALLENGE: DnsChallengeConfig = { provider: 'route53', propagation: { disableChecks: true } };
const RECORD = '_acme-challenge.www.example.com.';

describe('the route53 DNS provider', () => {
  const backend = new MemoryBackend();
  let api: FakeApi;
  let env: Record<string, string>;
  const build = (extra: Record<string, string> = {}, scheduler = new ImmediateScheduler()) =>
    dnsProviderFor(CHALLENGE, { ...env, ...extra }, { zones: zoneLocator('example.com.'), scheduler });
  const actions = (): string[] =>
    api.calls
      .filter((c) => c.method === 'POST')
      .map(
        (c) =>
          `${text(c.body, 'Action')} ${elements(c.body, 'Value')
            .map((v) => text(`<v>${v}</v>`, 'v'))
            .join(',')}`,
      );

  before(async () => {
    api = await startFakeRoute53({
      accessKeyId: 'AKID',
      secretAccessKey: 'secret',
      sessionToken: 'session',
      zones: [
        { id: 'ZPUBLIC', name: 'example.com' },
        { id: 'ZPRIVATE', name: 'example.com', privateZone: true },
      ],
      backend,
    });
    env = {
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'session',
      AWS_ENDPOINT_URL: api.url,
    };
  });
  after(() => api.close());

  it('keeps another value at the name: UPSERTs it with ours, then back without ours', async () => {
    const other = build();
    await other.present(RECORD, 'someone-else');
    api.calls.length = 0;
    const p = build();
    await p.present(RECORD, 'ours');
    assert.deepEqual(backend.values(RECORD).sort(), ['ours', 'someone-else']);
    await p.cleanup(RECORD, 'ours');
    assert.deepEqual(backend.values(RECORD), ['someone-else']);
    assert.deepEqual(actions(), ['UPSERT "someone-else","ours"', 'UPSERT "someone-else"']);
    api.calls.length = 0;
    await other.cleanup(RECORD, 'someone-else');
    assert.deepEqual(actions(), ['DELETE "someone-else"'], 'the last value goes with a DELETE');
    assert.deepEqual(backend.values(RECORD), []);
  });

  it('follows each change until INSYNC at the polling interval, and signs the session token', async () => {
    api.calls.length = 0;
    const scheduler = new ImmediateScheduler();
    const p = build({ AWS_POLLING_INTERVAL: '7' }, scheduler);
    await p.present(RECORD, 'v');
    await p.cleanup(RECORD, 'v');
    const changes = api.calls.filter((c) => c.path.includes('/change/')).map((c) => c.path);
    assert.equal(changes.length, 4, 'PENDING, then INSYNC, for each of the two changes');
    assert.deepEqual(scheduler.delays, [7000, 7000]);
    for (const c of api.calls) {
      assert.equal(c.headers['x-amz-security-token'], 'session');
      assert.match(String(c.headers.authorization), /SignedHeaders=[a-z;-]*x-amz-security-token/);
    }
  });

  it('does not wait with AWS_WAIT_FOR_RECORD_SETS_CHANGED=false', async () => {
    api.calls.length = 0;
    const p = build({ AWS_WAIT_FOR_RECORD_SETS_CHANGED: 'false' });
    await p.present(RECORD, 'v');
    await p.cleanup(RECORD, 'v');
    assert.equal(api.calls.filter((c) => c.path.includes('/change/')).length, 0);
  });

  it('uses AWS_HOSTED_ZONE_ID without listing zones, and AWS_PRIVATE_ZONE picks the private zone', async () => {
    api.calls.length = 0;
    const byId = build({ AWS_HOSTED_ZONE_ID: '/hostedzone/ZPRIVATE' });
    await byId.present(RECORD, 'v');
    await byId.cleanup(RECORD, 'v');
    assert.ok(api.calls.every((c) => !c.path.includes('hostedzonesbyname')));
    assert.ok(api.calls.some((c) => c.path === '/2013-04-01/hostedzone/ZPRIVATE/rrset/'));
    api.calls.length = 0;
    const priv = build({ AWS_PRIVATE_ZONE: 'true' });
    await priv.present(RECORD, 'v');
    await priv.cleanup(RECORD, 'v');
    assert.ok(api.calls.some((c) => c.path === '/2013-04-01/hostedzone/ZPRIVATE/rrset/'));
    assert.ok(api.calls.every((c) => !c.path.includes('ZPUBLIC')));
  });

  it("fails with Route 53's error when the signature does not match", async () => {
    await assert.rejects(
      build({ AWS_SECRET_ACCESS_KEY: 'not-the-secret' }).present(RECORD, 'v'),
      (e: Error) =>
        /^route53: GET .*hostedzonesbyname.* answered 403: SignatureDoesNotMatch: /.test(e.message),
    );
  });
});
