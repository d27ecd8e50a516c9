import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../test/helpers/seeded-random.ts';
import { type BreakerOptions, type BreakerState, CircuitBreaker } from './breaker.ts';
import { type BreakerPredicate, compileBreakerExpression } from './expression.ts';

function predicate(src: string): BreakerPredicate {
  const result = compileBreakerExpression(src);
  if (!result.ok) assert.fail(result.error);
  return result.expr;
}

type Change = [from: BreakerState, to: BreakerState, now: number];

function breaker(
  src: string,
  options: Partial<Omit<BreakerOptions, 'predicate' | 'onStateChange'>> = {},
  now = 0,
): { cb: CircuitBreaker; changes: Change[] } {
  const changes: Change[] = [];
  const cb = new CircuitBreaker(
    {
      predicate: predicate(src),
      fallbackDurationMs: 1_000,
      recoveryDurationMs: 10_000,
      ...options,
      onStateChange: (from, to, at) => changes.push([from, to, at]),
    },
    now,
  );
  return { cb, changes };
}

const NET = 'NetworkErrorRatio() > 0.5';

describe('CircuitBreaker', () => {
  describe('standby', () => {
    it('starts in standby and allows every request whatever the random draw', () => {
      const { cb, changes } = breaker(NET);
      assert.equal(cb.state, 'standby');
      for (const r of [0, 0.5, 0.999_999]) assert.equal(cb.allow(0, r), true);
      assert.deepEqual(changes, []);
    });

    it('stays in standby while the predicate is false', () => {
      const { cb } = breaker(NET);
      for (let t = 0; t < 5_000; t += 10) cb.record(t, t % 20 === 10, 200, 5);
      assert.equal(cb.state, 'standby');
    });

    it('trips as soon as the predicate is true on a record, and says so', () => {
      const { cb, changes } = breaker(NET);
      cb.record(0, false, 200, 5);
      cb.record(200, true, 502, 5);
      assert.equal(cb.state, 'standby', 'one error in two is not above 0.5');
      cb.record(400, true, 502, 5);
      assert.equal(cb.state, 'tripped');
      assert.deepEqual(changes, [['standby', 'tripped', 400]]);
    });

    it('evaluates the predicate at most once per check period', () => {
      let evaluations = 0;
      const cb = new CircuitBreaker(
        {
          predicate: () => {
            evaluations++;
            return false;
          },
          checkPeriodMs: 100,
        },
        0,
      );
      const checkedAt: number[] = [];
      for (const t of [0, 50, 100, 101, 150, 201, 202, 202, 1_000]) {
        const before = evaluations;
        cb.record(t, false, 200, 1);
        if (evaluations > before) checkedAt.push(t);
      }
      assert.deepEqual(checkedAt, [0, 101, 202, 1_000]);
    });

    it('judges only the rolling window: errors older than 10 s do not trip it', () => {
      const { cb } = breaker(NET, { checkPeriodMs: 100 });
      cb.record(0, false, 200, 1); // checked: ratio 0
      for (const t of [10, 20, 30]) cb.record(t, true, 502, 1); // within the check period: not checked
      cb.record(20_000, false, 200, 1);
      assert.equal(cb.state, 'standby');
      assert.equal(cb.metrics.total(20_000), 1);
    });

    it('trips on a documented status-code expression', () => {
      const { cb } = breaker('ResponseCodeRatio(500, 600, 0, 600) > 0.25');
      for (let i = 0; i < 3; i++) cb.record(i * 200, false, 200, 1);
      cb.record(600, false, 503, 1);
      assert.equal(cb.state, 'standby', '1 in 4 is not above 0.25');
      cb.record(800, false, 500, 1);
      assert.equal(cb.state, 'tripped');
    });
  });

  describe('tripped', () => {
    it('rejects every request until the fallback duration has elapsed', () => {
      const { cb } = breaker(NET, { fallbackDurationMs: 5_000 });
      cb.record(1_000, true, 502, 1);
      assert.equal(cb.state, 'tripped');
      for (let t = 1_000; t < 6_000; t += 250) assert.equal(cb.allow(t, 0), false, `allowed at ${t}`);
      assert.equal(cb.allow(5_999, 0), false);
      cb.allow(6_000, 0);
      assert.equal(cb.state, 'recovering');
    });

    it('resets the metrics when it trips and ignores responses still in flight', () => {
      const { cb } = breaker(NET);
      cb.record(0, true, 502, 1);
      assert.equal(cb.metrics.total(0), 0);
      cb.record(100, true, 502, 1);
      cb.record(500, true, 502, 1);
      assert.equal(cb.metrics.total(500), 0);
      assert.equal(cb.state, 'tripped');
    });
  });

  describe('recovering', () => {
    it('lets through a share of requests growing linearly from 0 to 1 over the recovery duration', () => {
      const { cb } = breaker(NET, { fallbackDurationMs: 1_000, recoveryDurationMs: 10_000 });
      cb.record(0, true, 502, 1);
      const random = seededRandom(7);
      const perSlice = 4_000;
      for (let slice = 0; slice < 10; slice++) {
        let allowed = 0;
        for (let k = 0; k < perSlice; k++) {
          const t = 1_000 + slice * 1_000 + (k * 1_000) / perSlice;
          if (cb.allow(t, random())) {
            allowed++;
            cb.record(t, false, 200, 1);
          }
        }
        assert.equal(cb.state, 'recovering');
        const expected = (slice + 0.5) / 10;
        const share = allowed / perSlice;
        assert.ok(Math.abs(share - expected) < 0.03, `slice ${slice}: share ${share}, expected ~${expected}`);
      }
    });

    it('allows nothing at the first instant of recovery and everything at its end', () => {
      const { cb } = breaker(NET, { fallbackDurationMs: 1_000, recoveryDurationMs: 10_000 });
      cb.record(0, true, 502, 1);
      assert.equal(cb.allow(1_000, 0), false);
      assert.equal(cb.state, 'recovering');
      assert.equal(cb.allow(6_000, 0.49), true);
      assert.equal(cb.allow(6_000, 0.51), false);
      assert.equal(cb.allow(11_000, 0.999), true);
      assert.equal(cb.state, 'recovering');
    });

    it('returns to standby after the recovery duration, calling back in order', () => {
      const { cb, changes } = breaker(NET, { fallbackDurationMs: 1_000, recoveryDurationMs: 10_000 });
      cb.record(0, true, 502, 1);
      cb.allow(1_500, 0.5);
      assert.equal(cb.allow(11_501, 0.999), true);
      assert.equal(cb.state, 'standby');
      assert.deepEqual(changes, [
        ['standby', 'tripped', 0],
        ['tripped', 'recovering', 1_500],
        ['recovering', 'standby', 11_501],
      ]);
    });

    it('trips again if the predicate is true during recovery, for a new fallback period', () => {
      const { cb, changes } = breaker(NET, { fallbackDurationMs: 1_000, recoveryDurationMs: 10_000 });
      cb.record(0, true, 502, 1);
      assert.equal(cb.allow(1_000, 0.99), false);
      assert.equal(cb.allow(5_000, 0.1), true);
      cb.record(5_050, true, 504, 30_000);
      assert.equal(cb.state, 'tripped');
      assert.equal(cb.allow(6_049, 0), false);
      assert.equal(cb.allow(6_050, 0), false, 'a new recovery starts from a share of 0');
      assert.equal(cb.state, 'recovering');
      assert.equal(cb.allow(16_051, 0.999), true);
      assert.deepEqual(changes, [
        ['standby', 'tripped', 0],
        ['tripped', 'recovering', 1_000],
        ['recovering', 'tripped', 5_050],
        ['tripped', 'recovering', 6_050],
        ['recovering', 'standby', 16_051],
      ]);
    });

    it('judges recovery on fresh metrics only: errors from before the trip are forgotten', () => {
      const { cb } = breaker(NET, { fallbackDurationMs: 1_000 });
      for (let t = 0; t < 6; t++) cb.record(t, false, 200, 1);
      cb.record(200, true, 502, 1);
      cb.record(300, true, 502, 1); // 2 of 8: no trip
      cb.record(400, true, 502, 1);
      cb.record(500, true, 502, 1);
      cb.record(600, true, 502, 1);
      cb.record(700, true, 502, 1); // 6 of 12: still not above 0.5
      cb.record(800, true, 502, 1); // 7 of 13: trips
      assert.equal(cb.state, 'tripped');
      cb.record(900, true, 502, 1); // in flight when it tripped
      assert.equal(cb.allow(1_800, 0.99), false);
      assert.equal(cb.state, 'recovering');
      cb.record(2_000, false, 200, 1);
      assert.equal(cb.state, 'recovering');
      assert.equal(cb.metrics.total(2_000), 1);
    });

    it('goes straight back to standby with a zero recovery duration', () => {
      const { cb, changes } = breaker(NET, { fallbackDurationMs: 1_000, recoveryDurationMs: 0 });
      cb.record(0, true, 502, 1);
      assert.equal(cb.allow(1_000, 0.999), true);
      assert.equal(cb.state, 'standby');
      assert.deepEqual(
        changes.map(([from, to]) => `${from}>${to}`),
        ['standby>tripped', 'tripped>recovering', 'recovering>standby'],
      );
    });
  });

  describe('callback', () => {
    it('sees the new state already in place and the metrics already reset', () => {
      const seen: [BreakerState, number][] = [];
      const cb: CircuitBreaker = new CircuitBreaker(
        {
          predicate: predicate(NET),
          onStateChange: (_from, _to, now) => seen.push([cb.state, cb.metrics.total(now)]),
        },
        0,
      );
      cb.record(0, true, 502, 1);
      assert.deepEqual(seen, [['tripped', 0]]);
    });
  });

  describe('options', () => {
    it('defaults to a 10 s fallback and a 10 s recovery', () => {
      const cb = new CircuitBreaker({ predicate: predicate(NET) }, 0);
      cb.record(0, true, 502, 1);
      assert.equal(cb.allow(9_999, 0), false);
      assert.equal(cb.state, 'tripped');
      cb.allow(10_000, 0);
      assert.equal(cb.state, 'recovering');
      assert.equal(cb.allow(15_000, 0.49), true);
      assert.equal(cb.allow(15_000, 0.51), false);
      cb.allow(20_001, 0);
      assert.equal(cb.state, 'standby');
    });

    it('rejects negative or non-finite durations', () => {
      const p = predicate(NET);
      assert.throws(() => new CircuitBreaker({ predicate: p, checkPeriodMs: -1 }, 0), RangeError);
      assert.throws(
        () => new CircuitBreaker({ predicate: p, fallbackDurationMs: Number.NaN }, 0),
        RangeError,
      );
      assert.throws(
        () => new CircuitBreaker({ predicate: p, recoveryDurationMs: Number.POSITIVE_INFINITY }, 0),
        RangeError,
      );
    });
  });
});
