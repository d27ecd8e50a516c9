import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleRoot } from './sampler.ts';

// Go's TraceIDRatioBased reads the trace id's last 8 bytes (shifted right once); the first 8 do
// not count.
const LOW = `${'f'.repeat(16)}${'0'.repeat(15)}1`; // ≈ 0
const HIGH = `${'0'.repeat(16)}${'f'.repeat(16)}`; // ≈ 1
const MID = `${'f'.repeat(16)}8${'0'.repeat(15)}`; // exactly 0.5

describe('sampleRoot (Go sdktrace.TraceIDRatioBased)', () => {
  it('samples everything at rate 1 and nothing at rate 0', () => {
    for (const id of [LOW, MID, HIGH]) {
      assert.equal(sampleRoot(id, 1, undefined), true);
      assert.equal(sampleRoot(id, 0, undefined), false);
    }
  });

  it("decides from the trace id's last 8 bytes as Go does when no random source is given", () => {
    assert.equal(sampleRoot(LOW, 0.25, undefined), true);
    assert.equal(sampleRoot(HIGH, 0.25, undefined), false);
    // x = 2^62 against uint64(0.5 * 2^63) = 2^62: not below.
    assert.equal(sampleRoot(MID, 0.5, undefined), false);
    assert.equal(sampleRoot(MID, 0.5000001, undefined), true);
  });

  it('decides from the injected random source when there is one', () => {
    assert.equal(
      sampleRoot(HIGH, 0.3, () => 0.29),
      true,
    );
    assert.equal(
      sampleRoot(LOW, 0.3, () => 0.3),
      false,
    );
  });

  it('records the configured share of trace ids spread evenly over the 64-bit range', () => {
    let sampled = 0;
    for (let i = 0; i < 10_000; i++) {
      const low = (BigInt(2 * i + 1) * 2n ** 64n) / 20_000n;
      if (sampleRoot(`${'0'.repeat(16)}${low.toString(16).padStart(16, '0')}`, 0.1, undefined)) sampled++;
    }
    assert.equal(sampled, 1000);
  });
});
