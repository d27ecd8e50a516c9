import { FIELD_VALUE, HEX_VALUE, TCHAR } from './chars.ts';

/** Receives decoded body bytes. Implemented by the objects that forward bodies (no closures). */
export interface ChunkSink {
  onChunkData(buf: Buffer, start: number, end: number): void;
}

const S_SIZE = 0;
const S_SIZE_AFTER = 1; // after at least one hex digit
const S_EXT = 2;
const S_SIZE_LF = 3;
const S_DATA = 4;
const S_DATA_CR = 5;
const S_DATA_LF = 6;
const S_TRAILER_START = 7;
const S_TRAILER_LINE = 8;
const S_TRAILER_LF = 9;
const S_FINAL_LF = 10;
const S_DONE = 11;
const S_TRAILER_NAME = 12;

export const CHUNKED_INCOMPLETE = -1;

/**
 * Incremental decoder for the chunked transfer coding (RFC 9112 §7.1). Chunk extensions are
 * validated and dropped; trailers are validated and dropped (we do not forward what a later hop
 * could merge into the head). Bare LF, missing CRLF after data, non-hex sizes and oversized
 * sizes are errors: any of them is a smuggling vector, never a recoverable quirk.
 */
export class ChunkedDecoder {
  #state = S_SIZE;
  #remaining = 0;
  #sizeDigits = 0;
  #extBytes = 0;
  #trailerBytes = 0;
  #error: string | null = null;
  /**
   * Where we are in a chunk extension: 0 before a name, 1 in a name, 2 after `=`, 3 in a token
   * value, 4 inside a quoted value, 5 after its closing quote, 6 after a backslash in it.
   */
  #extState = 0;
  #trailerName = '';
  readonly #maxExtBytes: number;
  readonly #maxTrailerBytes: number;

  constructor(maxExtBytes = 4096, maxTrailerBytes = 16384) {
    this.#maxExtBytes = maxExtBytes;
    this.#maxTrailerBytes = maxTrailerBytes;
  }

  get error(): string | null {
    return this.#error;
  }

  get done(): boolean {
    return this.#state === S_DONE;
  }

  reset(): void {
    this.#state = S_SIZE;
    this.#remaining = 0;
    this.#sizeDigits = 0;
    this.#extBytes = 0;
    this.#trailerBytes = 0;
    this.#error = null;
    this.#extState = 0;
    this.#trailerName = '';
  }

