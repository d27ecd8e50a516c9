import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryBudget } from './retry-budget.ts';

function startRetries(budget: RetryBudget, count: number): boolean[] {
  const out: boolean[] = [];
  for (let k = 0; k < count; k++) out.push(budget.tryStartRetry());
  return out;
}

function startRequests(budget: RetryBudget, count: number): void {
  for (let k = 0; k < count; k++) budget.requestStarted();
}

describe('retry budget', () => {
  it('allows minConcurrent retries in flight when few requests are in flight', () => {
    const budget = new RetryBudget({ percent: 20, minConcurrent: 3 });
    startRequests(budget, 1);
    assert.deepEqual(startRetries(budget, 4), [true, true, true, false]);
    assert.equal(budget.activeRetries, 3);
  });

  it('allows percent of the requests in flight once that exceeds minConcurrent', () => {
    const budget = new RetryBudget({ percent: 20, minConcurrent: 3 });
    startRequests(budget, 25);
    assert.deepEqual(startRetries(budget, 6), [true, true, true, true, true, false]);
  });

  it('rounds the share down and does not lose exact multiples to floating point', () => {
    const budget = new RetryBudget({ percent: 20, minConcurrent: 0 });
    startRequests(budget, 19);
    assert.deepEqual(startRetries(budget, 4), [true, true, true, false]);
    budget.requestStarted();
    assert.equal(budget.tryStartRetry(), true, '20% of 20 is exactly 4');
    const odd = new RetryBudget({ percent: 29, minConcurrent: 0 });
    startRequests(odd, 100);
    assert.equal(startRetries(odd, 30).filter(Boolean).length, 29, '29% of 100 is exactly 29');
  });

  it('frees a slot when a retry ends', () => {
    const budget = new RetryBudget({ percent: 0, minConcurrent: 1 });
    assert.equal(budget.tryStartRetry(), true);
    assert.equal(budget.tryStartRetry(), false);
    budget.retryEnded();
    assert.equal(budget.tryStartRetry(), true);
  });

  it('shrinks the budget as requests end, without cancelling retries already running', () => {
    const budget = new RetryBudget({ percent: 50, minConcurrent: 0 });
    startRequests(budget, 4);
    assert.deepEqual(startRetries(budget, 2), [true, true]);
    budget.requestEnded();
    budget.requestEnded();
    assert.equal(budget.activeRequests, 2);
    assert.equal(budget.activeRetries, 2);
    assert.equal(budget.tryStartRetry(), false);
    budget.retryEnded();
    assert.equal(budget.tryStartRetry(), false, 'one retry in flight is the whole budget for 2 requests');
  });

  it('defaults to 20 percent with a floor of 3', () => {
    const budget = new RetryBudget();
    assert.deepEqual(startRetries(budget, 4), [true, true, true, false]);
    startRequests(budget, 20);
    assert.equal(budget.tryStartRetry(), true);
    assert.equal(budget.tryStartRetry(), false);
  });

  it('does not let unbalanced end calls go negative and widen the budget later', () => {
    const budget = new RetryBudget({ percent: 100, minConcurrent: 0 });
    budget.requestEnded();
    budget.retryEnded();
    assert.equal(budget.activeRequests, 0);
    assert.equal(budget.activeRetries, 0);
    budget.requestStarted();
    assert.deepEqual(startRetries(budget, 2), [true, false]);
  });
});
