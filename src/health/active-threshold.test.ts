import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthThresholds } from './active-threshold.ts';

describe('HealthThresholds', () => {
  it('starts with every server healthy', () => {
    const t = new HealthThresholds(3, 1, 1);
    assert.deepEqual([...t.healthy], [1, 1, 1]);
    assert.equal(t.allHealthy, true);
    assert.equal(t.healthyCount, 3);
    assert.equal(t.isHealthy(2), true);
  });

  it('with thresholds of 1, takes a server down on one failure and back up on one success', () => {
    const t = new HealthThresholds(2, 1, 1);
    assert.equal(t.report(1, true), undefined);
    assert.equal(t.report(1, false), 'down');
    assert.equal(t.isHealthy(1), false);
    assert.deepEqual([...t.healthy], [1, 0]);
    assert.equal(t.allHealthy, false);
    assert.equal(t.healthyCount, 1);
    assert.equal(t.report(1, false), undefined);
    assert.equal(t.report(1, true), 'up');
    assert.equal(t.isHealthy(1), true);
    assert.equal(t.allHealthy, true);
    assert.equal(t.healthyCount, 2);
  });

  it('takes a server down only after `fails` consecutive failures', () => {
    const t = new HealthThresholds(1, 1, 3);
    assert.equal(t.report(0, false), undefined);
    assert.equal(t.report(0, false), undefined);
    assert.equal(t.isHealthy(0), true);
    assert.equal(t.report(0, false), 'down');
    assert.equal(t.isHealthy(0), false);
  });

  it('restarts the failure count when a success comes between failures', () => {
    const t = new HealthThresholds(1, 1, 2);
    assert.equal(t.report(0, false), undefined);
    assert.equal(t.report(0, true), undefined);
    assert.equal(t.report(0, false), undefined);
    assert.equal(t.isHealthy(0), true);
    assert.equal(t.report(0, false), 'down');
  });

  it('brings a server back only after `passes` consecutive successes', () => {
    const t = new HealthThresholds(1, 3, 1);
    assert.equal(t.report(0, false), 'down');
    assert.equal(t.report(0, true), undefined);
    assert.equal(t.report(0, true), undefined);
    assert.equal(t.isHealthy(0), false);
    assert.equal(t.report(0, true), 'up');
    assert.equal(t.isHealthy(0), true);
  });

  it('restarts the success count when a failure comes between successes', () => {
    const t = new HealthThresholds(1, 2, 1);
    assert.equal(t.report(0, false), 'down');
    assert.equal(t.report(0, true), undefined);
    assert.equal(t.report(0, false), undefined);
    assert.equal(t.report(0, true), undefined);
    assert.equal(t.isHealthy(0), false);
    assert.equal(t.report(0, true), 'up');
  });

  it('does not carry a streak across a transition', () => {
    // Two failures take it down; the successes that bring it back must start from zero, and so
    // must the failures after it is back.
    const t = new HealthThresholds(1, 2, 2);
    assert.equal(t.report(0, false), undefined);
    assert.equal(t.report(0, false), 'down');
    assert.equal(t.report(0, true), undefined);
    assert.equal(t.report(0, true), 'up');
    assert.equal(t.report(0, false), undefined);
    assert.equal(t.isHealthy(0), true);
    assert.equal(t.report(0, false), 'down');
  });

  it('keeps each server’s streak separate', () => {
    const t = new HealthThresholds(2, 1, 2);
    assert.equal(t.report(0, false), undefined);
    assert.equal(t.report(1, false), undefined);
    assert.equal(t.report(0, false), 'down');
    assert.equal(t.isHealthy(1), true);
    assert.equal(t.report(1, false), 'down');
    assert.equal(t.healthyCount, 0);
  });

  it('rejects thresholds below 1 and indexes out of range', () => {
    assert.throws(() => new HealthThresholds(1, 0, 1), RangeError);
    assert.throws(() => new HealthThresholds(1, 1, 0), RangeError);
    assert.throws(() => new HealthThresholds(1, 1.5, 1), RangeError);
    const t = new HealthThresholds(2, 1, 1);
    assert.throws(() => t.report(2, true), RangeError);
    assert.throws(() => t.isHealthy(-1), RangeError);
  });

  it('treats an empty server list as all healthy', () => {
    const t = new HealthThresholds(0, 1, 1);
    assert.equal(t.allHealthy, true);
    assert.equal(t.healthyCount, 0);
  });
});
