import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MAX_EXPIRIES_PER_TURN, Ticker, type Timed } from './ticker.ts';

describe('Ticker', () => {
  it('fires a deadline once when the clock passes it, and clears it', () => {
    let now = 1000;
    const ticker = new Ticker(100, () => now);
    const fired: number[] = [];
    const item: Timed = { deadline: 1500, onDeadline: (t) => fired.push(t) };
    ticker.add(item);
    ticker.tick();
    assert.deepEqual(fired, []);
    now = 1500;
    ticker.tick();
    assert.deepEqual(fired, [1500]);
    assert.equal(item.deadline, 0);
    now = 5000;
    ticker.tick();
    assert.deepEqual(fired, [1500]);
    ticker.stop();
  });

  it('ignores items without a deadline and forgets deleted ones', () => {
    let now = 0;
    const ticker = new Ticker(100, () => now);
    let fired = 0;
    const a: Timed = { deadline: 0, onDeadline: () => fired++ };
    const b: Timed = { deadline: 10, onDeadline: () => fired++ };
    ticker.add(a);
    ticker.add(b);
    ticker.delete(b);
    now = 100;
    ticker.tick();
    assert.equal(fired, 0);
    assert.equal(ticker.size, 1);
    ticker.stop();
  });

  it('handles at most a turn budget of expired deadlines at once, the rest on the next turns', async () => {
    let now = 0;
    const ticker = new Ticker(100, () => now);
    const n = MAX_EXPIRIES_PER_TURN * 2 + 5;
    let fired = 0;
    for (let i = 0; i < n; i++) ticker.add({ deadline: 10, onDeadline: () => fired++ });
    now = 50;
    ticker.tick();
    assert.equal(fired, MAX_EXPIRIES_PER_TURN, 'one budget in the sweep itself');
    await nextTurn();
    assert.equal(fired, MAX_EXPIRIES_PER_TURN * 2);
    await nextTurn();
    assert.equal(fired, n, 'every deadline, once');
    await nextTurn();
    assert.equal(fired, n);
    ticker.stop();
  });
});
