import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlotList, type Slotted } from './slot-list.ts';

interface Item extends Slotted {
  n: number;
}

const make = (n: number): Item => ({ n, listSlot: -1 });

describe('SlotList', () => {
  it('holds each item once, removes any of them, and says whether it held it', () => {
    const list = new SlotList<Item>();
    const items = Array.from({ length: 10 }, (_, i) => make(i));
    for (const it of items) {
      list.add(it);
      list.add(it);
    }
    assert.equal(list.size, 10);
    assert.equal(list.delete(items[3]!), true);
    assert.equal(list.delete(items[3]!), false, 'not twice');
    assert.equal(list.delete(items[9]!), true, 'the last one');
    assert.equal(list.delete(items[0]!), true, 'the first one');
    assert.deepEqual(
      list
        .snapshot()
        .map((i) => i.n)
        .sort((a, b) => a - b),
      [1, 2, 4, 5, 6, 7, 8],
    );
    for (const it of list.snapshot()) assert.equal(list.snapshot()[it.listSlot], it, 'each knows its index');
    assert.equal(items[3]!.listSlot, -1);
  });

  it('does not remove an item another list holds at the same index', () => {
    const a = new SlotList<Item>();
    const b = new SlotList<Item>();
    const x = make(1);
    const y = make(2);
    a.add(x);
    b.add(y);
    assert.equal(a.delete(y), false);
    assert.equal(a.size, 1);
    assert.equal(b.size, 1);
  });

  it('lets a walk over a snapshot remove items, and clear forgets all', () => {
    const list = new SlotList<Item>();
    const items = Array.from({ length: 6 }, (_, i) => make(i));
    for (const it of items) list.add(it);
    for (const it of list.snapshot()) if (it.n % 2 === 0) list.delete(it);
    assert.deepEqual(
      list
        .snapshot()
        .map((i) => i.n)
        .sort(),
      [1, 3, 5],
    );
    list.clear();
    assert.equal(list.size, 0);
    for (const it of items) assert.equal(it.listSlot, -1);
    list.add(items[0]!);
    assert.equal(list.size, 1, 'items can come back after clear');
  });
});
