import { huffmanBound, huffmanDecode } from './hpack-huffman.ts';
import { DynamicTable, STATIC_COUNT, STATIC_NAMES, STATIC_VALUES } from './hpack-table.ts';

export const HPACK_OK = 0;
/** The block decoded, but its header list is over the limits: the fields were not kept. */
export const HPACK_TOO_LARGE = 1;
/** A decoding error: a connection error of type COMPRESSION_ERROR (RFC 9113 §4.3). */
export const HPACK_ERROR = -1;
export type HpackResult = typeof HPACK_OK | typeof HPACK_TOO_LARGE | typeof HPACK_ERROR;

/** Integers larger than this are refused (no header block of ours needs them). */
const MAX_INT = 2 ** 28;

/**
 * Where Huffman strings are decoded before they become strings: at once, so one buffer serves
 * every connection (one each pinned a 64 KiB pool chunk per connection; docs/performance.md,
 * "Memory under HTTP/2").
 */
let scratch = Buffer.allocUnsafeSlow(4096);

/**
 * The HPACK decoder of one connection (RFC 7541): static and dynamic table, Huffman strings,
 * dynamic table size updates. A header list over `maxListSize` (RFC 9113 accounting: name +
 * value + 32 per field) or `maxPairs` fields is still decoded whole, since the dynamic table
 * must stay in step with the client's encoder, but its fields are dropped.
 */
export class HpackDecoder {
  readonly #table: DynamicTable;
  /** SETTINGS_HEADER_TABLE_SIZE we announce: the largest size update a client may ask for. */
  readonly #settingsMax: number;
  readonly #maxListSize: number;
  readonly #maxPairs: number;
  #pos = 0;
  #str = '';
  /** Why the last decode failed. */
  error = '';

  constructor(settingsMax: number, maxListSize: number, maxPairs: number) {
    this.#table = new DynamicTable(settingsMax);
    this.#settingsMax = settingsMax;
    this.#maxListSize = maxListSize;
    this.#maxPairs = maxPairs;
  }

  get tableSize(): number {
    return this.#table.size;
  }

  /** Decodes the header block `buf[start..end)`, appending `name, value, …` to `out`. */
  decode(buf: Buffer, start: number, end: number, out: string[]): HpackResult {
    this.#pos = start;
    let size = 0;
    let pairs = 0;
    let over = false;
    let first = true;
    const table = this.#table;
    while (this.#pos < end) {
      const b = buf[this.#pos]!;
      let name: string;
      let value: string;
      if (b & 0x80) {
        // §6.1 indexed field.
        const i = this.#int(buf, end, 7);
        if (i < 0) return this.#fail('bad integer');
        if (i === 0) return this.#fail('index 0');
        if (i <= STATIC_COUNT) {
          name = STATIC_NAMES[i]!;
          value = STATIC_VALUES[i]!;
        } else if (i - STATIC_COUNT <= table.length) {
          name = table.name(i - STATIC_COUNT);
          value = table.value(i - STATIC_COUNT);
        } else return this.#fail('index out of range');
      } else if ((b & 0xe0) === 0x20) {
        // §6.3 dynamic table size update: only at the start of a block (§4.2).
        if (!first) return this.#fail('table size update after a field');
        const max = this.#int(buf, end, 5);
        if (max < 0 || max > this.#settingsMax) return this.#fail('table size update over the limit');
        table.setMax(max);
        continue;
      } else {
        // §6.2 literals: with incremental indexing (01), without (0000) or never indexed (0001).
        const indexing = (b & 0x40) !== 0;
        const i = this.#int(buf, end, indexing ? 6 : 4);
        if (i < 0) return this.#fail('bad integer');
        if (i === 0) {
          if (!this.#string(buf, end)) return this.#fail('bad name string');
          name = this.#str;
        } else if (i <= STATIC_COUNT) name = STATIC_NAMES[i]!;
        else if (i - STATIC_COUNT <= table.length) name = table.name(i - STATIC_COUNT);
        else return this.#fail('name index out of range');
        if (!this.#string(buf, end)) return this.#fail('bad value string');
        value = this.#str;
        if (indexing) table.add(name, value);
      }
      first = false;
      size += name.length + value.length + 32;
      if (++pairs > this.#maxPairs || size > this.#maxListSize) over = true;
      if (!over) out.push(name, value);
    }
    return over ? HPACK_TOO_LARGE : HPACK_OK;
  }

  #fail(why: string): HpackResult {
    this.error = why;
    return HPACK_ERROR;
  }

  /** §5.1: an integer with an `n`-bit prefix at #pos; -1 when truncated or too large. */
  #int(buf: Buffer, end: number, n: number): number {
    const mask = (1 << n) - 1;
    let v = buf[this.#pos++]! & mask;
    if (v < mask) return v;
    let m = 1;
    for (;;) {
      if (this.#pos >= end) return -1;
      const b = buf[this.#pos++]!;
      v += (b & 0x7f) * m;
      if (v > MAX_INT) return -1;
      if ((b & 0x80) === 0) return v;
      m *= 128;
    }
  }

  /** §5.2: a string literal at #pos into #str (latin1); false when malformed. */
  #string(buf: Buffer, end: number): boolean {
    if (this.#pos >= end) return false;
    const huffman = (buf[this.#pos]! & 0x80) !== 0;
    const len = this.#int(buf, end, 7);
    if (len < 0 || this.#pos + len > end) return false;
    const s = this.#pos;
    this.#pos += len;
    if (!huffman) {
      this.#str = len === 0 ? '' : buf.latin1Slice(s, s + len);
      return true;
    }
    const bound = huffmanBound(len);
    if (scratch.length < bound) scratch = Buffer.allocUnsafeSlow(Math.max(bound, scratch.length * 2));
    const n = huffmanDecode(buf, s, s + len, scratch);
    if (n < 0) return false;
    this.#str = n === 0 ? '' : scratch.latin1Slice(0, n);
    return true;
  }
}
