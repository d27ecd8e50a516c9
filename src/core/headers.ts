/**
 * An ordered list of header fields as they travel through the proxy. Names keep the case they were
 * received with (some backends care); lookups use the lowercased name, kept beside it so that no
 * lookup lowercases twice. Values are latin1 strings exactly as parsed, without surrounding
 * whitespace. Removal leaves the order of the others intact.
 */
export class HeaderList {
  /** Names as received. */
  readonly names: string[];
  /** Lowercased names, same indexes as `names`. */
  readonly lnames: string[];
  readonly values: string[];
  /**
   * A field was added or changed (`append`, `set`) whose name is not a token or whose value holds
   * what a parser never lets through: CR, LF, NUL, a character past U+00FF that latin1 would cut
   * to another byte, or SP/HTAB at an edge. Parsers fill the arrays directly and never set it,
   * nor does `appendLowered` (fields we make of valid parts); a middleware's clean value costs two
   * regular-expression tests here and nothing later. The writers settle a list only when it is
   * set (core/field-values.ts), which clears it.
   */
  unsettled = false;
  /**
   * The fields' text as an HTTP/1.1 client gets it, hop-by-hop fields left out: each
   * `Name: value\r\n` exactly as `responseFields` would write it, or null. Set only by the
   * upstream response parser, from its own head (slices, no copy), when every line was already
   * in that form; cleared by every method here that changes the list, by the exchange when a
   * middleware saw the response (a plugin may write the arrays directly) and by a body
   * transform (proxy/transformed-stream.ts). Relaying it saves
   * rebuilding the head field by field (proxy/heads.ts).
   */
  raw: string | null = null;

  constructor(names: string[] = [], lnames: string[] = [], values: string[] = []) {
    this.names = names;
    this.lnames = lnames;
    this.values = values;
  }

  static from(pairs: Iterable<readonly [string, string]>): HeaderList {
    const h = new HeaderList();
    for (const [n, v] of pairs) h.append(n, v);
    return h;
  }

  get size(): number {
    return this.names.length;
  }

  /** First value of a field, or undefined. `lname` must be lowercase. */
  get(lname: string): string | undefined {
    const i = this.lnames.indexOf(lname);
    return i === -1 ? undefined : this.values[i];
  }

  /** All values of a field in order. `lname` must be lowercase. */
  getAll(lname: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.lnames.length; i++) if (this.lnames[i] === lname) out.push(this.values[i]!);
    return out;
  }

  has(lname: string): boolean {
    return this.lnames.indexOf(lname) !== -1;
  }

  append(name: string, value: string): void {
    this.raw = null;
    if (needsSettling(name, value)) this.unsettled = true;
    this.names.push(name);
    this.lnames.push(name.toLowerCase());
    this.values.push(value);
  }

  /**
   * `append` for a name whose lowercase form the caller has as a constant: no string made per
   * call (fields added to every request live as long as it does; see applyForwardedHeaders).
   * For values valid by construction (an address, a parsed authority): nothing is checked.
   */
  appendLowered(name: string, lname: string, value: string): void {
    this.raw = null;
    this.names.push(name);
    this.lnames.push(lname);
    this.values.push(value);
  }

  /** Replace every occurrence with one field (appended at the position of the first, or at the end). */
  set(name: string, value: string): void {
    this.raw = null;
    if (needsSettling(name, value)) this.unsettled = true;
    const lname = name.toLowerCase();
    const i = this.lnames.indexOf(lname);
    if (i === -1) {
      this.names.push(name);
      this.lnames.push(lname);
      this.values.push(value);
      return;
    }
    this.values[i] = value;
    this.names[i] = name;
    this.#removeFrom(lname, i + 1);
  }

  /** Remove every occurrence. Returns how many were removed. `lname` must be lowercase. */
  delete(lname: string): number {
    const i = this.lnames.indexOf(lname);
    if (i === -1) return 0;
    return this.#removeFrom(lname, i);
  }

  /** Remove every field whose lowercased name `drop` accepts, in one pass. Returns how many. */
  deleteWhere(drop: (lname: string) => boolean): number {
    const { names, lnames, values } = this;
    let w = 0;
    for (let r = 0; r < lnames.length; r++) {
      if (drop(lnames[r]!)) continue;
      if (w !== r) {
        names[w] = names[r]!;
        lnames[w] = lnames[r]!;
        values[w] = values[r]!;
      }
      w++;
    }
    const removed = lnames.length - w;
    if (removed > 0) this.raw = null;
    names.length = w;
    lnames.length = w;
    values.length = w;
    return removed;
  }

  #removeAt(i: number): void {
    this.raw = null;
    this.names.splice(i, 1);
    this.lnames.splice(i, 1);
    this.values.splice(i, 1);
  }

  #removeFrom(lname: string, start: number): number {
    let removed = 0;
    for (let i = this.lnames.length - 1; i >= start; i--) {
      if (this.lnames[i] === lname) {
        this.#removeAt(i);
        removed++;
      }
    }
    return removed;
  }

  *entries(): IterableIterator<[string, string]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i]!, this.values[i]!];
  }

  clone(): HeaderList {
    const h = new HeaderList(this.names.slice(), this.lnames.slice(), this.values.slice());
    h.unsettled = this.unsettled;
    return h;
  }
}

/**
 * `src[0..n)` in a new array with room for `room` more fields and no more: for header lists
 * parsed into scratch arrays (parseH2Request, parseResponseHead) whose size is known only at
 * the end. An empty array grown by push has 17 slots from the first push, three per list, and
 * a list lives as long as its exchange: under HTTP/2's 500 streams in flight most of it is
 * promoted to the old generation (docs/performance.md, "Memory under HTTP/2"). `slice`
 * allocates exactly what it copies and `pop` never shrinks the backing store (V8 trims only
 * below half); the copy stays PACKED like every other list's arrays. `src` is padded with ''
 * as needed.
 */
export function copyFields(src: string[], n: number, room: number): string[] {
  while (src.length < n + room) src.push('');
  const a = src.slice(0, n + room);
  for (let i = 0; i < room; i++) a.pop();
  return a;
}

/** A field name: a token (RFC 9110 §5.6.2). */
const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** NUL, LF, CR, or past latin1. */
const BAD_CHAR = /[\0\n\r\u0100-\uffff]/;

/**
 * Whether a field a middleware or a plugin made must be settled before it is written (see
 * `HeaderList.unsettled`): a name that is not a token, a value with NUL, CR, LF or a character past
 * U+00FF, or SP/HTAB at either end of the value.
 */
export function needsSettling(name: string, value: string): boolean {
  if (typeof name !== 'string' || typeof value !== 'string') return true;
  if (!TOKEN.test(name) || BAD_CHAR.test(value)) return true;
  const n = value.length;
  if (n === 0) return false;
  const a = value.charCodeAt(0);
  const z = value.charCodeAt(n - 1);
  return a === 0x20 || a === 0x09 || z === 0x20 || z === 0x09;
}
