import { Socket } from 'node:net';

/** First read buffer of a connection: a head and a small body fit in it. */
const READ_SIZE = 16 * 1024;
/** After a read that filled its buffer (an upload, a download), the next is this large, as net's own. */
const READ_SIZE_BULK = 64 * 1024;
/** Bytes read into a slot's buffer up to this many are copied out when kept; more are lent. */
export const COPY_MAX = 4 * 1024;

/** Who gets the reads of a slot: `buf[0..n)` was read; false stops reading (net's `onread`). */
export interface ReadTarget {
  onRead(buf: Buffer, n: number): boolean;
}

/**
 * Where a plain TCP connection reads (net's `onread`): one buffer per connection, reused by every
 * read, instead of a new ArrayBuffer per read and the Readable stream's push/emit/maybeReadMore
 * per chunk. The target parses heads in place; bytes it keeps or hands on (a body chunk written
 * to the other side, which may stay queued; pipelined bytes) must never be the reused memory:
 * small ones are copied out (`COPY_MAX`), large ones take the buffer along (`lend`) and the next
 * read gets a fresh one.
 *
 * A `shared` slot reads into one buffer common to every shared slot (`SHARED_READ_SIZE`) until
 * a read fills it or `unshare` is called; then into buffers of its own as above. For sockets
 * that mostly sit idle or read small answers (upstream connections: one per request in flight,
 * hundreds under HTTP/2 load), the reused buffer then costs nothing per socket. Sharing is safe
 * because a read is handled to the end (the callback) before any other socket reads, and what
 * is kept is copied; but the shared buffer can never be lent: a large read in it is copied
 * (`isSharedReadBuffer`), since every other shared socket reads into it next.
 */
export class ReadSlot {
  target: ReadTarget | null = null;
  #buf: Buffer | null = null;
  #lent = false;
  #bulk: boolean;
  #shared: boolean;
  #spare: Buffer[] | null = null;

  /**
   * `bulk`: reads are large from the start (a tunnel that switched to a slot mid-transfer).
   * `shared`: reads go to the buffer common to shared slots until the first read that fills it.
   */
  constructor(bulk = false, shared = false) {
    this.#bulk = bulk;
    this.#shared = shared;
  }
  /** net's `onread` option: the buffer to read into next, and what to do with a read. */
  readonly onread = {
    buffer: (): Buffer => this.#next(),
    callback: (n: number, buf: Buffer): boolean => {
      if (n === buf.length) this.#bulk = true;
      const t = this.target;
      return t === null ? true : t.onRead(buf, n);
    },
  };

