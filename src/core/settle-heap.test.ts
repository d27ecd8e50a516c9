import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settleHeap } from './settle-heap.ts';

describe('settleHeap', () => {
  it('shrinks a young generation grown by many surviving short-lived objects', () => {
    // Objects that survive a few scavenges make V8 grow the young generation, as start-up does.
    let keep: object[] = [];
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 20_000; i++) keep.push({ round, i, s: `x${i}` });
      if (keep.length > 200_000) keep = [];
    }
    keep = [];
    const r = settleHeap();
    assert.ok(r !== null, 'the collection ran');
    assert.ok(r.before > r.after, `new space ${r.before} → ${r.after} bytes`);
    assert.ok(r.after <= 2 * 1024 * 1024, `new space after: ${r.after} bytes`);
    // The process's own global object gets no gc function.
    assert.equal((globalThis as { gc?: unknown }).gc, undefined);
  });
});
