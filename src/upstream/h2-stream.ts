import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { ProxyError } from '../core/errors.ts';
import { invalidRequestField, REQUEST, settleFields } from '../core/field-values.ts';
import type { HeaderList } from '../core/headers.ts';
import type { Timed } from '../core/ticker.ts';
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, CONNECT_TUNNEL } from '../http1/request-head.ts';
import { h2RequestFields, h2Response, headerListOf, trailersObject } from './h2-fields.ts';
import type { UpstreamSession } from './h2-session.ts';
import { RwDeadlines, rwDeadlineCame } from './rw-deadlines.ts';
import {
  type OutgoingRequest,
  TUNNEL_RESET,
  type UpstreamResponse,
  type UpstreamStream,
  type UpstreamUser,
} from './stream.ts';

/** RFC 9113 §7 error codes. */
const NO_ERROR = 0;
const REFUSED_STREAM = 7;
const CANCEL = 8;
const CODE_NAMES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

/**
 * Request body bytes kept (by reference) until the response head arrives, so that a stream the
 * server refused unprocessed can be sent again on another session. Larger bodies are not kept:
 * such a refusal then fails the try like a connect error.
 */
const KEEP_MAX = 64 * 1024;
/** A request refused this many times in a row is failed, not sent again. */
const MAX_REPLAYS = 2;

const S_NEW = 0;
const S_WAIT = 1;
const S_BODY = 2;
const S_DONE = 3;
const S_REPLAY = 4;

const OWNER = Symbol('traffic.h2.upstream');
const HOST = Symbol('traffic.h2.host');
interface OwnedStream extends ClientHttp2Stream {
  [OWNER]: H2UpstreamStream;
  [HOST]: UpstreamSession;
}

// Listeners shared by every stream (no closure per request): `this` is the node stream.
function onResponse(this: OwnedStream, h: IncomingHttpHeaders, flags: number, raw: string[]): void {
  this[OWNER].onResponse(Number(h[':status']), flags, raw);
}
function onInfo(this: OwnedStream, h: IncomingHttpHeaders, _flags: number, raw: string[]): void {
  this[OWNER].onInfo(Number(h[':status']), raw);
}
function onData(this: OwnedStream, chunk: Buffer): void {
  this[OWNER].onData(chunk);
}
function onTrailers(this: OwnedStream, _h: IncomingHttpHeaders, _flags: number, raw: string[]): void {
  this[OWNER].onTrailers(raw);
}
function onEnd(this: OwnedStream): void {
  this[OWNER].onEnd(this);
}
function onClose(this: OwnedStream): void {
  this[HOST].streamClosed();
  this[OWNER].onClose(this);
}
function onDrain(this: OwnedStream): void {
  this[OWNER].onDrain(this);
}
function onWantTrailers(this: OwnedStream): void {
  this[OWNER].onWantTrailers(this);
}
/** A stream error always ends in 'close', which is where the user learns about it. */
function ignoreError(): void {}
/**
 * A tunnel over this stream broke on the client's side (its TUNNEL_RESET): RST_STREAM(CANCEL)
 * alone, as Go's transport cancels. node's close(code) on a tunnel's stream was seen to send
 * END_STREAM first (closeStream ends the writable side), which the server would take for the
 * tunnel's clean end: the stream's native handle sends the RST_STREAM by itself, after which
 * node closes the stream as for a reset (close() is the fallback should that handle not be
 * found).
 */
function cancelTunnel(s: ClientHttp2Stream): void {
  if (s.destroyed) return;
  const h = nativeHandle(s);
  if (h !== null && !s.closed) h.rstStream(CANCEL);
  else s.close(CANCEL);
}

let handleKey: symbol | null | undefined;
function nativeHandle(s: ClientHttp2Stream): { rstStream(code: number): void } | null {
  if (handleKey === undefined) {
    handleKey = Object.getOwnPropertySymbols(s).find((k) => k.description === 'kHandle') ?? null;
  }
  if (handleKey === null) return null;
  const h = (s as unknown as Record<symbol, { rstStream?: unknown } | undefined>)[handleKey];
  return h !== undefined && typeof h.rstStream === 'function'
    ? (h as { rstStream(code: number): void })
    : null;
}

