import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getHeapSpaceStatistics } from 'node:v8';
import {
  collectYoung,
  committedOutsideYoung,
  OldGenerationPacer,
  ReloadSettler,
  settleHeap,
} from './settle-heap.ts';

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

const oldUsed = (): number =>
  getHeapSpaceStatistics().find((sp) => sp.space_name === 'old_space')?.space_used_size ?? 0;

describe('heap pacing while configurations change', () => {
  it('collects the young generation on demand', () => {
    assert.equal(collectYoung(), true);
  });

  it('collects the old generation once replaced state passes the slack, and not before', () => {
    const pacer = new OldGenerationPacer(8 * 1024 * 1024);
    assert.equal(pacer.afterRebuild(), false, 'nothing replaced yet');
    const before = oldUsed();
    // A state that lives long enough to be promoted (two young collections), then is replaced.
    let state: { i: number; s: string }[] | undefined = [];
    for (let i = 0; i < 400_000; i++) state.push({ i, s: `x${i}` });
    collectYoung();
    collectYoung();
    assert.ok(oldUsed() > before + 8 * 1024 * 1024, `in the old generation: ${state.length} objects`);
    state = undefined;
    assert.equal(pacer.afterRebuild(), true);
    assert.ok(oldUsed() < before + 8 * 1024 * 1024, `gone after the collection (${state})`);
    assert.equal(pacer.afterRebuild(), false, 'nothing replaced since');
  });
});

describe('settling after reloads', () => {
  /** Grows the young generation as traffic does: objects that live through one scavenge. */
  function growYoung(): number {
    const total = process.memoryUsage().heapTotal;
    const ring: object[] = new Array(60_000);
    for (let i = 0; i < 3_000_000; i++) ring[i % 60_000] = { i, s: `x${i & 1023}` };
    assert.ok(ring.length > 0);
    return process.memoryUsage().heapTotal - total;
  }

  it('is not set off by the young generation growing back while the loop serves', () => {
    settleHeap();
    const settler = new ReloadSettler(16 * 1024 * 1024);
    const grew = growYoung();
    assert.ok(grew > 16 * 1024 * 1024, `heapTotal grew ${grew} bytes (what the old measure counted)`);
    assert.equal(settler.afterChanges(0.3), null);
  });

  it('gives the young generation back when the loop is idle', () => {
    settleHeap();
    const settler = new ReloadSettler(16 * 1024 * 1024);
    growYoung();
    const r = settler.afterChanges(0.01);
    assert.ok(r !== null, 'settled');
    assert.ok(r.after < r.before, `new space ${r.before} → ${r.after} bytes`);
    assert.equal(settler.afterChanges(0.01), null, 'nothing grew since');
  });

  it('settles once the old generation grew past the bound, busy or not, then measures from there', () => {
    const settler = new ReloadSettler(16 * 1024 * 1024);
    const before = committedOutsideYoung();
    // A replaced state promoted to the old generation (two young collections), then dropped.
    let state: { i: number; s: string }[] | undefined = [];
    for (let i = 0; i < 600_000; i++) state.push({ i, s: `y${i}` });
    collectYoung();
    collectYoung();
    assert.ok(committedOutsideYoung() > before + 16 * 1024 * 1024, `${state.length} objects promoted`);
    state = undefined;
    assert.notEqual(settler.afterChanges(0.9), null, 'settled');
    assert.equal(settler.afterChanges(0.9), null, `nothing grew since (${state})`);
  });
});
