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
const CLOSE = /\r\nconnection:[^\r\n]*\bclose\b/i;

export class ResponseScanner {
  #rest: Buffer | undefined;
  /** Set by #responseEnd: the status and `Connection: close` of the response it framed. */
  #status = 0;
  #close = false;

  /**
   * Feeds the next bytes read; calls `onResponse(status, close)` for every response they complete
   * (1xx interim responses are skipped); `close` when it says `Connection: close`. Throws on bytes
   * that are not a response it can frame.
   */
  feed(chunk: Buffer, onResponse: (status: number, close: boolean) => void): void {
    const buf = this.#rest === undefined ? chunk : Buffer.concat([this.#rest, chunk]);
    this.#rest = undefined;
    let pos = 0;
    while (pos < buf.length) {
      const end = this.#responseEnd(buf, pos);
      if (end < 0) break;
      pos = end;
      if (this.#status >= 200) onResponse(this.#status, this.#close);
    }
    if (pos < buf.length) this.#rest = buf.subarray(pos);
  }

  /** Bytes of a response begun but not finished. */
  get pending(): number {
    return this.#rest?.length ?? 0;
  }

  /** Where the response starting at `start` ends, or -1 when the bytes do not complete it yet. */
  #responseEnd(buf: Buffer, start: number): number {
    if (buf.length - start >= 5 && buf.toString('latin1', start, start + 5) !== 'HTTP/') {
      throw new Error(`not an HTTP response: ${JSON.stringify(buf.toString('latin1', start, start + 40))}`);
    }
    const headEnd = buf.indexOf(HEAD_END, start);
    if (headEnd < 0) return -1;
    const bodyStart = headEnd + 4;
    // "HTTP/1.1 200 …": the three digits at a fixed offset.
    const digit = (i: number) => buf[start + 9 + i]! - 48;
    const status = digit(0) * 100 + digit(1) * 10 + digit(2);
    const head = buf.toString('latin1', start, headEnd);
    this.#status = status;
    this.#close = CLOSE.test(head);
    if (status < 200 || status === 204 || status === 304) return bodyStart;
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
