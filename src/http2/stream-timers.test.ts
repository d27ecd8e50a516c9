import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ticker, type Timed } from '../core/ticker.ts';
import type { EntryPointContext } from '../proxy/entry-point-context.ts';
import { armStreamTimers, UNTIMED } from './stream-timers.ts';

/** The context fields the timers read, on a ticker with an injected clock stopped at 1000. */
function ctx(readTimeoutMs: number, writeTimeoutMs: number): { c: EntryPointContext; ticker: Ticker } {
  const ticker = new Ticker(1_000_000, () => 1000);
  return { c: { readTimeoutMs, writeTimeoutMs, ticker } as unknown as EntryPointContext, ticker };
}

function stream(): Timed & { expired: number[] } {
  const expired: number[] = [];
  return {
    deadline: 0,
    expired,
    onDeadline(now) {
      expired.push(now);
    },
  };
}

describe('HTTP/2 stream timers', () => {
  it('arms nothing when neither timeout is set', () => {
    const { c, ticker } = ctx(0, 0);
    const t = stream();
    assert.equal(armStreamTimers(c, t), UNTIMED);
    assert.equal(t.deadline, 0);
    assert.equal(ticker.size, 0);
  });

  it('readTimeout alone: the deadline is the read one, no write deadline', () => {
    const { c, ticker } = ctx(500, 0);
    const t = stream();
    assert.equal(armStreamTimers(c, t), 0);
    assert.equal(t.deadline, 1500);
    assert.equal(ticker.size, 1);
  });

  it('writeTimeout alone: the deadline is the write one', () => {
    const { c, ticker } = ctx(0, 700);
    const t = stream();
    assert.equal(armStreamTimers(c, t), 1700);
    assert.equal(t.deadline, 1700);
    assert.equal(ticker.size, 1);
  });

  it('both: the earlier is the deadline, the write one is returned either way', () => {
    const a = ctx(500, 700);
    const ta = stream();
    assert.equal(armStreamTimers(a.c, ta), 1700);
    assert.equal(ta.deadline, 1500);
    const b = ctx(900, 300);
    const tb = stream();
    assert.equal(armStreamTimers(b.c, tb), 1300);
    assert.equal(tb.deadline, 1300);
    b.ticker.tick();
    assert.deepEqual(tb.expired, [], 'not before its time');
  });
});
