import type { HeaderList } from '../core/headers.ts';
import { BODY_LENGTH, BODY_NONE, CONNECT_TUNNEL, type ParsedRequest } from '../http1/request-head.ts';
import type { ClientExchange } from '../proxy/client-sink.ts';
import type { OwnTunnel } from './own-tunnel.ts';

/** The stream side a request body works with. */
export interface BodyOwner {
  readonly id: number;
  readonly exchange: ClientExchange | null;
  readonly tunnel: OwnTunnel | null;
  /** The DATA broke a rule of the request (§8.1.1): the stream is reset. */
  protocolError(): void;
  /** END_STREAM arrived (the stream may be over). */
  bodyEnded(): void;
  /** Stream credit back to the client (WINDOW_UPDATE). */
  windowUpdate(n: number): void;
}

/**
 * A stream's request body on its way in: DATA is fed to the exchange as fast as the upstream
 * takes it, and what it does not take (or what came before the exchange started, in the read
 * that opened the stream) waits here. Stream credit goes back only for bytes the exchange took,
 * so a client can never have more than our SETTINGS_INITIAL_WINDOW_SIZE waiting on a stream.
 */
export class RequestBody {
  readonly #owner: BodyOwner;
  readonly #windowSize: number;
  /** Credit the client has to send DATA on this stream. */
  recvWindow: number;
  /** END_STREAM received. */
  ended: boolean;
  #unacked = 0;
  #pending: Buffer[] | null = null;
  /** Content-length announced by the request (-1: none); DATA must add up to it. */
  #declared = -1;
  #received = 0;
  #trailers: HeaderList | null = null;
  #endDelivered = false;

  constructor(owner: BodyOwner, windowSize: number, ended: boolean) {
    this.#owner = owner;
    this.#windowSize = windowSize;
    this.recvWindow = windowSize;
    this.ended = ended;
  }

  /** Known from the HEADERS on, before the exchange starts (DATA may come in the same read). */
  expectLength(p: ParsedRequest): void {
    if (p.bodyKind === BODY_LENGTH) this.#declared = p.contentLength;
    else if (p.bodyKind === BODY_NONE) {
      if (p.upgrade === null) this.#declared = 0;
      // A CONNECT with `content-length: 0` is one without a length to the backend (Traefik's
      // connectHandler defers its payload: ContentLength 0 is not > 0), but Go's server still
      // holds the client to it: a DATA byte is a stream error (PROTOCOL_ERROR, "sender tried to
      // send more than declared Content-Length"), before or after the backend's 2xx.
      else if (p.upgrade === CONNECT_TUNNEL && p.contentLength === 0) this.#declared = 0;
    }
  }

  /** A DATA payload (flow control accounted); `keep` is memory the body may hold. */
  onData(keep: Buffer, endStream: boolean): void {
    this.#received += keep.length;
    const o = this.#owner;
    if (this.#declared >= 0 && this.#received > this.#declared) {
      o.protocolError();
      return;
    }
    const t = o.tunnel;
    if (t !== null) t.onData(keep);
    else {
      const ex = o.exchange;
      if (ex === null || ex.done || this.#pending !== null || !ex.canTakeBody) {
        if (ex?.done) this.credit(keep.length);
        else if (this.#pending === null) this.#pending = [keep];
        else this.#pending.push(keep);
      } else {
        this.credit(keep.length);
        try {
          ex.feedData(keep);
        } catch (e) {
          ex.onInternalError(e);
          return;
        }
      }
    }
    if (endStream) this.onEnd(null);
  }

  /** END_STREAM, with the request's trailer fields when it ended with them. */
  onEnd(trailers: HeaderList | null): void {
    const o = this.#owner;
    if (this.#declared >= 0 && this.#received !== this.#declared) {
      o.protocolError();
      return;
    }
    this.ended = true;
    this.#trailers = trailers;
    if (o.tunnel !== null) o.tunnel.onEnd();
    else this.resume();
    o.bodyEnded();
  }

  /** The upstream takes body bytes again: feed what waits, then the end. */
  resume(): void {
    const ex = this.#owner.exchange;
    if (ex === null) return;
    try {
      const p = this.#pending;
      if (p !== null) {
        while (p.length > 0) {
          if (ex.done || !ex.canTakeBody) return;
          const b = p.shift()!;
          this.credit(b.length);
          ex.feedData(b);
        }
        this.#pending = null;
      }
      if (ex.done || !ex.canTakeBody || !this.ended || this.#endDelivered) return;
      this.#endDelivered = true;
      ex.endData(this.#trailers);
    } catch (e) {
      ex.onInternalError(e);
    }
  }

  /** Stream credit for `n` bytes taken, returned in batches of half the window. */
  credit(n: number): void {
    this.#unacked += n;
    if (this.#unacked >= this.#windowSize >> 1 && !this.ended) {
      this.recvWindow += this.#unacked;
      this.#owner.windowUpdate(this.#unacked);
      this.#unacked = 0;
    }
  }

  /** What waits, handed to a tunnel (its first bytes), or dropped (the stream closed). */
  takePending(): Buffer[] | null {
    const p = this.#pending;
    this.#pending = null;
    return p;
  }
}