function isGrpc(headers: HeaderList): boolean {
  return headers.get('content-type')?.startsWith('application/grpc') === true;
}

function failLater(st: H2UpstreamStream, e: unknown): void {
  st.failRequest(e);
}

/**
 * One request on an HTTP/2 session: the HTTP/2 `UpstreamStream`. The request head becomes a
 * HEADERS frame (pseudo-header fields, connection-specific fields dropped), body bytes DATA frames
 * with node's backpressure, the client's trailers a trailing HEADERS frame; the response comes
 * back through the same `UpstreamUser` calls as HTTP/1.1, trailers included. A stream is never
 * reused: once the response ended or failed, it is gone, and the session takes the next one.
 *
 * A stream the server did not process (REFUSED_STREAM, or above the last stream id of a GOAWAY:
 * RFC 9113 §8.7 says it may be retried whatever its method) is sent again on another session,
 * with the body bytes kept for that, before the user hears of anything.
 */
export class H2UpstreamStream implements UpstreamStream, Timed {
  user: UpstreamUser | null;
  deadline = 0;
  tickerSlot = -1;
  #host: UpstreamSession;
  readonly #method: string;
  #req: OwnedStream | null = null;
  #state = S_NEW;
  #out: OutgoingRequest | null = null;
  #authority = '';
  /** Body bytes sent so far, while a refusal may still make us send them again. */
  #kept: Buffer[] | null = null;
  #keptBytes = 0;
  #keepable = true;
  #bodyEnded = false;
  #reqTrailers: HeaderList | null = null;
  #trailers: HeaderList | null = null;
  #replays = 0;
  #timed = false;
  #waitingDrain = false;
  /** Response body bytes received, against a Content-Length. */
  #got = 0;
  #length = -1;
  /**
   * forwardingTimeouts.readTimeout/writeTimeout for this stream (Traefik v3.8): made only when
   * the transport sets one; the session and its other streams are never cut by them.
   */
  #rw: RwDeadlines | null = null;

  constructor(host: UpstreamSession, user: UpstreamUser, method: string) {
    this.#host = host;
    this.user = user;
    this.#method = method;
  }

  // ---- UpstreamStream

  sendHead(out: OutgoingRequest, authority: string): void {
    this.#out = out;
    this.#authority = authority;
    this.#open();
  }

  #open(): void {
    const host = this.#host;
    const out = this.#out!;
    // Only a body of open length can be followed by trailers the client sends (HTTP/2). A gRPC
    // request has none (its protocol defines no request trailers): it ends on its last DATA frame
    // instead of an empty one after a 'wantTrailers' round.
    const trailers = out.bodyKind === BODY_CHUNKED && !isGrpc(out.headers);
    // An unsettled list is settled first (core/field-values.ts): node writes values as
    // latin1 too, a character past U+00FF would lose its high byte.
    const bad = out.headers.unsettled ? settleFields(out.headers, REQUEST) : null;
    if (bad !== null) {
      host.streamClosed();
      this.#state = S_DONE;
      process.nextTick(failLater, this, invalidRequestField(bad));
      return;
    }
    let req: OwnedStream;
    try {
      req = host.client!.request(h2RequestFields(out, this.#authority, host.pool.scheme), {
        // A CONNECT's stream stays open: its DATA becomes the tunnel after a 2xx.
        endStream: out.bodyKind === BODY_NONE && out.upgrade !== CONNECT_TUNNEL,
        waitForTrailers: trailers,
      }) as OwnedStream;
    } catch (e) {
      // An invalid field (nghttp2 refuses it) or a session that just went away.
      host.streamClosed();
      this.#state = S_DONE;
      process.nextTick(failLater, this, e);
      return;
    }
    req[OWNER] = this;
    req[HOST] = host;
    this.#req = req;
    this.#state = S_WAIT;
    req.on('response', onResponse);
    req.on('headers', onInfo);
    req.on('data', onData);
    req.on('trailers', onTrailers);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', ignoreError);
    if (trailers) req.on('wantTrailers', onWantTrailers);
    const o = host.pool.options;
    const t = o.responseHeaderTimeoutMs;
    const rwOn = (o.readTimeoutMs ?? 0) > 0 || (o.writeTimeoutMs ?? 0) > 0;
    if ((t > 0 || rwOn) && !this.#timed) {
      this.#timed = true;
      const now = host.pool.ticker.now;
      this.deadline = t > 0 ? now + t : 0;
      if (rwOn) {
        const rw = this.#rw ?? new RwDeadlines(o.readTimeoutMs ?? 0, o.writeTimeoutMs ?? 0);
        this.#rw = rw;
        rw.reset(this.deadline);
        if (out.bodyKind === BODY_NONE || this.#bodyEnded) rw.requestWritten(now);
        this.deadline = rw.soonest();
      }
      host.pool.ticker.add(this);
    }
  }

