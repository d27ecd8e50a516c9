import { STATIC_COUNT, STATIC_NAMES, STATIC_VALUES } from './hpack-table.ts';

/** Name → its first static index. */
const NAME_INDEX = new Map<string, number>();
for (let i = STATIC_COUNT; i >= 1; i--) NAME_INDEX.set(STATIC_NAMES[i]!, i);
/** The :status values of the static table (the only exact entries a response uses). */
const STATUS_INDEX = new Map<string, number>();
for (let i = 8; i <= 14; i++) STATUS_INDEX.set(STATIC_VALUES[i]!, i);

/**
 * The output buffer of every encoder: a block is copied into its frames (FrameWriter.headers)
 * before anything else is encoded, so one buffer serves all connections. One per connection
 * pinned a 64 KiB pool chunk each in the HTTP/2 benchmark (docs/performance.md, "Memory under
 * HTTP/2"); allocUnsafeSlow, not the pool, for the same reason.
 */
let sharedBlock = Buffer.allocUnsafeSlow(4096);

/**
 * Our HPACK encoder (RFC 7541): exact static entries as indexed fields (`:status 200`), every
 * other field a literal without indexing (on the static name's index when there is one), strings
 * without Huffman coding. No dynamic table: nothing to keep per connection, and the client's
 * decoder never has to store our fields.
 */
export class HpackEncoder {
  #pos = 0;
  /** The client changed SETTINGS_HEADER_TABLE_SIZE: the next block says ours is 0 (§4.2). */
  #sizeUpdate = false;

  /**
   * The block of the last `encode`: `buffer[0..length)`, shared by every encoder, valid until the
   * next `encode` of any connection (copy it before).
   */
  get buffer(): Buffer {
    return sharedBlock;
  }

  tableSizeChanged(): void {
    this.#sizeUpdate = true;
  }

  /** Encodes `name, value, …` (names lowercase); returns the block's length in `buffer`. */
  encode(fields: readonly string[]): number {
    let need = 8;
    for (let i = 0; i < fields.length; i++) need += fields[i]!.length + 6;
    if (sharedBlock.length < need)
      sharedBlock = Buffer.allocUnsafeSlow(Math.max(need, sharedBlock.length * 2));
    this.#pos = 0;
    if (this.#sizeUpdate) {
      this.#sizeUpdate = false;
      sharedBlock[this.#pos++] = 0x20;
    }
    for (let i = 0; i + 1 < fields.length; i += 2) this.#field(fields[i]!, fields[i + 1]!);
    return this.#pos;
  }

  #field(name: string, value: string): void {
    const exact = name === ':status' ? STATUS_INDEX.get(value) : undefined;
    if (exact !== undefined) {
      this.#int(exact, 7, 0x80);
      return;
    }
    const ni = NAME_INDEX.get(name);
    if (ni !== undefined) this.#int(ni, 4, 0x00);
    else {
      sharedBlock[this.#pos++] = 0x00;
      this.#string(name);
    }
    this.#string(value);
  }

  /** §5.1 with an `n`-bit prefix, `high` the representation's bits above it. */
  #int(v: number, n: number, high: number): void {
    const max = (1 << n) - 1;
    const b = sharedBlock;
    if (v < max) {
      b[this.#pos++] = high | v;
      return;
    }
    b[this.#pos++] = high | max;
    v -= max;
    while (v >= 128) {
      b[this.#pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    b[this.#pos++] = v;
  }

  #string(s: string): void {
    this.#int(s.length, 7, 0x00);
    if (s.length > 0) this.#pos += sharedBlock.latin1Write(s, this.#pos);
  }
}
