import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../test/helpers/seeded-random.ts';
import { latencyBin } from './latency-bins.ts';
import { RollingMetrics } from './rolling-metrics.ts';

function exactQuantile(sorted: readonly number[], q: number): number {
  const rank = Math.max(1, Math.round((q / 100) * sorted.length));
  return sorted[rank - 1]!;
}

describe('RollingMetrics', () => {
  describe('counts', () => {
    it('reports zero ratios and zero latency with no data', () => {
      const m = new RollingMetrics();
      assert.equal(m.total(0), 0);
      assert.equal(m.networkErrorRatio(), 0);
      assert.equal(m.responseCodeRatio(500, 600, 0, 600), 0);
      assert.equal(m.latencyAtQuantileMs(50), 0);
    });

    it('computes the network error ratio over all exchanges', () => {
      const m = new RollingMetrics();
      for (let i = 0; i < 10; i++) m.record(i, i < 3, i < 3 ? 502 : 200, 5);
      assert.equal(m.total(10), 10);
      assert.equal(m.networkErrorRatio(), 0.3);
    });

    it('divides status counts over half-open ranges [from, to)', () => {
      const m = new RollingMetrics();
      for (const status of [200, 200, 404, 500, 503, 599, 600]) m.record(0, false, status, 1);
      assert.equal(m.responseCodeRatio(500, 600, 0, 600), 3 / 6);
      assert.equal(m.responseCodeRatio(500, 503, 0, 600), 1 / 6);
      assert.equal(m.responseCodeRatio(400, 500, 200, 300), 1 / 2);
      assert.equal(m.responseCodeRatio(600, 700, 0, 1000), 1 / 7);
    });

    it('returns 0 when no response falls in the divisor range', () => {
      const m = new RollingMetrics();
      m.record(0, false, 500, 1);
      assert.equal(m.responseCodeRatio(500, 600, 200, 300), 0);
    });

    it('counts a status outside 0–999 in the total but in no range', () => {
      const m = new RollingMetrics();
      m.record(0, false, 1200, 1);
      m.record(0, false, 200, 1);
      assert.equal(m.total(0), 2);
      assert.equal(m.responseCodeRatio(0, 100_000, 0, 100_000), 1);
    });

    it('forgets everything on reset', () => {
      const m = new RollingMetrics();
      m.record(0, true, 502, 300);
      m.reset();
      assert.equal(m.total(0), 0);
      assert.equal(m.networkErrorRatio(), 0);
      assert.equal(m.latencyAtQuantileMs(99), 0);
      m.record(1, false, 200, 5);
      assert.equal(m.networkErrorRatio(), 0);
      assert.equal(m.responseCodeRatio(200, 300, 0, 600), 1);
    });
  });

  describe('rolling window', () => {
    it('keeps a response for the 10 s window of 1 s buckets and drops it when its bucket leaves', () => {
      const m = new RollingMetrics();
      m.record(500, true, 502, 1);
      assert.equal(m.total(9_999), 1);
      assert.equal(m.total(10_000), 0);
      assert.equal(m.networkErrorRatio(), 0);
    });

    it('slides one bucket at a time', () => {
      const m = new RollingMetrics({ windowMs: 4_000, buckets: 4 });
      m.record(0, true, 502, 1); // bucket 0
      m.record(1_000, false, 200, 1); // bucket 1
      m.record(2_500, false, 200, 1); // bucket 2
      m.record(3_999, false, 500, 1); // bucket 3
      assert.equal(m.networkErrorRatio(), 1 / 4);
      m.advance(4_000); // bucket 0 leaves
      assert.equal(m.total(4_000), 3);
      assert.equal(m.networkErrorRatio(), 0);
      assert.equal(m.responseCodeRatio(500, 600, 0, 600), 1 / 3);
      m.advance(6_000); // buckets 1 and 2 leave
      assert.equal(m.total(6_000), 1);
      assert.equal(m.responseCodeRatio(500, 600, 0, 600), 1);
      assert.equal(m.total(7_000), 0);
    });

    it('empties after a silence longer than the window, and counts again afterwards', () => {
      const m = new RollingMetrics({ windowMs: 1_000, buckets: 10 });
      for (let t = 0; t < 1_000; t += 10) m.record(t, true, 500, 500);
      m.record(60_000, false, 200, 1);
      assert.equal(m.total(60_000), 1);
      assert.equal(m.networkErrorRatio(), 0);
      assert.equal(m.responseCodeRatio(500, 600, 0, 600), 0);
      assert.ok(m.latencyAtQuantileMs(100) < 2);
    });

    it('expires latency with its bucket', () => {
      const m = new RollingMetrics({ windowMs: 2_000, buckets: 2 });
      m.record(0, false, 200, 1_000);
      m.record(1_000, false, 200, 10);
      assert.ok(m.latencyAtQuantileMs(100) > 900);
      m.advance(2_000);
      assert.ok(Math.abs(m.latencyAtQuantileMs(100) - 10) < 0.5);
    });

    it('keeps counting into the newest bucket when the clock goes back', () => {
      const m = new RollingMetrics();
      m.record(5_000, false, 200, 1);
      m.record(4_000, false, 200, 1);
      assert.equal(m.total(5_000), 2);
      assert.equal(m.total(14_999), 2);
      assert.equal(m.total(15_000), 0);
    });

    it('reads the window as of the last advance, not a later time', () => {
      const m = new RollingMetrics();
      m.record(0, true, 502, 1);
      // 20 s later but nothing advanced the window yet: the ratio still sees the error.
      assert.equal(m.networkErrorRatio(), 1);
      m.advance(20_000);
      assert.equal(m.networkErrorRatio(), 0);
    });

    it('rejects an unusable window', () => {
      assert.throws(() => new RollingMetrics({ buckets: 0 }), RangeError);
      assert.throws(() => new RollingMetrics({ windowMs: 0 }), RangeError);
    });
  });

  describe('latency quantiles', () => {
    it('is within 5 % of the exact quantile of a log-normal distribution', () => {
      const random = seededRandom(42);
      const m = new RollingMetrics();
      const samples: number[] = [];
      for (let i = 0; i < 20_000; i++) {
        // Box–Muller: median e^4 ≈ 55 ms, a long tail into the seconds.
        const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        const ms = Math.exp(4 + 1.2 * normal);
        samples.push(ms);
        m.record(i / 4, false, 200, ms);
      }
      samples.sort((a, b) => a - b);
      for (const q of [1, 10, 25, 50, 75, 90, 95, 99, 99.9]) {
        const exact = exactQuantile(samples, q);
        const estimate = m.latencyAtQuantileMs(q);
        assert.ok(Math.abs(estimate - exact) / exact < 0.05, `q${q}: estimate ${estimate}, exact ${exact}`);
      }
    });

    it('is within 5 % on a uniform distribution of whole milliseconds', () => {
      const m = new RollingMetrics();
      for (let ms = 1; ms <= 1000; ms++) m.record(0, false, 200, ms);
      for (const q of [10, 50, 90, 99]) {
        const exact = q * 10;
        const estimate = m.latencyAtQuantileMs(q);
        assert.ok(Math.abs(estimate - exact) / exact < 0.05, `q${q}: estimate ${estimate}, exact ${exact}`);
      }
    });

    it('clamps the quantile to 0–100', () => {
      const m = new RollingMetrics();
      m.record(0, false, 200, 10);
      m.record(0, false, 200, 1_000);
      assert.equal(m.latencyAtQuantileMs(150), m.latencyAtQuantileMs(100));
      assert.equal(m.latencyAtQuantileMs(-5), m.latencyAtQuantileMs(0));
      assert.ok(m.latencyAtQuantileMs(100) > 900);
      assert.ok(m.latencyAtQuantileMs(0) < 11);
    });

    it('puts sub-0.1 ms, negative and NaN latencies in the lowest bin and huge ones in the highest', () => {
      assert.equal(latencyBin(0), 0);
      assert.equal(latencyBin(-1), 0);
      assert.equal(latencyBin(Number.NaN), 0);
      assert.equal(latencyBin(Number.POSITIVE_INFINITY), latencyBin(1e12));
      const m = new RollingMetrics();
      m.record(0, false, 200, 0.01);
      assert.equal(m.latencyAtQuantileMs(50), 0);
    });
  });
});
