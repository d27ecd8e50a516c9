/**
 * Coarse deadlines for many connections without a timer each. Every connection owns a `deadline`
 * (0 = none); one interval sweeps them. Setting a deadline is a field write, which is why
 * per-request timeouts cost nothing on the hot path (nginx keeps a cached clock the same way).
 * Precision is the tick (default 100 ms), which is fine for timeouts measured in seconds.
 */
export interface Timed {
  /** Milliseconds on the ticker's clock; 0 means no deadline. */
  deadline: number;
  onDeadline(now: number): void;
}

/** Deadlines handled in one turn of the event loop: ~1–2 ms of closing connections. */
export const MAX_EXPIRIES_PER_TURN = 64;

export class Ticker {
  /** Coarse monotonic milliseconds, refreshed every tick. */
  now: number;
  readonly #items = new Set<Timed>();
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
    for (const item of this.#items) {
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
