import { ProxyError } from '../core/errors.ts';
import { invalidRequestField, REQUEST, settleFields } from '../core/field-values.ts';
import type { HeaderList } from '../core/headers.ts';
import type { Timed } from '../core/ticker.ts';
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, CONNECT_TUNNEL } from '../http1/request-head.ts';
import { E_CANCEL, E_PROTOCOL_ERROR, E_REFUSED_STREAM } from '../http2/frames.ts';
import { malformedResponse, malformedTrailers } from '../http2/own-fields.ts';
import { h2RequestFields, h2Response, headerListOf, trailerFields } from './h2-fields.ts';
import { checkRequestFields } from './h2-request-check.ts';
import type { ReplayStream } from './h2-seam.ts';
import { OwnH2Body } from './own-h2-body.ts';
import { STREAM_WINDOW } from './own-h2-frames.ts';
import { KeptBody } from './own-h2-kept.ts';
import type { OwnH2Session } from './own-h2-session.ts';
import { OwnH2Tunnel } from './own-h2-tunnel.ts';
import { OwnH2Upload } from './own-h2-upload.ts';
import { RwDeadlines, rwDeadlineCame } from './rw-deadlines.ts';
import type { OutgoingRequest, UpstreamStream, UpstreamUser } from './stream.ts';

const S_NEW = 0;
const S_WAIT = 1;
const S_BODY = 2;
const S_DONE = 3;
const S_REPLAY = 4;

/** A request refused this many times in a row is failed, not sent again (as h2-stream.ts). */
const MAX_REPLAYS = 2;
const NO_BYTES = Buffer.alloc(0);
const CODE_NAMES =
  'NO_ERROR PROTOCOL_ERROR INTERNAL_ERROR FLOW_CONTROL_ERROR SETTINGS_TIMEOUT STREAM_CLOSED FRAME_SIZE_ERROR REFUSED_STREAM CANCEL COMPRESSION_ERROR CONNECT_ERROR ENHANCE_YOUR_CALM INADEQUATE_SECURITY HTTP_1_1_REQUIRED'.split(
    ' ',
  );

/**
 * One request on a session of our own HTTP/2 client: the `UpstreamStream` of the `own` engine,
 * with the behaviour of the node engine's (h2-stream.ts): the head as HEADERS (pseudo-header
 * fields first, connection-specific fields dropped), body bytes as DATA under the server's
 * windows with backpressure to the user, the client's trailers as trailing HEADERS (never for
 * gRPC); the response checked as nghttp2 checks it for node (`:status`, no connection-specific
 * fields, Content-Length against the DATA, 1xx relayed, 101 refused), its DATA delivered or held
 * while the user paused (holding back the stream's WINDOW_UPDATEs). A stream the server did not
 * process (REFUSED_STREAM, above a GOAWAY's last id) is sent again on another session.
 */
export class OwnH2Stream implements UpstreamStream, ReplayStream, Timed {
  user: UpstreamUser | null;
  deadline = 0;
  tickerSlot = -1;
  #host: OwnH2Session;
  readonly #method: string;
  #id = 0;
  #state = S_NEW;
  #out: OutgoingRequest | null = null;
  #authority = '';
  readonly #up = new OwnH2Upload(this);
  #bodyEnded = false;
  #reqTrailers: HeaderList | null = null;
  #replays = 0;
  #timed = false;
  readonly #body: OwnH2Body;
  readonly #kept = new KeptBody();
  /** Response DATA bytes received; the Content-Length they must reach (-1: open). */
  #got = 0;
  #length = -1;
  #recvWindow = STREAM_WINDOW;
  /**
   * forwardingTimeouts.readTimeout/writeTimeout for this stream (Traefik v3.8): made only when
   * the transport sets one; the session and its other streams are never cut by them.
   */
  #rw: RwDeadlines | null = null;
  /** A 2xx to a CONNECT made this stream a tunnel (its user an OwnH2Tunnel). */
  #tunneled = false;
  /** The server's END_STREAM on a tunnel (the stream lives on until ours has left too). */
  #remoteDone = false;

  constructor(host: OwnH2Session, user: UpstreamUser, method: string) {
    this.#host = host;
    this.user = user;
    this.#method = method;
    this.#body = new OwnH2Body(this);
  }

