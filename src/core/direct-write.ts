import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';

/**
 * One whole payload written to a plain TCP socket's handle, without Node's `Writable` layer.
 *
 * Why: `socket.write()` runs `Writable.write` → `writeOrBuffer` → `Socket._writeGeneric` →
 * `writeGeneric`, which makes a new `WriteWrap` (a C++-backed object) per call, and on return
 * schedules the write's callback and the stream's state updates. For the two writes of a
 * request that dominate the proxy (the upstream request head, the client's response with its
 * whole body) none of that is needed when the socket has nothing queued: the kernel takes the
 * bytes at once. `perf` showed the JavaScript around those two writes at ~7 % of the proxy's CPU
 * (`writeOrBuffer` and the `WriteWrap` it builds) under `npm run bench` (docs/performance.md,
 * "Writes without the Writable layer").
 *
 * The rule: the handle is written directly only when nothing is waiting to be written — `Writable`
 * holds nothing (no buffered or in-flight write, not corked, not ended) and libuv's queue is
 * empty — so no byte can overtake an earlier one, and a peer that does not read meets
 * `Writable`'s backpressure on the next write, as before. A write the
 * kernel does not take whole at once is queued by libuv (as Node's own writes are, in order with
 * any that follow), keeps its buffer alive on its request object, and reports a failure by
 * destroying the socket, as `socket.write` without a callback does. Every other case returns
 * false and the caller uses `socket.write`.
 *
 * It uses Node's `stream_wrap` binding (`process.binding`, deprecated only as "pending", DEP0111):
 * the `WriteWrap` class and the flag that says whether the last write went asynchronous. On a
 * Node without them, or when `--pending-deprecation` would print a warning, nothing changes:
 * every call returns false.
 */

interface WriteReq {
  handle: unknown;
  oncomplete: (this: WriteReq, status: number) => void;
  async: boolean;
  bytes: number;
  buffer: unknown;
  socket: Socket | null;
}

