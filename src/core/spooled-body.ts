import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where a spooled body's bytes go when it is replayed. */
export interface SpoolTarget {
  /** Bytes in order; false: wait, `SpoolReplay.drained()` will be called. */
  write(chunk: Buffer): boolean;
  /** Every byte was written. */
  end(): void;
  /** The temporary file could not be read back: the body is lost. */
  fail(reason: string): void;
}

/**
 * Memory the in-memory part of a body is counted in: the overload manager's request-body budget
 * (overload/overload-manager.ts). When it cannot take more, the body goes to the file instead.
 */
export interface MemoryBudget {
  takeBody(n: number): boolean;
  giveBody(n: number): void;
  /** A body went to its file because the budget could not take it (counted: a decision). */
  bodySpilled(): void;
}

/** Prefix of the temporary files, so that an operator can tell (and clean) ours. */
export const SPOOL_PREFIX = 'traffic-body-';
const READ_CHUNK = 64 * 1024;
/** Writes in flight to the file past which `add` asks its source to wait. */
const MAX_PENDING_BYTES = 1024 * 1024;

/**
 * A whole body kept for later (the `buffering` middleware): the first `memBytes` in memory, the
 * rest in a temporary file (in `os.tmpdir()`, i.e. $TMPDIR), deleted by `dispose`. It can be
 * replayed any number of times (each try of a request). File writes and reads are asynchronous
 * (node's thread pool) with backpressure both ways: nothing blocks the event loop.
 */
export class SpooledBody {
  readonly #memBytes: number;
  readonly #mem: Buffer[] = [];
  #inMemory = 0;
  /** Total bytes added. */
  length = 0;
  #file: FileHandle | null = null;
  #opening: Promise<FileHandle> | null = null;
  #path = '';
  #fileBytes = 0;
  /** Bytes handed to the file but not written yet. */
  #pending = 0;
  #writes: Promise<unknown> = Promise.resolve();
  #error: string | null = null;
  #disposed = false;
  /** Called once the pending writes went under the limit again (after `add` returned false). */
  #onDrain: (() => void) | null = null;

  readonly #budget: MemoryBudget | null;
  readonly #memoryOnly: boolean;
  /** A memory-only body the budget could not take: its bytes are dropped from then on. */
  overBudget = false;

  /**
   * `memoryOnly`: the body is never written to a file (a middleware wants it whole in memory,
   * forwardAuth's forwardBody); when `budget` cannot take a piece, `overBudget` is set instead
   * and the caller refuses the request.
   */
  constructor(memBytes: number, budget: MemoryBudget | null = null, memoryOnly = false) {
    this.#memBytes = memBytes;
    this.#budget = budget;
    this.#memoryOnly = memoryOnly;
  }

  /** Whether part of the body went to a file. */
  get spilled(): boolean {
    return this.#path !== '';
  }

  get path(): string {
    return this.#path;
  }

  /** A write to the file failed (disk full): the body is lost. */
  get error(): string | null {
    return this.#error;
  }

