/**
 * RESP2, the Redis protocol (https://redis.io/docs/latest/develop/reference/protocol-spec/):
 * commands go out as arrays of bulk strings; replies are parsed incrementally from the bytes a
 * socket delivers, one complete reply at a time.
 */

/** An error reply (`-ERR …`, `-NOSCRIPT …`). */
export class RedisError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

export type RedisReply = string | number | null | RedisError | RedisReply[];

export function encodeCommand(args: readonly (string | number)[]): Buffer {
  let head = `*${args.length}\r\n`;
  const parts: Buffer[] = [];
  for (const a of args) {
    const b = Buffer.from(String(a), 'utf8');
    head += `$${b.length}\r\n`;
    parts.push(Buffer.from(head, 'latin1'), b);
    head = '\r\n';
  }
  parts.push(Buffer.from(head, 'latin1'));
  return Buffer.concat(parts);
}

const INCOMPLETE = Symbol('incomplete');

/** Reads replies out of a byte stream; `feed` returns every reply completed by `chunk`. */
export class ReplyParser {
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;

  feed(chunk: Buffer): RedisReply[] {
    this.#buf = this.#pos < this.#buf.length ? Buffer.concat([this.#buf.subarray(this.#pos), chunk]) : chunk;
    this.#pos = 0;
    const out: RedisReply[] = [];
    for (;;) {
      const start = this.#pos;
      const r = this.#read();
      if (r === INCOMPLETE) {
        this.#pos = start;
        return out;
      }
      out.push(r);
    }
  }

  #line(): string | typeof INCOMPLETE {
    const end = this.#buf.indexOf('\r\n', this.#pos, 'latin1');
    if (end === -1) return INCOMPLETE;
    const s = this.#buf.toString('utf8', this.#pos, end);
    this.#pos = end + 2;
    return s;
  }

  #read(): RedisReply | typeof INCOMPLETE {
    if (this.#pos >= this.#buf.length) return INCOMPLETE;
    const type = this.#buf[this.#pos++];
    const line = this.#line();
    if (line === INCOMPLETE) return INCOMPLETE;
    switch (type) {
      case 0x2b /* + */:
        return line;
      case 0x2d /* - */:
        return new RedisError(line);
      case 0x3a /* : */:
        return Number(line);
      case 0x24 /* $ */:
        {
          const n = Number(line);
          if (n < 0) return null;
          if (this.#buf.length < this.#pos + n + 2) return INCOMPLETE;
          const s = this.#buf.toString('utf8', this.#pos, this.#pos + n);
          this.#pos += n + 2;
          return s;
        }
      case 0x2a /* * */:
        {
          const n = Number(line);
          if (n < 0) return null;
          const items: RedisReply[] = [];
          for (let i = 0; i < n; i++) {
            const item = this.#read();
            if (item === INCOMPLETE) return INCOMPLETE;
            items.push(item);
          }
          return items;
        }
      default:
        throw new Error(`unexpected RESP type byte ${type}`);
    }
  }
}
