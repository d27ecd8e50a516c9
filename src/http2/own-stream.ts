import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { HeaderList } from '../core/headers.ts';
import type { SocketAddresses } from '../core/proxy-protocol.ts';
import type { ResponseHead } from '../core/request.ts';
import { statusText } from '../core/status-text.ts';
import type { Timed } from '../core/ticker.ts';
import { BODY_CHUNKED, BODY_NONE } from '../http1/request-head.ts';
import { BODY_CLOSE } from '../http1/response-head.ts';
import type { ClientExchange, ClientSink, ClientTunnelSide } from '../proxy/client-sink.ts';
import type { EntryPointContext } from '../proxy/entry-point-context.ts';
import { grpcKind, toGrpcAnswer, trailersOnlyFields } from '../proxy/grpc-status.ts';
import { trailersObject } from '../upstream/h2-fields.ts';
import type { UpstreamResponse } from '../upstream/stream.ts';
import { E_INTERNAL_ERROR, E_NO_ERROR, E_PROTOCOL_ERROR } from './frames.ts';
import type { HpackEncoder } from './hpack-encoder.ts';
import { type BodyOwner, RequestBody } from './own-request-body.ts';
import { SendQueue, type SendWindow } from './own-send-queue.ts';
import { OwnTunnel } from './own-tunnel.ts';
import { directResponseFields, interimFields, upstreamResponseFields } from './response-fields.ts';
import { websocketAccept } from './stream-sink.ts';

/** The connection side a stream works with. */
export interface StreamConn extends SendWindow {
  readonly ctx: EntryPointContext;
  readonly clientIp: string;
  readonly socket: Socket;
  readonly encoder: HpackEncoder;
  /** Our SETTINGS_INITIAL_WINDOW_SIZE: the credit a stream starts with. */
  readonly recvWindowSize: number;
  /** The socket's buffer is full: writers wait for its drain. */
  readonly socketFull: boolean;
  /** Frames were queued: write them at the end of this tick. */
  schedule(): void;
  /** The client reset a stream before our response ended (rapid-reset accounting). */
  peerReset(): void;
  streamClosed(s: OwnStream): void;
  /** Our stream-level flow control credit back to the client. */
  windowUpdate(stream: number, n: number): void;
  /** The stream wrote while the socket was full: `onDrain` follows its drain. */
  waitForDrain(s: OwnStream): void;
  rst(stream: number, code: number): void;
}

/** What ends a gRPC response whose upstream broke mid-stream (as stream-sink.ts). */
const GRPC_BROKEN: string[] = ['grpc-status', '14', 'grpc-message', 'upstream connection broken'];
const STATUS_100: string[] = [':status', '100'];

/**
 * One stream of our own HTTP/2 connection as a `ClientSink`, the counterpart of stream-sink.ts
 * for node:http2: the response head becomes HEADERS, body bytes DATA under flow control, a
 * broken response RST_STREAM. Request DATA is fed to the exchange as fast as the upstream takes
 * it; what it does not take waits here and withholds the stream's WINDOW_UPDATEs.
 */
