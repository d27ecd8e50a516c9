/**
 * ZooKeeper's wire encoding (jute): big-endian integers, strings and buffers as a 32-bit length
 * (-1 = null) and their bytes, vectors as a count and their items. Only what the client needs.
 */
export class JuteWriter {
  readonly #parts: Buffer[] = [];

  int(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    this.#parts.push(b);
    return this;
  }

  long(n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(n);
    this.#parts.push(b);
    return this;
  }

  bool(v: boolean): this {
    this.#parts.push(Buffer.from([v ? 1 : 0]));
    return this;
  }

  buffer(b: Buffer | null): this {
    if (b === null) return this.int(-1);
    this.int(b.length);
    this.#parts.push(b);
    return this;
  }

  string(s: string): this {
    return this.buffer(Buffer.from(s, 'utf8'));
  }

  /** The whole packet, with its length first. */
  packet(): Buffer {
    const body = Buffer.concat(this.#parts);
    const len = Buffer.alloc(4);
    len.writeInt32BE(body.length);
    return Buffer.concat([len, body]);
  }
}

export class JuteReader {
  readonly #b: Buffer;
  #at = 0;

  constructor(b: Buffer) {
    this.#b = b;
  }

  int(): number {
    const v = this.#b.readInt32BE(this.#at);
    this.#at += 4;
    return v;
  }

  long(): bigint {
    const v = this.#b.readBigInt64BE(this.#at);
    this.#at += 8;
    return v;
  }

  bool(): boolean {
    return this.#b[this.#at++] === 1;
  }

  buffer(): Buffer | null {
    const n = this.int();
    if (n < 0) return null;
    const v = this.#b.subarray(this.#at, this.#at + n);
    this.#at += n;
    return v;
  }

  string(): string {
    return this.buffer()?.toString('utf8') ?? '';
  }

  get remaining(): number {
    return this.#b.length - this.#at;
  }
}