/** A socket's TCP handle, as `directHandle` hands it out. */
export interface DirectHandle {
  writeLatin1String(req: WriteReq, s: string): number;
  writeBuffer(req: WriteReq, b: Uint8Array): number;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

interface Internals {
  readonly WriteWrap: new () => WriteReq;
  readonly state: Int32Array;
  readonly kAsync: number;
  readonly TCP: unknown;
}

function pendingDeprecation(): boolean {
  const flag = '--pending-deprecation';
  return process.execArgv.includes(flag) || (process.env.NODE_OPTIONS ?? '').includes(flag);
}

function loadInternals(): Internals | null {
  if (pendingDeprecation()) return null;
  try {
    const binding = (process as unknown as { binding(name: string): unknown }).binding;
    const sw = binding('stream_wrap') as Partial<StreamWrapBinding>;
    const tcp = binding('tcp_wrap') as { TCP?: unknown };
    if (
      typeof sw.WriteWrap !== 'function' ||
      !(sw.streamBaseState instanceof Int32Array) ||
      typeof sw.kLastWriteWasAsync !== 'number' ||
      typeof tcp.TCP !== 'function'
    ) {
      return null;
    }
    return {
      WriteWrap: sw.WriteWrap,
      state: sw.streamBaseState,
      kAsync: sw.kLastWriteWasAsync,
      TCP: tcp.TCP,
    };
  } catch {
    return null;
  }
}

const internals = loadInternals();

/** True when direct writes are in use (for tests and the docs' claim). */
export const directWrites = internals !== null;

/** A request object reused by every write that completes at once (the usual case). */
let spare: WriteReq | null = null;

/**
 * Direct writes libuv still holds: how many on any socket, and the bytes of each socket's (one
 * at most: a direct write waits until nothing is queued). A socket's libuv queue otherwise holds
 * only Writable's writes, which `writableLength` counts until they complete.
 */
let queuedDirect = 0;
const queuedBytes = new WeakMap<Socket, number>();

function onComplete(this: WriteReq, status: number): void {
  queuedDirect--;
  const socket = this.socket;
  this.socket = null;
  this.buffer = null;
  if (socket === null) return;
  queuedBytes.delete(socket);
  if (socket.destroyed) return;
  if (status < 0) {
    socket.destroy(writeError(status));
    return;
  }
  // The kernel took the rest. Writable never saw this write, so it will not say the socket can
  // take more: say it here, unless Writable itself waits to ('drain' once its own bytes are out).
  if (!socket.writableNeedDrain) socket.emit('drain');
}

/** The error a failed write destroys its socket with, as Node's own (`write EPIPE`). */
function writeError(errno: number): Error {
  const code = getSystemErrorName(errno);
  return Object.assign(new Error(`write ${code}`), { errno, code, syscall: 'write' });
}

function newReq(): WriteReq {
  const req = new internals!.WriteWrap();
  req.handle = null;
  req.oncomplete = onComplete;
  req.async = false;
  req.bytes = 0;
  req.buffer = null;
  req.socket = null;
  return req;
}

/** What `directHandle` reads of a socket's Writable state (its flags, without Duplex's getters). */
interface WritableFlags {
  readonly length: number;
  readonly corked: number;
  readonly ended: boolean;
  readonly destroyed: boolean;
}

/**
 * The handle `socket` can be written to directly now, or null: a plain TCP handle, nothing in
 * Writable (no buffered or in-flight bytes, not corked, not ended or destroyed), no direct write
 * of its own still queued. Writable's state is read as is: `socket.destroyed` is Duplex's getter
 * over both sides, ~0.5 % of the proxy's CPU in `perf` for what one flag answers.
 */
export function directHandle(socket: Socket): DirectHandle | null {
  if (internals === null) return null;
  const handle = (socket as unknown as { _handle?: DirectHandle | null })._handle;
  if (handle === null || handle === undefined || handle.constructor !== internals.TCP) return null;
  const ws = (socket as unknown as { _writableState: WritableFlags })._writableState;
  if (ws.length !== 0 || ws.corked !== 0 || ws.ended || ws.destroyed) return null;
  if (queuedDirect !== 0 && queuedBytes.has(socket)) return null;
  return handle;
}

/**
 * Writes `data` (a latin1 string or bytes) to `handle`, which `directHandle(socket)` returned in
 * this same turn. A failure destroys the socket.
 */
export function writeToHandle(socket: Socket, handle: DirectHandle, data: string | Uint8Array): void {
  const req = spare ?? newReq();
  const err = typeof data === 'string' ? handle.writeLatin1String(req, data) : handle.writeBuffer(req, data);
  if (internals!.state[internals!.kAsync] !== 0) {
    // libuv queued the rest: this request is the write's until it completes.
    spare = null;
    queuedDirect++;
    queuedBytes.set(socket, data.length);
    req.handle = handle;
    req.socket = socket;
    if (typeof data !== 'string') req.buffer = data;
  } else {
    spare = req;
  }
  if (err !== 0) socket.destroy(writeError(err));
}

/**
 * Writes `data` (a latin1 string or bytes) to `socket` now, if its handle can take it directly;
 * false when it cannot (the caller writes it with `socket.write`).
 */
export function writeDirect(socket: Socket, data: string | Uint8Array): boolean {
  const handle = directHandle(socket);
  if (handle === null) return false;
  writeToHandle(socket, handle, data);
  return true;
}

/** `data` written now if the handle can take it directly (writeDirect), else by `socket.write`. */
export function writeOut(socket: Socket, data: string | Uint8Array): void {
  if (writeDirect(socket, data)) return;
  if (typeof data === 'string') socket.write(data, 'latin1');
  else socket.write(data);
}

/**
 * Bytes written to `socket` that the kernel has not taken yet (at most: a queued direct write
 * counts whole): Writable's, in flight or buffered, and a direct write's. Not the handle's
 * `writeQueueSize`, which holds Writable's in-flight bytes too: counted twice, a socket could
 * look fuller than Writable's high-water mark while Writable, below it, will never emit 'drain'.
 */
export function unsentBytes(socket: Socket): number {
  const n = socket.writableLength;
  return queuedDirect === 0 ? n : n + (queuedBytes.get(socket) ?? 0);
}
