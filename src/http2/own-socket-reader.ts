import type { Socket } from 'node:net';
import { adoptReadSlot, COPY_MAX, copyOut, ReadSlot, type ReadTarget } from '../http1/read-slot.ts';
import { type FrameHandler, FrameReader } from './frame-reader.ts';
import { DEFAULT_MAX_FRAME } from './frames.ts';

/** The connection a reader feeds. */
export interface ReadOwner {
  readonly closed: boolean;
  readonly frames: FrameHandler;
  /** A read was processed: `code` is E_NO_ERROR or the connection error the bytes made. */
  afterRead(code: number): void;
}

const READER = Symbol('traffic.h2.reader');
interface ReaderSocket extends Socket {
  [READER]: SocketReader;
}
/** Shared by every connection (no closure per connection): `this` is the socket. */
function onSocketData(this: ReaderSocket, chunk: Buffer): void {
  this[READER].feed(chunk, 0, chunk.length, false);
}

/**
 * How an own-engine connection reads: into a ReadSlot (net's onread: one buffer reused by every
 * read, no Readable stream per chunk), plain TCP and TLS alike (a TLSWrap hands decrypted bytes
 * to the same read listener as a TCP handle); through 'data' events only where the socket
 * cannot be adopted. Frames are handed over in place; a payload a stream keeps is copied out of
 * the reused buffer, or the buffer is lent. Through 'data', every TLS read was a new
 * ArrayBuffer, whose backing stores piled up between the (now rare) mark-compacts under
 * HTTP/2 load.
 */
export class SocketReader implements ReadTarget {
  readonly #socket: Socket;
  readonly #owner: ReadOwner;
  readonly #frames: FrameReader;
  #slot: ReadSlot | null = null;
  /** The bytes being processed are the slot's memory (the next read overwrites them). */
  #shared = false;
  /** A read is being processed: frames written meanwhile are flushed at its end. */
  inRead = false;

  /** `client`: our side opened the connection (upstream/own-h2-session), no preface to read. */
  constructor(socket: Socket, owner: ReadOwner, client = false) {
    this.#socket = socket;
    this.#owner = owner;
    this.#frames = new FrameReader(DEFAULT_MAX_FRAME, client);
    (socket as ReaderSocket)[READER] = this;
  }

  /** Bytes already read (the h2c preface, put back) first, then the socket. */
  start(): void {
    const s = this.#socket;
    s.pause();
    while (s.readableLength > 0 && !this.#owner.closed) {
      const b = s.read() as Buffer | null;
      if (b === null) break;
      this.feed(b, 0, b.length, false);
    }
    if (this.#owner.closed) return;
    const slot = new ReadSlot();
    if (adoptReadSlot(s, slot)) {
      slot.target = this;
      this.#slot = slot;
    } else s.on('data', onSocketData);
    s.resume();
  }

  /** ReadTarget: `buf[0..n)` is the slot's memory. */
  onRead(buf: Buffer, n: number): boolean {
    this.feed(buf, 0, n, true);
    return !this.#owner.closed;
  }

  feed(buf: Buffer, start: number, end: number, shared: boolean): void {
    const o = this.#owner;
    if (o.closed) return;
    this.inRead = true;
    this.#shared = shared;
    const r = this.#frames.feed(buf, start, end, o.frames);
    this.inRead = false;
    this.#shared = false;
    o.afterRead(r);
  }

  /** A payload a stream may keep: copied out of a shared read buffer, or the buffer lent. */
  keep(buf: Buffer, start: number, end: number): Buffer {
    if (!this.#shared) return buf.subarray(start, end);
    if (end - start <= COPY_MAX) return copyOut(buf, start, end);
    // The rest of this read's buffer becomes ours: the next read goes to a fresh one.
    this.#slot?.lend();
    this.#shared = false;
    return buf.subarray(start, end);
  }
}
