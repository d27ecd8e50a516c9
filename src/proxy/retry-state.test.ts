import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RetryPolicy } from '../middleware/middleware.ts';
import { RetryBudget } from '../resilience/retry-budget.ts';
import { RetryState, retryDelayMs } from './retry-state.ts';

function policy(attempts: number, initialIntervalMs: number): RetryPolicy {
  return {
    attempts,
    initialIntervalMs,
    status: [],
    retriesNoServer: false,
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

describe('RetryState.allows', () => {
  const budget = () => new RetryBudget({ percent: 100, minConcurrent: 100 });
  const state = (over: Partial<RetryPolicy> = {}) =>
    new RetryState({ ...policy(3, 0), status: [{ from: 502, to: 503 }], budget: budget(), ...over });

  it("retries a failure before anything was sent for any method (Traefik's WroteHeaders not fired)", () => {
    assert.equal(state().allows(1, 'POST', 'connect', 502, false, false, false), 'retry');
    // Without network retries, that failure's 502 is an answer like any other: the status rule.
    const off = state({ onNetworkError: false });
    assert.equal(off.allows(1, 'GET', 'connect', 502, false, true, false), 'retry');
    assert.equal(off.allows(1, 'POST', 'connect', 502, false, true, false), 'no');
  });

  it('retries a failure after the request was sent only by its status, for all methods but POST, PATCH, LOCK', () => {
    assert.equal(state({ status: [] }).allows(1, 'GET', 'status', 502, false, true, false), 'no');
    for (const m of ['GET', 'PUT', 'DELETE', 'PROPFIND', 'PURGE'])
      assert.equal(state().allows(1, m, 'status', 502, false, true, false), 'retry', m);
    for (const m of ['POST', 'PATCH', 'LOCK'])
      assert.equal(state().allows(1, m, 'status', 502, false, true, false), 'no', m);
    assert.equal(
      state({ nonIdempotent: true }).allows(1, 'POST', 'status', 503, false, true, false),
      'retry',
    );
    assert.equal(state().allows(1, 'GET', 'status', 504, false, true, false), 'no', 'not listed');
    assert.equal(state().allows(1, 'PUT', 'status', 502, true, false, false), 'no', 'body not kept whole');
  });

  it('stops at attempts and after the retry timeout', () => {
    assert.equal(state().allows(3, 'GET', 'connect', 502, false, true, false), 'no');
    assert.equal(state().allows(1, 'GET', 'connect', 502, false, true, true), 'no');
  });
});
