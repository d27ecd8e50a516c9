import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { EXPIRY_BATCH_GAP_MS, MAX_EXPIRIES_PER_BATCH, Ticker, type Timed } from './ticker.ts';

describe('Ticker', () => {
  it('fires a deadline once when the clock passes it, and clears it', () => {
    let now = 1000;
    const ticker = new Ticker(100, () => now);
    const fired: number[] = [];
    const item: Timed = { deadline: 1500, tickerSlot: -1, onDeadline: (t) => fired.push(t) };
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
    const a: Timed = { deadline: 0, tickerSlot: -1, onDeadline: () => fired++ };
    const b: Timed = { deadline: 10, tickerSlot: -1, onDeadline: () => fired++ };
    ticker.add(a);
    ticker.add(b);
    ticker.delete(b);
    now = 100;
    ticker.tick();
    assert.equal(fired, 0);
    assert.equal(ticker.size, 1);
    ticker.stop();
  });

  it('handles at most a batch of expired deadlines at once, the rest in later batches spread in time', () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    try {
      let now = 0;
      const ticker = new Ticker(100, () => now);
      const n = MAX_EXPIRIES_PER_BATCH * 2 + 5;
      let fired = 0;
      for (let i = 0; i < n; i++) ticker.add({ deadline: 10, tickerSlot: -1, onDeadline: () => fired++ });
      now = 50;
      ticker.tick();
      assert.equal(fired, MAX_EXPIRIES_PER_BATCH, 'one batch in the sweep itself');
      mock.timers.tick(EXPIRY_BATCH_GAP_MS - 1);
      assert.equal(fired, MAX_EXPIRIES_PER_BATCH, 'the next batch waits for the gap');
      mock.timers.tick(1);
      assert.equal(fired, MAX_EXPIRIES_PER_BATCH * 2);
      mock.timers.tick(EXPIRY_BATCH_GAP_MS);
      assert.equal(fired, n, 'every deadline, once');
      mock.timers.tick(EXPIRY_BATCH_GAP_MS * 4);
      assert.equal(fired, n);
      assert.equal(ticker.size, n, 'expired items stay held, without a deadline');
      ticker.stop();
    } finally {
      mock.timers.reset();
    }
  });

  it('keeps every item once through adds and deletes in any order, and a sweep whose handlers delete others', () => {
    let now = 0;
    const ticker = new Ticker(100, () => now);
    const fired = new Map<number, number>();
    const items: Timed[] = [];
    for (let i = 0; i < 40; i++) {
      const item: Timed = {
        deadline: i % 8 === 0 ? 10 : 1000, // 5 expire: within one batch
        tickerSlot: -1,
        onDeadline: () => {
          fired.set(i, (fired.get(i) ?? 0) + 1);
          // An expiring item takes two others with it, one already seen and one not.
          ticker.delete(items[(i + 1) % 40]!);
          ticker.delete(items[(i + 39) % 40]!);
          ticker.delete(item);
        },
      };
      items.push(item);
      ticker.add(item);
      ticker.add(item);
    }
    assert.equal(ticker.size, 40, 'adding twice holds an item once');
    for (let i = 0; i < 40; i += 5) ticker.delete(items[i]!);
    ticker.delete(items[0]!);
    assert.equal(ticker.size, 32);
    for (let i = 0; i < 40; i += 5) ticker.add(items[i]!);
    assert.equal(ticker.size, 40);
    now = 50;
    ticker.tick();
    for (const n of fired.values()) assert.equal(n, 1, 'no handler runs twice');
    for (const i of fired.keys()) assert.equal(i % 8, 0, 'only expired items fire');
    // Every expiring item fired unless an earlier handler removed it first; what is left is every
    // item no handler removed, each still findable by delete.
    const left = items.filter((it) => it.tickerSlot !== -1);
    assert.equal(ticker.size, left.length);
    for (const it of left) assert.equal(it.deadline === 10 && !fired.has(items.indexOf(it)), false);
    for (const it of left) ticker.delete(it);
    assert.equal(ticker.size, 0);
    ticker.stop();
  });
});
