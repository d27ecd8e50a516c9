import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { HeaderList } from '../core/headers.ts';
import type { SocketAddresses } from '../core/proxy-protocol.ts';
import type { ResponseHead } from '../core/request.ts';
import type { Timed } from '../core/ticker.ts';
import { BODY_NONE, CONNECT_TUNNEL } from '../http1/request-head.ts';
import type { ClientExchange, ClientSink, ClientTunnelSide } from '../proxy/client-sink.ts';
import { UpstreamAffinity } from '../upstream/affinity.ts';
import { trailersObject } from '../upstream/h2-fields.ts';
import { TUNNEL_RESET, type UpstreamResponse } from '../upstream/stream.ts';
import { E_INTERNAL_ERROR, E_NO_ERROR, E_PROTOCOL_ERROR } from './frames.ts';
import { type AnswerTarget, directAnswer, objectFields, textAnswer, tunnelFields } from './own-answers.ts';
import { type BodyOwner, RequestBody } from './own-request-body.ts';
import { SendQueue } from './own-send-queue.ts';
import type { StreamConn } from './own-stream-conn.ts';
import { OwnTunnel } from './own-tunnel.ts';
import {
  interimFields,
  isGrpcResponse,
  responseHeadFields,
  upstreamResponseFields,
} from './response-fields.ts';
import { armStreamTimers, UNTIMED } from './stream-timers.ts';

/** What ends a gRPC response whose upstream broke mid-stream (as stream-sink.ts). */
const GRPC_BROKEN: string[] = ['grpc-status', '14', 'grpc-message', 'upstream connection broken'];
const STATUS_100: string[] = [':status', '100'];

/**
 * One stream of our own HTTP/2 connection as a `ClientSink`, the counterpart of stream-sink.ts
 * for node:http2: the response head becomes HEADERS, body bytes DATA under flow control, a
 * broken response RST_STREAM. Request DATA is fed to the exchange as fast as the upstream takes
 * it; what it does not take waits here and withholds the stream's WINDOW_UPDATEs.
 */
export class OwnStream implements ClientSink, BodyOwner, AnswerTarget, Timed {
  readonly id: number;
  readonly clientIp: string;
  readonly http2 = true;
  deadline = 0;
  tickerSlot = -1;
  readonly #conn: StreamConn;
  readonly out: SendQueue;
  #ex: ClientExchange | null = null;
  readonly body: RequestBody;
  /** Our END_STREAM (or RST_STREAM) went out, or is queued behind the DATA. */
  #ended = false;
  #localDone = false;
  closed = false;
  #resetByUs = false;
  #timed = false;
  /** writeTimeout's deadline on the ticker's clock, 0 = none. */
  #writeBy = 0;
  #waitTrailers = false;
  #trailers: string[] | null = null;
  #grpc = false;
  /** The response has no body on the wire (HEAD, 204, 304): what the exchange writes is dropped. */
  #noBody = false;
  #stopUpload = false;
  #wantDrain = false;
  tunnel: OwnTunnel | null = null;

  constructor(id: number, conn: StreamConn, sendWindow: number, endStream: boolean) {
    this.id = id;
    this.#conn = conn;
    this.clientIp = conn.clientIp;
    this.out = new SendQueue(id, sendWindow);
    this.body = new RequestBody(this, conn.recvWindowSize, endStream);
  }

  get peer(): SocketAddresses | undefined {
    return this.#conn.socket;
  }

  get affinity(): UpstreamAffinity | null {
    return this.#conn.affinity ?? null;
  }

  ownAffinity(): UpstreamAffinity {
    const c = this.#conn;
    c.affinity ??= new UpstreamAffinity();
    return c.affinity;
  }

  get serverName(): string | undefined {
    const s = this.#conn.socket as Partial<TLSSocket>;
    return s.encrypted === true ? s.servername || undefined : undefined;
  }

  get exchange(): ClientExchange | null {
    return this.#ex;
  }

