/**
 * A copy of the request body as it is forwarded, kept for a retry (replay on another server) or
 * for mirrors. Bounded: past `limit` bytes it gives up, frees what it held and says so, and the
 * request is then neither replayed nor mirrored.
 */
export class BodyRecorder {
  readonly limit: number;
  #chunks: Buffer[] = [];
  length = 0;
  overflow = false;

  constructor(limit: number) {
    this.limit = limit;
  }

  add(buf: Buffer, start: number, end: number): void {
    if (this.overflow) return;
    const n = end - start;
    if (this.length + n > this.limit) {
      this.overflow = true;
      this.#chunks = [];
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
}
