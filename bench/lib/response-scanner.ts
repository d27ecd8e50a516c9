// Finds where HTTP/1.1 responses end in the bytes of one keep-alive connection, for the latency
// client: the status code and nothing else. Bodies are framed by Content-Length (what the bench's
// backend sends) or chunked encoding (a proxy may re-frame); 1xx, 204 and 304 have none. A
// response without either is read until close, which a keep-alive client cannot use: an error.
// An incomplete response is kept and parsed again from its start when more bytes come, which is
// cheap for the bench's 150-byte responses and keeps no parser state between reads.

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)[ \t]*(?=\r\n|$)/i;
const CHUNKED = /\r\ntransfer-encoding:[^\r\n]*chunked/i;

export class ResponseScanner {
  #rest: Buffer | undefined;

  /**
   * Feeds the next bytes read; calls `onResponse(status)` for every response they complete (1xx
   * interim responses are skipped). Throws on bytes that are not a response it can frame.
   */
  feed(chunk: Buffer, onResponse: (status: number) => void): void {
    const buf = this.#rest === undefined ? chunk : Buffer.concat([this.#rest, chunk]);
    this.#rest = undefined;
    let pos = 0;
    while (pos < buf.length) {
      const end = ResponseScanner.#responseEnd(buf, pos);
      if (end < 0) break;
      const status = ResponseScanner.#status(buf, pos);
      pos = end;
      if (status >= 200) onResponse(status);
    }
    if (pos < buf.length) this.#rest = buf.subarray(pos);
  }

  /** Bytes of a response begun but not finished. */
  get pending(): number {
    return this.#rest?.length ?? 0;
  }

  static #status(buf: Buffer, start: number): number {
    // "HTTP/1.1 200 " — the three digits at a fixed offset.
    const d = (i: number) => buf[start + 9 + i]! - 48;
    return d(0) * 100 + d(1) * 10 + d(2);
  }

  /** Where the response starting at `start` ends, or -1 when the bytes do not complete it yet. */
  static #responseEnd(buf: Buffer, start: number): number {
    if (buf.length - start >= 5 && buf.toString('latin1', start, start + 5) !== 'HTTP/') {
      throw new Error(`not an HTTP response: ${JSON.stringify(buf.toString('latin1', start, start + 40))}`);
    }
    const headEnd = buf.indexOf(HEAD_END, start);
    if (headEnd < 0) return -1;
    const bodyStart = headEnd + 4;
    const status = ResponseScanner.#status(buf, start);
    if (status < 200 || status === 204 || status === 304) return bodyStart;
    const head = buf.toString('latin1', start, headEnd);
    if (CHUNKED.test(head)) return ResponseScanner.#chunkedEnd(buf, bodyStart);
    const length = CONTENT_LENGTH.exec(head);
    if (length === null) throw new Error(`response ${status} has neither Content-Length nor chunked body`);
    const end = bodyStart + Number(length[1]);
    return end <= buf.length ? end : -1;
  }

  /** The end of a chunked body starting at `pos` (last chunk and trailers included), or -1. */
  static #chunkedEnd(buf: Buffer, pos: number): number {
    for (;;) {
      const lineEnd = buf.indexOf(CRLF, pos);
      if (lineEnd < 0) return -1;
      const size = Number.parseInt(buf.toString('latin1', pos, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size');
      if (size === 0) {
        // Trailer fields, then an empty line.
        let p = lineEnd + 2;
        for (;;) {
          const e = buf.indexOf(CRLF, p);
          if (e < 0) return -1;
          if (e === p) return e + 2;
          p = e + 2;
        }
      }
      pos = lineEnd + 2 + size + 2;
      if (pos > buf.length) return -1;
    }
  }
}
