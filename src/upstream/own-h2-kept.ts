/**
 * Request body bytes kept (by reference) until the response head arrives, so that a stream the
 * server refused unprocessed can be sent again on another session (as h2-stream.ts does for the
 * node engine). Larger bodies are not kept: such a refusal then fails the try.
 */
const KEEP_MAX = 64 * 1024;
const NONE: readonly Buffer[] = [];

export class KeptBody {
  keepable = true;
  #bufs: Buffer[] | null = null;
  #bytes = 0;

  get bufs(): readonly Buffer[] {
    return this.#bufs ?? NONE;
  }

  add(b: Buffer): void {
    if (!this.keepable) return;
    if (this.#bytes + b.length > KEEP_MAX) {
      this.drop();
      return;
    }
    if (this.#bufs === null) this.#bufs = [b];
    else this.#bufs.push(b);
    this.#bytes += b.length;
  }

  /** The response head came (or the body grew too large): nothing will be sent again. */
  drop(): void {
    this.keepable = false;
    this.#bufs = null;
  }
}
