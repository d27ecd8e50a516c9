import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlowStart } from './slow-start.ts';

function assertClose(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} is not ${expected}`);
}

describe('slow start', () => {
  it('gives full weight to servers that never began a ramp', () => {
    const s = new SlowStart(3, 1000);
    assert.equal(s.factor(0, 0), 1);
    assert.equal(s.ramping, false);
  });

  it('ramps linearly from minFactor to 1 over the window', () => {
    const s = new SlowStart(3, 1000, 0.2);
    s.begin(1, 5000);
    assert.equal(s.factor(1, 5000), 0.2);
    assertClose(s.factor(1, 5500), 0.6);
    assertClose(s.factor(1, 5750), 0.8);
    assert.equal(s.factor(1, 6000), 1);
    assert.equal(s.factor(0, 5500), 1, 'other servers are not affected');
  });

  it('defaults minFactor to 0.1', () => {
    const s = new SlowStart(1, 1000);
    s.begin(0, 0);
    assert.equal(s.factor(0, 0), 0.1);
  });

  it('reports ramping until the last ramp is observed to be over', () => {
    const s = new SlowStart(3, 1000);
    s.begin(0, 0);
    s.begin(2, 500);
    assert.equal(s.ramping, true);
    s.factor(0, 1200);
    assert.equal(s.ramping, true, 'server 2 ramps until 1500');
    s.factor(0, 1500);
    assert.equal(s.ramping, false, 'any factor call after the last end clears every ramp');
  });

  it('ends one server ramp without touching another still ramping', () => {
    const s = new SlowStart(2, 1000, 0);
    s.begin(0, 0);
    s.begin(1, 800);
    assert.equal(s.factor(0, 1000), 1);
    assertClose(s.factor(1, 1300), 0.5);
    assert.equal(s.ramping, true);
  });

  it('restarts the ramp when a server recovers again mid-ramp', () => {
    const s = new SlowStart(1, 1000, 0);
    s.begin(0, 0);
    s.begin(0, 900);
    assertClose(s.factor(0, 1400), 0.5);
    assert.equal(s.factor(0, 1900), 1);
    assert.equal(s.ramping, false);
  });

  it('admits a pick when the draw is below the factor', () => {
    const s = new SlowStart(1, 1000, 0);
    s.begin(0, 0);
    assert.equal(s.admits(0, 250, 0.24), true);
    assert.equal(s.admits(0, 250, 0.25), false);
    assert.equal(s.admits(0, 1000, 0.999), true);
  });

  it('is disabled when the window is 0', () => {
    const s = new SlowStart(2, 0);
    s.begin(0, 0);
    assert.equal(s.ramping, false);
    assert.equal(s.factor(0, 0), 1);
  });

  it('never goes below minFactor when asked about a time before the ramp began', () => {
    const s = new SlowStart(1, 1000, 0.3);
    s.begin(0, 1000);
    assert.equal(s.factor(0, 500), 0.3);
  });

  it('ignores indexes outside the service', () => {
    const s = new SlowStart(1, 1000);
    s.begin(4, 0);
    assert.equal(s.ramping, false);
    s.begin(0, 0);
    assert.equal(s.factor(4, 10), 1);
  });
});
