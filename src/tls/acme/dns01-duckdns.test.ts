/**
 * The duckdns provider against its double (test-fake-duckdns.ts): lego's one GET per change,
 * with the query in lego's order, the domain cut as lego's getMainDomain cuts it, `OK` as the
 * only success, and the token never in an error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { duckDnsMainDomain } from './dns01-duckdns.ts';
import { Dns01ConfigError } from './dns01-env.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import { zoneLocator } from './test-dns01-helpers.ts';
import { type FakeApi, MemoryBackend } from './test-fake-dns-api.ts';
import { startFakeDuckDns } from './test-fake-duckdns.ts';

const CHALLENGE: DnsChallengeConfig = { provider: 'duckdns', propagation: { disableChecks: true } };
const VALUE = 'LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo';

describe('the duckdns DNS provider', () => {
  const backend = new MemoryBackend();
  let api: FakeApi;
  const build = (env: Record<string, string>) =>
    dnsProviderFor(CHALLENGE, env, { zones: zoneLocator('duckdns.org.') });

  before(async () => {
    api = await startFakeDuckDns({ token: 'duck-token', domains: ['mysite.duckdns.org'], backend });
  });
  after(() => api.close());

  it("sets the domain's TXT value with one GET, then clears it", async () => {
    api.calls.length = 0;
    const p = build({ DUCKDNS_TOKEN: 'duck-token', DUCKDNS_API_URL: `${api.url}/update` });
    // A name below the domain: DuckDNS's one record serves it, the domain is cut to mysite.duckdns.org.
    await p.present('_acme-challenge.www.mysite.duckdns.org.', VALUE);
    assert.deepEqual(backend.values('_acme-challenge.mysite.duckdns.org.'), [VALUE]);
    await p.cleanup('_acme-challenge.www.mysite.duckdns.org.', VALUE);
    assert.deepEqual(backend.values('_acme-challenge.mysite.duckdns.org.'), []);
    assert.deepEqual(
      api.calls.map((c) => `${c.method} ${c.path}?${c.query}`),
      [
        `GET /update?clear=false&domains=mysite.duckdns.org&token=duck-token&txt=${VALUE}`,
        'GET /update?clear=true&domains=mysite.duckdns.org&token=duck-token&txt=',
      ],
    );
  });

  it('fails when DuckDNS answers KO, without quoting the token', async () => {
    const p = build({ DUCKDNS_TOKEN: 'wrong-token', DUCKDNS_API_URL: `${api.url}/update` });
    await assert.rejects(p.present('_acme-challenge.mysite.duckdns.org.', VALUE), (e: Error) => {
      assert.match(
        e.message,
        /^duckdns: request to change TXT record for DuckDNS returned the following result \(KO\)/,
      );
      assert.ok(!e.message.includes('wrong-token'));
      return true;
    });
  });

  it("cuts names as lego's getMainDomain does", () => {
    assert.equal(duckDnsMainDomain('_acme-challenge.a.b.mysite.duckdns.org.'), 'mysite.duckdns.org');
    assert.equal(duckDnsMainDomain('duckdns.org.'), '');
    assert.equal(duckDnsMainDomain('_acme-challenge.example.com.'), 'com');
  });

  it('refuses to start without DUCKDNS_TOKEN', () => {
    assert.throws(
      () => build({}),
      (e: Error) => e instanceof Dns01ConfigError && /DUCKDNS_TOKEN/.test(e.message),
    );
  });
});
