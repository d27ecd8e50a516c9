/** An item a SlotList can hold: its index there, -1 while no list holds it (start at -1). */
export interface Slotted {
  listSlot: number;
}

/**
 * A set of long-lived objects that come and go often (connections of a listener): an array
 * in which each item knows its index, and a removal moves the last item into the hole.
 *
 * Not a Set: a Set that lives in the old generation rebuilds its hash table every few dozen
 * deletions, and V8 allocates the new table in the old generation too, where only a
 * mark-compact frees it (docs/performance.md, "Old-space garbage from hash-table churn"). Here
 * adding and removing allocate nothing once the array has grown. An item is in one list at a
 * time (adding it to a second one leaves the first with a stale entry); the order is not kept.
 */
export class SlotList<T extends Slotted> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  add(item: T): void {
    const at = item.listSlot;
    if (at !== -1 && this.#items[at] === item) return;
    item.listSlot = this.#items.length;
    this.#items.push(item);
  }

  /** Removes `item`; false when this list did not hold it. */
  delete(item: T): boolean {
    const i = item.listSlot;
    const items = this.#items;
    if (i === -1 || items[i] !== item) return false;
    item.listSlot = -1;
    const last = items.pop()!;
    if (last !== item) {
      items[i] = last;
      last.listSlot = i;
    }
    return true;
  }

  /** A copy of the items, to walk while the walk itself adds or removes some (shutdown). */
  snapshot(): T[] {
    return this.#items.slice();
  }

  /** Forgets every item. */
  clear(): void {
    for (const item of this.#items) item.listSlot = -1;
    this.#items.length = 0;
  }
}
