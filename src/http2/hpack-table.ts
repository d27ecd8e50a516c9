/** HPACK's static table (RFC 7541 Appendix A), 1-based: index 0 is unused. */
export const STATIC_NAMES: readonly string[] = [
  '',
  ':authority',
  ':method',
  ':method',
  ':path',
  ':path',
  ':scheme',
  ':scheme',
  ':status',
  ':status',
  ':status',
  ':status',
  ':status',
  ':status',
  ':status',
  'accept-charset',
  'accept-encoding',
  'accept-language',
  'accept-ranges',
  'accept',
  'access-control-allow-origin',
  'age',
  'allow',
  'authorization',
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-length',
  'content-location',
  'content-range',
  'content-type',
  'cookie',
  'date',
  'etag',
  'expect',
  'expires',
  'from',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'last-modified',
  'link',
  'location',
  'max-forwards',
  'proxy-authenticate',
  'proxy-authorization',
  'range',
  'referer',
  'refresh',
  'retry-after',
  'server',
  'set-cookie',
  'strict-transport-security',
  'transfer-encoding',
  'user-agent',
  'vary',
  'via',
  'www-authenticate',
];

const STATIC_VALUES_AT: Readonly<Record<number, string>> = {
  2: 'GET',
  3: 'POST',
  4: '/',
  5: '/index.html',
  6: 'http',
  7: 'https',
  8: '200',
  9: '204',
  10: '206',
  11: '304',
  12: '400',
  13: '404',
  14: '500',
  16: 'gzip, deflate',
};

export const STATIC_VALUES: readonly string[] = STATIC_NAMES.map((_, i) => STATIC_VALUES_AT[i] ?? '');
export const STATIC_COUNT = STATIC_NAMES.length - 1;

/** A field's size in a dynamic table (§4.1), counted in bytes of its latin1 strings. */
export function entrySize(name: string, value: string): number {
  return name.length + value.length + 32;
}

/**
 * The decoder's dynamic table (RFC 7541 §2.3.2, §4): newest entry first in index order, oldest
 * evicted first. Entries are kept in arrays with the oldest at `#first`, so that adding and
 * evicting allocate nothing but the occasional compaction.
 */
export class DynamicTable {
  #names: string[] = [];
  #values: string[] = [];
  #first = 0;
  #size = 0;
  #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get length(): number {
    return this.#names.length - this.#first;
  }

  get size(): number {
    return this.#size;
  }

  get max(): number {
    return this.#max;
  }

  /** Index 1 is the newest entry. */
  name(i: number): string {
    return this.#names[this.#names.length - i]!;
  }

  value(i: number): string {
    return this.#values[this.#names.length - i]!;
  }

  setMax(max: number): void {
    this.#max = max;
    this.#evict(0);
  }

  /** §4.4: an entry larger than the table empties it and is not added. */
  add(name: string, value: string): void {
    const size = entrySize(name, value);
    this.#evict(size);
    if (size > this.#max) return;
    this.#names.push(name);
    this.#values.push(value);
    this.#size += size;
  }

  #evict(room: number): void {
    while (this.#size + room > this.#max && this.length > 0) {
      const i = this.#first;
      this.#size -= entrySize(this.#names[i]!, this.#values[i]!);
      this.#first++;
    }
    if (this.#first > 64 && this.#first * 2 > this.#names.length) {
      this.#names = this.#names.slice(this.#first);
      this.#values = this.#values.slice(this.#first);
      this.#first = 0;
    }
  }
}
