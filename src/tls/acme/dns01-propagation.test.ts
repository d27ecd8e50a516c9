/**
 * The propagation check against a real DNS server on loopback: pebble-challtestsrv, whose TXT
 * records the test sets through its management API. It answers SOA and NS with NOTIMP, so the
 * check runs here as with the challtestsrv provider: on the resolvers (requireAllRNS), without
 * the authoritative lookups (those are in dns01-propagation-ans.test.ts). Timers are manual: the
 * test fires the polling interval and the propagation timeout itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PEBBLE_SKIP } from '../../../test/helpers/pebble.ts';
import {
  Dns01PropagationCheck,
  Dns01PropagationError,
  PropagationCheckedDnsProvider,
  type PropagationSettings,
} from './dns01-propagation.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { type ChallTestSrv, ManualScheduler, startChallTestSrv } from './test-dns01-helpers.ts';

const TIMEOUT = 60_000;
const INTERVAL = 2_000;

/** Settles `p` into a value the test can look at without awaiting it. */
function track<T>(p: Promise<T>): { settled: boolean; error: unknown } {
  const state = { settled: false, error: undefined as unknown };
  p.then(
    () => {
      state.settled = true;
    },
    (e: unknown) => {
      state.settled = true;
      state.error = e;
    },
  );
  return state;
}

describe('Dns01PropagationCheck against pebble-challtestsrv', { skip: PEBBLE_SKIP }, () => {
  let cts: ChallTestSrv;
  before(async () => {
    cts = await startChallTestSrv();
  });
  after(() => cts?.close());

  function check(over: Partial<PropagationSettings> = {}) {
    const scheduler = new ManualScheduler();
    const c = new Dns01PropagationCheck({
      resolvers: [cts.dns],
      delayBeforeChecksMs: 0,
      disableChecks: false,
      requireAllRNS: true,
      disableANSChecks: true,
      timeoutMs: TIMEOUT,
      intervalMs: INTERVAL,
      scheduler,
      ...over,
    });
    return { c, scheduler };
  }

  it('returns after one query when the record is already served', async () => {
    const name = '_acme-challenge.already.test.';
    await cts.setTxt(name, 'v-already');
    const { c, scheduler } = check();
    await c.wait(name, 'v-already');
    assert.equal(await cts.txtQuestions(name), 1);
    assert.deepEqual(scheduler.pending, [], 'the timeout is cleared');
  });

  it('polls every interval until the record appears, then returns', async () => {
    const name = '_acme-challenge.later.test.';
    const { c, scheduler } = check();
    const done = c.wait(name, 'v-later');
    const state = track(done);
    await scheduler.armed(INTERVAL, done);
    assert.deepEqual(scheduler.pending, [TIMEOUT, INTERVAL]);
    scheduler.fire(INTERVAL);
    await scheduler.armed(INTERVAL, done);
    assert.equal(await cts.txtQuestions(name), 2, 'asked again after the interval');
    assert.equal(state.settled, false);

    await cts.setTxt(name, 'v-later');
    scheduler.fire(INTERVAL);
    await done;
    assert.equal(await cts.txtQuestions(name), 3);
    assert.deepEqual(scheduler.pending, [], 'the timeout is cleared');
  });

  it('fails at the propagation timeout with an error naming the record and the server that lacks it', async () => {
    const name = '_acme-challenge.never.test.';
    const { c, scheduler } = check();
    const done = c.wait(name, 'v-never');
    await scheduler.armed(INTERVAL, done);
    scheduler.fire(TIMEOUT);
    const err = await done.then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof Dns01PropagationError);
    assert.equal(err.fqdn, name);
    assert.equal(
      err.message,
      `dns-01: TXT record ${name} "v-never" not seen within 60s (the DNS provider's propagation timeout): recursive nameserver ${cts.dns}: no TXT record`,
    );
    assert.deepEqual(scheduler.pending, [], 'no timer is left behind');
  });

  it('does not take another value at the same name for the record', async () => {
    const name = '_acme-challenge.other-value.test.';
    await cts.setTxt(name, 'someone-elses');
    const { c, scheduler } = check();
    const done = c.wait(name, 'mine');
    await scheduler.armed(INTERVAL, done);
    scheduler.fire(TIMEOUT);
    await assert.rejects(done, /recursive nameserver 127\.0\.0\.1:\d+: only other values: someone-elses$/);
  });

  it('waits delayBeforeChecks before the first query', async () => {
    const name = '_acme-challenge.delayed.test.';
    const { c, scheduler } = check({ delayBeforeChecksMs: 30_000 });
    const done = c.wait(name, 'v-delayed');
    await scheduler.armed(30_000, done);
    assert.equal(await cts.txtQuestions(name), 0, 'nothing asked during the delay');
    await cts.setTxt(name, 'v-delayed');
    scheduler.fire(30_000);
    await done;
    assert.equal(await cts.txtQuestions(name), 1);
  });

  it('asks nothing with disableChecks, after the delay when there is one', async () => {
    const name = '_acme-challenge.unchecked.test.';
    const { c, scheduler } = check({ disableChecks: true });
    await c.wait(name, 'absent');
    assert.deepEqual(scheduler.pending, []);
    const delayed = check({ disableChecks: true, delayBeforeChecksMs: 5_000 });
    const done = delayed.c.wait(name, 'absent');
    const state = track(done);
    await delayed.scheduler.armed(5_000, done);
    assert.equal(state.settled, false);
    delayed.scheduler.fire(5_000);
    await done;
    assert.equal(await cts.txtQuestions(name), 0);
  });

  it('stops polling when its signal aborts', async () => {
    const name = '_acme-challenge.aborted.test.';
    const { c, scheduler } = check();
    const ac = new AbortController();
    const done = c.wait(name, 'v', ac.signal);
    await scheduler.armed(INTERVAL, done);
    ac.abort(new Error('certificate manager stopped'));
    await assert.rejects(done, /certificate manager stopped/);
    assert.deepEqual(scheduler.pending, []);
  });
});

