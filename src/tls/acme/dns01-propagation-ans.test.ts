/**
 * The authoritative-nameserver half of the propagation check (lego's default), against small
 * DNS servers of the test's own on loopback: one plays the recursive resolver (it knows the
 * zones' SOA, NS and nameserver addresses), others on 127.0.0.1, 127.0.0.2, 127.0.0.3 with one
 * port play the zones' nameservers, which do not all have the record at the same time.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  Dns01PropagationCheck,
  Dns01PropagationError,
  type PropagationSettings,
} from './dns01-propagation.ts';
import { TestDnsServer, type TestRecord } from './test-dns-server.ts';
import { ManualScheduler } from './test-dns01-helpers.ts';

const TIMEOUT = 60_000;
const INTERVAL = 2_000;
const RECORD = '_acme-challenge.www.example.test.';

/** What every server knows: two zones, their SOA and NS, and where their nameservers are. */
const ZONES: TestRecord[] = [
  { name: 'example.test', type: 'SOA', value: 'ns1.example.test' },
  { name: 'example.test', type: 'NS', value: 'ns1.example.test' },
  { name: 'example.test', type: 'NS', value: 'ns2.example.test' },
  { name: 'ns1.example.test', type: 'A', value: '127.0.0.1' },
  { name: 'ns2.example.test', type: 'A', value: '127.0.0.2' },
  { name: 'www.example.test', type: 'A', value: '127.0.0.1' },
  { name: 'dns-host.test', type: 'SOA', value: 'ns.dns-host.test' },
  { name: 'dns-host.test', type: 'NS', value: 'ns.dns-host.test' },
  { name: 'ns.dns-host.test', type: 'A', value: '127.0.0.3' },
];

