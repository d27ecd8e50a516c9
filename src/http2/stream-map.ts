/**
 * A connection's open streams by id, for the own HTTP/2 engine (both sides): the subset of
 * `Map<number, T>` the engine uses, in an open-addressing table (linear probing, deletion by
 * backward shift) that allocates nothing per stream once it has grown.
 *
 * Not a Map: a connection lives long (in V8's old generation) and gains and loses one entry per
 * stream, and a Map rebuilds its hash table every few dozen deletions, each new table
 * allocated in the old generation, where only a mark-compact frees it (docs/performance.md,
 * "Old-space garbage from hash-table churn"). Stream ids are positive 31-bit integers, odd or
 * even per side and increasing, so `id >>> 1` spreads them over consecutive slots.
 */
export class StreamMap<T> {
  #keys: Int32Array;
  #values: (T | undefined)[];
  #mask: number;
  #size = 0;

  constructor(capacity = 16) {
    let cap = 8;
    while (cap < capacity * 2) cap *= 2;
    this.#keys = new Int32Array(cap);
    this.#values = new Array<T | undefined>(cap).fill(undefined);
    this.#mask = cap - 1;
  }

  get size(): number {
    return this.#size;
  }

  get(id: number): T | undefined {
    const keys = this.#keys;
    const mask = this.#mask;
    for (let i = (id >>> 1) & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === id) return this.#values[i];
      if (k === 0) return undefined;
    }
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  set(id: number, value: T): this {
    if (id <= 0) throw new RangeError(`stream id ${id}`);
    if ((this.#size + 1) * 2 > this.#keys.length) this.#grow();
    const keys = this.#keys;
    const mask = this.#mask;
    for (let i = (id >>> 1) & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === id) {
        this.#values[i] = value;
        return this;
      }
      if (k === 0) {
        keys[i] = id;
        this.#values[i] = value;
        this.#size++;
        return this;
      }
    }
  }

  delete(id: number): boolean {
    const keys = this.#keys;
    const values = this.#values;
    const mask = this.#mask;
    let i = (id >>> 1) & mask;
    for (; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === id) break;
      if (k === 0) return false;
    }
    this.#size--;
    // Backward shift: later entries of the same probe run move into the hole when their home
    // slot does not lie cyclically in (hole, their slot].
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const k = keys[j]!;
      if (k === 0) break;
      const home = (k >>> 1) & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      keys[i] = k;
      values[i] = values[j];
      i = j;
    }
    keys[i] = 0;
    values[i] = undefined;
    return true;
  }

  /** The open streams, a fresh array (a walk may close some). In no particular order. */
  values(): T[] {
    const out: T[] = [];
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) out.push(this.#values[i]!);
    return out;
  }

  /** [id, stream] pairs, a fresh array. */
  entries(): [number, T][] {
    const out: [number, T][] = [];
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) out.push([keys[i]!, this.#values[i]!]);
    return out;
  }

  clear(): void {
    this.#keys.fill(0);
    this.#values.fill(undefined);
    this.#size = 0;
  }

  #grow(): void {
    const oldKeys = this.#keys;
    const oldValues = this.#values;
    const cap = oldKeys.length * 2;
    this.#keys = new Int32Array(cap);
    this.#values = new Array<T | undefined>(cap).fill(undefined);
    this.#mask = cap - 1;
    this.#size = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== 0) this.set(oldKeys[i]!, oldValues[i]!);
  }
}
