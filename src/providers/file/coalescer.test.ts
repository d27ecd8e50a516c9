import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Coalescer } from './coalescer.ts';

describe('Coalescer', () => {
  it('rescans once, one delay after the first event of a burst', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let fired = 0;
    const c = new Coalescer(100, () => fired++);
    c.notify();
    t.mock.timers.tick(30);
    c.notify();
    t.mock.timers.tick(30);
    c.notify();
    assert.equal(fired, 0);
    t.mock.timers.tick(40);
    assert.equal(fired, 1);
    t.mock.timers.tick(500);
    assert.equal(fired, 1, 'no event, no rescan');
  });

  it('is not starved by a file rewritten every 50 ms: a change waits at most the delay plus one period', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const delay = 100;
    const period = 50;
    const scans: number[] = [];
    let now = 0;
    const c = new Coalescer(delay, () => scans.push(now));
    const advance = (ms: number): void => {
      for (let i = 0; i < ms; i++) {
        now++;
        t.mock.timers.tick(1);
        if (now % period === 0) c.notify(); // the other file, rewritten
      }
    };
    advance(1000);
    const change = now + 17; // our file changes between two rewrites of the other one
    advance(17);
    c.notify();
    advance(1000);
    const first = scans.find((s) => s >= change);
    assert.ok(first !== undefined, `no rescan after the change: ${JSON.stringify(scans)}`);
    assert.ok(first - change <= delay + period, `rescan ${first - change} ms after the change`);
  });

  it('drops a rescan due when cancelled', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let fired = 0;
    const c = new Coalescer(100, () => fired++);
    c.notify();
    c.cancel();
    t.mock.timers.tick(1000);
    assert.equal(fired, 0);
  });
});
