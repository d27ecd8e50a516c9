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
    tickerSlot: -1,
    expired,
    onDeadline(now) {
      expired.push(now);
    },
  };
}

describe('HTTP/2 stream timers', () => {
  // [readTimeoutMs, writeTimeoutMs, returned write deadline, stream deadline], the clock at 1000.
  const cases: [string, number, number, number, number][] = [
    ['readTimeout alone: the read deadline, no write one', 500, 0, 0, 1500],
    ['writeTimeout alone: the write deadline', 0, 700, 1700, 1700],
    ['both, read first: the read deadline, the write one returned', 500, 700, 1700, 1500],
    ['both, write first: the write deadline', 900, 300, 1300, 1300],
  ];
  for (const [name, rt, wt, writeBy, deadline] of cases) {
    it(name, () => {
      const { c, ticker } = ctx(rt, wt);
      const t = stream();
      assert.equal(armStreamTimers(c, t), writeBy);
      assert.equal(t.deadline, deadline);
      assert.equal(ticker.size, 1, 'on the ticker');
      ticker.tick();
      assert.deepEqual(t.expired, [], 'not before its time');
    });
  }

  it('arms nothing when neither timeout is set', () => {
    const { c, ticker } = ctx(0, 0);
    const t = stream();
    assert.equal(armStreamTimers(c, t), UNTIMED);
    assert.equal(t.deadline, 0);
    assert.equal(ticker.size, 0);
  });
});
