import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketOf, bucketUpperNs, HISTOGRAM_MAX_NS, LatencyHistogram } from './latency-histogram.ts';

describe('latency histogram buckets', () => {
  it('keeps every value below 256 ns as itself', () => {
    for (let v = 0; v < 256; v++) {
      assert.equal(bucketOf(v), v);
      assert.equal(bucketUpperNs(v), v);
    }
  });

  it('puts every value in a bucket whose bounds hold it, within 1/128 of the value, up to 10 s', () => {
    let previous = -1;
    // Values spread over 1 µs … 10 s, every power of two's edges included.
    const values: number[] = [];
    for (let e = 8; e <= 33; e++) values.push(2 ** e - 1, 2 ** e, 2 ** e + 1, 3 * 2 ** (e - 1));
    for (let v = 1000; v <= HISTOGRAM_MAX_NS; v = Math.floor(v * 1.0137) + 1) values.push(v);
    values.push(HISTOGRAM_MAX_NS);
    for (const v of values.sort((a, b) => a - b)) {
      const i = bucketOf(v);
      const upper = bucketUpperNs(i);
      const lower = i === 0 ? 0 : bucketUpperNs(i - 1) + 1;
      assert.ok(lower <= v && v <= upper, `${v} in bucket ${i} [${lower}, ${upper}]`);
      assert.ok((upper - lower + 1) / v <= 1 / 128, `bucket ${i} of ${v} is ${upper - lower + 1} wide`);
      assert.ok(i >= previous, 'buckets grow with values');
      previous = i;
    }
  });

  it('numbers the buckets without gaps: each starts one after the previous ends', () => {
    for (let i = 1; i <= bucketOf(HISTOGRAM_MAX_NS); i++) {
      assert.equal(bucketOf(bucketUpperNs(i - 1) + 1), i);
    }
  });
});

describe('LatencyHistogram', () => {
  it('reports percentiles within a bucket of the exact ones, and the exact max and mean', () => {
    const h = new LatencyHistogram();
    // 1..10,000 µs, each once: p50 is 5 ms, p99 9.9 ms, p99.9 9.99 ms.
    for (let us = 1; us <= 10_000; us++) h.record(us * 1000);
    const s = h.summary();
    assert.equal(s.count, 10_000);
    const near = (actual: number, expected: number) =>
      assert.ok(actual >= expected && actual <= expected * (1 + 1 / 128), `${actual} ≉ ${expected}`);
    near(s.p50Ms, 5);
    near(s.p90Ms, 9);
    near(s.p99Ms, 9.9);
    near(s.p999Ms, 9.99);
    assert.equal(s.maxMs, 10);
    assert.equal(s.meanMs, 5.0005);
  });

  it('never reports a percentile above the largest value recorded', () => {
    const h = new LatencyHistogram();
    h.record(1_000_001);
    assert.equal(h.percentileNs(50), 1_000_001);
    assert.equal(h.percentileNs(100), 1_000_001);
  });

  it('counts a rare slow value only in the percentiles it reaches', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 999; i++) h.record(100_000);
    h.record(50_000_000);
    const s = h.summary();
    assert.ok(s.p99Ms < 0.101, String(s.p99Ms));
    assert.ok(s.p999Ms < 0.101, String(s.p999Ms));
    assert.equal(s.maxMs, 50);
  });

  it('clamps values above 10 s and negatives to 0, and counts the clamped', () => {
    const h = new LatencyHistogram();
    h.record(-5);
    h.record(HISTOGRAM_MAX_NS * 3);
    assert.equal(h.count, 2);
    assert.equal(h.clamped, 1);
    assert.equal(h.maxNs, HISTOGRAM_MAX_NS);
    assert.equal(h.percentileNs(50), 0);
  });

  it('is all zeros when empty', () => {
    assert.deepEqual(new LatencyHistogram().summary(), {
      count: 0,
      p50Ms: 0,
      p90Ms: 0,
      p99Ms: 0,
      p999Ms: 0,
      maxMs: 0,
      meanMs: 0,
    });
  });

  it('adds another histogram as if its values had been recorded here', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const both = new LatencyHistogram();
    for (let i = 1; i <= 500; i++) {
      a.record(i * 7919);
      both.record(i * 7919);
      b.record(i * 104_729);
      both.record(i * 104_729);
    }
    a.add(b);
    assert.deepEqual(a.summary(), both.summary());
    assert.deepEqual(a.buckets(), both.buckets());
  });

  it('lists the non-empty buckets with their upper bounds and counts', () => {
    const h = new LatencyHistogram();
    h.record(100);
    h.record(100);
    h.record(1000);
    assert.deepEqual(h.buckets(), [
      [100, 2],
      [bucketUpperNs(bucketOf(1000)), 1],
    ]);
  });
});