export class OwnStream implements ClientSink, BodyOwner, Timed {
  readonly id: number;
  readonly clientIp: string;
  readonly http2 = true;
  deadline = 0;
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
    const p = ex.parsed;
    const ctx = this.#conn.ctx;
    if (ctx.readTimeoutMs > 0 && p.upgrade === null) {
      this.#timed = true;
      this.deadline = ctx.ticker.now + ctx.readTimeoutMs;
      ctx.ticker.add(this);
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
    const text = statusText(status);
    const rh = { status, reason: text, headers: new HeaderList() };
    this.#headers(directResponseFields(rh, text.length), false);
    const b = Buffer.from(text, 'latin1');
    this.#data(b, 0, b.length, true);
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
    this.#conn.schedule();
    if (this.out.empty && this.#wantDrain && !this.#conn.socketFull) this.onDrain();
  }

  onDrain(): void {
    if (!this.#wantDrain || this.closed) return;
    if (!this.out.empty || this.#conn.socketFull) return;
    this.#wantDrain = false;
    if (this.tunnel !== null) this.tunnel.onDrain();
    else this.#ex?.onClientDrain();
  }

  onDeadline(): void {
    const ex = this.#ex;
    if (ex === null || ex.done) return;
    if (!ex.bodyDone) ex.failBody('request read timeout', 408);
    else if (!ex.responseStarted) ex.readTimeoutBeforeHead();
  }

  // ---- sending

  #headers(fields: readonly string[], endStream: boolean): void {
    const c = this.#conn;
    const n = c.encoder.encode(fields);
    c.writer.headers(this.id, c.encoder.buffer, n, endStream, c.peerMaxFrame);
    c.schedule();
    if (endStream) {
      this.#ended = true;
      this.#sentEnd();
    }
  }

  /** DATA; returns false when the writer should wait for `onClientDrain`. */
  #data(buf: Buffer, start: number, end: number, endStream: boolean): boolean {
    const c = this.#conn;
    if (endStream) this.#ended = true;
    const sentEnd = this.out.send(c, buf, start, end, endStream);
    c.schedule();
    if (sentEnd) this.#sentEnd();
    if (!this.out.empty || c.socketFull) {
      this.#wantDrain = true;
      if (c.socketFull) c.waitForDrain(this);
      return false;
    }
    return true;
  }

  /** The queued DATA is out and the response ended: trailers, or END_STREAM on an empty DATA. */
  #finishResponse(): void {
    if (this.#trailers !== null && this.#trailers.length > 0) this.#headers(this.#trailers, true);
    else if (this.out.send(this.#conn, EMPTY, 0, 0, true)) this.#sentEnd();
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

  interim(_ex: ClientExchange, res: UpstreamResponse): void {
    if (this.closed || this.#headSent) return;
    if (res.status === 100) this.#headers(STATUS_100, false);
    else if (res.status === 103) this.#headers(objectFields(interimFields(res)), false);
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
    const kind = res.bodyKind;
    const fields = upstreamResponseFields(
      status,
      res,
      extra,
      kind === BODY_CHUNKED || kind === BODY_CLOSE || res.status === 204,
    );
    // As node:http2's respond: no body on the wire after HEAD, 204, 205 and 304.
    if (ex.req.method === 'HEAD' || status === 204 || status === 205 || status === 304) {
      this.#noBody = true;
      this.#headers(fields, true);
      return false;
    }
    if (body !== null) {
      this.#headers(fields, false);
      this.#data(body, bodyStart, bodyEnd, true);
      return false;
    }
    if (kind === BODY_NONE) {
      this.#headers(fields, true);
      return false;
    }
    if (res.trailers === true) {
      this.#waitTrailers = true;
      this.#grpc = res.headers.get('content-type')?.startsWith('application/grpc') === true;
    }
    this.#headers(fields, false);
    return false;
  }

  data(buf: Buffer, start: number, end: number): boolean {
    if (this.#ended || this.closed || this.#noBody) return true;
    return this.#data(buf, start, end, false);
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
    if (rh.status >= 400) {
      const kind = grpcKind(ex.req.headers);
      if (kind !== 0) {
        // A gRPC call learns of our errors from grpc-status: a trailers-only answer.
        toGrpcAnswer(rh, kind, ex.req.headers.get('content-type')!, body);
        this.#headers(trailersOnlyFields(rh), true);
        return false;
      }
    }
    const fields = directResponseFields(rh, bodyBytes);
    const s = rh.status;
    if (bodyBytes === 0 || ex.req.method === 'HEAD' || s === 204 || s === 205 || s === 304) {
      this.#headers(fields, true);
    } else {
      this.#headers(fields, false);
      const b = Buffer.from(body, 'utf8');
      this.#data(b, 0, b.length, true);
    }
    return false;
  }

  /** RFC 8441 §5, as stream-sink.ts: the backend's 101 becomes a 200 to the extended CONNECT. */
  upgrade(
    ex: ClientExchange,
    _status: number,
    _reason: string,
    res: UpstreamResponse,
    extra: string,
  ): ClientTunnelSide | null {
    if (this.closed || this.#headSent) return null;
    this.#headSent = true;
    const key = ex.req.headers.get('sec-websocket-key') ?? '';
    if (res.headers.get('sec-websocket-accept') !== websocketAccept(key)) {
      const text = statusText(502);
      this.#headers(
        directResponseFields({ status: 502, reason: text, headers: new HeaderList() }, text.length),
        false,
      );
      const b = Buffer.from(text, 'latin1');
      this.#data(b, 0, b.length, true);
      return null;
    }
    const fields = upstreamResponseFields(200, res, extra, true);
    for (let i = fields.length - 2; i >= 2; i -= 2) {
      if (fields[i] === 'sec-websocket-accept') fields.splice(i, 2);
    }
    this.#headers(fields, false);
    const t = new OwnTunnel(this);
    this.tunnel = t;
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
    return this.#data(buf, 0, buf.length, false);
  }

  tunnelEnd(): void {
    if (this.closed || this.#ended) return;
    this.#ended = true;
    if (this.out.empty) this.#finishResponse();
  }
}

const EMPTY = Buffer.alloc(0);

/** An object of fields (node's form: repeated names as arrays) as `name, value, …`. */
function objectFields(o: Record<string, string | string[]>): string[] {
  const out: string[] = [];
  for (const k of Object.keys(o)) {
    const v = o[k]!;
    if (typeof v === 'string') out.push(k, v);
    else for (const x of v) out.push(k, x);
  }
  return out;
}