describe('Dns01PropagationCheck on the authoritative nameservers', () => {
  let recursive: TestDnsServer;
  let ns1: TestDnsServer;
  let ns2: TestDnsServer;
  let ns3: TestDnsServer;
  const all = (): TestDnsServer[] => [recursive, ns1, ns2, ns3];

  beforeEach(async () => {
    recursive = await TestDnsServer.start([...ZONES]);
    ns1 = await TestDnsServer.start([...ZONES], '127.0.0.1');
    // The same port on other loopback addresses: authoritative servers all listen on one port.
    ns2 = await TestDnsServer.start([...ZONES], '127.0.0.2', ns1.port);
    ns3 = await TestDnsServer.start([...ZONES], '127.0.0.3', ns1.port);
  });
  afterEach(async () => {
    await Promise.all(all().map((s) => s?.close()));
  });

  function check(over: Partial<PropagationSettings> = {}) {
    const scheduler = new ManualScheduler();
    const c = new Dns01PropagationCheck({
      resolvers: [recursive.address],
      delayBeforeChecksMs: 0,
      disableChecks: false,
      requireAllRNS: false,
      disableANSChecks: false,
      timeoutMs: TIMEOUT,
      intervalMs: INTERVAL,
      authoritativePort: ns1.port,
      scheduler,
      ...over,
    });
    return { c, scheduler };
  }

  /** Fires the timeout once the first round has failed; returns the error. */
  async function timeoutError(c: Dns01PropagationCheck, scheduler: ManualScheduler, value: string) {
    const done = c.wait(RECORD, value);
    await scheduler.armed(INTERVAL, done);
    scheduler.fire(TIMEOUT);
    const err = await done.then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof Dns01PropagationError, String(err));
    return err.message;
  }

  it('finds the zone from the SOA, one label up at a time, then asks each of its nameservers', async () => {
    ns1.setTxt(RECORD, 'v');
    ns2.setTxt(RECORD, 'v');
    const { c } = check();
    await c.wait(RECORD, 'v');
    assert.deepEqual(recursive.questions, [
      { name: '_acme-challenge.www.example.test', type: 'CNAME' },
      { name: '_acme-challenge.www.example.test', type: 'SOA' },
      { name: 'www.example.test', type: 'SOA' },
      { name: 'example.test', type: 'SOA' },
      { name: 'example.test', type: 'NS' },
      { name: 'ns1.example.test', type: 'A' },
      { name: 'ns2.example.test', type: 'A' },
    ]);
    for (const ns of [ns1, ns2]) {
      assert.deepEqual(ns.questions, [{ name: '_acme-challenge.www.example.test', type: 'TXT' }]);
    }
    assert.deepEqual(ns3.questions, [], 'a nameserver of another zone is not asked');
  });

  it('waits until every nameserver of the zone has the record', async () => {
    ns1.setTxt(RECORD, 'v');
    const { c, scheduler } = check();
    const done = c.wait(RECORD, 'v');
    await scheduler.armed(INTERVAL, done);
    ns2.setTxt(RECORD, 'v');
    scheduler.fire(INTERVAL);
    await done;
    assert.equal(ns2.questions.length, 2);
    // The zone and its nameservers were looked up once, not in every round.
    assert.equal(recursive.questions.filter((q) => q.type === 'NS').length, 1);
  });

  it('names the nameservers that do not have the record when the timeout passes', async () => {
    ns1.setTxt(RECORD, 'v');
    recursive.setTxt(RECORD, 'v');
    const { c, scheduler } = check();
    assert.equal(
      await timeoutError(c, scheduler, 'v'),
      `dns-01: TXT record ${RECORD} "v" not seen within 60s (the DNS provider's propagation timeout): authoritative nameserver ns2.example.test. of example.test. (127.0.0.2:${ns1.port}): no TXT record`,
    );
  });

  it('follows a CNAME at the record name to the zone that holds the record', async () => {
    recursive.records = [
      ...recursive.records,
      { name: RECORD, type: 'CNAME', value: '_acme.www.dns-host.test' },
    ];
    ns3.setTxt('_acme.www.dns-host.test', 'v');
    const { c } = check();
    await c.wait(RECORD, 'v');
    assert.deepEqual(ns3.questions, [{ name: '_acme.www.dns-host.test', type: 'TXT' }]);
    assert.deepEqual(ns1.questions, []);
  });

  it('reports why the zone cannot be found instead of guessing one', async () => {
    recursive.rcode = 5;
    const { c, scheduler } = check();
    assert.match(
      await timeoutError(c, scheduler, 'v'),
      /: CNAME query for _acme-challenge\.www\.example\.test\. on the recursive nameservers: REFUSED$/,
    );
    recursive.rcode = undefined;
    recursive.records = recursive.records.filter((r) => r.type !== 'SOA');
    const again = check();
    assert.match(
      await timeoutError(again.c, again.scheduler, 'v'),
      /: could not find the zone of _acme-challenge\.www\.example\.test\.: no SOA for it or any parent$/,
    );
  });

  it('counts a nameserver that fails to answer as not having the record', async () => {
    ns1.setTxt(RECORD, 'v');
    ns2.rcode = 2;
    const { c, scheduler } = check();
    assert.match(
      await timeoutError(c, scheduler, 'v'),
      /ns2\.example\.test\. of example\.test\. \(127\.0\.0\.2:\d+\): SERVFAIL$/,
    );
  });

  it('with requireAllRNS, also needs the record on every recursive resolver', async () => {
    ns1.setTxt(RECORD, 'v');
    ns2.setTxt(RECORD, 'v');
    const second = await TestDnsServer.start([...ZONES]);
    try {
      recursive.setTxt(RECORD, 'v');
      const { c, scheduler } = check({ requireAllRNS: true, resolvers: [recursive.address, second.address] });
      assert.match(
        await timeoutError(c, scheduler, 'v'),
        new RegExp(`: recursive nameserver ${second.address}: no TXT record$`),
      );
    } finally {
      await second.close();
    }
  });

  it('with disableANSChecks, asks no authoritative nameserver', async () => {
    recursive.setTxt(RECORD, 'v');
    const { c } = check({ disableANSChecks: true, requireAllRNS: true });
    await c.wait(RECORD, 'v');
    for (const ns of [ns1, ns2, ns3]) assert.deepEqual(ns.questions, []);
    assert.equal(recursive.questions.filter((q) => q.type === 'SOA').length, 0);
  });
});