  #next(): Buffer {
    if (this.#shared) {
      if (!this.#bulk) {
        sharedBuffer ??= Buffer.allocUnsafeSlow(SHARED_READ_SIZE);
        this.#buf = sharedBuffer;
        return sharedBuffer;
      }
      // A read filled the shared buffer: large reads from now on, into buffers of the slot's own.
      this.unshare();
    }
    let b = this.#buf;
    const size = this.#bulk ? READ_SIZE_BULK : READ_SIZE;
    if (b === null || this.#lent || b.length < size) {
      b = this.#takeSpare(size) ?? Buffer.allocUnsafe(size);
      this.#buf = b;
      this.#lent = false;
    }
    return b;
  }

  #takeSpare(size: number): Buffer | null {
    const spare = this.#spare;
    if (spare === null) return null;
    for (let i = spare.length - 1; i >= 0; i--) {
      const b = spare[i]!;
      if (b.length >= size) {
        spare.splice(i, 1);
        return b;
      }
    }
    return null;
  }

  /**
   * The current buffer now belongs to whoever got it: the next read goes elsewhere. Only during
   * the read's callback: net asks for the next buffer as soon as the callback returns. Returns
   * the buffer lent, which its borrower may give back (`recycle`) once nothing refers to it.
   */
  lend(): Buffer {
    const b = this.#buf!;
    if (b === sharedBuffer) throw new Error('the shared read buffer cannot be lent');
    this.#lent = true;
    return b;
  }

  /**
   * Reads go to buffers of this slot's own from the next buffer asked for (a tunnel lends what
   * it reads). The socket may already be handed the shared buffer for its next read: that read
   * still lands there (`isSharedReadBuffer`).
   */
  unshare(): void {
    if (!this.#shared) return;
    this.#shared = false;
    // The shared buffer is not the slot's to reuse: the next buffer is one of its own.
    this.#lent = true;
  }

  /**
   * A lent buffer is free again (the write that held it completed): kept as a spare for the next
   * reads instead of a new allocation. At most `MAX_SPARE` are kept; more are left to the GC.
   */
  recycle(buf: Buffer): void {
    if (buf === this.#buf || buf.length < (this.#bulk ? READ_SIZE_BULK : READ_SIZE)) return;
    if (this.#spare === null) this.#spare = [buf];
    else if (this.#spare.length < MAX_SPARE) this.#spare.push(buf);
  }
}

/** Spare buffers a slot keeps from recycled writes: enough for the writes a tunnel lets queue. */
const MAX_SPARE = 2;

/** The buffer shared slots read into: as large as a slot's first buffer, so reads are the same. */
const SHARED_READ_SIZE = READ_SIZE;
/** Allocated on first use, never replaced (a handle may be bound to it at any time). */
let sharedBuffer: Buffer | null = null;

/** `buf` is the buffer shared slots read into: what is kept of it must be copied, never lent. */
export function isSharedReadBuffer(buf: Buffer): boolean {
  return buf === sharedBuffer;
}

const SLOT = Symbol('traffic.readSlot');
type Slotted = { [SLOT]?: ReadSlot };

/**
 * Records that `socket` reads into `slot` (created with `slot.onread`, or adopted): whoever takes
 * the socket over later (a tunnel after a protocol switch) can retarget the slot instead of
 * having each read copied into the stream's readable side.
 */
export function registerReadSlot(socket: Socket, slot: ReadSlot): void {
  (socket as Slotted)[SLOT] = slot;
}

/** The ReadSlot `socket` reads into, if any. */
export function readSlotOf(socket: object): ReadSlot | null {
  return (socket as Slotted)[SLOT] ?? null;
}

/**
 * `buf[start..end)` as memory of its own (a copy), for bytes of a slot's buffer that are kept.
 * One new Buffer (a slice of Node's pool for small sizes) and one copy into it: `Buffer.from` of
 * a `subarray` makes a second typed array per call, on the path of every small response.
 */
export function copyOut(buf: Buffer, start: number, end: number): Buffer {
  // Bounds as `subarray` takes them, so that no byte of the new memory is left unwritten.
  const to = Math.min(end, buf.length);
  const n = to > start ? to - start : 0;
  const out = Buffer.allocUnsafe(n);
  if (n > 0) buf.copy(out, 0, start, to);
  return out;
}

interface NetReadInternals {
  readonly kBuffer: symbol;
  readonly kBufferCb: symbol;
  readonly kBufferGen: symbol;
}

let internals: NetReadInternals | null | undefined;

/**
 * net's `onread` is an option of `new Socket()` and `connect()` only; accepted sockets have no such
 * option. Node keeps it in three symbol-keyed fields that `pause`, `resume` and its read callback
 * consult: found here once on a probe socket by their descriptions, or null (another Node) and the
 * caller keeps 'data' events.
 */
function netReadInternals(): NetReadInternals | null {
  if (internals !== undefined) return internals;
  const probe = new Socket({ onread: { buffer: Buffer.alloc(1), callback: () => true } });
  const find = (name: string) => Object.getOwnPropertySymbols(probe).find((s) => s.description === name);
  const kBuffer = find('kBuffer');
  const kBufferCb = find('kBufferCb');
  const kBufferGen = find('kBufferGen');
  internals = kBuffer && kBufferCb && kBufferGen ? { kBuffer, kBufferCb, kBufferGen } : null;
  return internals;
}

interface UserBufferHandle {
  useUserBuffer?: (buf: Uint8Array) => void;
  constructor: { name: string };
}

/**
 * Switches an accepted plain TCP socket to read into `slot` from its next read on: what
 * `onread` would have done at construction. False (nothing changed) when the socket is not a
 * bare TCP handle (TLS, a pipe), still holds bytes in its stream buffer, or Node lacks the
 * internals; the caller then keeps its 'data' listener. The caller removes that listener itself.
 */
export function adoptReadSlot(socket: Socket, slot: ReadSlot): boolean {
  const handle = (socket as unknown as { _handle?: UserBufferHandle | null })._handle;
  if (
    handle === null ||
    handle === undefined ||
    (handle.constructor.name !== 'TCP' && handle.constructor.name !== 'TLSWrap') ||
    typeof handle.useUserBuffer !== 'function' ||
    socket.readableLength !== 0 ||
    socket.destroyed
  ) {
    return false;
  }
  const k = netReadInternals();
  if (k === null) return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  if (fields[k.kBuffer] !== null && fields[k.kBuffer] !== undefined) return false;
  const first = slot.onread.buffer();
  fields[k.kBuffer] = first;
  fields[k.kBufferCb] = slot.onread.callback;
  fields[k.kBufferGen] = slot.onread.buffer;
  handle.useUserBuffer(first);
  registerReadSlot(socket, slot);
  return true;
}
