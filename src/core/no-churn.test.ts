/**
 * The structures that hold long-lived objects coming and going per request (the ticker, a
 * SlotList, an HTTP/2 connection's StreamMap) must not allocate in V8's old generation as they
 * do: a Set or Map there rebuilds its hash table every few dozen deletions, each new table
 * allocated in the old generation, garbage that only a mark-compact frees (docs/performance.md,
 * "Old-space garbage from hash-table churn"). Measured here as the growth of the old space's
 * used size over 100,000 add/delete pairs, with a Set as the control that shows the effect.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { StreamMap } from '../http2/stream-map.ts';
import { SlotList } from './slot-list.ts';
import { Ticker, type Timed } from './ticker.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const PAIRS = 100_000;
const MB = 1024 * 1024;

function oldSpaceUsed(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
}

/** Old-space growth (bytes) over `PAIRS` calls of `step`, after the structure was made old. */
function oldGrowth(step: (i: number) => void): number {
  gc();
  gc();
  const before = oldSpaceUsed();
  for (let i = 0; i < PAIRS; i++) step(i);
  return oldSpaceUsed() - before;
}

interface Item extends Timed {
  listSlot: number;
}

/** One step: the second half of the pool comes in and the first goes, then back. */
function swapHalves(
  pool: readonly Item[],
  add: (it: Item) => void,
  del: (it: Item) => void,
): (i: number) => void {
  return (i) => {
    add(pool[32 + (i & 31)]!);
    del(pool[i & 31]!);
    del(pool[32 + (i & 31)]!);
    add(pool[i & 31]!);
  };
}

function items(n: number): Item[] {
  return Array.from({ length: n }, () => ({
    deadline: 0,
    tickerSlot: -1,
    listSlot: -1,
    onDeadline: () => {},
  }));
}

describe('no old-space garbage per add/delete', () => {
  const pool = items(64);
  const control = new Set<Item>();
  for (const it of pool.slice(0, 32)) control.add(it);
  const setGrowth = oldGrowth(
    swapHalves(
      pool,
      (it) => control.add(it),
      (it) => control.delete(it),
    ),
  );
  // The control shows what is guarded against; if V8 ever stops doing it, there is nothing to check.
  const skip = setGrowth < 2 * MB ? `a Set left only ${(setGrowth / MB).toFixed(1)} MB: V8 changed` : false;

  it('the ticker', { skip }, () => {
    const ticker = new Ticker(60_000);
    for (const it of pool.slice(0, 32)) ticker.add(it);
    const growth = oldGrowth(
      swapHalves(
        pool,
        (it) => ticker.add(it),
        (it) => ticker.delete(it),
      ),
    );
    ticker.stop();
    assert.ok(
      growth < setGrowth / 4,
      `ticker ${(growth / MB).toFixed(2)} MB vs Set ${(setGrowth / MB).toFixed(2)} MB`,
    );
  });

  it('a SlotList', { skip }, () => {
    const list = new SlotList<Item>();
    for (const it of pool.slice(0, 32)) list.add(it);
    const growth = oldGrowth(
      swapHalves(
        pool,
        (it) => list.add(it),
        (it) => list.delete(it),
      ),
    );
    assert.ok(
      growth < setGrowth / 4,
      `SlotList ${(growth / MB).toFixed(2)} MB vs Set ${(setGrowth / MB).toFixed(2)} MB`,
    );
  });

  it('a StreamMap with increasing stream ids', { skip }, () => {
    const streams = new StreamMap<Item>();
    let id = 1;
    for (let k = 0; k < 32; k++, id += 2) streams.set(id, pool[k]!);
    const growth = oldGrowth((i) => {
      streams.set(id, pool[i & 63]!);
      streams.delete(id - 64);
      id += 2;
    });
    assert.equal(streams.size, 32);
    assert.ok(
      growth < setGrowth / 4,
      `StreamMap ${(growth / MB).toFixed(2)} MB vs Set ${(setGrowth / MB).toFixed(2)} MB`,
    );
  });
});
