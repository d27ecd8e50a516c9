import type { Duplex } from 'node:stream';
import type { ProxyError } from '../core/errors.ts';
import { HeaderList } from '../core/headers.ts';
import type { ResponseHead } from '../core/request.ts';
import { bodyAllowed } from '../core/status-text.ts';
import { BODY_CHUNKED, BODY_NONE, type BodyKind } from '../http1/request-head.ts';
import type { ResponseBodyKind } from '../http1/response-head.ts';
import type { BodyTransform } from '../middleware/middleware.ts';
import type { ConnectionOwner } from '../upstream/connection.ts';
import type { OutgoingRequest, UpstreamResponse, UpstreamStream, UpstreamUser } from '../upstream/stream.ts';
import { requestFieldLines } from './heads.ts';

/** A response head after the transform: its body is re-framed, its trailers went into the body. */
class TransformedResponse implements UpstreamResponse {
  readonly status: number;
  readonly reason: string;
  readonly headers: HeaderList;
  readonly bodyKind: ResponseBodyKind;
  readonly contentLength = 0;
  readonly connectionTokens: readonly string[] | null;

  constructor(rh: ResponseHead, bodyKind: ResponseBodyKind, tokens: readonly string[] | null) {
    this.status = rh.status;
    this.reason = rh.reason;
    this.headers = rh.headers;
    this.bodyKind = bodyKind;
    this.connectionTokens = tokens;
  }
}

/** The exchange behind a transformed stream: also told the trailers the transform put in the body. */
export interface TransformUser extends UpstreamUser {
  /** The upstream's trailers, now body bytes (gRPC-Web): their grpc-status is the metrics' code. */
  transformedTrailers(trailers: HeaderList): void;
}

/**
 * A middleware's body transform (`BodyTransform`) placed on the upstream seam of one request: to
 * the exchange it is the upstream stream, to the server's pool and stream it is the user. Bytes
 * pass through the transform both ways; the request goes out with the transform's fields and an
 * open length, the response comes back re-framed (no Content-Length, no trailers).
 *
 * This is the body phase in its smallest form, for one transform per request (grpcWeb). A general
 * body phase for middlewares would chain several of these, in the route's order, the same way.
 * Requests without a transform never meet this class: the exchange hands itself to the pool.
 */
export class TransformedStream implements UpstreamStream, UpstreamUser, OutgoingRequest {
  readonly #t: BodyTransform;
  readonly #ex: TransformUser;
  #inner: UpstreamStream | null = null;
  #out: OutgoingRequest | null = null;
  #headers = new HeaderList();
  #h1 = '';
  /** The response's status has no body: what the transform adds at its end is dropped. */
  #bodyless = false;

  constructor(t: BodyTransform, exchange: TransformUser) {
    this.#t = t;
    this.#ex = exchange;
  }

  // ---- OutgoingRequest (what the inner stream sends)

  get method(): string {
    return this.#out!.method;
  }

  get target(): string {
    return this.#out!.target;
  }

  get headers(): HeaderList {
    return this.#headers;
  }

  get bodyKind(): BodyKind {
    return this.#out!.bodyKind === BODY_NONE ? BODY_NONE : BODY_CHUNKED;
  }

  get contentLength(): number {
    return 0;
  }

  get upgrade(): string | null {
    return this.#out!.upgrade;
  }

  get forwardedFor(): string | null {
    return this.#out!.forwardedFor;
  }

