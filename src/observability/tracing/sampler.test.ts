import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleRoot } from './sampler.ts';

const LOW = `${'f'.repeat(19)}0000000000001`; // low 52 bits ≈ 0
const HIGH = `${'0'.repeat(19)}fffffffffffff`; // low 52 bits ≈ 1
const MID = `${'0'.repeat(19)}8000000000000`; // exactly 0.5

describe('sampleRoot', () => {
  it('samples everything at rate 1 and nothing at rate 0', () => {
    for (const id of [LOW, MID, HIGH]) {
      assert.equal(sampleRoot(id, 1, undefined), true);
      assert.equal(sampleRoot(id, 0, undefined), false);
    }
  });

  it('decides from the low 52 bits of the trace id when no random source is given', () => {
    assert.equal(sampleRoot(LOW, 0.25, undefined), true);
    assert.equal(sampleRoot(HIGH, 0.25, undefined), false);
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

  it('records the configured share of trace ids spread evenly over the 52-bit range', () => {
    let sampled = 0;
    for (let i = 0; i < 10_000; i++) {
      const low = Math.floor(((i + 0.5) / 10_000) * 2 ** 52);
      if (sampleRoot(`${'0'.repeat(19)}${low.toString(16).padStart(13, '0')}`, 0.1, undefined)) sampled++;
    }
    assert.equal(sampled, 1000);
  });
});