  get id(): number {
    return this.#id;
  }

  get host(): OwnH2Session {
    return this.#host;
  }

  // ---- UpstreamStream

  sendHead(out: OutgoingRequest, authority: string): void {
    this.#out = out;
    this.#authority = authority;
    this.#open();
  }

  /** The head goes out on a new stream id; false when it may not be sent (the user heard why). */
  #open(): boolean {
    const host = this.#host;
    const out = this.#out!;
    // An unsettled list is settled first (the exchange did it already for its own request;
    // forwardAuth's or an error page's may come here unsettled): see core/field-values.ts.
    const refused = out.headers.unsettled ? settleFields(out.headers, REQUEST) : null;
    const fields = h2RequestFields(out, this.#authority, host.pool.scheme);
    const bad =
      refused !== null ? invalidRequestField(refused) : checkRequestFields(fields, host.peerMaxHeaderList);
    if (bad !== null) {
      // Nothing reached the server: phase 'connect' (another server of the service may take it).
      const user = this.user;
      this.#state = S_DONE;
      this.user = null;
      this.#release();
      user?.onUpstreamError(bad, 'connect', false);
      return false;
    }
    const id = host.register(this);
    this.#id = id;
    this.#state = S_WAIT;
    const len = host.encoder.encode(fields);
    // A CONNECT's stream stays open: its DATA becomes the tunnel after a 2xx.
    this.#up.ended = out.bodyKind === BODY_NONE && out.upgrade !== CONNECT_TUNNEL;
    host.writer.headers(id, host.encoder.buffer, len, this.#up.ended, host.peerMaxFrame);
    host.writes.schedule();
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
        if (this.#up.ended) rw.requestWritten(now);
        this.deadline = rw.soonest();
      }
      host.pool.ticker.add(this);
    }
    return true;
  }

  /** The readTimeout/writeTimeout deadline after a change of `rw`'s (the stream stays timed). */
  #rwRearm(rw: RwDeadlines): void {
    if (this.#timed) this.deadline = rw.soonest();
  }

