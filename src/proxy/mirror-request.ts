/**
 * One mirrored request (Traefik's `mirroring` service): a copy of a client request sent to a
 * mirror service, whose response is read to the end and reduced to a MirrorResult (status,
 * selected headers, body digest) for comparison with the primary response. Nothing about a
 * mirror may reach the client: every failure is a result, never an exception.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { ProxyError } from '../core/errors.ts';
import type { HeaderList } from '../core/headers.ts';
import type { Ticker, Timed } from '../core/ticker.ts';
import { IDEMPOTENT_METHODS } from '../http1/chars.ts';
import { BODY_LENGTH, BODY_NONE, type BodyKind } from '../http1/request-head.ts';
import type { MirrorResult } from '../observability/mirror-compare.ts';
import type {
  OutgoingRequest,
  StreamSource,
  UpstreamResponse,
  UpstreamStream,
  UpstreamUser,
} from '../upstream/stream.ts';
import { mirrorHeadTail } from './heads.ts';

export type { MirrorResult } from '../observability/mirror-compare.ts';

export interface MirrorRequestOptions {
  /** Lowercase names of the response headers to capture. */
  readonly headers: readonly string[];
  readonly digest: boolean;
  /** Whole-exchange limit (connect + response head + body); 0 = only the pool's own timeouts. */
  readonly timeoutMs: number;
}

/** `error` of a mirror that did not complete within timeoutMs. */
export const MIRROR_TIMEOUT = 'timeout';
/** `error` of a mirror stopped by abort(). */
export const MIRROR_ABORTED = 'aborted';

const NO_HEADERS: Readonly<Record<string, string | undefined>> = Object.freeze({});

/**
 * Reduces one response to a MirrorResult. Used for mirrors by MirrorRequest and for the primary
 * by the exchange, so that both sides capture headers and hash bodies the same way (a comparison
 * of two differently computed values would report mismatches that are not there).
 */
export class ResponseCapture {
  status = 0;
  headers: Readonly<Record<string, string | undefined>> = NO_HEADERS;
  bytes = 0;
  readonly #names: readonly string[];
  #hash: Hash | null;

  constructor(names: readonly string[], digest: boolean) {
    this.#names = names;
    this.#hash = digest ? createHash('sha256') : null;
  }

  /** The final response head (call before response middlewares edit the headers). */
  head(status: number, headers: HeaderList): void {
    this.status = status;
    const names = this.#names;
    if (names.length === 0) return;
    const out: Record<string, string | undefined> = {};
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const all = headers.getAll(name);
      // RFC 9110 §5.3: several field lines of one name are equivalent to one comma-joined line.
      out[name] = all.length === 0 ? undefined : all.length === 1 ? all[0] : all.join(', ');
    }
    this.headers = out;
  }

  /** Decoded body bytes `buf[start..end)`. */
  data(buf: Buffer, start: number, end: number): void {
    if (end <= start) return;
    this.bytes += end - start;
    this.#hash?.update(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
  }

  /** The body ended cleanly. Call once. */
  result(): MirrorResult {
    const hash = this.#hash;
    this.#hash = null;
    return {
      ok: true,
      status: this.status,
      headers: this.headers,
      digest: hash === null ? null : hash.digest('hex'),
      error: null,
      bytes: this.bytes,
    };
  }

  /** The exchange failed: status 0, no headers, no digest. */
  failure(error: string): MirrorResult {
    this.#hash = null;
    return { ok: false, status: 0, headers: NO_HEADERS, digest: null, error, bytes: this.bytes };
  }
}

/**
 * The copy of a client request that mirrors send: its method, target and fields as forwarded,
 * framed by Content-Length over the recorded (de-chunked) body, or without a body at all. One per
 * mirrored request, shared by its mirrors.
 */
export class MirrorCopy implements OutgoingRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: HeaderList;
  readonly bodyKind: BodyKind;
  readonly contentLength: number;
  /** Mirrors never copy a protocol switch (a WebSocket handshake is not mirrored). */
  readonly upgrade = null;
  /** The peer appended to each mirror's X-Forwarded-For, as to the request's own (or null). */
  readonly forwardedFor: string | null;
  readonly body: Buffer | null;
  #h1 = '';

  constructor(
    method: string,
    target: string,
    headers: HeaderList,
    body: Buffer | null,
    forwardedFor: string | null,
  ) {
    this.method = method;
    this.target = target;
    this.headers = headers;
    this.forwardedFor = forwardedFor;
    this.body = body !== null && body.length > 0 ? body : null;
    this.contentLength = this.body === null ? 0 : this.body.length;
    this.bodyKind = this.body === null ? BODY_NONE : BODY_LENGTH;
  }

  h1Fields(): string {
    if (this.#h1 === '')
      this.#h1 = mirrorHeadTail(this.headers, this.method, this.contentLength, this.forwardedFor);
    return this.#h1;
  }
}

/**
 * Sends `copy` through `pool` (to `authority`) and reports the response as one MirrorResult.
 *
 * Contract: `done` is called exactly once per MirrorRequest, including after abort() (with
 * error 'aborted', synchronously inside abort()) and when the pool fails at once (synchronously
 * inside start()). One completion path means a caller that counts mirrors in flight always gets
 * its decrement. `done` must not throw: it may run inside a socket handler or the ticker sweep.
 */
