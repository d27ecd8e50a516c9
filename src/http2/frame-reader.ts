import { E_FRAME_SIZE_ERROR, E_NO_ERROR, E_PROTOCOL_ERROR, FRAME_HEAD } from './frames.ts';
import { H2_PREFACE } from './preface.ts';

/** Who gets the frames: false stops reading (the connection is over). */
export interface FrameHandler {
  /**
   * One whole frame, its payload `buf[start..end)`: the read's memory (which the next read may
   * overwrite) or the reader's own; whatever is kept of it must be copied or lent.
   */
  onFrame(type: number, flags: number, stream: number, buf: Buffer, start: number, end: number): boolean;
}

/**
 * Cuts a connection's bytes into frames (RFC 9113 §4.1), after checking the client preface
 * (§3.4). Whole frames are handed over in place; a frame cut by the end of a read waits in a
 * buffer of our own for the rest.
 */
export class FrameReader {
  /** The largest payload we accept: our SETTINGS_MAX_FRAME_SIZE. */
  readonly #maxFrame: number;
  #preface = 0;
  #rest: Buffer | null = null;
  #restLen = 0;

  constructor(maxFrame: number, prefaceDone: boolean) {
    this.#maxFrame = maxFrame;
    this.#preface = prefaceDone ? H2_PREFACE.length : 0;
  }

  /**
   * Feeds `buf[start..end)`; returns E_NO_ERROR, the connection error to send, or -1 when the
   * handler stopped.
   */
  feed(buf: Buffer, start: number, end: number, h: FrameHandler): number {
    let p = start;
    while (this.#preface < H2_PREFACE.length) {
      if (p >= end) return E_NO_ERROR;
      if (buf[p++] !== H2_PREFACE[this.#preface++]) return E_PROTOCOL_ERROR;
    }
    if (this.#rest !== null) {
      // Complete the frame cut by the last read: its head first, then its payload.
      let need = FRAME_HEAD;
      if (this.#restLen >= FRAME_HEAD) need += this.#restPayload();
      let n = Math.min(need - this.#restLen, end - p);
      this.#append(buf, p, p + n);
      p += n;
      if (this.#restLen === FRAME_HEAD && need === FRAME_HEAD) {
        const len = this.#restPayload();
        if (len > this.#maxFrame) return E_FRAME_SIZE_ERROR;
        need += len;
        n = Math.min(need - this.#restLen, end - p);
        this.#append(buf, p, p + n);
        p += n;
      }
      if (this.#restLen < need) return E_NO_ERROR;
      const r = this.#rest!;
      this.#rest = null;
      this.#restLen = 0;
      if (!this.#dispatch(r, 0, need, h)) return -1;
    }
    while (end - p >= FRAME_HEAD) {
      const len = (buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]!;
      if (len > this.#maxFrame) return E_FRAME_SIZE_ERROR;
      if (end - p < FRAME_HEAD + len) break;
      if (!this.#dispatch(buf, p, p + FRAME_HEAD + len, h)) return -1;
      p += FRAME_HEAD + len;
    }
    if (p < end) {
      let size = FRAME_HEAD;
      if (end - p >= FRAME_HEAD) size += (buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]!;
      this.#rest = Buffer.allocUnsafe(Math.max(size, FRAME_HEAD + 1024));
      this.#restLen = 0;
      this.#append(buf, p, end);
    }
    return E_NO_ERROR;
  }

  #restPayload(): number {
    const r = this.#rest!;
    return (r[0]! << 16) | (r[1]! << 8) | r[2]!;
  }

  #append(buf: Buffer, start: number, end: number): void {
    let r = this.#rest!;
    const n = end - start;
    if (this.#restLen + n > r.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#restLen + n, r.length * 2));
      r.copy(bigger, 0, 0, this.#restLen);
      this.#rest = r = bigger;
    }
    buf.copy(r, this.#restLen, start, end);
    this.#restLen += n;
  }

  #dispatch(buf: Buffer, p: number, end: number, h: FrameHandler): boolean {
    const stream = ((buf[p + 5]! & 0x7f) << 24) | (buf[p + 6]! << 16) | (buf[p + 7]! << 8) | buf[p + 8]!;
    return h.onFrame(buf[p + 3]!, buf[p + 4]!, stream, buf, p + FRAME_HEAD, end);
  }
}