  /** The readTimeout/writeTimeout deadline after a change of `rw`'s (the stream stays timed). */
  #rwRearm(rw: RwDeadlines): void {
    if (this.#timed) this.deadline = rw.soonest();
  }

  sendBody(buf: Buffer, start: number, end: number): boolean {
    const data = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
    if (this.#keepable && this.#state !== S_BODY) {
      if (this.#keptBytes + data.length <= KEEP_MAX) {
        if (this.#kept === null) this.#kept = [data];
        else this.#kept.push(data);
        this.#keptBytes += data.length;
      } else {
        this.#keepable = false;
        this.#kept = null;
      }
    }
    const req = this.#req;
    if (req === null) {
      // Waiting for another session (a refused stream): the bytes were kept, or the wait fails.
      if (this.#state === S_REPLAY && !this.#keepable) this.#failReplay();
      this.#waitingDrain = true;
      return false;
    }
    if (req.write(data)) return true;
    // Listened for only once needed: most request bodies never fill the stream's buffer.
    if (req.listenerCount('drain') === 0) req.on('drain', onDrain);
    const rw = this.#rw;
    if (rw !== null) {
      rw.writeBlocked(this.#host.pool.ticker.now, req.writableLength);
      this.#rwRearm(rw);
    }
    return false;
  }

  endBody(trailers?: HeaderList | null): void {
    this.#bodyEnded = true;
    this.#reqTrailers = trailers ?? null;
    const req = this.#req;
    if (req !== null && !req.writableEnded) req.end();
    const rw = this.#rw;
    if (rw !== null && req !== null) {
      rw.requestWritten(this.#host.pool.ticker.now);
      this.#rwRearm(rw);
    }
  }

  cork(): void {
    this.#req?.cork();
  }

  uncork(): void {
    this.#req?.uncork();
  }

  pause(): void {
    this.#req?.pause();
    const rw = this.#rw;
    if (rw !== null) {
      rw.pause();
      this.#rwRearm(rw);
    }
  }

  resume(): void {
    this.#req?.resume();
    const rw = this.#rw;
    if (rw !== null) {
      rw.resume(this.#host.pool.ticker.now);
      this.#rwRearm(rw);
    }
  }

  /** A stream is never reused; a broken one does not harm its session. */
  markNotReusable(): void {}

  get pendingBytes(): number {
    return this.#req?.writableLength ?? 0;
  }

  destroy(): void {
    this.user = null;
    this.#untime();
    const state = this.#state;
    this.#state = S_DONE;
    if (state === S_REPLAY) {
      this.#host.pool.cancelReplay(this);
      return;
    }
    const req = this.#req;
    if (req !== null) {
      this.#req = null;
      // RST_STREAM(CANCEL): the server stops working on it (a gRPC call is cancelled).
      if (!req.closed && !req.destroyed) req.close(CANCEL);
    } else if (state === S_NEW) {
      this.#host.streamClosed();
    }
  }

  onDeadline(now: number): void {
    const user = this.user;
    const state = this.#state;
    const rw = this.#rw;
    if (rw !== null && (state === S_WAIT || state === S_BODY)) {
      // Per-operation deadlines of this stream (upstream/rw-deadlines.ts): RST_STREAM(CANCEL)
      // for it alone; before the head the client gets 504 (Traefik's net.Error timeout).
      rwDeadlineCame(this, rw, now, this.pendingBytes, user, state === S_BODY, false);
      return;
    }
    this.#untime();
    if (user === null || state !== S_WAIT) return;
    this.destroy();
    user.onUpstreamError(
      new ProxyError('UPSTREAM_RESPONSE_TIMEOUT', 'upstream response header timeout'),
      'head',
      false,
    );
  }

  #untime(): void {
    if (this.#timed) {
      this.#timed = false;
      this.#host.pool.ticker.delete(this);
    }
  }

  // ---- node stream events

  onResponse(status: number, flags: number, raw: string[]): void {
    const user = this.user;
    if (user === null) return;
    const rw = this.#rw;
    if (rw === null) this.#untime();
    else {
      rw.header = 0;
      rw.readSeen(this.#host.pool.ticker.now);
      this.#rwRearm(rw);
    }
    this.#state = S_BODY;
    this.#kept = null;
    this.#keepable = false;
    // flags bit 0: END_STREAM on the HEADERS frame (no body: a gRPC trailers-only response).
    const res = h2Response(status, raw, (flags & 1) !== 0, this.#method);
    if (this.#out!.upgrade === CONNECT_TUNNEL) {
      if (status < 300) {
        this.#tunnel(res, user);
        return;
      }
      // Refused: the payload never goes (Traefik's openConnectTunnel closes the request body's
      // pipe, so x/net/http2 ends the stream with END_STREAM), the answer is relayed as it is.
      // A declared body (not deferred by Traefik either) goes on as any request body.
      const req = this.#req;
      if (req !== null && !req.writableEnded && this.#out!.bodyKind === BODY_NONE) req.end();
    }
    this.#length = res.bodyKind === BODY_LENGTH ? res.contentLength : -1;
    user.onUpstreamHead(res, null, 0, 0);
  }

  /**
   * A 2xx to an HTTP/2 client's CONNECT (RFC 9113 §8.5): the node stream itself, a Duplex whose
   * DATA both ways is the tunnel (node's flow control: a paused stream withholds its
   * WINDOW_UPDATEs), goes to the user, which joins it to the client's stream. The stream keeps
   * its session's concurrency slot until it closes ('close' still tells the session).
   */
  #tunnel(res: UpstreamResponse, user: UpstreamUser): void {
    const req = this.#req!;
    this.#untime();
    this.#rw = null;
    this.#state = S_DONE;
    this.user = null;
    this.#req = null;
    req.off('response', onResponse);
    req.off('headers', onInfo);
    req.off('data', onData);
    req.off('trailers', onTrailers);
    req.off('end', onEnd);
    req.off('drain', onDrain);
    req.pause();
    (req as ClientHttp2Stream & { [TUNNEL_RESET]?: (s: ClientHttp2Stream) => void })[TUNNEL_RESET] =
      cancelTunnel;
    user.onUpstreamUpgrade(res, req, null);
  }

  onInfo(status: number, raw: string[]): void {
    // Dropped while the client does not take what it was sent (own-h2-stream.ts says why).
    if (status >= 200 || this.#req?.isPaused() === true) return;
    this.user?.onUpstreamInterim(h2Response(status, raw, true, this.#method));
  }

  onData(chunk: Buffer): void {
    this.#got += chunk.length;
    const rw = this.#rw;
    if (rw !== null) {
      rw.readSeen(this.#host.pool.ticker.now);
      this.#rwRearm(rw);
    }
    this.user?.onUpstreamData(chunk, 0, chunk.length);
  }

  onTrailers(raw: string[]): void {
    this.#trailers = headerListOf(raw);
  }

  onEnd(req: OwnedStream): void {
    if (req !== this.#req) return;
    const user = this.user;
    if (user === null || this.#state !== S_BODY) return;
    // node also ends the readable side of a stream its dying session closed: that is no END_STREAM.
    // A real end came with trailers, or with the whole Content-Length, or on a stream still alive.
    const whole =
      this.#trailers !== null ||
      (this.#length >= 0 ? this.#got === this.#length : !req.destroyed && (req.rstCode ?? 0) === NO_ERROR);
    if (!whole) return; // 'close' reports the failure
    this.#untime();
    this.#state = S_DONE;
    this.user = null;
    this.#req = null;
    // The server finished before the request did (a gRPC server ending a call early): stop it.
    if (!req.writableEnded && !req.closed) req.close(CANCEL);
    user.onUpstreamEnd(this.#trailers);
  }

  onDrain(req: OwnedStream): void {
    if (req !== this.#req) return;
    const rw = this.#rw;
    if (rw !== null) {
      rw.drained();
      this.#rwRearm(rw);
    }
    this.user?.onUpstreamDrain();
  }

  onWantTrailers(req: OwnedStream): void {
    if (req.destroyed) return;
    try {
      const t = req === this.#req ? this.#reqTrailers : null;
      if (t?.unsettled === true && settleFields(t, REQUEST) !== null)
        throw new Error('invalid trailer field');
      // No trailers: node then ends the stream with an empty DATA frame (END_STREAM).
      req.sendTrailers(trailersObject(t));
    } catch {
      // A field node will not send: the request cannot end cleanly ('close' reports it).
      req.close(CANCEL);
    }
  }

  onClose(req: OwnedStream): void {
    if (req !== this.#req) return; // a stream given up (destroyed, or refused and sent again)
    this.#req = null;
    this.#untime();
    const state = this.#state;
    const user = this.user;
    if (user === null || state === S_DONE) return;
    const host = req[HOST];
    const code = req.rstCode ?? NO_ERROR;
    if (state === S_WAIT && (code === REFUSED_STREAM || host.refusedAbove(req.id ?? 0))) {
      host.pool.streams.refused++;
      if (this.#keepable && this.#replays < MAX_REPLAYS) {
        this.#replays++;
        this.#state = S_REPLAY;
        host.pool.replay(this, host);
        return;
      }
      this.#state = S_DONE;
      this.user = null;
      user.onUpstreamError(
        new ProxyError('UPSTREAM_RESET', 'upstream refused the stream (not processed)'),
        'connect',
        false,
      );
      return;
    }
    this.#state = S_DONE;
    this.user = null;
    const down = host.failure;
    const err =
      down ??
      new ProxyError(
        'UPSTREAM_RESET',
        code === NO_ERROR
          ? 'upstream closed the stream before the response ended'
          : `upstream reset the stream (${CODE_NAMES[code] ?? code})`,
      );
    const phase = state === S_BODY ? 'body' : 'head';
    // The keep-alive race of HTTP/2: a session that had served streams went away under this one.
    user.onUpstreamError(err, phase, phase === 'head' && down !== null && host.uses > 1);
  }

  // ---- sent again on another session

  /** The pool found a session for a refused stream: send head and kept body there. */
  rebind(host: UpstreamSession): void {
    if (this.#state !== S_REPLAY) {
      host.streamClosed();
      return;
    }
    this.#host = host;
    this.#open();
    const req = this.#req;
    if (req === null) return;
    const kept = this.#kept;
    if (kept !== null) for (let i = 0; i < kept.length; i++) req.write(kept[i]!);
    if (this.#bodyEnded) req.end();
    if (this.#waitingDrain) {
      this.#waitingDrain = false;
      // The user waits for a drain: now, or when the kept bytes have left.
      if (req.writableNeedDrain) req.on('drain', onDrain);
      else this.user?.onUpstreamDrain();
    }
  }

  /** No session could take the refused stream again. */
  replayFailed(err: ProxyError): void {
    if (this.#state !== S_REPLAY) return;
    const user = this.user;
    this.#state = S_DONE;
    this.user = null;
    user?.onUpstreamError(err, 'connect', false);
  }

  #failReplay(): void {
    this.#host.pool.cancelReplay(this);
    this.replayFailed(new ProxyError('UPSTREAM_RESET', 'upstream refused the stream (not processed)'));
  }

  /** `request()` threw: the try fails as if the connection had. */
  failRequest(e: unknown): void {
    const user = this.user;
    this.user = null;
    if (e instanceof ProxyError) {
      user?.onUpstreamError(e, 'connect', false);
      return;
    }
    user?.onUpstreamError(
      new ProxyError('UPSTREAM_BAD_RESPONSE', `cannot send the request over HTTP/2: ${(e as Error).message}`),
      'connect',
      false,
    );
  }
}
