import type { HeaderList } from '../core/headers.ts';
import { CHUNKED_INCOMPLETE, ChunkedDecoder, type ChunkSink } from '../http1/chunked.ts';
import { BODY_CHUNKED, BODY_LENGTH, type ParsedRequest } from '../http1/request-head.ts';
import type { BodyBudget } from '../overload/overload-manager.ts';
import type { OutgoingRequest, UpstreamStream } from '../upstream/stream.ts';
import { BodyRecorder } from './body-recorder.ts';

/** What the body reports to its exchange. */
export interface BodyListener {
  /** Every body byte was forwarded (and recorded, when a recorder was set up). */
  onBodyComplete(): void;
  /** The client's body broke its own framing. */
  failBody(reason: string): void;
}

/**
 * The request body of one exchange, on its way upstream: read from the client (HTTP/1.1 bytes,
 * Content-Length or chunked, or HTTP/2 DATA frames), forwarded unframed to the upstream stream
 * (which frames it for its protocol), with backpressure both ways, and recorded when a retry or a
 * mirror may need it again. Only requests that have a body allocate one.
 */
export class RequestBody implements ChunkSink {
  readonly #parsed: ParsedRequest;
  readonly #listener: BodyListener;
  /** HTTP/1.1 chunked framing to decode (an HTTP/2 body arrives unframed, as DATA). */
  readonly #decoder: ChunkedDecoder | null;
  #remaining: number;
  #up: UpstreamStream | null = null;
  recorder: BodyRecorder | null = null;
  /** The upstream did not take the last bytes: wait for its drain. */
  blocked = false;
  done = false;
  bytesIn = 0;
  /** The request-body budget this body counts in (set when its request was admitted), or null. */
  budget: BodyBudget | null = null;
  /** Bytes reserved in `budget` while the body streams (what it can hold at once). */
  reserved = 0;

  constructor(parsed: ParsedRequest, http2: boolean, listener: BodyListener) {
    this.#parsed = parsed;
    this.#listener = listener;
    this.#remaining = parsed.contentLength;
    this.#decoder = parsed.bodyKind === BODY_CHUNKED && !http2 ? new ChunkedDecoder() : null;
  }

  /** Counts this body in `budget`: `reserved` bytes were taken there for it. */
  hold(budget: BodyBudget, reserved: number): void {
    this.budget = budget;
    this.reserved = reserved;
  }

  /** The request is over: whatever the body still counts in the budget is given back. */
  release(): void {
    const b = this.budget;
    if (b === null) return;
    this.budget = null;
    if (this.reserved !== 0) b.giveBody(this.reserved);
    this.reserved = 0;
    this.recorder?.release();
  }

  /** Keeps a copy of what is forwarded, up to `limit` bytes. */
  record(limit: number): BodyRecorder {
    const r = new BodyRecorder(limit, this.budget);
    if (this.#parsed.bodyKind === BODY_LENGTH && this.#parsed.contentLength > limit) r.overflow = true;
    this.recorder = r;
    return r;
  }

  /** Whether a try may send this body again: nothing was sent yet, or all of it was kept. */
  replayable(maxBytes: number): boolean {
    const r = this.recorder;
    return r !== null && !r.overflow && r.length <= maxBytes;
  }

  get error(): string | null {
    return this.#decoder?.error ?? null;
  }

  /** The stream body bytes go to from now on (a new try), or null (none yet / dropped). */
  attach(up: UpstreamStream | null): void {
    this.#up = up;
    this.blocked = false;
  }

  get canTake(): boolean {
    return this.#up !== null && !this.blocked;
  }

  /**
   * A new try on `up`: the head, then every byte recorded so far (the rest follows live). Only
   * called when the body is replayable or nothing of it was read yet.
   */
  replay(up: UpstreamStream, out: OutgoingRequest, authority: string): void {
    const r = this.recorder;
    up.cork();
    up.sendHead(out, authority);
    if (r !== null && r.length > 0) up.sendBody(r.bytes(), 0, r.length);
    if (this.done) up.endBody();
    up.uncork();
  }

  /**
   * HTTP/1.1: forwards body bytes from `buf[start..end)`; returns the offset up to which bytes
   * were consumed (bytes after the body belong to the next request). -1 on a malformed body.
   */
  feed(buf: Buffer, start: number, end: number): number {
    if (this.#parsed.bodyKind === BODY_LENGTH) {
      const n = Math.min(end - start, this.#remaining);
      if (n > 0) {
        this.#remaining -= n;
        this.#forward(buf, start, start + n);
      }
      if (this.#remaining === 0) this.#complete();
      return start + n;
    }
    const up = this.#up!;
    const decoder = this.#decoder!;
    up.cork();
    const r = decoder.feed(buf, start, end, this);
    if (r >= 0) this.#complete();
    up.uncork();
    if (r === CHUNKED_INCOMPLETE) return end;
    if (r < 0) return -1;
    return r;
  }

  /**
   * HTTP/2: one DATA frame's payload. With the client's content-length it must fit it (nghttp2
   * holds the DATA total to that value, RFC 9113 §8.1.1); without, its length is open.
   */
  feedData(buf: Buffer): void {
    if (this.#parsed.bodyKind === BODY_LENGTH) {
      if (this.feed(buf, 0, buf.length) !== buf.length)
        this.#listener.failBody('body longer than content-length');
      return;
    }
    if (buf.length === 0 || this.done) return;
    this.#forward(buf, 0, buf.length);
  }

  /** HTTP/2: the client ended its stream (END_STREAM), with its trailer fields or null. */
  endData(trailers: HeaderList | null): void {
    if (this.done) return;
    if (this.#parsed.bodyKind !== BODY_CHUNKED) {
      this.#listener.failBody('body shorter than content-length');
      return;
    }
    this.#complete(trailers);
  }

  /** ChunkSink: one decoded chunk of an HTTP/1.1 chunked body. */
  onChunkData(buf: Buffer, start: number, end: number): void {
    this.#forward(buf, start, end);
  }

  #forward(buf: Buffer, start: number, end: number): void {
    this.bytesIn += end - start;
    this.recorder?.add(buf, start, end);
    if (!this.#up!.sendBody(buf, start, end)) this.blocked = true;
  }

  #complete(trailers: HeaderList | null = null): void {
    this.done = true;
    // Every byte went upstream: only a copy kept for a retry or a mirror still holds memory.
    if (this.reserved !== 0) {
      this.budget?.giveBody(this.reserved);
      this.reserved = 0;
    }
    this.#up!.endBody(trailers);
    this.#listener.onBodyComplete();
  }
}
