/**
 * The inwx provider against its XML-RPC double (test-fake-inwx.ts): goinwx's calls in a session
 * (login, the cookie sent back, logout), the record by its full name, "Object exists" taken as
 * success, ours deleted at cleanup, two-factor unlocking with a TOTP code never used twice (the
 * next period awaited), and the errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { ApiClient } from './dns01-api.ts';
import { Dns01ConfigError } from './dns01-env.ts';
import { InwxDnsProvider, totpCode } from './dns01-inwx.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import type { Scheduler } from './scheduler.ts';
import { zoneLocator } from './test-dns01-helpers.ts';
import { type FakeApi, MemoryBackend } from './test-fake-dns-api.ts';
import { startFakeInwx } from './test-fake-inwx.ts';
import { parseXmlRpcCall } from './xml-rpc.ts';

const CHALLENGE: DnsChallengeConfig = { provider: 'inwx', propagation: { disableChecks: true } };
const RECORD = '_acme-challenge.www.example.com.';
const VALUE_A = 'LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo';
const VALUE_B = 'AXZfe0TN8qyy8dOF_Yj7S5pfV7D8x5Dyu8lpt1XdGWk';
/** RFC 6238's test secret ("12345678901234567890"), base32. */
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('the inwx DNS provider', () => {
  const backend = new MemoryBackend();
  let api: FakeApi & { unlocks: string[] };
  const build = (env: Record<string, string>) =>
    dnsProviderFor(
      CHALLENGE,
      { INWX_API_URL: `${api.url}/xmlrpc/`, ...env },
      { zones: zoneLocator('example.com.') },
    );

  before(async () => {
    api = await startFakeInwx({
      username: 'inwx-user',
      password: 'inwx-pass',
      domains: ['example.com'],
      backend,
    });
  });
  after(() => api.close());

  it("sends goinwx's calls in one session each: login, the record, logout, with the session cookie", async () => {
    api.calls.length = 0;
    const p = build({ INWX_USERNAME: 'inwx-user', INWX_PASSWORD: 'inwx-pass' });
    await p.present(RECORD, VALUE_A);
    await p.present(RECORD, VALUE_B);
    // The same record again: INWX answers "Object exists", which lego takes as done.
    await p.present(RECORD, VALUE_A);
    assert.deepEqual(backend.values(RECORD).sort(), [VALUE_A, VALUE_B].sort());
    await p.cleanup(RECORD, VALUE_A);
    assert.deepEqual(backend.values(RECORD), [VALUE_B]);
    await p.cleanup(RECORD, VALUE_B);
    assert.deepEqual(backend.values(RECORD), []);
    const calls = api.calls.map((c) => parseXmlRpcCall(c.body));
    assert.deepEqual(
      calls.slice(0, 3).map((c) => [c.method, c.params]),
      [
        ['account.login', [{ lang: 'en', pass: 'inwx-pass', user: 'inwx-user' }]],
        [
          'nameserver.createRecord',
          [
            {
              content: VALUE_A,
              domain: 'example.com',
              lang: 'en',
              name: '_acme-challenge.www.example.com',
              ttl: 300,
              type: 'TXT',
            },
          ],
        ],
        ['account.logout', []],
      ],
    );
    assert.deepEqual(
      calls.slice(9, 13).map((c) => c.method),
      ['account.login', 'nameserver.info', 'nameserver.deleteRecord', 'account.logout'],
    );
    assert.deepEqual(calls[10]?.params, [
      { domain: 'example.com', lang: 'en', name: '_acme-challenge.www.example.com', type: 'TXT' },
    ]);
    for (const c of api.calls) assert.equal(c.headers['content-type'], 'text/xml');
    // Every call after the login carries its session cookie.
    assert.equal(api.calls[0]?.headers.cookie, undefined);
    assert.match(String(api.calls[1]?.headers.cookie), /^domrobot=s\d+$/);
    assert.equal(api.calls[1]?.headers.cookie, api.calls[2]?.headers.cookie);
  });

  it("fails with goinwx's error for INWX's answer, never quoting the password", async () => {
    await assert.rejects(
      build({ INWX_USERNAME: 'inwx-user', INWX_PASSWORD: 'wrong-pass' }).present(RECORD, VALUE_A),
      (e: Error) => {
        assert.equal(e.message, 'inwx: account.login: (2200) Authentication error');
        return true;
      },
    );
  });

  it('computes RFC 6238 codes as pquerna/otp does', () => {
    // RFC 6238 appendix B, SHA-1, the last six digits.
    assert.equal(totpCode(SECRET, 59_000), '287082');
    assert.equal(totpCode(SECRET, 1_111_111_109_000), '081804');
    assert.equal(
      totpCode(SECRET.toLowerCase().slice(0, 30), 59_000),
      totpCode(`${SECRET.slice(0, 30)}`, 59_000),
    );
  });

  it('refuses to start without its credentials or with a shared secret that is not base32', () => {
    assert.throws(
      () => build({}),
      (e: Error) => e instanceof Dns01ConfigError && /INWX_USERNAME.*INWX_PASSWORD/.test(e.message),
    );
    assert.throws(
      () => build({ INWX_USERNAME: 'u', INWX_PASSWORD: 'p', INWX_SHARED_SECRET: 'not base32!' }),
      (e: Error) =>
        e instanceof Dns01ConfigError && /INWX_SHARED_SECRET must be the base32 secret/.test(e.message),
    );
  });
});

describe('the inwx DNS provider with two-factor authentication', () => {
  const backend = new MemoryBackend();
  // A clock of our own, which the awaited TOTP period moves on.
  let clock = 1_700_000_020_000;
  const waits: number[] = [];
  const scheduler: Scheduler = {
    setTimeout: (fn, ms) => {
      waits.push(ms);
      clock += ms;
      return setImmediate(fn);
    },
    clearTimeout: (h) => clearImmediate(h as NodeJS.Immediate),
  };
  let api: FakeApi & { unlocks: string[] };

  before(async () => {
    api = await startFakeInwx({
      username: 'u',
      password: 'p',
      sharedSecret: SECRET,
      domains: ['example.com'],
      backend,
      now: () => clock,
    });
  });
  after(() => api.close());

  it('unlocks each session with the current code, awaiting the next period rather than using a code twice', async () => {
    const p = new InwxDnsProvider({
      api: new ApiClient({ provider: 'inwx', timeoutMs: 30_000 }),
      url: new URL(`${api.url}/xmlrpc/`),
      username: 'u',
      password: 'p',
      sharedSecret: SECRET,
      ttl: 300,
      zones: zoneLocator('example.com.'),
      scheduler,
      now: () => clock,
    });
    await p.present(RECORD, VALUE_A);
    await p.cleanup(RECORD, VALUE_A);
    assert.deepEqual(backend.values(RECORD), []);
    assert.equal(api.unlocks.length, 2);
    assert.notEqual(api.unlocks[0], api.unlocks[1]);
    // The second session came in the same 30-second period: it waited for the next one.
    assert.deepEqual(waits, [20_000]);
    await assert.rejects(
      new InwxDnsProvider({
        api: new ApiClient({ provider: 'inwx', timeoutMs: 30_000 }),
        url: new URL(`${api.url}/xmlrpc/`),
        username: 'u',
        password: 'p',
        sharedSecret: '',
        ttl: 300,
        zones: zoneLocator('example.com.'),
      }).present(RECORD, VALUE_A),
      /inwx: two-factor authentication but no shared secret is given/,
    );
  });
});
