/**
 * The gandi (v4) provider against its XML-RPC double (test-fake-gandi-v4.ts): lego's clone,
 * new version, record, activation and switch of the zone, then the switch back and the clone
 * deleted; the key first in every call, the `<param>`s without `<params>` as lego writes them,
 * one challenge per zone at a time, and Gandi's faults.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { Dns01ConfigError } from './dns01-env.ts';
import { rfc822z } from './dns01-gandi.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import { zoneLocator } from './test-dns01-helpers.ts';
import { type FakeApi, MemoryBackend } from './test-fake-dns-api.ts';
import { startFakeGandiV4 } from './test-fake-gandi-v4.ts';
import { parseXmlRpcCall } from './xml-rpc.ts';

const CHALLENGE: DnsChallengeConfig = { provider: 'gandi', propagation: { disableChecks: true } };
const RECORD = '_acme-challenge.www.example.com.';
const VALUE = 'LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo';

describe('the gandi (v4) DNS provider', () => {
  const backend = new MemoryBackend();
  let api: FakeApi;
  const build = (env: Record<string, string>) =>
    dnsProviderFor(
      CHALLENGE,
      { GANDI_API_URL: `${api.url}/xmlrpc/`, ...env },
      { zones: zoneLocator('example.com.') },
    );

  before(async () => {
    api = await startFakeGandiV4({ apiKey: 'gandi-key', domains: ['example.com'], backend });
  });
  after(() => api.close());

  it('clones the zone with the record, switches the domain to it, and back at cleanup, as lego does', async () => {
    api.calls.length = 0;
    const p = build({ GANDI_API_KEY: 'gandi-key', GANDI_TTL: '60' });
    await p.present(RECORD, VALUE);
    assert.deepEqual(backend.values(RECORD), [VALUE]);
    // One challenge per zone at a time.
    await assert.rejects(
      p.present('_acme-challenge.example.com.', VALUE),
      /gandi: challenge already in progress for authZone example\.com\./,
    );
    await p.cleanup(RECORD, VALUE);
    assert.deepEqual(backend.values(RECORD), []);
    const calls = api.calls.map((c) => parseXmlRpcCall(c.body));
    const label = (calls[1]?.params[3] as Record<string, string>)?.['name'] ?? '';
    assert.match(label, /^example\.com \[ACME Challenge \d\d [A-Z][a-z]{2} \d\d \d\d:\d\d \+0000\]$/);
    assert.deepEqual(
      calls.map((c) => [c.method, c.params]),
      [
        ['domain.info', ['gandi-key', 'example.com.']],
        ['domain.zone.clone', ['gandi-key', 1, 0, { name: label }]],
        ['domain.zone.version.new', ['gandi-key', 2]],
        // The TTL raised to Gandi's minimum.
        [
          'domain.zone.record.add',
          ['gandi-key', 2, 2, { type: 'TXT', name: '_acme-challenge.www', value: VALUE, ttl: 300 }],
        ],
        ['domain.zone.version.set', ['gandi-key', 2, 2]],
        ['domain.zone.set', ['gandi-key', 'example.com.', 2]],
        ['domain.info', ['gandi-key', 'example.com.']],
        ['domain.zone.set', ['gandi-key', 'example.com.', 1]],
        ['domain.zone.delete', ['gandi-key', 2]],
      ],
    );
    assert.ok(!api.calls[0]?.body.includes('<params>'), 'the <param>s without <params>, as lego writes them');
    for (const c of api.calls) assert.equal(c.headers['content-type'], 'text/xml');
  });

  it("fails with Gandi's fault, never quoting the key", async () => {
    await assert.rejects(build({ GANDI_API_KEY: 'wrong-key' }).present(RECORD, VALUE), (e: Error) => {
      assert.match(
        e.message,
        /^gandi: POST .* answered 200: Gandi DNS: RPC Error: \(510150\) Error on object : OBJECT_ACCOUNT/,
      );
      assert.ok(!e.message.includes('wrong-key'));
      return true;
    });
  });

  it("writes the clone name with Go's RFC822Z time", () => {
    assert.equal(rfc822z(new Date(Date.UTC(2026, 11, 6, 9, 5))), '06 Dec 26 09:05 +0000');
  });

  it('refuses to start without GANDI_API_KEY', () => {
    assert.throws(
      () => build({}),
      (e: Error) => e instanceof Dns01ConfigError && /GANDI_API_KEY/.test(e.message),
    );
  });
});