  /**
   * Decodes `buf[start..end)`, passing data to `sink`. Returns the index just past the final
   * CRLF when the body ended inside this buffer (bytes after it belong to the next message),
   * CHUNKED_INCOMPLETE when more input is needed, or -2 on a syntax error (see `error`).
   */
  feed(buf: Buffer, start: number, end: number, sink: ChunkSink): number {
    let i = start;
    while (i < end) {
      switch (this.#state) {
        case S_DATA: {
          const n = Math.min(this.#remaining, end - i);
          sink.onChunkData(buf, i, i + n);
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = S_DATA_CR;
          continue;
        }
        case S_SIZE:
        case S_SIZE_AFTER: {
          const c = buf[i]!;
          const h = HEX_VALUE[c]!;
          if (h >= 0) {
            // 13 hex digits (< 2^52) keep the size exact in a Number; nobody sends a 4 PB chunk.
            if (++this.#sizeDigits > 13) return this.#fail('chunk size too large');
            this.#remaining = this.#remaining * 16 + h;
            this.#state = S_SIZE_AFTER;
          } else if (this.#state === S_SIZE) {
            return this.#fail('invalid chunk size');
          } else if (c === 0x3b /* ; */) {
            this.#state = S_EXT;
            this.#extState = 0;
          } else if (c === 0x0d) {
            this.#state = S_SIZE_LF;
          } else {
            return this.#fail('invalid chunk size');
          }
          i++;
          continue;
        }
        case S_EXT: {
          const c = buf[i]!;
          const es = this.#extState;
          if (es === 4) {
            // Inside a quoted-string (RFC 9110 §5.6.4): qdtext, or a backslash opening a quoted-pair.
            if (c === 0x22) this.#extState = 5;
            else if (c === 0x5c) this.#extState = 6;
            else if (FIELD_VALUE[c] !== 1) return this.#fail('invalid chunk extension');
          } else if (es === 6) {
            // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ): exactly FIELD_VALUE's bytes.
            if (FIELD_VALUE[c] !== 1) return this.#fail('invalid chunk extension');
            this.#extState = 4;
          } else if (c === 0x0d) {
            if (es !== 1 && es !== 3 && es !== 5) return this.#fail('invalid chunk extension');
            this.#state = S_SIZE_LF;
          } else if (c === 0x3b) {
            if (es !== 1 && es !== 3 && es !== 5) return this.#fail('invalid chunk extension');
            this.#extState = 0;
          } else if (c === 0x3d) {
            if (es !== 1) return this.#fail('invalid chunk extension');
            this.#extState = 2;
          } else if (c === 0x22) {
            if (es !== 2) return this.#fail('invalid chunk extension');
            this.#extState = 4;
          } else if (TCHAR[c] === 1) {
            if (es === 0) this.#extState = 1;
            else if (es === 2) this.#extState = 3;
            else if (es === 5) return this.#fail('invalid chunk extension');
          } else {
            return this.#fail('invalid chunk extension');
          }
          if (++this.#extBytes > this.#maxExtBytes) return this.#fail('chunk extensions too long');
          i++;
          continue;
        }
        case S_SIZE_LF: {
          if (buf[i] !== 0x0a) return this.#fail('bare CR in chunk size line');
          i++;
          this.#sizeDigits = 0;
          this.#state = this.#remaining === 0 ? S_TRAILER_START : S_DATA;
          continue;
        }
        case S_DATA_CR: {
          if (buf[i] !== 0x0d) return this.#fail('missing CRLF after chunk data');
          this.#state = S_DATA_LF;
          i++;
          continue;
        }
        case S_DATA_LF: {
          if (buf[i] !== 0x0a) return this.#fail('missing CRLF after chunk data');
          this.#state = S_SIZE;
          i++;
          continue;
        }
        case S_TRAILER_START: {
          const c = buf[i]!;
          if (c === 0x0d) this.#state = S_FINAL_LF;
          else if (TCHAR[c] === 1) {
            this.#state = S_TRAILER_NAME;
            this.#trailerName = String.fromCharCode(c | 0x20);
          } else return this.#fail('invalid trailer field');
          if (++this.#trailerBytes > this.#maxTrailerBytes) return this.#fail('trailers too large');
          i++;
          continue;
        }
        case S_TRAILER_NAME: {
          const c = buf[i]!;
          if (c === 0x3a) {
            const n = this.#trailerName;
            if (
              n === 'content-length' ||
              n === 'transfer-encoding' ||
              n === 'connection' ||
              n === 'proxy-connection'
            ) {
              return this.#fail(`forbidden trailer ${n}`);
            }
            this.#state = S_TRAILER_LINE;
          } else if (TCHAR[c] !== 1) return this.#fail('invalid trailer field name');
          else this.#trailerName += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
          if (++this.#trailerBytes > this.#maxTrailerBytes) return this.#fail('trailers too large');
          i++;
          continue;
        }
        case S_TRAILER_LINE: {
          const c = buf[i]!;
          if (c === 0x0d) this.#state = S_TRAILER_LF;
          else if (FIELD_VALUE[c] !== 1) return this.#fail('invalid trailer field value');
          if (++this.#trailerBytes > this.#maxTrailerBytes) return this.#fail('trailers too large');
          i++;
          continue;
        }
        case S_TRAILER_LF: {
          if (buf[i] !== 0x0a) return this.#fail('bare CR in trailer');
          this.#state = S_TRAILER_START;
          i++;
          continue;
        }
        case S_FINAL_LF: {
          if (buf[i] !== 0x0a) return this.#fail('bare CR after last chunk');
          this.#state = S_DONE;
          return i + 1;
        }
        default:
          return i;
      }
    }
    return this.#state === S_DONE ? i : CHUNKED_INCOMPLETE;
  }

  #fail(reason: string): number {
    this.#error = reason;
    return -2;
  }
}