  /**
   * Keeps `buf[start..end)` (copied). false: the file is behind, call again after `onDrain`.
   */
  add(buf: Buffer, start: number, end: number, onDrain: () => void): boolean {
    const n = end - start;
    if (n <= 0 || this.#disposed || this.overBudget) return true;
    this.length += n;
    if (this.#memoryOnly) {
      if (this.#budget !== null && !this.#budget.takeBody(n)) {
        this.overBudget = true;
        return true;
      }
      this.#mem.push(Buffer.from(buf.subarray(start, end)));
      this.#inMemory += n;
      return true;
    }
    const room = this.#memBytes - this.#inMemory;
    if (room > 0 && this.#fileBytes === 0 && this.#pending === 0) {
      const take = Math.min(room, n);
      // A spent budget sends the body to the file (bytes stay in order: once the file has some,
      // memory takes no more, so this is counted once per body).
      if (this.#budget === null || this.#budget.takeBody(take)) {
        this.#mem.push(Buffer.from(buf.subarray(start, start + take)));
        this.#inMemory += take;
        start += take;
        if (start === end) return true;
      } else this.#budget.bodySpilled();
    }
    const copy = Buffer.from(buf.subarray(start, end));
    this.#pending += copy.length;
    const at = this.#fileBytes;
    this.#fileBytes += copy.length;
    this.#writes = this.#writes.then(async () => {
      if (this.#disposed || this.#error !== null) return;
      try {
        const f = await this.#openFile();
        await f.write(copy, 0, copy.length, at);
      } catch (e) {
        this.#error = `temporary file ${this.#path}: ${(e as Error).message}`;
      }
      this.#pending -= copy.length;
      if (this.#pending < MAX_PENDING_BYTES / 2 && this.#onDrain !== null) {
        const d = this.#onDrain;
        this.#onDrain = null;
        d();
      }
    });
    if (this.#pending < MAX_PENDING_BYTES) return true;
    this.#onDrain = onDrain;
    return false;
  }

  /** Resolves once everything added is in memory or on disk (or failed: see `error`). */
  settled(): Promise<unknown> {
    return this.#writes;
  }

  #openFile(): Promise<FileHandle> {
    if (this.#file !== null) return Promise.resolve(this.#file);
    if (this.#opening === null) {
      this.#path = join(tmpdir(), `${SPOOL_PREFIX}${randomBytes(8).toString('hex')}`);
      this.#opening = open(this.#path, 'wx+', 0o600).then((f) => {
        this.#file = f;
        return f;
      });
    }
    return this.#opening;
  }

  /** Sends every byte to `target`, in order, with backpressure. */
  replay(target: SpoolTarget): SpoolReplay {
    const r = new SpoolReplay(this, target);
    r.start();
    return r;
  }

  /** Memory chunks, for the replay. */
  get memoryChunks(): readonly Buffer[] {
    return this.#mem;
  }

  get fileBytes(): number {
    return this.#fileBytes;
  }

  /** Reads `length` bytes of the file at `position` into a fresh buffer. */
  async readFile(position: number, length: number): Promise<Buffer> {
    await this.#writes;
    if (this.#error !== null) throw new Error(this.#error);
    const f = await this.#openFile();
    const b = Buffer.allocUnsafe(length);
    const { bytesRead } = await f.read(b, 0, length, position);
    if (bytesRead !== length) throw new Error(`temporary file ${this.#path}: short read`);
    return b;
  }

  /** Frees the memory and deletes the file (once pending writes are done). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#mem.length = 0;
    if (this.#budget !== null && this.#inMemory > 0) this.#budget.giveBody(this.#inMemory);
    this.#onDrain = null;
    if (this.#opening === null) return;
    const path = this.#path;
    const opening = this.#opening;
    void this.#writes
      .then(() => opening)
      .then((f) => f.close())
      .catch(() => {})
      .then(() => rm(path, { force: true }))
      .catch(() => {});
  }

  get disposed(): boolean {
    return this.#disposed;
  }
}

/** One replay of a spooled body into a target. */
export class SpoolReplay {
  readonly #body: SpooledBody;
  readonly #target: SpoolTarget;
  #memIndex = 0;
  #filePos = 0;
  #waiting = false;
  #reading = false;
  #stopped = false;

  constructor(body: SpooledBody, target: SpoolTarget) {
    this.#body = body;
    this.#target = target;
  }

  start(): void {
    this.#pump();
  }

  /** The target takes bytes again. */
  drained(): void {
    if (!this.#waiting) return;
    this.#waiting = false;
    this.#pump();
  }

  /** No more bytes (the try was dropped). */
  stop(): void {
    this.#stopped = true;
  }

  #pump(): void {
    const body = this.#body;
    const mem = body.memoryChunks;
    while (!this.#stopped && this.#memIndex < mem.length) {
      if (!this.#target.write(mem[this.#memIndex++]!)) {
        this.#waiting = true;
        return;
      }
    }
    if (this.#stopped || this.#reading) return;
    if (this.#filePos >= body.fileBytes) {
      this.#stopped = true;
      this.#target.end();
      return;
    }
    this.#reading = true;
    const n = Math.min(READ_CHUNK, body.fileBytes - this.#filePos);
    body.readFile(this.#filePos, n).then(
      (chunk) => {
        this.#reading = false;
        if (this.#stopped || body.disposed) return;
        this.#filePos += n;
        if (!this.#target.write(chunk)) {
          this.#waiting = true;
          return;
        }
        this.#pump();
      },
      (e: Error) => {
        this.#reading = false;
        if (this.#stopped) return;
        this.#stopped = true;
        this.#target.fail(e.message);
      },
    );
  }
}
