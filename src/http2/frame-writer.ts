import type { Socket } from 'node:net';
import {
  F_CONTINUATION,
  F_DATA,
  F_GOAWAY,
  F_HEADERS,
  F_PING,
  F_RST_STREAM,
  F_SETTINGS,
  F_WINDOW_UPDATE,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FRAME_HEAD,
} from './frames.ts';
import { H2_PREFACE } from './preface.ts';

/**
 * Frame heads and small frames go into slabs of this size: 16 KiB, ~200 small responses' frames
 * per slab. Each connection holds one (and any replaced one still queued), so 64 KiB made 3 MB
 * for the 50 connections of the HTTP/2 benchmark (docs/performance.md, "Memory under HTTP/2").
 * Not from Buffer's pool: a connection's current slab would pin a whole 64 KiB pool chunk (the
 * rest of it garbage) for as long as the connection is quiet.
 */
const SLAB = 16 * 1024;
/** DATA payloads up to this size are copied next to their frame head; larger ones are written as they are. */
const COPY_DATA = 2048;

/**
 * The frames a connection sends, gathered until `flush` (the end of a read, or of the tick in
 * which an exchange wrote) and then written at once (one writev). Frame heads and small frames
 * go into a slab of our own, cut into pieces as they are flushed: a slab is rewritten only once
 * the socket's queue is empty after a flush (no piece of it can still be waiting there), and
 * replaced when it fills up while pieces may still be queued.
 */
export class FrameWriter {
  readonly #socket: Socket;
  #slab = Buffer.allocUnsafeSlow(SLAB);
  #start = 0;
  #pos = 0;
  #chunks: Buffer[] = [];

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** Something waits for `flush`. */
  get pending(): boolean {
    return this.#pos > this.#start || this.#chunks.length > 0;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#slab.length) return;
    this.#cut();
    this.#slab = Buffer.allocUnsafeSlow(Math.max(SLAB, n));
    this.#start = 0;
    this.#pos = 0;
  }

  #cut(): void {
    if (this.#pos > this.#start) this.#chunks.push(this.#slab.subarray(this.#start, this.#pos));
    this.#start = this.#pos;
  }

  #head(len: number, type: number, flags: number, stream: number): void {
    const b = this.#slab;
    const p = this.#pos;
    b[p] = len >>> 16;
    b[p + 1] = (len >>> 8) & 0xff;
    b[p + 2] = len & 0xff;
    b[p + 3] = type;
    b[p + 4] = flags;
    b.writeUInt32BE(stream, p + 5);
    this.#pos = p + FRAME_HEAD;
  }

  /** SETTINGS with `id, value, …`. */
  settings(pairs: readonly number[]): void {
    const len = (pairs.length / 2) * 6;
    this.#ensure(FRAME_HEAD + len);
    this.#head(len, F_SETTINGS, 0, 0);
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      this.#slab.writeUInt16BE(pairs[i]!, this.#pos);
      this.#slab.writeUInt32BE(pairs[i + 1]!, this.#pos + 2);
      this.#pos += 6;
    }
  }

  settingsAck(): void {
    this.#ensure(FRAME_HEAD);
    this.#head(0, F_SETTINGS, FLAG_ACK, 0);
  }

  /** PING ACK echoing `buf[start..start+8)`. */
  pingAck(buf: Buffer, start: number): void {
    this.#ping(buf, start, FLAG_ACK);
  }

  /** A PING of our own (a client's keep-alive) carrying `buf[start..start+8)`. */
  ping(buf: Buffer, start: number): void {
    this.#ping(buf, start, 0);
  }

  #ping(buf: Buffer, start: number, flags: number): void {
    this.#ensure(FRAME_HEAD + 8);
    this.#head(8, F_PING, flags, 0);
    buf.copy(this.#slab, this.#pos, start, start + 8);
    this.#pos += 8;
  }

  /** The client connection preface (RFC 9113 §3.4), first on a connection we open. */
  preface(): void {
    this.#ensure(H2_PREFACE.length);
    H2_PREFACE.copy(this.#slab, this.#pos);
    this.#pos += H2_PREFACE.length;
  }

  goaway(lastStream: number, code: number): void {
    this.#ensure(FRAME_HEAD + 8);
    this.#head(8, F_GOAWAY, 0, 0);
    this.#slab.writeUInt32BE(lastStream, this.#pos);
    this.#slab.writeUInt32BE(code, this.#pos + 4);
    this.#pos += 8;
  }

  rst(stream: number, code: number): void {
    this.#ensure(FRAME_HEAD + 4);
    this.#head(4, F_RST_STREAM, 0, stream);
    this.#slab.writeUInt32BE(code, this.#pos);
    this.#pos += 4;
  }

  windowUpdate(stream: number, increment: number): void {
    this.#ensure(FRAME_HEAD + 4);
    this.#head(4, F_WINDOW_UPDATE, 0, stream);
    this.#slab.writeUInt32BE(increment, this.#pos);
    this.#pos += 4;
  }

  /** One DATA frame carrying `buf[start..end)` (at most the peer's frame size). */
  data(stream: number, buf: Buffer, start: number, end: number, endStream: boolean): void {
    const len = end - start;
    const flags = endStream ? FLAG_END_STREAM : 0;
    if (len <= COPY_DATA) {
      this.#ensure(FRAME_HEAD + len);
      this.#head(len, F_DATA, flags, stream);
      if (len > 0) buf.copy(this.#slab, this.#pos, start, end);
      this.#pos += len;
      return;
    }
    this.#ensure(FRAME_HEAD);
    this.#head(len, F_DATA, flags, stream);
    this.#cut();
    this.#chunks.push(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
  }

  /** A header block as HEADERS (+ CONTINUATION) frames of at most `maxFrame` bytes. */
  headers(stream: number, block: Buffer, len: number, endStream: boolean, maxFrame: number): void {
    let off = 0;
    let type = F_HEADERS;
    let flags = endStream ? FLAG_END_STREAM : 0;
    do {
      const n = Math.min(maxFrame, len - off);
      const last = off + n >= len;
      this.#ensure(FRAME_HEAD + n);
      this.#head(n, type, flags | (last ? FLAG_END_HEADERS : 0), stream);
      block.copy(this.#slab, this.#pos, off, off + n);
      this.#pos += n;
      off += n;
      type = F_CONTINUATION;
      flags = 0;
    } while (off < len);
  }

  /** Writes everything gathered; false when the socket's buffer is full. */
  flush(): boolean {
    this.#cut();
    const chunks = this.#chunks;
    const s = this.#socket;
    if (chunks.length === 0 || s.destroyed) {
      chunks.length = 0;
      return true;
    }
    let ok: boolean;
    if (chunks.length === 1) ok = s.write(chunks[0]!);
    else {
      s.cork();
      for (let i = 0; i < chunks.length; i++) s.write(chunks[i]!);
      s.uncork();
      ok = !s.writableNeedDrain;
    }
    chunks.length = 0;
    // Nothing of ours left in the socket's queue (the usual case: the writes went through at
    // once): the slab is written from its start again instead of being replaced when full. A
    // connection replaced its slab every ~200 small responses, and a slab outlives scavenges
    // (it serves a connection for a while), so the replaced ones, promoted, waited for a
    // mark-compact: ~1.6 MB/s of ArrayBuffers under h2load -c50 -m10, up to 15 MB at the peak
    // once mark-compacts had become rare (docs/performance.md, "Memory under HTTP/2").
    if (s.writableLength === 0) {
      this.#start = 0;
      this.#pos = 0;
    }
    return ok;
  }
}
