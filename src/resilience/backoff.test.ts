import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs } from './backoff.ts';

describe('backoffMs', () => {
  it('waits the initial interval before the first retry when the jitter is centred', () => {
    assert.equal(backoffMs(1, 100, 0.5), 100);
  });

  it('doubles the interval with each attempt', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((attempt) => backoffMs(attempt, 100, 0.5)),
      [100, 200, 400, 800, 1600],
    );
  });

  it('spreads the delay uniformly over half to one and a half times the interval', () => {
    assert.equal(backoffMs(3, 100, 0), 200);
    assert.equal(backoffMs(3, 100, 0.25), 300);
    assert.equal(backoffMs(3, 100, 0.75), 500);
    assert.ok(backoffMs(3, 100, 0.999999) < 600);
  });

  it('never exceeds maxMs, however many attempts and however high the draw', () => {
    assert.equal(backoffMs(10, 100, 0.5, 5000), 5000);
    assert.equal(backoffMs(10, 100, 0.99, 5000), 5000);
    assert.equal(backoffMs(5000, 100, 0.5), 30_000);
    assert.equal(backoffMs(3, 1000, 0.99, 5000), 5000, 'jitter above the cap is clamped too');
  });

  it('keeps jitter below the cap once the interval is capped', () => {
    assert.equal(backoffMs(10, 100, 0, 5000), 2500);
  });

  it('returns 0 when the initial interval is 0 or the attempt is not a retry', () => {
    assert.equal(backoffMs(3, 0, 0.5), 0);
    assert.equal(backoffMs(0, 100, 0.5), 0);
  });

  it('follows a custom multiplier, such as the one Traefik derives from the attempt count', () => {
    const traefikMultiplier = 2 ** (1 / 3);
    assert.equal(Math.round(backoffMs(4, 100, 0.5, 30_000, traefikMultiplier)), 200);
  });
});