  h1Fields(): string {
    if (this.#h1 === '') {
      let s = requestFieldLines(this.#headers, this.#out!.forwardedFor);
      if (this.bodyKind === BODY_CHUNKED) s += 'Transfer-Encoding: chunked\r\n';
      this.#h1 = `${s}\r\n`;
    }
    return this.#h1;
  }

  // ---- UpstreamStream (driven by the exchange)

  sendHead(out: OutgoingRequest, authority: string): void {
    this.#out = out;
    const h = out.headers;
    this.#headers = h.clone();
    this.#h1 = '';
    this.#t.requestHead(this.#headers);
    this.#inner?.sendHead(this, authority);
  }

  sendBody(buf: Buffer, start: number, end: number): boolean {
    const inner = this.#inner;
    if (inner === null) return true;
    const out = this.#t.requestData(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
    return out.length === 0 ? true : inner.sendBody(out, 0, out.length);
  }

  endBody(trailers?: HeaderList | null): void {
    const inner = this.#inner;
    if (inner === null) return;
    const last = this.#t.requestEnd();
    if (last !== null) inner.sendBody(last, 0, last.length);
    inner.endBody(trailers);
  }

  cork(): void {
    this.#inner?.cork();
  }

  uncork(): void {
    this.#inner?.uncork();
  }

  pause(): void {
    this.#inner?.pause();
  }

  resume(): void {
    this.#inner?.resume();
  }

  markNotReusable(): void {
    this.#inner?.markNotReusable();
  }

  get pendingBytes(): number {
    return this.#inner?.pendingBytes ?? 0;
  }

  destroy(): void {
    const inner = this.#inner;
    this.#inner = null;
    inner?.destroy();
  }

  // ---- UpstreamUser (driven by the pool and the inner stream)

  onUpstreamReady(stream: UpstreamStream): void {
    this.#inner = stream;
    this.#ex.onUpstreamReady(this);
  }

  onConnectionAuth(owner: ConnectionOwner): void {
    this.#ex.onConnectionAuth?.(owner);
  }

  onUpstreamInterim(res: UpstreamResponse): void {
    this.#ex.onUpstreamInterim(res);
  }

  onUpstreamHead(res: UpstreamResponse, body: Buffer | null, bodyStart: number, bodyEnd: number): void {
    const inner = this.#inner;
    const rh: ResponseHead = { status: res.status, reason: res.reason, headers: res.headers };
    // The transform rewrites the fields (HeaderList.raw): never the upstream's text of them.
    res.headers.raw = null;
    this.#t.responseHead(rh);
    // The transform adds bytes after any body (gRPC-Web's trailers frame): open length unless
    // the status has no body at all (Go's server drops what is written after a 204 or 304).
    const kind = bodyAllowed(res.status) ? BODY_CHUNKED : BODY_NONE;
    this.#bodyless = kind === BODY_NONE;
    this.#ex.onUpstreamHead(new TransformedResponse(rh, kind, res.connectionTokens), null, 0, 0);
    // The whole body came with the head: it is data here (unless the exchange let go meanwhile).
    if (body !== null && this.#inner === inner && inner !== null)
      this.onUpstreamData(body, bodyStart, bodyEnd);
  }

  onUpstreamData(buf: Buffer, start: number, end: number): void {
    const out = this.#t.responseData(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
    if (out.length > 0) this.#ex.onUpstreamData(out, 0, out.length);
  }

  onUpstreamEnd(trailers: HeaderList | null): void {
    const inner = this.#inner;
    if (trailers !== null) this.#ex.transformedTrailers(trailers);
    const last = this.#t.responseEnd(trailers);
    if (last !== null && !this.#bodyless) this.#ex.onUpstreamData(last, 0, last.length);
    if (this.#inner !== inner) return; // the exchange gave up meanwhile
    this.#inner = null;
    this.#ex.onUpstreamEnd(null);
  }

  onUpstreamError(err: ProxyError, phase: 'connect' | 'head' | 'body', reused: boolean): void {
    this.#inner = null;
    this.#ex.onUpstreamError(err, phase, reused);
  }

  onInternalError(e: unknown): void {
    this.#ex.onInternalError(e);
  }

  onUpstreamDrain(): void {
    this.#ex.onUpstreamDrain();
  }

  onUpstreamUpgrade(res: UpstreamResponse, socket: Duplex, rest: Buffer | null): void {
    this.#inner = null;
    this.#ex.onUpstreamUpgrade(res, socket, rest);
  }
}
