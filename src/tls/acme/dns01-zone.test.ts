/**
 * Where API providers write the record, as lego decides it: a CNAME at the record name followed,
 * then the zone from the SOA, asked of the `resolvers` (a test DNS server on loopback here). The
 * last test runs it through dnsProviderFor, against the Cloudflare double: the record delegated
 * by CNAME lands in the target's zone, looked up by that zone's name.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { DnsLookupError } from './dns01-lookup.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import { DnsZoneLocator, relativeName } from './dns01-zone.ts';
import { TestDnsServer } from './test-dns-server.ts';
import { ImmediateScheduler } from './test-dns01-helpers.ts';
import { CLOUDFLARE_BASE_PATH, startFakeCloudflare } from './test-fake-cloudflare.ts';
import { MemoryBackend } from './test-fake-dns-api.ts';

describe('DnsZoneLocator', () => {
  let dns: TestDnsServer;
  before(async () => {
    dns = await TestDnsServer.start([
      { name: 'example.com', type: 'SOA', value: 'ns1.example.com' },
      { name: 'sub.example.com', type: 'SOA', value: 'ns1.sub.example.com' },
      { name: 'example.net', type: 'SOA', value: 'ns1.example.net' },
      {
        name: '_acme-challenge.alias.example.com',
        type: 'CNAME',
        value: '_acme-challenge.delegated.example.net',
      },
      { name: 'www.example.com', type: 'A', value: '192.0.2.1' },
    ]);
  });
  after(() => dns.close());

  it('finds the closest zone whose SOA is answered, walking up from the record', async () => {
    const z = new DnsZoneLocator({ resolvers: [dns.address], followCname: true });
    assert.deepEqual(await z.locate('_acme-challenge.www.example.com.'), {
      fqdn: '_acme-challenge.www.example.com.',
      zone: 'example.com.',
    });
    assert.equal((await z.locate('_acme-challenge.a.b.sub.example.com.')).zone, 'sub.example.com.');
  });

  it('follows a CNAME at the record name to the zone of its target', async () => {
    const z = new DnsZoneLocator({ resolvers: [dns.address], followCname: true });
    assert.deepEqual(await z.locate('_acme-challenge.alias.example.com.'), {
      fqdn: '_acme-challenge.delegated.example.net.',
      zone: 'example.net.',
    });
    assert.equal(
      await z.follow('_acme-challenge.alias.example.com.'),
      '_acme-challenge.delegated.example.net.',
    );
  });

  it('leaves the name alone with LEGO_DISABLE_CNAME_SUPPORT (followCname false)', async () => {
    const z = new DnsZoneLocator({ resolvers: [dns.address], followCname: false });
    assert.deepEqual(await z.locate('_acme-challenge.alias.example.com.'), {
      fqdn: '_acme-challenge.alias.example.com.',
      zone: 'example.com.',
    });
  });

  it('fails naming the record when no zone answers', async () => {
    const z = new DnsZoneLocator({ resolvers: [dns.address], followCname: true });
    await assert.rejects(z.locate('_acme-challenge.www.example.org.'), (e: Error) => {
      assert.ok(e instanceof DnsLookupError);
      assert.match(e.message, /^could not find the DNS zone of _acme-challenge\.www\.example\.org\.: /);
      return true;
    });
  });

  it('writes a CNAME-delegated record in the target zone through the provider (cloudflare)', async (t) => {
    const backend = new MemoryBackend();
    const api = await startFakeCloudflare({
      zones: { 'example.com': 'zone-com', 'example.net': 'zone-net' },
      tokens: { tok: { zoneRead: true, dnsEdit: true } },
      backend,
    });
    t.after(() => api.close());
    const challenge: DnsChallengeConfig = {
      provider: 'cloudflare',
      resolvers: [dns.address],
      propagation: { disableChecks: true },
    };
    const p = dnsProviderFor(
      challenge,
      { CF_DNS_API_TOKEN: 'tok', CLOUDFLARE_API_URL: `${api.url}${CLOUDFLARE_BASE_PATH}` },
      { scheduler: new ImmediateScheduler() },
    );
    await p.present('_acme-challenge.alias.example.com.', 'v1');
    assert.deepEqual(backend.values('_acme-challenge.delegated.example.net.'), ['v1']);
    assert.equal(api.calls[0]?.query.get('name'), 'example.net');
    assert.match(api.calls[1]?.path ?? '', /\/zones\/zone-net\/dns_records$/);
    await p.cleanup('_acme-challenge.alias.example.com.', 'v1');
    assert.deepEqual(backend.values('_acme-challenge.delegated.example.net.'), []);
  });
});

describe('relativeName', () => {
  it("is lego's ExtractSubDomain", () => {
    assert.equal(relativeName('_acme-challenge.www.example.com.', 'example.com.'), '_acme-challenge.www');
    assert.equal(relativeName('_acme-challenge.Example.COM.', 'example.com'), '_acme-challenge');
    assert.throws(() => relativeName('example.com.', 'example.com.'), /not a name below the zone/);
    assert.throws(
      () => relativeName('_acme-challenge.example.org.', 'example.com.'),
      /not a name below the zone/,
    );
  });
});
