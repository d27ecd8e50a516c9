/**
 * Turns a burst of file events into one rescan `delayMs` after the burst's first event. Editors
 * write in several steps (truncate, write, rename, chmod) within that time, so one rescan sees
 * them all. Later events do not postpone a rescan already due: with a quiet-time debounce, a
 * file rewritten every 50 ms anywhere in the watched folder (a log, a lock, another program's
 * state) would postpone the reload for as long as it runs. A change is picked up at most
 * `delayMs` after its event, whatever else happens in the folder; an event during a rescan
 * schedules the next one.
 */
export class Coalescer {
  readonly #delayMs: number;
  readonly #fire: () => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(delayMs: number, fire: () => void) {
    this.#delayMs = delayMs;
    this.#fire = fire;
  }

  /** A file event: schedules a rescan unless one is already due. */
  notify(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#fire();
    }, this.#delayMs);
  }

  /** Schedules nothing more; a rescan already due is dropped. */
  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
