import { SlotArray } from './slot-list.ts';

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

/**
 * Deadlines handled in one batch: ~0.5 ms of closing connections (Node spends ~35–60 µs of CPU
 * per socket closed, and as much again accepting the client's reconnection).
 */
export const MAX_EXPIRIES_PER_BATCH = 8;
/**
 * The pause between two batches when more deadlines have run out: the rest of the event loop
 * (other clients) runs in between. 8 per 5 ms is at most 1,600 expiries a second, ~15 % of a
 * core with the reconnections they bring, so 2,000 slowloris connections cut together are
 * closed over ~1.3 s instead of stalling every other client in one burst.
 */
export const EXPIRY_BATCH_GAP_MS = 5;

/** The ticker's items: a SlotArray keyed by `tickerSlot`. */
class TimedList extends SlotArray<Timed> {
  protected slotOf(item: Timed): number {
    return item.tickerSlot;
  }

  protected setSlot(item: Timed, at: number): void {
    item.tickerSlot = at;
  }
}

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
  readonly #items = new TimedList();
  readonly #clock: () => number;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** A sweep stopped at its budget and goes on after EXPIRY_BATCH_GAP_MS. */
  #continuing = false;

  constructor(intervalMs = 100, clock: () => number = () => performance.now()) {
    this.#clock = clock;
    this.#intervalMs = intervalMs;
    this.now = clock();
  }

  add(item: Timed): void {
    this.#items.add(item);
    if (this.#timer === undefined) {
      this.now = this.#clock();
      this.#timer = setInterval(() => this.tick(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  delete(item: Timed): void {
    this.#items.delete(item);
  }

  get size(): number {
    return this.#items.size;
  }

  /** The clock itself, not the tick's cached `now`: for what needs better than the tick's precision. */
  preciseNow(): number {
    return this.#clock();
  }

  /**
   * Runs one sweep now (the interval calls this; tests may too). At most
   * `MAX_EXPIRIES_PER_BATCH` deadlines are handled at once: thousands of connections opened
   * together (a slowloris attack) expire together, and closing them all at once stalled every
   * other client for ~80 ms. The rest are handled in further batches `EXPIRY_BATCH_GAP_MS`
   * apart, spread in time: handing them to the next turns of the loop (setImmediate, tried
   * first) spread nothing, since a turn with little else to do is short, and the attacker's
   * reconnections still came in one burst.
   */
  tick(): void {
    const now = this.#clock();
    this.now = now;
    let budget = MAX_EXPIRIES_PER_BATCH;
    const items = this.#items.items;
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
    setTimeout(() => {
      this.#continuing = false;
      this.tick();
    }, EXPIRY_BATCH_GAP_MS).unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