describe('PropagationCheckedDnsProvider', { skip: PEBBLE_SKIP }, () => {
  let cts: ChallTestSrv;
  before(async () => {
    cts = await startChallTestSrv();
  });
  after(() => cts?.close());

  /** Publishes on challtestsrv only when `publish` is on; records every call. */
  function provider(publish: boolean): Dns01Provider & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      present: async (fqdn, value) => {
        calls.push(`present ${fqdn}`);
        if (publish) await cts.setTxt(fqdn, value);
      },
      cleanup: async (fqdn) => {
        calls.push(`cleanup ${fqdn}`);
        await cts.clearTxt(fqdn);
      },
    };
  }

  function checked(p: Dns01Provider, scheduler: ManualScheduler): PropagationCheckedDnsProvider {
    const check = new Dns01PropagationCheck({
      resolvers: [cts.dns],
      delayBeforeChecksMs: 0,
      disableChecks: false,
      requireAllRNS: true,
      disableANSChecks: true,
      timeoutMs: TIMEOUT,
      intervalMs: INTERVAL,
      scheduler,
    });
    return new PropagationCheckedDnsProvider(p, check);
  }

  it('returns from present once the record it published is served', async () => {
    const inner = provider(true);
    const p = checked(inner, new ManualScheduler());
    await p.present('_acme-challenge.published.test.', 'v1');
    assert.equal(await cts.txtQuestions('_acme-challenge.published.test.'), 1);
    await p.cleanup('_acme-challenge.published.test.', 'v1');
    assert.deepEqual(inner.calls, [
      'present _acme-challenge.published.test.',
      'cleanup _acme-challenge.published.test.',
    ]);
  });

  it('withdraws the record when it never propagates, then fails present', async () => {
    const inner = provider(false);
    const scheduler = new ManualScheduler();
    const done = checked(inner, scheduler).present('_acme-challenge.lost.test.', 'v2');
    await scheduler.armed(INTERVAL, done);
    scheduler.fire(TIMEOUT);
    await assert.rejects(done, Dns01PropagationError);
    assert.deepEqual(inner.calls, [
      'present _acme-challenge.lost.test.',
      'cleanup _acme-challenge.lost.test.',
    ]);
  });
});