  sendBody(buf: Buffer, start: number, end: number): boolean {
    if (this.#state === S_DONE) return true;
    const data = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
    if (this.#state !== S_BODY) this.#kept.add(data);
    if (this.#state === S_REPLAY) {
      // Waiting for another session: the bytes were kept, or the wait fails.
      if (!this.#kept.keepable) this.#failReplay();
      this.#up.wantDrain = true;
      return false;
    }
    const ok = this.#up.send(data);
    const rw = this.#rw;
    if (!ok && rw !== null) {
      rw.writeBlocked(this.#host.pool.ticker.now, this.#up.pending);
      this.#rwRearm(rw);
    }
    return ok;
  }

  endBody(trailers?: HeaderList | null): void {
    this.#bodyEnded = true;
    this.#reqTrailers = trailers ?? null;
    if (this.#state === S_WAIT || this.#state === S_BODY) {
      this.#finishBody();
      const rw = this.#rw;
      if (rw !== null) {
        rw.requestWritten(this.#host.pool.ticker.now);
        this.#rwRearm(rw);
      }
    }
  }

  /** Our END_STREAM: on the last DATA frame, or on the client's trailers (never gRPC's). */
  #finishBody(): void {
    const out = this.#out!;
    const grpc = out.headers.get('content-type')?.startsWith('application/grpc') === true;
    const t = this.#reqTrailers;
    if (out.bodyKind !== BODY_CHUNKED || grpc || t === null) {
      this.#up.finish(null);
      return;
    }
    // Trailers pass the head's checks too (their own list, rarely there: every field is scanned).
    const refused = t.unsettled ? settleFields(t, REQUEST) : null;
    const raw = trailerFields(t);
    const bad =
      refused !== null
        ? invalidRequestField(refused)
        : checkRequestFields(raw, this.#host.peerMaxHeaderList, true);
    if (bad === null) {
      this.#up.finish(raw);
      return;
    }
    // The head (and perhaps the body) left already: the server must not take the request as
    // complete. RST_STREAM(CANCEL), and the client hears 500 (or a broken response).
    if (this.#state === S_DONE || this.#state === S_REPLAY) return;
    this.#rst(E_CANCEL);
    this.#fail(bad, false);
  }

  /** The windows opened: queued DATA goes out; the user may send again once it all left. */
  pump(): void {
    if (this.#state !== S_DONE) this.#up.pump();
  }

  onDrain(): void {
    if (this.#up.wantDrain && this.#state !== S_DONE) this.#up.pump();
  }

  /** SETTINGS_INITIAL_WINDOW_SIZE changed by `delta`; false when the window overflows. */
  addSendWindow(delta: number): boolean {
    return this.#up.addWindow(delta);
  }

  onWindowUpdate(inc: number): void {
    if (inc === 0) {
      this.#protocolError('WINDOW_UPDATE of 0');
      return;
    }
    if (!this.addSendWindow(inc)) {
      this.#protocolError('stream window overflow');
      return;
    }
    this.pump();
  }

  cork(): void {}

  uncork(): void {}

  pause(): void {
    this.#body.paused = true;
    const rw = this.#rw;
    if (rw !== null) {
      rw.pause();
      this.#rwRearm(rw);
    }
  }

  resume(): void {
    const rw = this.#rw;
    if (rw !== null) {
      rw.resume(this.#host.pool.ticker.now);
      this.#rwRearm(rw);
    }
    this.#body.resume();
  }

  /** A stream is never reused; a broken one does not harm its session. */
  markNotReusable(): void {}

  get pendingBytes(): number {
    return this.#up.pending;
  }

  destroy(): void {
    this.user = null;
    const state = this.#state;
    this.#state = S_DONE;
    if (state === S_REPLAY) {
      this.#untime();
      this.#host.pool.cancelReplay(this);
      return;
    }
    if (state === S_DONE) return;
    // RST_STREAM(CANCEL): the server stops working on it (a gRPC call is cancelled).
    if (state !== S_NEW) this.#rst(E_CANCEL);
    this.#release();
  }

  onDeadline(now: number): void {
    const user = this.user;
    const state = this.#state;
    const rw = this.#rw;
    if (rw !== null && (state === S_WAIT || state === S_BODY)) {
      // Per-operation deadlines of this stream (upstream/rw-deadlines.ts): RST_STREAM(CANCEL)
      // for it alone; before the head the client gets 504 (Traefik's net.Error timeout).
      rwDeadlineCame(this, rw, now, this.#up.pending, user, state === S_BODY, false);
      return;
    }
    this.#untime();
    if (user === null || state !== S_WAIT) return;
    this.destroy();
    const err = new ProxyError('UPSTREAM_RESPONSE_TIMEOUT', 'upstream response header timeout');
    user.onUpstreamError(err, 'head', false);
  }

  #untime(): void {
    if (this.#timed) {
      this.#timed = false;
      this.#host.pool.ticker.delete(this);
    }
  }

  #rst(code: number): void {
    this.#host.writer.rst(this.#id, code);
    this.#host.writes.schedule();
  }

  /** Done with the session (after the user was detached or just before it hears the end). */
  #release(): void {
    this.#untime();
    this.#up.clear();
    const id = this.#id;
    this.#id = 0;
    this.#host.streamClosed(id);
  }

  // ---- what the server sends

  onHeaders(fields: string[], endStream: boolean, tooLarge: boolean): void {
    const state = this.#state;
    if (state === S_BODY) {
      // Trailers (§8.1): they end the stream, and carry no pseudo-header field.
      if (!endStream || tooLarge || malformedTrailers(fields) !== null)
        this.#protocolError('malformed trailers');
      else this.#remoteEnd(headerListOf(fields));
      return;
    }
    if (state !== S_WAIT) return;
    const rw = this.#rw;
    if (rw !== null) {
      rw.readSeen(this.#host.pool.ticker.now);
      this.#rwRearm(rw);
    }
    const bad = tooLarge ? 'response header too large' : malformedResponse(fields);
    if (bad !== null) {
      this.#protocolError(bad);
      return;
    }
    let status = 0;
    for (let i = 0; i < fields.length; i += 2) if (fields[i] === ':status') status = Number(fields[i + 1]);
    if (status < 200) {
      // 1xx (§8.1): interim, more HEADERS follow; 101 does not exist in HTTP/2 (§8.6).
      if (status === 101 || endStream) this.#protocolError('invalid interim response');
      // While the client does not take what it was sent (the user paused us), more 1xx are
      // dropped: HEADERS are not flow-controlled, so pausing holds them back no more than it
      // would a flood of them, which would wait in the client's socket. Go's transport
      // (Traefik) blocks its whole connection's read loop in the Got1xxResponse hook instead.
      else if (!this.#body.paused)
        this.user?.onUpstreamInterim(h2Response(status, fields, true, this.#method));
      return;
    }
    if (rw === null) this.#untime();
    else {
      rw.header = 0;
      this.#rwRearm(rw);
    }
    this.#state = S_BODY;
    this.#kept.drop();
    const res = h2Response(status, fields, endStream, this.#method);
    // nghttp2's rule: HEAD and 304 carry no DATA whatever their Content-Length says.
    const none = this.#method === 'HEAD' || status === 304 || status === 204;
    this.#length = none ? 0 : res.bodyKind === BODY_LENGTH ? res.contentLength : -1;
    if (endStream && !none) {
      // END_STREAM on the head is a body of 0 bytes: a Content-Length must say so (RFC 9113 §8.1.1).
      const cl = res.headers.get('content-length');
      if (cl !== undefined && Number(cl) !== 0) {
        this.#protocolError('content-length without DATA');
        return;
      }
    }
    if (this.#out!.upgrade === CONNECT_TUNNEL) {
      if (status < 300) {
        this.#tunnel(res, endStream);
        return;
      }
      // Refused: the payload never goes (Traefik's openConnectTunnel closes the request body's
      // pipe, so x/net/http2 ends the stream with END_STREAM), the answer is relayed as it is.
      // A declared body (not deferred by Traefik either) goes on as any request body.
      if (!this.#up.ended && this.#out!.bodyKind === BODY_NONE) this.#up.finish(null);
    }
    this.user?.onUpstreamHead(res, null, 0, 0);
    if (endStream && this.#state === S_BODY) this.#remoteEnd(null);
  }

  /**
   * A 2xx to an HTTP/2 client's CONNECT (RFC 9113 §8.5, as x/net/http2 carries Traefik's): the
   * stream becomes a byte stream (OwnH2Tunnel, its user from now on) that the user joins to the
   * client's. It keeps its session's concurrency slot until the tunnel closes it (closeTunnel).
   */
  #tunnel(res: ReturnType<typeof h2Response>, endStream: boolean): void {
    const user = this.user;
    this.#untime();
    this.#rw = null;
    this.#tunneled = true;
    // The tunnel's bytes are no body: no Content-Length of the 2xx counts them.
    this.#length = -1;
    const t = new OwnH2Tunnel(this);
    this.user = t;
    if (user === null) {
      t.destroy();
      return;
    }
    user.onUpstreamUpgrade(res, t, null);
    if (endStream && this.#state === S_BODY) this.#remoteEnd(null);
  }

  /**
   * The tunnel is done with this stream: released at once after both END_STREAMs (ours having
   * left), else reset (CANCEL: the client side broke or went away, as Go's transport cancels).
   */
  closeTunnel(): void {
    const state = this.#state;
    if (state === S_DONE || state === S_REPLAY) return;
    this.#state = S_DONE;
    this.user = null;
    if (!this.#remoteDone || !this.#up.ended || this.#up.pending > 0) this.#rst(E_CANCEL);
    this.#release();
  }

  /** DATA `buf[start..end)` (padding apart); `len` the frame's whole payload, for flow control. */
  onData(buf: Buffer, start: number, end: number, len: number, endStream: boolean): void {
    if (this.#state !== S_BODY) {
      this.#protocolError('DATA before the response head');
      return;
    }
    if (len > this.#recvWindow) {
      this.#protocolError('stream window exceeded');
      return;
    }
    this.#recvWindow -= len;
    const rw = this.#rw;
    if (rw !== null) {
      rw.readSeen(this.#host.pool.ticker.now);
      this.#rwRearm(rw);
    }
    const n = end - start;
    this.#got += n;
    if (this.#length >= 0 && (this.#got > this.#length || (endStream && this.#got !== this.#length))) {
      this.#protocolError('DATA not matching content-length');
      return;
    }
    this.#body.data(n === 0 ? NO_BYTES : this.#host.input.keep(buf, start, end), len - n, endStream);
  }

  /** `n` bytes left us (delivered to the user, or padding): credit once half the window is used. */
  credit(n: number): void {
    this.#body.unacked += n;
    const u = this.#body.unacked;
    if (u >= STREAM_WINDOW >> 1 && this.#state === S_BODY) {
      this.#body.unacked = 0;
      this.#recvWindow += u;
      this.#host.writer.windowUpdate(this.#id, u);
      this.#host.writes.schedule();
    }
  }

  /** The response ended cleanly (after what was held was delivered). */
  remoteEnded(trailers: HeaderList | null): void {
    if (this.#state !== S_BODY) return;
    if (this.#tunneled) {
      // A half-close: our side may still send until the tunnel ends it (closeTunnel).
      this.#remoteDone = true;
      this.user?.onUpstreamEnd(null);
      return;
    }
    this.#state = S_DONE;
    const user = this.user;
    this.user = null;
    // The server finished before the request did (a gRPC server ending a call early): stop it.
    if (!this.#up.ended || this.#up.pending > 0) this.#rst(E_CANCEL);
    this.#release();
    user?.onUpstreamEnd(trailers);
  }

  #remoteEnd(trailers: HeaderList | null): void {
    this.#body.end(trailers);
  }

  onReset(code: number): void {
    if (this.#state === S_WAIT && code === E_REFUSED_STREAM) {
      this.refused();
      return;
    }
    const why = `upstream reset the stream (${CODE_NAMES[code] ?? code})`;
    this.#fail(new ProxyError('UPSTREAM_RESET', why), false);
  }

  /** A stream error of the server's: RST_STREAM(PROTOCOL_ERROR), and the user hears a 502. */
  #protocolError(why: string): void {
    if (this.#state === S_DONE || this.#state === S_REPLAY) return;
    this.#rst(E_PROTOCOL_ERROR);
    this.#fail(new ProxyError('UPSTREAM_BAD_RESPONSE', `invalid HTTP/2 response: ${why}`), false);
  }

  #fail(err: ProxyError, reusedDown: boolean): void {
    const state = this.#state;
    if (state === S_DONE || state === S_REPLAY) return;
    this.#state = S_DONE;
    const user = this.user;
    this.user = null;
    const uses = this.#host.uses;
    this.#release();
    const phase = state === S_BODY ? 'body' : state === S_NEW ? 'connect' : 'head';
    // The keep-alive race of HTTP/2: a session that had served streams went away under this one.
    user?.onUpstreamError(err, phase, phase === 'head' && reusedDown && uses > 1);
  }

  /** The connection went down under this stream. */
  connectionClosed(): void {
    const host = this.#host;
    if (this.#state === S_WAIT && host.goawayLast >= 0 && this.#id > host.goawayLast) {
      this.refused();
      return;
    }
    const err = host.down ?? new ProxyError('UPSTREAM_RESET', 'upstream closed the connection');
    this.#fail(err, true);
  }

  // ---- sent again on another session

  /** Not processed by the server (REFUSED_STREAM, above a GOAWAY's last id): try another session. */
  refused(): void {
    if (this.#state !== S_WAIT) {
      this.#fail(new ProxyError('UPSTREAM_RESET', 'upstream refused the stream'), false);
      return;
    }
    const host = this.#host;
    host.pool.streams.refused++;
    if (this.#kept.keepable && this.#replays < MAX_REPLAYS && this.user !== null) {
      this.#replays++;
      this.#state = S_REPLAY;
      this.#release();
      host.pool.replay(this, host);
      return;
    }
    // Reported as 'connect': the server processed nothing.
    this.#state = S_NEW;
    this.#fail(new ProxyError('UPSTREAM_RESET', 'upstream refused the stream (not processed)'), false);
  }

  /** The pool found a session for a refused stream: send head and kept body there. */
  rebind(host: OwnH2Session): void {
    if (this.#state !== S_REPLAY) {
      host.streamClosed(0);
      return;
    }
    this.#host = host;
    if (!this.#open()) return;
    this.#up.resend(this.#kept.bufs);
    if (this.#bodyEnded) this.#finishBody();
    host.writes.schedule();
    if (this.#up.wantDrain) this.pump();
  }

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
}
