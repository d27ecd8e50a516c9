import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RetryPolicy } from '../middleware/middleware.ts';
import { RetryBudget } from '../resilience/retry-budget.ts';
import { retryDelayMs } from './retry-state.ts';

function policy(attempts: number, initialIntervalMs: number): RetryPolicy {
  return {
    attempts,
    initialIntervalMs,
    status: [],
    onNetworkError: true,
    nonIdempotent: false,
    windowMs: 0,
    maxBodyBytes: 0,
    budget: new RetryBudget({ percent: 100, minConcurrent: 10 }),
  };
}

describe('retryDelayMs', () => {
  it("grows as Traefik's backoff: toward twice initialInterval over all the attempts, not doubling each time", () => {
    // attempts 5: multiplier 2^(1/4); the retries before tries 2..5 (jitter centred).
    const waits = [1, 2, 3, 4].map(
      (tries) => Math.round(retryDelayMs(policy(5, 100), tries, 0.5) * 1000) / 1000,
    );
    assert.deepEqual(waits, [100, 118.921, 141.421, 168.179]);
  });

  it('keeps the ±50 % jitter of cenkalti/backoff', () => {
    assert.equal(retryDelayMs(policy(2, 100), 1, 0), 50);
    assert.ok(retryDelayMs(policy(2, 100), 1, 0.999999) < 150);
  });

  it('does not wait without an initial interval, or without a retry to make', () => {
    assert.equal(retryDelayMs(policy(3, 0), 1, 0.5), 0);
    assert.equal(retryDelayMs(policy(1, 100), 1, 0.5), 0);
  });
});
