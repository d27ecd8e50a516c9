/** An item a SlotList can hold: its index there, -1 while no list holds it (start at -1). */
export interface Slotted {
  listSlot: number;
}

/**
 * A set of long-lived objects that come and go often: an array in which each item knows its
 * index, and a removal moves the last item into the hole. Subclasses say which field of the
 * item holds its index, so one object can be in two of them (a connection is in its listener's
 * SlotList and in the ticker's list).
 *
 * Not a Set: a Set that lives in the old generation rebuilds its hash table every few dozen
 * deletions, and V8 allocates the new table in the old generation too, where only a
 * mark-compact frees it (docs/performance.md, "Old-space garbage from hash-table churn"). Here
 * adding and removing allocate nothing once the array has grown. An item is in one list of a
 * kind at a time (adding it to a second one leaves the first with a stale entry); the order is
 * not kept.
 */
export abstract class SlotArray<T> {
  readonly #items: T[] = [];

  protected abstract slotOf(item: T): number;
  protected abstract setSlot(item: T, at: number): void;

  get size(): number {
    return this.#items.length;
  }

  /** The items in place, for a walk that copes with removals itself (the ticker's sweep). */
  get items(): readonly T[] {
    return this.#items;
  }

  add(item: T): void {
    const at = this.slotOf(item);
    // Held already: nothing to do. A slot that points elsewhere is another list's (stale).
    if (at !== -1 && this.#items[at] === item) return;
    this.setSlot(item, this.#items.length);
    this.#items.push(item);
  }

  /** Removes `item`; false when this list did not hold it. */
  delete(item: T): boolean {
    const i = this.slotOf(item);
    const items = this.#items;
    if (i === -1 || items[i] !== item) return false;
    this.setSlot(item, -1);
    const last = items.pop()!;
    if (last !== item) {
      items[i] = last;
      this.setSlot(last, i);
    }
    return true;
  }

  /** A copy of the items, to walk while the walk itself adds or removes some (shutdown). */
  snapshot(): T[] {
    return this.#items.slice();
  }

  /** Forgets every item. */
  clear(): void {
    for (const item of this.#items) this.setSlot(item, -1);
    this.#items.length = 0;
  }
}

/** A SlotArray of items that keep their index in `listSlot` (connections of a listener). */
export class SlotList<T extends Slotted> extends SlotArray<T> {
  protected slotOf(item: T): number {
    return item.listSlot;
  }

  protected setSlot(item: T, at: number): void {
    item.listSlot = at;
  }
}
