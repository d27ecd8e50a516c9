import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;

/**
 * Random trace and span ids. One `randomFillSync` per 4 KiB (about 170 requests) instead of one
 * per id: the syscall, not the hex encoding, is what costs.
 */
export class IdSource {
  readonly #fill: (buf: Buffer) => unknown;
  #pool = Buffer.allocUnsafe(POOL_BYTES);
  #pos = POOL_BYTES;

  /** `fill` replaces the CSPRNG in tests. */
  constructor(fill: (buf: Buffer) => unknown = randomFillSync) {
    this.#fill = fill;
  }

  /** 16 random bytes as 32 lowercase hex digits, never all zeros (an invalid id per W3C §3.2.2.3). */
  traceId(): string {
    return this.#next(16);
  }

  /** 8 random bytes as 16 lowercase hex digits, never all zeros. */
  spanId(): string {
    return this.#next(8);
  }

  #next(n: number): string {
    for (;;) {
      if (this.#pos + n > POOL_BYTES) {
        this.#fill(this.#pool);
        this.#pos = 0;
      }
      const start = this.#pos;
      this.#pos += n;
      const pool = this.#pool;
      for (let i = start; i < start + n; i++) {
        if (pool[i] !== 0) return pool.toString('hex', start, start + n);
      }
    }
  }
}