export class MirrorRequest implements UpstreamUser, Timed {
  deadline = 0;
  tickerSlot = -1;
  readonly #pool: StreamSource;
  readonly #ticker: Ticker;
  readonly #copy: MirrorCopy;
  readonly #authority: string;
  readonly #timeoutMs: number;
  readonly #done: (r: MirrorResult) => void;
  readonly #capture: ResponseCapture;
  #stream: UpstreamStream | null = null;
  #retriedFresh = false;
  #started = false;
  #finished = false;
  /**
   * The status the proxy's error answer would have had, once the mirror failed (502 for the
   * server, 504 for the timeout, 500 for a bug; 0 when aborted or not failed): its service's
   * `code` in the metrics.
   */
  failStatus = 0;

  constructor(
    pool: StreamSource,
    ticker: Ticker,
    copy: MirrorCopy,
    authority: string,
    opts: MirrorRequestOptions,
    done: (r: MirrorResult) => void,
  ) {
    this.#pool = pool;
    this.#ticker = ticker;
    this.#copy = copy;
    this.#authority = authority;
    this.#timeoutMs = opts.timeoutMs;
    this.#done = done;
    this.#capture = new ResponseCapture(opts.headers, opts.digest);
  }

  start(): void {
    if (this.#started || this.#finished) return;
    this.#started = true;
    if (this.#timeoutMs > 0) {
      const ticker = this.#ticker;
      // Ticker.now is refreshed only per sweep; add() refreshes it when the sweep was idle.
      ticker.add(this);
      this.deadline = ticker.now + this.#timeoutMs;
    }
    // The method decides response framing (a response to HEAD has no body, RFC 9112 §6.3).
    this.#pool.acquire(this, this.#copy.method);
  }

  /** Stops the mirror: destroys its connection (or withdraws from the pool) and reports 'aborted'. */
  abort(): void {
    if (this.#finished) return;
    this.#drop();
    this.#finish(this.#capture.failure(MIRROR_ABORTED));
  }

  onDeadline(): void {
    if (this.#finished) return;
    this.failStatus = 504;
    this.#drop();
    this.#finish(this.#capture.failure(MIRROR_TIMEOUT));
  }

  #drop(): void {
    const stream = this.#stream;
    this.#stream = null;
    if (stream !== null) stream.destroy();
    else if (this.#started) this.#pool.cancel(this);
  }

  #finish(r: MirrorResult): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#stream = null;
    if (this.#timeoutMs > 0) {
      this.deadline = 0;
      this.#ticker.delete(this);
    }
    this.#done(r);
  }

  // ---- UpstreamUser

  onUpstreamReady(stream: UpstreamStream): void {
    if (this.#finished) {
      stream.destroy();
      return;
    }
    this.#stream = stream;
    const copy = this.#copy;
    const body = copy.body;
    stream.cork();
    stream.sendHead(copy, this.#authority);
    if (body !== null) {
      stream.sendBody(body, 0, body.length);
      stream.endBody();
    }
    stream.uncork();
  }

  onUpstreamInterim(_res: UpstreamResponse): void {
    // 100 Continue / 103 Early Hints say nothing about the final response being compared.
  }

  onUpstreamHead(res: UpstreamResponse, body: Buffer | null, bodyStart: number, bodyEnd: number): void {
    const stream = this.#stream;
    // An answer while request bytes are still queued: the server did not read the whole request,
    // so the connection's state is undefined; do not hand it to the next request.
    if (stream !== null && stream.pendingBytes > 0) stream.markNotReusable();
    this.#capture.head(res.status, res.headers);
    if (body !== null) this.#capture.data(body, bodyStart, bodyEnd);
  }

  onUpstreamData(buf: Buffer, start: number, end: number): void {
    this.#capture.data(buf, start, end);
  }

  onUpstreamEnd(_trailers: HeaderList | null): void {
    this.#finish(this.#capture.result());
  }

  onUpstreamError(err: ProxyError, phase: 'connect' | 'head' | 'body', reused: boolean): void {
    if (this.#finished) return;
    this.#stream = null;
    if (
      phase === 'head' &&
      reused &&
      !this.#retriedFresh &&
      this.#copy.body === null &&
      IDEMPOTENT_METHODS.has(this.#copy.method)
    ) {
      // The keep-alive race (the server closed an idle socket as we wrote): replay once on a
      // fresh connection, as the exchange does (RFC 9112 §9.3.1), instead of reporting a
      // mirror error that says nothing about the mirror's answer.
      this.#retriedFresh = true;
      this.#pool.acquire(this, this.#copy.method, true);
      return;
    }
    this.failStatus = err.status;
    this.#finish(this.#capture.failure(`${err.code}: ${err.message}`));
  }

  onInternalError(e: unknown): void {
    // The connection destroyed itself before calling this.
    this.failStatus = 500;
    this.#finish(this.#capture.failure(`INTERNAL: ${e instanceof Error ? e.message : String(e)}`));
  }

  onUpstreamUpgrade(_res: UpstreamResponse, socket: Duplex, _rest: Buffer | null): void {
    // Never asked for (a mirror copy has no upgrade); the connection is not HTTP any more.
    socket.destroy();
    this.failStatus = 502;
    this.#finish(this.#capture.failure('unexpected protocol switch'));
  }

  onUpstreamDrain(): void {
    // The whole body is written at once; nothing waits for drain.
  }
}
