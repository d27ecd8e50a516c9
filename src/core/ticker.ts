/**
 * Coarse deadlines for many connections without a timer each. Every connection owns a `deadline`
 * (0 = none); one interval sweeps them. Setting a deadline is a field write, which is why
 * per-request timeouts cost nothing on the hot path (nginx keeps a cached clock the same way).
 * Precision is the tick (default 100 ms), which is fine for timeouts measured in seconds.
 */
export interface Timed {
  /** Milliseconds on the ticker's clock; 0 means no deadline. */
  deadline: number;
  /**
   * The ticker's bookkeeping: the item's index in its list, -1 while no ticker holds it (start
   * at -1). An item is held by one ticker at a time.
   */
  tickerSlot: number;
  onDeadline(now: number): void;
}

/** Deadlines handled in one turn of the event loop: ~1–2 ms of closing connections. */
export const MAX_EXPIRIES_PER_TURN = 64;

export class Ticker {
  /** Coarse monotonic milliseconds, refreshed every tick. */
  now: number;
  /**
   * The items, each knowing its index (`tickerSlot`): removal swaps the last item into the hole.
   * Not a Set: items come and go per connection and per request with timeouts, and a Set that
   * lives long (in the old generation) rebuilds its hash table every few dozen deletions, each
   * new table allocated in the old generation: garbage that only a mark-compact frees, the pause
   * behind the latency tail (docs/performance.md, "Old-space garbage from hash-table churn").
   */
  readonly #items: Timed[] = [];
  readonly #clock: () => number;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** A sweep stopped at its budget and goes on at the next turn. */
  #continuing = false;

  constructor(intervalMs = 100, clock: () => number = () => performance.now()) {
    this.#clock = clock;
    this.#intervalMs = intervalMs;
    this.now = clock();
  }

  add(item: Timed): void {
    if (item.tickerSlot !== -1) return;
    item.tickerSlot = this.#items.length;
    this.#items.push(item);
    if (this.#timer === undefined) {
      this.now = this.#clock();
      this.#timer = setInterval(() => this.tick(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  delete(item: Timed): void {
    const i = item.tickerSlot;
    const items = this.#items;
    if (i === -1 || items[i] !== item) return;
    item.tickerSlot = -1;
    const last = items.pop()!;
    if (last !== item) {
      items[i] = last;
      last.tickerSlot = i;
    }
  }

  get size(): number {
    return this.#items.length;
  }

  /**
   * Runs one sweep now (the interval calls this; tests may too). At most `MAX_EXPIRIES_PER_TURN`
   * deadlines are handled per turn of the event loop: thousands of connections opened together
   * (a slowloris attack) expire together, and closing them all at once would stall every other
   * client for tens of milliseconds. The rest are handled on the next turns (setImmediate), with
   * the I/O that arrived in between served first.
   */
  tick(): void {
    const now = this.#clock();
    this.now = now;
    let budget = MAX_EXPIRIES_PER_TURN;
    const items = this.#items;
    // From the end: a deadline's handler may remove items (its own, others'), and a removal
    // moves the last item, already seen, into the hole; items added meanwhile wait for the next
    // sweep.
    for (let i = items.length - 1; i >= 0; i--) {
      if (i >= items.length) {
        i = items.length;
        continue;
      }
      const item = items[i]!;
      const d = item.deadline;
      if (d !== 0 && d <= now) {
        if (budget === 0) {
          this.#continueSoon();
          return;
        }
        budget--;
        item.deadline = 0;
        item.onDeadline(now);
      }
    }
  }

  #continueSoon(): void {
    if (this.#continuing) return;
    this.#continuing = true;
    setImmediate(() => {
      this.#continuing = false;
      this.tick();
    });
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
