/**
 * The hurricane provider against its double (test-fake-hurricane.ts): lego's one form POST per
 * change, the key found by the domain (or the record name), `.` written at cleanup, lego's
 * errors for HE's answers, and the keys never in an error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { Dns01ConfigError } from './dns01-env.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import { zoneLocator } from './test-dns01-helpers.ts';
import { type FakeApi, MemoryBackend } from './test-fake-dns-api.ts';
import { startFakeHurricane } from './test-fake-hurricane.ts';

const CHALLENGE: DnsChallengeConfig = { provider: 'hurricane', propagation: { disableChecks: true } };
const VALUE = 'LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo';
const RECORD = '_acme-challenge.example.com.';

describe('the hurricane DNS provider', () => {
  const backend = new MemoryBackend();
  let api: FakeApi;
  const build = (env: Record<string, string>) =>
    dnsProviderFor(
      CHALLENGE,
      { HURRICANE_API_URL: `${api.url}/nic/update`, ...env },
      { zones: zoneLocator('example.com.') },
    );

  before(async () => {
    api = await startFakeHurricane({
      records: { '_acme-challenge.example.com': 'key-one', '_acme-challenge.www.example.com': 'key-two' },
      backend,
    });
  });
  after(() => api.close());

  it("sets the record's value with one form POST, then writes '.' over it", async () => {
    api.calls.length = 0;
    const p = build({ HURRICANE_TOKENS: 'example.com:key-one, www.example.com : key-two,' });
    await p.present(RECORD, VALUE);
    assert.deepEqual(backend.values(RECORD), [VALUE]);
    // The same value again: HE answers nochg, which is no error.
    await p.present(RECORD, VALUE);
    await p.cleanup(RECORD, VALUE);
    assert.deepEqual(backend.values(RECORD), []);
    assert.deepEqual(
      api.calls.map((c) => `${c.method} ${c.path} ${c.headers['content-type']} ${c.body}`),
      [
        `POST /nic/update application/x-www-form-urlencoded hostname=_acme-challenge.example.com&password=key-one&txt=${VALUE}`,
        `POST /nic/update application/x-www-form-urlencoded hostname=_acme-challenge.example.com&password=key-one&txt=${VALUE}`,
        'POST /nic/update application/x-www-form-urlencoded hostname=_acme-challenge.example.com&password=key-one&txt=.',
      ],
    );
    // The other domain's key, for the other name.
    await p.present('_acme-challenge.www.example.com.', VALUE);
    assert.match(api.calls.at(-1)?.body ?? '', /password=key-two/);
    await p.cleanup('_acme-challenge.www.example.com.', VALUE);
  });

  it('takes the key of the record name when no domain matches, as lego does', async () => {
    api.calls.length = 0;
    const p = build({ HURRICANE_TOKENS: '_acme-challenge.example.com:key-one' });
    await p.present(RECORD, VALUE);
    await p.cleanup(RECORD, VALUE);
    assert.equal(api.calls.length, 2);
  });

  it("fails with lego's message for HE's answer, never quoting the key", async () => {
    await assert.rejects(
      build({ HURRICANE_TOKENS: 'example.com:wrong-key' }).present(RECORD, VALUE),
      (e: Error) => {
        assert.match(
          e.message,
          /^hurricane: POST .* answered 200: badauth: wrong authentication token provided for TXT record _acme-challenge\.example\.com$/,
        );
        assert.ok(!e.message.includes('wrong-key'));
        return true;
      },
    );
    await assert.rejects(
      build({ HURRICANE_TOKENS: 'other.org:key' }).present(RECORD, VALUE),
      /hurricane: domain example\.com \(or _acme-challenge\.example\.com\) not found in credentials/,
    );
  });

  it('refuses to start without HURRICANE_TOKENS, or with a malformed pair', () => {
    assert.throws(
      () => build({}),
      (e: Error) => e instanceof Dns01ConfigError && /HURRICANE_TOKENS/.test(e.message),
    );
    assert.throws(
      () => build({ HURRICANE_TOKENS: 'example.com:key:extra' }),
      (e: Error) =>
        e instanceof Dns01ConfigError &&
        /incorrect credential pair/.test(e.message) &&
        !e.message.includes('extra'),
    );
  });
});
