import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DirectResponse } from '../core/request.ts';
import { Ticker } from '../core/ticker.ts';
import { type Lease, type RequestControl, SUSPEND } from './middleware.ts';
import { goDuration } from './rate-limit-answer.ts';
import { sourceKey } from './source-key.ts';
import { build, makeRequest, testContext } from './test-request.ts';

/** A context whose ticker clock the test moves. */
function clocked() {
  const clock = { t: 1_000 };
  const ticker = new Ticker(100, () => clock.t);
  const ctx = { ...testContext(), ticker };
  return { clock, ticker, ctx };
}

class Ctl implements RequestControl {
  resumed: (DirectResponse | undefined)[] = [];
  leases: Lease[] = [];
  resume(r?: DirectResponse): void {
    this.resumed.push(r);
  }
  onEnd(lease: Lease): void {
    this.leases.push(lease);
  }
  transformBody(): void {}
  end(status = 200): void {
    for (const l of this.leases) l.release({ status, networkError: false, headMs: 1, totalMs: 1 });
    this.leases = [];
  }
}

const from = (ip: string, headers: [string, string][] = []) =>
  makeRequest('http://a.test/', { clientIp: ip, headers });

describe('sourceKey', () => {
  it('is the peer address by default, whatever X-Forwarded-For says', () => {
    const key = sourceKey(undefined);
    assert.equal(key(from('10.0.0.1', [['X-Forwarded-For', '1.2.3.4']])), '10.0.0.1');
  });

  it('takes the depth-th address from the right of X-Forwarded-For', () => {
    const key = sourceKey({ ipStrategy: { depth: 2, excludedIPs: [], ipv6Subnet: 0 }, requestHost: false });
    // The field as the trusted proxy (10.0.0.1) sent it: Traefik's proxy appends the peer only
    // to the request it sends upstream, so every entry counts.
    assert.equal(key(from('10.0.0.1', [['X-Forwarded-For', '1.1.1.1, 2.2.2.2, 3.3.3.3']])), '2.2.2.2');
    assert.equal(key(from('10.0.0.1', [['X-Forwarded-For', '3.3.3.3']])), '', 'too few: Traefik\'s ""');
  });

  it('counts empty X-Forwarded-For entries at depth, and skips them with excludedIPs, as pkg/ip does', () => {
    const depth = sourceKey({ ipStrategy: { depth: 2, excludedIPs: [], ipv6Subnet: 0 }, requestHost: false });
    const req = from('10.0.0.1', [['X-Forwarded-For', '1.1.1.1, , 3.3.3.3']]);
    assert.equal(depth(req), '', 'DepthStrategy lands on the empty entry');
    const pool = sourceKey({
      ipStrategy: { depth: 0, excludedIPs: ['3.3.3.3/32'], ipv6Subnet: 0 },
      requestHost: false,
    });
    assert.equal(pool(req), '1.1.1.1', 'PoolStrategy skips it');
  });

  it('skips excluded addresses from the right', () => {
    const key = sourceKey({
      ipStrategy: { depth: 0, excludedIPs: ['10.0.0.0/8'], ipv6Subnet: 0 },
      requestHost: false,
    });
    assert.equal(key(from('10.0.0.1', [['X-Forwarded-For', '1.1.1.1, 10.1.1.1']])), '1.1.1.1');
    assert.equal(key(from('10.0.0.1', [['X-Forwarded-For', '10.1.1.1']])), '', 'all excluded');
  });

  it('does not group by ipv6Subnet the address excludedIPs picked, as Traefik', () => {
    const key = sourceKey({
      ipStrategy: { depth: 0, excludedIPs: ['10.0.0.0/8'], ipv6Subnet: 64 },
      requestHost: false,
    });
    const xff = (a: string) => from('10.0.0.1', [['X-Forwarded-For', a]]);
    assert.notEqual(key(xff('2001:db8:1:2::5')), key(xff('2001:db8:1:2::6')));
  });

  it('groups IPv6 clients by subnet', () => {
    const key = sourceKey({ ipStrategy: { depth: 0, excludedIPs: [], ipv6Subnet: 64 }, requestHost: false });
    assert.equal(key(from('2001:db8:1:2::5')), '2001:db8:1:2:0:0:0:0/64');
    assert.equal(key(from('2001:db8:1:2::5')), key(from('2001:db8:1:2:ffff::9')));
    assert.notEqual(key(from('2001:db8:1:2::5')), key(from('2001:db8:1:3::5')));
  });

  it('uses a header or the host when asked', () => {
    assert.equal(
      sourceKey({ requestHeaderName: 'X-User', requestHost: false })(from('1.1.1.1', [['X-User', 'bob']])),
      'bob',
    );
    assert.equal(
      sourceKey({ requestHeaderName: 'X-User', requestHost: false })(from('1.1.1.1')),
      '',
      'absent',
    );
    assert.equal(sourceKey({ requestHost: true })(from('1.1.1.1')), 'a.test');
  });
});

describe('rateLimit', () => {
  it('lets a burst through, then answers 429 with Retry-After until tokens return', () => {
    const { clock, ticker, ctx } = clocked();
    const m = build('rateLimit', { average: 2, period: '1s', burst: 2 }, ctx);
    assert.equal(m.onRequest!(from('1.1.1.1')), undefined);
    assert.equal(m.onRequest!(from('1.1.1.1')), undefined);
    const r = m.onRequest!(from('1.1.1.1'));
    assert.equal(r?.status, 429);
    assert.deepEqual(r?.headers, [
      ['Retry-After', '1'],
      ['X-Retry-In', '500ms'],
    ]);
    assert.equal(m.onRequest!(from('2.2.2.2')), undefined, 'another client has its own bucket');
    clock.t += 500;
    ticker.tick();
    assert.equal(m.onRequest!(from('1.1.1.1')), undefined);
  });
});

