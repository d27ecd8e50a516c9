import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthThrottle, clientKey } from './auth-throttle.ts';

function throttle(opts: { burst?: number; forgiveMs?: number; maxClients?: number } = {}) {
  const clock = { now: 1_000_000 };
  const t = new AuthThrottle({
    burst: opts.burst ?? 3,
    forgiveMs: opts.forgiveMs ?? 1_000,
    maxClients: opts.maxClients ?? 100,
    now: () => clock.now,
  });
  return { t, clock };
}

describe('AuthThrottle', () => {
  it('lets a client fail `burst` times, then refuses it until one failure is forgiven', () => {
    const { t, clock } = throttle();
    assert.equal(t.retryAfterMs('192.0.2.1'), 0);
    assert.equal(t.fail('192.0.2.1').blocked, false);
    assert.equal(t.fail('192.0.2.1').blocked, false);
    assert.equal(t.retryAfterMs('192.0.2.1'), 0, 'two failures of three allowed');
    assert.equal(t.fail('192.0.2.1').blocked, true);
    assert.equal(t.retryAfterMs('192.0.2.1'), 1_000);
    assert.equal(t.retryAfterMs('192.0.2.2'), 0, 'another client is not affected');
    clock.now += 400;
    assert.equal(t.retryAfterMs('192.0.2.1'), 600);
    clock.now += 600;
    assert.equal(t.retryAfterMs('192.0.2.1'), 0, 'one failure forgiven: one more try');
    assert.equal(t.fail('192.0.2.1').blocked, true, 'and a failure refuses it again');
  });

  it('forgets failures as time passes', () => {
    const { t, clock } = throttle();
    t.fail('192.0.2.1');
    t.fail('192.0.2.1');
    clock.now += 2_000;
    assert.equal(t.fail('192.0.2.1').blocked, false);
    assert.equal(t.fail('192.0.2.1').blocked, false);
    assert.equal(t.fail('192.0.2.1').blocked, true);
  });

  it('caps the wait of a client that keeps trying while refused', () => {
    const { t } = throttle();
    for (let i = 0; i < 1_000; i++) t.fail('192.0.2.1');
    // Level capped at 2 × burst: the wait is (2 × 3 − 2) periods, not a thousand.
    assert.equal(t.retryAfterMs('192.0.2.1'), 4_000);
  });

  it('asks for a log line on the first failure and when the client becomes refused, counting the rest', () => {
    const { t } = throttle({ burst: 4 });
    const logs = Array.from({ length: 6 }, () => t.fail('192.0.2.1'));
    assert.deepEqual(
      logs.map((f) => [f.log, f.unlogged]),
      [
        [true, 0],
        [false, 1],
        [false, 2],
        [true, 2],
        [false, 1],
        [false, 2],
      ],
    );
  });

  it('remembers at most maxClients, forgetting the least recently seen', () => {
    const { t } = throttle({ maxClients: 3, burst: 2 });
    t.fail('192.0.2.1');
    t.fail('192.0.2.1');
    t.fail('192.0.2.2');
    t.fail('192.0.2.3');
    // .1 is refused; touching it again makes .2 the oldest.
    t.fail('192.0.2.1');
    for (let i = 4; i < 1_004; i++) {
      t.fail(`198.51.100.${i % 250}`);
      assert.ok(t.size <= 3);
    }
    assert.equal(t.size, 3);
    assert.equal(t.retryAfterMs('192.0.2.1'), 0, 'forgotten once the table is full of others');
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped one as IPv4', () => {
    assert.equal(clientKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8:1:2::9'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
    assert.equal(clientKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(clientKey('192.0.2.1'), '192.0.2.1');
    const { t } = throttle({ burst: 2 });
    t.fail('2001:db8:1:2::a');
    t.fail('2001:db8:1:2::b');
    assert.ok(t.retryAfterMs('2001:db8:1:2:ffff::1') > 0, 'the same /64 shares the bucket');
    assert.equal(t.retryAfterMs('2001:db8:1:3::a'), 0);
  });
});
