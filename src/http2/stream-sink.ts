import { createHash } from 'node:crypto';
import type { ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { HeaderList } from '../core/headers.ts';
import type { SocketAddresses } from '../core/proxy-protocol.ts';
import type { ResponseHead } from '../core/request.ts';
import { statusText } from '../core/status-text.ts';
import type { Timed } from '../core/ticker.ts';
import { BODY_NONE, CONNECT_TUNNEL } from '../http1/request-head.ts';
import type { ClientExchange, ClientSink, ClientTunnelSide } from '../proxy/client-sink.ts';
import type { EntryPointContext } from '../proxy/entry-point-context.ts';
import { grpcKind, toGrpcAnswer, trailersOnlyFields } from '../proxy/grpc-status.ts';
import { PLAIN_TEXT_FIELDS } from '../proxy/heads.ts';
import { UpstreamAffinity } from '../upstream/affinity.ts';
import { headerListOf, trailersObject } from '../upstream/h2-fields.ts';
import { TUNNEL_RESET, type UpstreamResponse } from '../upstream/stream.ts';
import {
  directResponseFields,
  interimFields,
  isGrpcResponse,
  responseHeadFields,
  upstreamResponseFields,
} from './response-fields.ts';
import { armStreamTimers, UNTIMED } from './stream-timers.ts';

/** RFC 9113 §7 error codes we send. */
export const H2_NO_ERROR = 0;
export const H2_INTERNAL_ERROR = 2;
export const H2_REFUSED_STREAM = 7;
export const H2_ENHANCE_YOUR_CALM = 0xb;

/** The session side a stream reports to. */
export interface StreamOwner {
  readonly ctx: EntryPointContext;
  readonly clientIp: string;
  /** The client reset a stream before our response ended (rapid-reset accounting). */
  peerReset(): void;
  streamClosed(): void;
  /** The session's own upstream pools (NTLM, Negotiate servers): ClientSink.affinity. */
  affinity?: UpstreamAffinity | null;
}

const SINK = Symbol('traffic.h2.sink');
interface OwnedStream extends ServerHttp2Stream {
  [SINK]: Http2StreamSink;
}

// Listeners shared by every stream (no closure per request): `this` is the stream.
function onData(this: OwnedStream, chunk: Buffer): void {
  this[SINK].onData(chunk);
}
function onEnd(this: OwnedStream): void {
  this[SINK].onEnd();
}
function onDrain(this: OwnedStream): void {
  this[SINK].onDrain();
}
function onAborted(this: OwnedStream): void {
  this[SINK].onAborted();
}
function onClose(this: OwnedStream): void {
  this[SINK].onClose();
}
function onTrailers(this: OwnedStream, _h: unknown, _flags: number, raw: string[]): void {
  this[SINK].onTrailers(raw);
}
function onWantTrailers(this: OwnedStream): void {
  this[SINK].onWantTrailers();
}
/** A stream error always ends in 'close', which is where the exchange learns about it. */
function ignoreError(): void {}
function stopUpload(s: ServerHttp2Stream): void {
  if (!s.destroyed && !s.closed) s.close(H2_NO_ERROR);
}

const END_STREAM = { endStream: true } as const;
const WAIT_FOR_TRAILERS = { waitForTrailers: true } as const;

/** What ends a gRPC response whose upstream broke mid-stream: UNAVAILABLE, as for a refused call. */
const GRPC_BROKEN: Record<string, string> = {
  'grpc-status': '14',
  'grpc-message': 'upstream connection broken',
};

/** RFC 6455 §4.2.2: the Sec-WebSocket-Accept a server derives from the client's key. */
export function websocketAccept(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/**
 * One HTTP/2 stream as a `ClientSink`: the response head becomes a HEADERS frame (`respond`),
 * body bytes DATA frames with node's backpressure (`write` → 'drain'), a broken response a
 * RST_STREAM (never END_STREAM). The request body arrives as 'data' events and is fed to the
 * exchange as fast as the upstream takes it; while it does not, the stream is paused, which
 * withholds WINDOW_UPDATEs from the client (HTTP/2 flow control does the rest).
 */
/** Frames waiting in nghttp2's outbound queue past which a 1xx is dropped (Http2StreamSink.interim). */
const INTERIM_QUEUE_LIMIT = 64;

export class Http2StreamSink implements ClientSink, Timed {
  readonly clientIp: string;
  readonly http2 = true;
  deadline = 0;
  tickerSlot = -1;
  readonly #stream: OwnedStream;
  readonly #owner: StreamOwner;
  #ex: ClientExchange | null = null;
  #started = false;
  /** Request DATA received while the upstream could not take it. */
  #pending: Buffer[] | null = null;
  /** END_STREAM received: every request byte has been delivered. */
  #clientEnded: boolean;
  /** Our side of the stream ended (the response is complete, or refused). */
  #ended = false;
  #resetByUs = false;
  #timed = false;
  /** writeTimeout's deadline on the ticker's clock, 0 = none. */
  #writeBy = 0;
  /** The stream became a tunnel's (extended CONNECT): its end is the tunnel's business. */
  #tunneled = false;
  /** The client's trailer fields (HTTP/2 requests may end with them; gRPC's rarely do). */
  #reqTrailers: HeaderList | null = null;
  /** The response was sent with `waitForTrailers`: its end sends these (or none). */
  #waitTrailers = false;
  #trailers: Record<string, string | string[]> | null = null;
  /** The response is gRPC: a broken upstream ends it with grpc-status UNAVAILABLE. */
  #grpc = false;
  /** The request is still coming though the response is over: RST_STREAM(NO_ERROR) after the trailers. */
  #stopUpload = false;

  constructor(stream: ServerHttp2Stream, owner: StreamOwner, endStream: boolean) {
    const s = stream as OwnedStream;
    s[SINK] = this;
    this.#stream = s;
    this.#owner = owner;
    this.clientIp = owner.clientIp;
    this.#clientEnded = endStream;
    s.on('error', ignoreError);
    s.on('aborted', onAborted);
    s.on('close', onClose);
  }

  get peer(): SocketAddresses | undefined {
    return this.#stream.session?.socket;
  }

  get affinity(): UpstreamAffinity | null {
    return this.#owner.affinity ?? null;
  }

  ownAffinity(): UpstreamAffinity {
    const o = this.#owner;
    o.affinity ??= new UpstreamAffinity();
    return o.affinity;
  }

  get serverName(): string | undefined {
    const s = this.#stream.session?.socket as Partial<TLSSocket> | undefined;
    return s?.encrypted === true ? s.servername || undefined : undefined;
  }

  get started(): boolean {
    return this.#started;
  }

  /**
   * Starts the exchange. Called once the read that carried the HEADERS frame has been processed
   * whole, so that a stream the client reset in the same read (rapid reset) costs no routing and
   * no upstream work.
   */
  start(ex: ClientExchange): void {
    const s = this.#stream;
    if (s.closed || s.destroyed) return;
    this.#ex = ex;
    this.#started = true;
    s.on('drain', onDrain);
    if (ex.parsed.upgrade !== null && ex.parsed.bodyKind === BODY_NONE) {
      // An extended CONNECT (RFC 8441) or a plain one: the stream's DATA is the tunnel's, read
      // once the backend accepted the switch; no request body, no request read timeout. (A plain
      // CONNECT with a content-length has that body instead, sent at once as Traefik does.)
      s.pause();
    } else if (!this.#clientEnded) {
      s.on('data', onData);
      s.on('end', onEnd);
      s.on('trailers', onTrailers);
    }
    // readTimeout bounds the request body and, from the request's start, the wait for the
    // response head (a frozen backend); writeTimeout the whole stream: see onDeadline. A tunnel
    // has neither.
    if (ex.parsed.upgrade === null) {
      const writeBy = armStreamTimers(this.#owner.ctx, this);
      if (writeBy !== UNTIMED) {
        this.#timed = true;
        this.#writeBy = writeBy;
      }
    }
    try {
      ex.start();
    } catch (e) {
      ex.onInternalError(e);
    }
  }

  /** A request refused before it became an exchange (malformed, 431, 501). */
  reject(status: number): void {
    const s = this.#stream;
    if (s.closed || s.destroyed) return;
    this.#ended = true;
    const text = statusText(status);
    s.respond(
      directResponseFields(
        { status, reason: text, headers: HeaderList.from(PLAIN_TEXT_FIELDS) },
        text.length,
      ),
    );
    s.end(text, 'latin1');
    // The rest of the request is of no use: RST_STREAM(NO_ERROR) once the answer is out (RFC 9113 §8.1).
    if (!this.#clientEnded) s.close(H2_NO_ERROR);
  }

  // ---- request body

  onData(chunk: Buffer): void {
    const ex = this.#ex!;
    if (ex.done) return;
    if (this.#pending !== null || !ex.canTakeBody) {
      if (this.#pending === null) this.#pending = [chunk];
      else this.#pending.push(chunk);
      this.#stream.pause();
      return;
    }
    try {
      ex.feedData(chunk);
    } catch (e) {
      ex.onInternalError(e);
      return;
    }
    if (!ex.done && !ex.bodyDone && !ex.canTakeBody) this.#stream.pause();
  }

  onTrailers(raw: string[]): void {
    this.#reqTrailers = headerListOf(raw);
  }

  onEnd(): void {
    this.#clientEnded = true;
    const ex = this.#ex!;
    if (ex.done || this.#pending !== null || !ex.canTakeBody) return; // resumeBody finishes it
    try {
      ex.endData(this.#reqTrailers);
    } catch (e) {
      ex.onInternalError(e);
    }
  }

  resumeBody(): void {
    const ex = this.#ex!;
    try {
      const p = this.#pending;
      if (p !== null) {
        while (p.length > 0) {
          if (ex.done || !ex.canTakeBody) return;
          ex.feedData(p.shift()!);
        }
        this.#pending = null;
      }
      if (ex.done || !ex.canTakeBody) return;
      if (this.#clientEnded) ex.endData(this.#reqTrailers);
      else this.#stream.resume();
    } catch (e) {
      ex.onInternalError(e);
    }
  }

  onDeadline(now: number): void {
    const writeBy = this.#writeBy;
    if (writeBy !== 0 && now >= writeBy) {
      this.#writeTimedOut();
      return;
    }
    const ex = this.#ex;
    if (ex !== null && !ex.done) {
      // readTimeout: the whole request did not arrive in time, or no response head did.
      if (!ex.bodyDone) ex.failBody('request read timeout', 408);
      else if (!ex.responseStarted) ex.readTimeoutBeforeHead();
    }
    // The exchange may be done while node still holds the end of the response for a client
    // that does not read: writeTimeout runs until the stream closes.
    if (writeBy !== 0) this.deadline = writeBy;
  }

  /**
   * writeTimeout: the response was not written in time. As Go's HTTP/2 server (Traefik), the
   * stream is reset with INTERNAL_ERROR, the connection and its other streams go on.
   */
  #writeTimedOut(): void {
    const s = this.#stream;
    if (s.destroyed || s.closed) return;
    this.#owner.ctx.logger.debug('response write timeout', {
      clientIp: this.clientIp,
      entryPoint: this.#owner.ctx.name,
      protocol: 'HTTP/2.0',
    });
    this.#resetByUs = true;
    // destroy(err) is RST_STREAM(INTERNAL_ERROR); 'close' follows and aborts the exchange.
    s.destroy(new Error('response write timeout'));
  }

  // ---- stream lifecycle

  onDrain(): void {
    this.#ex?.onClientDrain();
  }

  onAborted(): void {
    if (!this.#resetByUs) this.#owner.peerReset();
  }

  onClose(): void {
    if (this.#timed) {
      this.#timed = false;
      this.#owner.ctx.ticker.delete(this);
    }
    const ex = this.#ex;
    if (ex !== null && !ex.done) ex.abort();
    this.#owner.streamClosed();
  }

  // ---- ClientSink

  interim(_ex: ClientExchange, res: UpstreamResponse): boolean {
    const s = this.#stream;
    if (s.headersSent || s.destroyed || s.closed) return true;
    if (res.status === 100) {
      s.additionalHeaders({ ':status': 100 });
      return true;
    }
    // node:http2 queues HEADERS in nghttp2 without bound while the socket is full (a client that
    // does not read), and says nothing when it drains: further 1xx are dropped meanwhile, as
    // from an HTTP/2 backend (exchange.onUpstreamInterim). They are hints; the final response
    // is not held back. Without this, a backend's flood of 103s was all taken and queued
    // (test/e2e/interim-flood.test.ts, node engine).
    const session = s.session;
    if (session !== undefined && (session.state.outboundQueueSize ?? 0) > INTERIM_QUEUE_LIMIT) return true;
    s.additionalHeaders(interimFields(res)); // 102, 103, 104… (Http1Sink.interim)
    return true;
  }

  head(
    _ex: ClientExchange,
    status: number,
    _reason: string,
    res: UpstreamResponse,
    extra: string,
    _close: boolean,
    body: Buffer | null,
    bodyStart: number,
    bodyEnd: number,
  ): boolean {
    const s = this.#stream;
    if (s.destroyed || s.closed) return false; // the client is gone; 'close' aborts the exchange
    const fields = responseHeadFields(status, res, extra);
    if (body !== null) {
      s.respond(fields);
      this.#ended = true;
      if (s.writableEnded) return false; // HEAD, 204, 304: node ended the stream with the head
      s.end(bodyStart === 0 && bodyEnd === body.length ? body : body.subarray(bodyStart, bodyEnd));
      return false;
    }
    if (res.bodyKind === BODY_NONE) {
      this.#ended = true;
      s.respond(fields, END_STREAM);
      return false;
    }
    if (res.trailers === true) {
      // An HTTP/2 upstream may end the body with trailers (gRPC's status): wait for them.
      this.#waitTrailers = true;
      this.#grpc = isGrpcResponse(res);
      s.on('wantTrailers', onWantTrailers);
      s.respond(fields, WAIT_FOR_TRAILERS);
    } else s.respond(fields);
    if (s.writableEnded) this.#ended = true;
    return false;
  }

  onWantTrailers(): void {
    const s = this.#stream;
    this.#waitTrailers = false;
    if (s.destroyed) return;
    try {
      // No trailers: node ends the stream with an empty DATA frame instead (END_STREAM).
      s.sendTrailers(this.#trailers ?? {});
    } catch {
      // A field node will not send: the response cannot end cleanly.
      this.#resetByUs = true;
      s.destroy(new Error('response trailers refused'));
      return;
    }
    // The RST_STREAM must leave after the trailers: node writes submitted frames from a native
    // immediate, which runs before this one.
    if (this.#stopUpload) setImmediate(stopUpload, s);
  }

  data(buf: Buffer, start: number, end: number): boolean {
    const s = this.#stream;
    if (this.#ended || s.destroyed) return true;
    return s.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
  }

  end(trailers: HeaderList | null): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#waitTrailers && trailers !== null) this.#trailers = trailersObject(trailers);
    if (!this.#stream.destroyed) this.#stream.end();
  }

  direct(ex: ClientExchange, rh: ResponseHead, body: string, bodyBytes: number, _close: boolean): boolean {
    const s = this.#stream;
    if (s.destroyed || s.closed || s.headersSent) return false;
    this.#ended = true;
    if (rh.status >= 400) {
      const kind = grpcKind(ex.req.headers);
      if (kind !== 0) {
        // A gRPC call learns of our errors from grpc-status: a trailers-only answer.
        toGrpcAnswer(rh, kind, ex.req.headers.get('content-type')!, body);
        s.respond(trailersOnlyFields(rh), END_STREAM);
        return false;
      }
    }
    const fields = directResponseFields(rh, bodyBytes);
    if (bodyBytes === 0 || ex.req.method === 'HEAD') s.respond(fields, END_STREAM);
    else {
      s.respond(fields);
      if (!s.writableEnded) s.end(body, 'utf8');
    }
    return false;
  }

  /**
   * RFC 8441 §5: the backend's 101 to our HTTP/1.1 handshake becomes a 200 to the client's
   * extended CONNECT. The handshake fields belong to the HTTP/1.1 hop: Sec-WebSocket-Accept is
   * checked against the key we sent (a backend that did not compute it did not speak WebSocket:
   * 502) and not relayed; Sec-WebSocket-Protocol and -Extensions are.
   */
  upgrade(
    ex: ClientExchange,
    status: number,
    _reason: string,
    res: UpstreamResponse,
    extra: string,
  ): ClientTunnelSide | null {
    const s = this.#stream;
    if (s.destroyed || s.closed || s.headersSent) return null;
    this.#ended = true;
    if (ex.parsed.upgrade === CONNECT_TUNNEL) {
      // A plain CONNECT's 2xx, relayed without framing fields (RFC 9110 §9.3.6), as Traefik
      // v3.7.12 tunnels it (pkg/proxy/httputil/connect.go).
      s.respond(upstreamResponseFields(status, res, extra, true));
      this.#tunneled = true;
      // Broken on the upstream's side: RST_STREAM(INTERNAL_ERROR) as Traefik's aborted handler
      // (own-tunnel.ts OwnTunnel.broken); node's destroy() alone would say NO_ERROR.
      (s as typeof s & { [TUNNEL_RESET]?: (d: Duplex) => void })[TUNNEL_RESET] = abortTunnel;
      return { stream: s, rest: null };
    }
    const key = ex.req.headers.get('sec-websocket-key') ?? '';
    const accept = res.headers.get('sec-websocket-accept');
    if (accept !== websocketAccept(key)) {
      const text = statusText(502);
      s.respond(directResponseFields({ status: 502, reason: text, headers: new HeaderList() }, text.length));
      s.end(text, 'latin1');
      return null;
    }
    const fields = upstreamResponseFields(200, res, extra, true);
    for (let i = fields.length - 2; i >= 2; i -= 2) {
      if (fields[i] === 'sec-websocket-accept') fields.splice(i, 2);
    }
    s.respond(fields);
    this.#tunneled = true;
    return { stream: s, rest: null };
  }

  broken(): void {
    const s = this.#stream;
    const wasEnded = this.#ended;
    this.#ended = true;
    if (s.destroyed) return;
    if (this.#grpc && !wasEnded && !s.writableEnded) {
      // A gRPC client reads a call's failure in grpc-status: RST_STREAM(INTERNAL_ERROR) would
      // read as INTERNAL, the trailers say UNAVAILABLE (the upstream is gone), and either way
      // the call fails rather than ending as a success.
      this.#trailers = GRPC_BROKEN;
      s.end();
      return;
    }
    this.#resetByUs = true;
    // destroy(err) sends RST_STREAM(INTERNAL_ERROR) without END_STREAM; close(code) would end
    // the stream cleanly first, and the client would take a truncated body for a whole one.
    s.destroy(new Error('response broken'));
  }

  exchangeDone(_ex: ClientExchange, _keepAlive: boolean): void {
    const s = this.#stream;
    if (s.destroyed || s.closed || this.#tunneled) return;
    if (!this.#ended) {
      // Aborted without an answer (the client went away first, or a bug): reset, never end.
      this.#resetByUs = true;
      s.destroy(new Error('exchange aborted'));
      return;
    }
    // The response is complete but the request is not: RFC 9113 §8.1 lets the server stop the
    // upload with RST_STREAM(NO_ERROR), sent once the response has been flushed.
    if (!this.#clientEnded) {
      this.#resetByUs = true;
      // Trailers still to go (gRPC's status): closing now would send the RST_STREAM first and
      // lose them; the close follows them instead.
      if (this.#waitTrailers) this.#stopUpload = true;
      else s.close(H2_NO_ERROR);
    }
  }
}

/** A plain CONNECT's tunnel broke on the upstream's side: RST_STREAM(INTERNAL_ERROR) (see upgrade). */
function abortTunnel(s: Duplex): void {
  if (!s.destroyed) s.destroy(new Error('tunnel broken'));
}