describe('rateLimit settings', () => {
  it('takes a period of 0 as one second and a burst of 0 as 1, as Traefik does', () => {
    const { ctx } = clocked();
    const m = build('rateLimit', { average: 2, period: 0, burst: 0 }, ctx);
    assert.equal(m.onRequest!(from('1.1.1.1')), undefined);
    const r = m.onRequest!(from('1.1.1.1'));
    assert.equal(r?.status, 429, 'one at once');
    assert.deepEqual(r?.headers?.[1], ['X-Retry-In', '500ms'], 'the next one half a second later');
  });
});

describe('goDuration', () => {
  it("writes nanoseconds as Go's time.Duration.String does", () => {
    const cases: [number, string][] = [
      [0, '0s'],
      [999, '999ns'],
      [1500, '1.5µs'],
      [250e6, '250ms'],
      [99_999_000, '99.999ms'],
      [1.5e9, '1.5s'],
      [61.5e9, '1m1.5s'],
      [3600e9, '1h0m0s'],
    ];
    for (const [ns, text] of cases) assert.equal(goDuration(ns), text);
  });
});

describe('inFlightReq', () => {
  it('answers 429 at once over the limit without a queue, and frees the slot at the end', () => {
    const { ctx } = clocked();
    const m = build('inFlightReq', { amount: 1 }, ctx).inner;
    const a = new Ctl();
    assert.equal(m.onRequest!(from('1.1.1.1'), a), undefined);
    const b = new Ctl();
    assert.equal((m.onRequest!(from('1.1.1.1'), b) as DirectResponse).status, 429);
    a.end();
    assert.equal(m.onRequest!(from('1.1.1.1'), new Ctl()), undefined);
  });

  it('lets no request in with an amount of 0 or less, as oxy connlimit (Traefik) does', () => {
    const { ctx } = clocked();
    for (const amount of [0, -1]) {
      const m = build('inFlightReq', { amount }, ctx).inner;
      const r = m.onRequest!(from('1.1.1.1'), new Ctl()) as DirectResponse;
      assert.equal(r.status, 429);
    }
  });

  it('queues over the limit and admits in order as slots free', () => {
    const { ctx } = clocked();
    const m = build('inFlightReq', { amount: 1, queue: { size: 2, timeout: '5s' } }, ctx).inner;
    const a = new Ctl();
    const b = new Ctl();
    const c = new Ctl();
    assert.equal(m.onRequest!(from('1.1.1.1'), a), undefined);
    assert.equal(m.onRequest!(from('1.1.1.1'), b), SUSPEND);
    assert.equal(m.onRequest!(from('1.1.1.1'), c), SUSPEND);
    const d = m.onRequest!(from('1.1.1.1'), new Ctl()) as DirectResponse;
    assert.equal(d.status, 503, 'the queue is full');
    assert.deepEqual(d.headers, [['Retry-After', '5']]);
    a.end();
    assert.deepEqual(b.resumed, [undefined]);
    assert.deepEqual(c.resumed, []);
    b.end();
    assert.deepEqual(c.resumed, [undefined]);
  });

  it('answers 503 with Retry-After when the wait times out, and a client gone while queued frees its place', () => {
    const { clock, ticker, ctx } = clocked();
    const m = build('inFlightReq', { amount: 1, queue: { size: 5, timeout: '2s' } }, ctx).inner;
    const a = new Ctl();
    m.onRequest!(from('1.1.1.1'), a);
    const gone = new Ctl();
    assert.equal(m.onRequest!(from('1.1.1.1'), gone), SUSPEND);
    gone.end(499);
    const late = new Ctl();
    assert.equal(m.onRequest!(from('1.1.1.1'), late), SUSPEND);
    clock.t += 2_100;
    ticker.tick();
    assert.equal(late.resumed[0]?.status, 503);
    assert.deepEqual(gone.resumed, [], 'a cancelled waiter is never resumed');
  });
});

describe('circuitBreaker', () => {
  it('trips on the expression, answers responseCode, and records outcomes through a lease', () => {
    const { clock, ticker, ctx } = clocked();
    const m = build(
      'circuitBreaker',
      { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.5', checkPeriod: '100ms', responseCode: 418 },
      ctx,
    ).inner;
    let passed = 0;
    for (let i = 0; i < 10; i++) {
      const c = new Ctl();
      const r = m.onRequest!(from('1.1.1.1'), c);
      if (r !== undefined) break;
      passed++;
      c.end(500);
      clock.t += 20;
      ticker.tick();
    }
    // oxy has no minimum sample: one failure in one request is a ratio of 1.
    assert.ok(passed >= 1 && passed < 10, `tripped after ${passed} failures`);
    const r = m.onRequest!(from('1.1.1.1'), new Ctl()) as DirectResponse;
    assert.equal(r.status, 418);
  });

  it('rejects an expression it cannot parse', () => {
    assert.throws(() => build('circuitBreaker', { expression: 'Nope() > 1' }), /invalid expression/);
  });

  it('per server: trips one server and leaves the others', () => {
    const { clock, ticker, ctx } = clocked();
    const m = build(
      'circuitBreaker',
      { expression: 'NetworkErrorRatio() > 0.5', perServer: true },
      ctx,
    ).inner;
    const guard = m.guard!;
    const bad = { url: 'http://a:1' };
    const good = { url: 'http://b:1' };
    for (let i = 0; i < 10; i++) {
      guard.record(bad, 0, 1);
      guard.record(good, 200, 1);
      clock.t += 20;
      ticker.tick();
    }
    assert.equal(guard.accept(bad), false);
    assert.equal(guard.accept(good), true);
  });
});
