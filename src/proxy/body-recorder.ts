import type { BodyBudget } from '../overload/overload-manager.ts';

/**
 * A copy of the request body as it is forwarded, kept for a retry (replay on another server) or
 * for mirrors. Bounded: past `limit` bytes it gives up, frees what it held and says so, and the
 * request is then neither replayed nor mirrored. The bytes it keeps count in the process's
 * request-body budget (overload manager): when that is spent, it gives up the same way, so that
 * copies for retries and mirrors cannot add up past the budget.
 */
export class BodyRecorder {
  readonly limit: number;
  readonly #budget: BodyBudget | null;
  #chunks: Buffer[] = [];
  length = 0;
  overflow = false;

  constructor(limit: number, budget: BodyBudget | null = null) {
    this.limit = limit;
    this.#budget = budget;
  }

  add(buf: Buffer, start: number, end: number): void {
    if (this.overflow) return;
    const n = end - start;
    if (this.length + n > this.limit) {
      this.#giveUp();
      return;
    }
    if (this.#budget !== null && !this.#budget.takeBody(n)) {
      this.#budget.recordingDropped();
      this.#giveUp();
      return;
    }
    // A copy: the socket's buffer may be reused once this read is handled.
    this.#chunks.push(Buffer.from(buf.subarray(start, end)));
    this.length += n;
  }

  bytes(): Buffer {
    if (this.#chunks.length !== 1) this.#chunks = [Buffer.concat(this.#chunks, this.length)];
    return this.#chunks[0]!;
  }

  /** The request is over: its copy no longer counts in the budget. */
  release(): void {
    this.#giveUp();
  }

  #giveUp(): void {
    if (this.#budget !== null && !this.overflow) this.#budget.giveBody(this.length);
    this.overflow = true;
    this.#chunks = [];
  }
}
