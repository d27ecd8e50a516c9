import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucketLimiter } from './token-bucket.ts';

/** The wait, rounded to the microsecond (float arithmetic leaves 39.99999999999999). */
function take(limiter: TokenBucketLimiter, key: string, now: number): number {
  return Math.round(limiter.take(key, now) * 1000) / 1000;
}

function takeMany(limiter: TokenBucketLimiter, key: string, now: number, count: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < count; k++) out.push(limiter.take(key, now));
  return out;
}

describe('token bucket limiter', () => {
  it('lets a new key spend its whole burst at once and then asks it to wait', () => {
    const limiter = new TokenBucketLimiter({ average: 10, periodMs: 1000, burst: 3 });
    assert.deepEqual(takeMany(limiter, 'a', 0, 4), [0, 0, 0, 100]);
  });

  it('refills at average per period, so one token comes back every period/average', () => {
    const limiter = new TokenBucketLimiter({ average: 10, periodMs: 1000, burst: 1 });
    assert.equal(limiter.take('a', 0), 0);
    assert.equal(take(limiter, 'a', 20), 80, 'refused: 80 ms is over the 50 ms max delay');
    assert.equal(take(limiter, 'a', 100), 0);
    assert.equal(take(limiter, 'a', 150), 50, 'admitted after 50 ms, its token reserved');
    assert.equal(take(limiter, 'a', 160), 140, 'the reserved token is gone');
  });

  it('reserves the token of a wait up to the max delay and refuses a longer one without taking it', () => {
    // Traefik: maxDelay = 1 / (2 * rate); 10/s → 50 ms.
    const limiter = new TokenBucketLimiter({ average: 10, periodMs: 1000, burst: 1 });
    assert.equal(limiter.maxDelayMs, 50);
    limiter.take('a', 0);
    assert.equal(take(limiter, 'a', 40), 60, 'refused');
    assert.equal(take(limiter, 'a', 60), 40, 'admitted after 40 ms: the refusal took nothing');
    assert.equal(take(limiter, 'a', 100), 100, 'the next token is the one after the reserved one');
  });

  it("has Traefik's max delay: half the interval at the truncated rate, 500 ms below 1/s", () => {
    const delay = (average: number, periodMs: number) =>
      new TokenBucketLimiter({ average, periodMs, burst: 1 }).maxDelayMs;
    assert.equal(delay(100, 1000), 5);
    assert.equal(delay(3, 2000), 500, '1.5/s truncates to 1/s');
    assert.equal(delay(1, 2000), 500);
    assert.equal(delay(1, 60_000), 500);
  });

  it("forgets a bucket idle for Traefik's ttl, so it starts full again", () => {
    // 1/s: ttl 2 s. The refill alone would give 2 tokens after 2 s; Traefik's dropped bucket has 5.
    const limiter = new TokenBucketLimiter({ average: 1, periodMs: 1000, burst: 5 });
    assert.deepEqual(takeMany(limiter, 'a', 0, 5), [0, 0, 0, 0, 0]);
    assert.deepEqual(
      takeMany(limiter, 'a', 1999, 2).map((w) => w > 0),
      [false, true],
    );
    assert.deepEqual(
      takeMany(limiter, 'a', 3999, 6).map((w) => w > 0),
      [false, false, false, false, false, true],
    );
    // Below 1/s the ttl is 1 + 1/rate s: 1 per 10 s → 11 s.
    const slow = new TokenBucketLimiter({ average: 1, periodMs: 10_000, burst: 3 });
    takeMany(slow, 'a', 0, 3);
    assert.deepEqual(
      takeMany(slow, 'a', 10_999, 2).map((w) => w > 0),
      [false, true],
    );
    assert.deepEqual(
      takeMany(slow, 'a', 21_999, 4).map((w) => w > 0),
      [false, false, false, true],
    );
  });

  it('admits a client that paces itself exactly at the configured rate every time', () => {
    const limiter = new TokenBucketLimiter({ average: 3, periodMs: 1000, burst: 1 });
    for (let k = 0; k < 300; k++) assert.equal(limiter.take('a', (k * 1000) / 3), 0, `request ${k}`);
  });

  it('never holds more than burst tokens however long the key was idle', () => {
    const limiter = new TokenBucketLimiter({ average: 100, periodMs: 1000, burst: 2 });
    limiter.take('a', 0);
    assert.deepEqual(takeMany(limiter, 'a', 1_000_000, 3), [0, 0, 10]);
  });

  it('reports the wait until the token in milliseconds', () => {
    const limiter = new TokenBucketLimiter({ average: 3, periodMs: 1000, burst: 1 });
    limiter.take('a', 0);
    assert.ok(Math.abs(limiter.take('a', 0) - 1000 / 3) < 1e-9);
  });

  it('keeps separate buckets per key', () => {
    const limiter = new TokenBucketLimiter({ average: 1, periodMs: 1000, burst: 1 });
    assert.equal(limiter.take('a', 0), 0);
    assert.equal(limiter.take('b', 0), 0);
    assert.equal(limiter.take('a', 0), 1000);
  });

  it('does not limit at all when average is 0', () => {
    const limiter = new TokenBucketLimiter({ average: 0, periodMs: 1000, burst: 1 });
    assert.deepEqual(takeMany(limiter, 'a', 0, 100), new Array(100).fill(0));
    assert.equal(limiter.size, 0);
  });

  it('refuses a period of 0 and a burst below 1: the rateLimit schema makes them 1 s and 1', () => {
    assert.throws(() => new TokenBucketLimiter({ average: 2, periodMs: 0, burst: 1 }), RangeError);
    assert.throws(() => new TokenBucketLimiter({ average: 2, periodMs: 1000, burst: 0 }), RangeError);
  });

  it('does not drain tokens when the clock steps back', () => {
    const limiter = new TokenBucketLimiter({ average: 1, periodMs: 1000, burst: 2 });
    limiter.take('a', 5000);
    assert.equal(limiter.take('a', 4000), 0);
    assert.equal(limiter.take('a', 5000), 1000);
  });

  it('rejects a negative average or period', () => {
    assert.throws(() => new TokenBucketLimiter({ average: -1, periodMs: 1000, burst: 1 }), RangeError);
    assert.throws(() => new TokenBucketLimiter({ average: 1, periodMs: -1, burst: 1 }), RangeError);
  });

  describe('under key spraying', () => {
    it('never remembers more than maxKeys keys', () => {
      const limiter = new TokenBucketLimiter({ average: 1, periodMs: 1000, burst: 1, maxKeys: 100 });
      for (let k = 0; k < 10_000; k++) limiter.take(`10.0.${k >> 8}.${k & 255}`, k);
      assert.equal(limiter.size, 100);
    });

    it('evicts the least recently used key, not the one a client keeps using', () => {
      const limiter = new TokenBucketLimiter({ average: 1, periodMs: 1_000_000, burst: 1, maxKeys: 3 });
      limiter.take('victim', 0);
      limiter.take('x1', 1);
      limiter.take('x2', 2);
      assert.ok(limiter.take('victim', 3) > 0, 'victim is now the most recent');
      limiter.take('x3', 4);
      // x1 was the least recently used and went; victim kept its empty bucket.
      assert.ok(limiter.take('victim', 5) > 0, 'victim still has to wait');
      assert.equal(limiter.take('x1', 6), 0, 'x1 came back with a fresh bucket');
    });

    it('keeps LRU order right when the same key sends several requests in a row', () => {
      const limiter = new TokenBucketLimiter({ average: 1, periodMs: 1_000_000, burst: 5, maxKeys: 2 });
      limiter.take('a', 0);
      limiter.take('b', 1);
      limiter.take('b', 2);
      limiter.take('a', 3);
      limiter.take('a', 4);
      limiter.take('c', 5);
      // b is the least recently used, so it was evicted and a kept its three spent tokens.
      assert.deepEqual(
        takeMany(limiter, 'a', 6, 3).map((wait) => wait > 0),
        [false, false, true],
      );
    });
  });

  describe('recency after a sweep', () => {
    it('evicts the least recently used of the keys a sweep left', () => {
      const limiter = new TokenBucketLimiter({ average: 1, periodMs: 1000, burst: 1, maxKeys: 3 });
      limiter.take('a', 0);
      limiter.take('b', 0);
      limiter.take('c', 900); // still refilling at 1,000 ms: kept by the sweep
      assert.equal(limiter.sweep(1000), 2, 'a and b refilled');
      limiter.take('d', 1000);
      limiter.take('e', 1000);
      limiter.take('c', 1001); // c is now the most recent
      limiter.take('f', 1002); // full: d goes
      assert.equal(limiter.size, 3);
      assert.ok(limiter.take('c', 1003) > 0, 'c kept its spent bucket');
      assert.ok(limiter.take('e', 1003) > 0, 'e kept its spent bucket');
      assert.equal(limiter.take('d', 1003), 0, 'd came back fresh');
    });
  });

  describe('sweep', () => {
    it('drops only the keys whose bucket has refilled completely', () => {
      const limiter = new TokenBucketLimiter({ average: 1, periodMs: 1000, burst: 2 });
      takeMany(limiter, 'old', 0, 2);
      limiter.take('recent', 1500);
      assert.equal(limiter.sweep(1999), 0);
      assert.equal(limiter.sweep(2000), 1);
      assert.equal(limiter.size, 1);
      assert.deepEqual(takeMany(limiter, 'recent', 2000, 2), [0, 500]);
    });

    it('lets a swept key that was the last one used start again with a full bucket', () => {
      const limiter = new TokenBucketLimiter({ average: 1, periodMs: 1000, burst: 2 });
      limiter.take('a', 0);
      limiter.sweep(10_000);
      assert.equal(limiter.size, 0);
      assert.deepEqual(takeMany(limiter, 'a', 10_000, 3), [0, 0, 1000]);
      assert.equal(limiter.size, 1);
    });
  });
});
