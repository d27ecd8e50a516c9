import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../test/helpers/seeded-random.ts';
import { leastSquares, summarize } from './slope.ts';

describe('soak slope', () => {
  it('finds the slope and intercept of an exact line', () => {
    const t = [0, 10, 20, 30];
    const fit = leastSquares(
      t,
      t.map((x) => 5 + 2 * x),
    );
    assert.equal(fit.slope, 2);
    assert.equal(fit.intercept, 5);
    assert.equal(fit.r2, 1);
  });

  it('gives ~0 for noise around a plateau, with a low r²', () => {
    const rnd = seededRandom(7);
    const t = Array.from({ length: 180 }, (_, i) => i * 10);
    const fit = leastSquares(
      t,
      t.map(() => 100e6 + (rnd() - 0.5) * 4e6),
    );
    assert.ok(Math.abs(fit.slope * 60) < 50e3, `slope ${fit.slope * 60} B/min`);
    assert.ok(fit.r2 < 0.1);
  });

  it('summarises only the samples after warm-up, per minute', () => {
    const t = [0, 10, 20, 30, 40, 50, 60];
    const v = [0, 1000, 1000, 1010, 1020, 1030, 1040]; // warm-up jump, then +1 per second
    const s = summarize('rss', 'bytes', t, v, 20);
    assert.equal(s.samples, 5);
    assert.equal(s.slopePerMinute, 60);
    assert.equal(s.trendOverWindow, 40);
    assert.equal(s.min, 1000);
    assert.equal(s.max, 1040);
  });

  it('handles a series too short to fit', () => {
    assert.equal(leastSquares([1], [5]).slope, 0);
    assert.equal(summarize('x', 'u', [], [], 0).samples, 0);
  });
});