  /** Called at the end of the read that carried HEADERS (rapid-reset streams cost nothing). */
  start(ex: ClientExchange): void {
    if (this.closed) return;
    this.#ex = ex;
    if (ex.parsed.upgrade === null) {
      const writeBy = armStreamTimers(this.#conn.ctx, this);
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
    if (this.closed) return;
    this.#headSent = true;
    textAnswer(this, status);
    // The rest of the request is of no use: RST_STREAM(NO_ERROR) once the answer is out (§8.1).
    if (!this.remoteEnded) this.#stopUpload = true;
    this.#maybeDone();
  }

  // ---- from the connection and the request body

  get remoteEnded(): boolean {
    return this.body.ended;
  }

  bodyEnded(): void {
    this.#maybeDone();
  }

  windowUpdate(n: number): void {
    this.#conn.windowUpdate(this.id, n);
  }

  /** Tunnel read `n` bytes: credit for more. */
  tunnelConsumed(n: number): void {
    this.body.credit(n);
  }

  /** We reset the stream (RST_STREAM went out). */
  get resetByUs(): boolean {
    return this.#resetByUs;
  }

  /** The client reset the stream (RST_STREAM). */
  onReset(): void {
    if (this.closed) return;
    if (!this.#ended && !this.#resetByUs) this.#conn.peerReset();
    this.#close();
  }

  /** The request is malformed mid-stream: RST_STREAM(PROTOCOL_ERROR) (RFC 9113 §8.1.1). */
  protocolError(): void {
    this.resetStream(E_PROTOCOL_ERROR);
  }

  resetStream(code: number): void {
    if (this.closed) return;
    this.#resetByUs = true;
    this.#ended = true;
    this.#conn.rst(this.id, code);
    this.#close();
  }

  /** The connection is gone (or GOAWAY'd us): abort without a frame. */
  connectionClosed(): void {
    this.#close();
  }

  /** The connection window opened: send what waits. */
  pump(): void {
    if (this.closed) return;
    if (this.out.pump(this.#conn)) this.#sentEnd();
    else if (this.out.empty && this.#ended && !this.#localDone) this.#finishResponse();
    this.#conn.writes.schedule();
    if (this.out.empty && this.#wantDrain && !this.#conn.writes.socketFull) this.onDrain();
  }

  onDrain(): void {
    if (!this.#wantDrain || this.closed) return;
    if (!this.out.empty || this.#conn.writes.socketFull) return;
    this.#wantDrain = false;
    if (this.tunnel !== null) this.tunnel.onDrain();
    else this.#ex?.onClientDrain();
  }

  onDeadline(now: number): void {
    const writeBy = this.#writeBy;
    if (writeBy !== 0 && now >= writeBy) {
      // writeTimeout: the response was not written in time. As Go's HTTP/2 server (Traefik):
      // RST_STREAM(INTERNAL_ERROR), the connection and its other streams go on.
      if (this.closed) return;
      this.#conn.ctx.logger.debug('response write timeout', {
        entryPoint: this.#conn.ctx.name,
        protocol: 'HTTP/2.0',
      });
      this.resetStream(E_INTERNAL_ERROR);
      return;
    }
    const ex = this.#ex;
    if (ex !== null && !ex.done) {
      if (!ex.bodyDone) ex.failBody('request read timeout', 408);
      else if (!ex.responseStarted) ex.readTimeoutBeforeHead();
    }
    // Until the stream closes (its end may still wait for the client's window).
    if (writeBy !== 0) this.deadline = writeBy;
  }

  // ---- sending

  sendHeaders(fields: readonly string[], endStream: boolean): void {
    const c = this.#conn;
    const n = c.encoder.encode(fields);
    c.writer.headers(this.id, c.encoder.buffer, n, endStream, c.peerMaxFrame);
    c.writes.schedule();
    if (endStream) {
      this.#ended = true;
      this.#sentEnd();
    }
  }

  /** DATA; returns false when the writer should wait for `onClientDrain`. */
  sendData(buf: Buffer, start: number, end: number, endStream: boolean): boolean {
    const c = this.#conn;
    const w = c.writes;
    if (endStream) this.#ended = true;
    const sentEnd = this.out.send(c, buf, start, end, endStream);
    w.schedule();
    if (sentEnd) this.#sentEnd();
    if (!this.out.empty || w.socketFull) {
      this.#wantDrain = true;
      if (w.socketFull) w.waitForDrain(this);
      return false;
    }
    return true;
  }

  /** The queued DATA is out and the response ended: trailers, or END_STREAM on an empty DATA. */
  #finishResponse(): void {
    if (this.#trailers !== null && this.#trailers.length > 0) this.sendHeaders(this.#trailers, true);
    else {
      const sent = this.out.send(this.#conn, EMPTY, 0, 0, true);
      // Outside a read of this connection (a tunnel's end comes from the upstream socket), the
      // frame waits for a flush: scheduled as sendData schedules one.
      this.#conn.writes.schedule();
      if (sent) this.#sentEnd();
    }
  }

  #sentEnd(): void {
    this.#localDone = true;
    this.#maybeDone();
  }

  /** Both sides over: the stream closes. Our side over, theirs not, after a stopped upload: RST(NO_ERROR). */
  #maybeDone(): void {
    if (this.closed || !this.#localDone) return;
    // A clean end: the exchange is finishing it (it called us), nothing to abort.
    if (this.remoteEnded) this.#close(false);
    else if (this.#stopUpload) this.resetStream(E_NO_ERROR);
  }

  /** `abort`: the stream ended abnormally (a reset, the connection gone): the exchange learns it. */
  #close(abort = true): void {
    if (this.closed) return;
    this.closed = true;
    this.out.clear();
    this.body.takePending();
    const ctx = this.#conn.ctx;
    if (this.#timed) {
      this.#timed = false;
      ctx.ticker.delete(this);
    }
    this.#conn.streamClosed(this);
    this.tunnel?.onStreamClosed();
    const ex = this.#ex;
    if (abort && ex !== null && !ex.done) ex.abort();
  }

  // ---- ClientSink

  #headSent = false;
  resumeBody(): void {
    this.body.resume();
  }

  interim(_ex: ClientExchange, res: UpstreamResponse): boolean {
    if (this.closed || this.#headSent) return true;
    if (res.status === 100) this.sendHeaders(STATUS_100, false);
    else this.sendHeaders(objectFields(interimFields(res)), false); // 102, 103, 104… (Http1Sink.interim)
    const w = this.#conn.writes;
    if (!w.socketFull) return true;
    this.#wantDrain = true;
    w.waitForDrain(this);
    return false;
  }

  head(
    ex: ClientExchange,
    status: number,
    _reason: string,
    res: UpstreamResponse,
    extra: string,
    _close: boolean,
    body: Buffer | null,
    bodyStart: number,
    bodyEnd: number,
  ): boolean {
    if (this.closed || this.#headSent) return false;
    this.#headSent = true;
    const fields = responseHeadFields(status, res, extra);
    // As node:http2's respond: no body on the wire after HEAD, 204, 205 and 304.
    if (ex.req.method === 'HEAD' || status === 204 || status === 205 || status === 304) {
      this.#noBody = true;
      this.sendHeaders(fields, true);
      return false;
    }
    if (body !== null) {
      this.sendHeaders(fields, false);
      this.sendData(body, bodyStart, bodyEnd, true);
      return false;
    }
    if (res.bodyKind === BODY_NONE) {
      this.sendHeaders(fields, true);
      return false;
    }
    if (res.trailers === true) {
      this.#waitTrailers = true;
      this.#grpc = isGrpcResponse(res);
    }
    this.sendHeaders(fields, false);
    return false;
  }

  data(buf: Buffer, start: number, end: number): boolean {
    if (this.#ended || this.closed || this.#noBody) return true;
    return this.sendData(buf, start, end, false);
  }

  end(trailers: HeaderList | null): void {
    if (this.#ended || this.closed) return;
    this.#ended = true;
    if (this.#waitTrailers && trailers !== null) this.#trailers = objectFields(trailersObject(trailers));
    if (this.out.empty) this.#finishResponse();
  }

  direct(ex: ClientExchange, rh: ResponseHead, body: string, bodyBytes: number, _close: boolean): boolean {
    if (this.closed || this.#headSent) return false;
    this.#headSent = true;
    directAnswer(this, ex, rh, body, bodyBytes);
    return false;
  }

  /**
   * RFC 8441 §5, as stream-sink.ts: the backend's 101 becomes a 200 to the extended CONNECT. To
   * a plain CONNECT, the backend's 2xx goes as it is, without framing fields (RFC 9110 §9.3.6),
   * as Traefik v3.7.12 relays it (pkg/proxy/httputil/connect.go).
   */
  upgrade(
    ex: ClientExchange,
    status: number,
    _reason: string,
    res: UpstreamResponse,
    extra: string,
  ): ClientTunnelSide | null {
    if (this.closed || this.#headSent) return null;
    this.#headSent = true;
    const fields =
      ex.parsed.upgrade === CONNECT_TUNNEL
        ? upstreamResponseFields(status, res, extra, true)
        : tunnelFields(ex, res, extra);
    if (fields === null) {
      // The backend did not compute the key's Accept: it did not speak WebSocket.
      textAnswer(this, 502);
      return null;
    }
    this.sendHeaders(fields, false);
    const t = new OwnTunnel(this);
    this.tunnel = t;
    if (ex.parsed.upgrade === CONNECT_TUNNEL)
      (t as OwnTunnel & { [TUNNEL_RESET]?: (s: Duplex) => void })[TUNNEL_RESET] = OwnTunnel.broken;
    // DATA that came with or after the CONNECT, before the switch, is the tunnel's first bytes.
    const p = this.body.takePending();
    if (p !== null) for (const b of p) t.onData(b);
    if (this.remoteEnded) t.onEnd();
    return { stream: t, rest: null };
  }

  broken(): void {
    if (this.closed) return;
    if (this.#grpc && !this.#ended) {
      // As stream-sink.ts: a gRPC call reads the failure as grpc-status UNAVAILABLE.
      this.#ended = true;
      this.#trailers = GRPC_BROKEN;
      if (this.out.empty) this.#finishResponse();
      return;
    }
    this.resetStream(E_INTERNAL_ERROR);
  }

  exchangeDone(_ex: ClientExchange, _keepAlive: boolean): void {
    if (this.closed || this.tunnel !== null) return;
    if (!this.#ended) {
      // Aborted without an answer: reset, never end.
      this.resetStream(E_INTERNAL_ERROR);
      return;
    }
    // The response is complete but the request is not: RST_STREAM(NO_ERROR) once the response
    // (and its trailers) went out (RFC 9113 §8.1).
    if (!this.remoteEnded) {
      this.#stopUpload = true;
      this.#maybeDone();
    }
  }

  // ---- the tunnel's side (extended CONNECT)

  /** Tunnel bytes to the client; false: wait for its drain. */
  tunnelWrite(buf: Buffer): boolean {
    if (this.closed || this.#ended) return true;
    return this.sendData(buf, 0, buf.length, false);
  }

  tunnelEnd(): void {
    if (this.closed || this.#ended) return;
    this.#ended = true;
    if (this.out.empty) this.#finishResponse();
  }
}

const EMPTY = Buffer.alloc(0);
