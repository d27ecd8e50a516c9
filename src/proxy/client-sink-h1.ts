import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { directHandle, writeOut, writeToHandle } from '../core/direct-write.ts';
import type { HeaderList } from '../core/headers.ts';
import type { ResponseHead } from '../core/request.ts';
import { bodyAllowed } from '../core/status-text.ts';
import { BODY_CHUNKED, BODY_NONE } from '../http1/request-head.ts';
import { BODY_CLOSE } from '../http1/response-head.ts';
import { UpstreamAffinity } from '../upstream/affinity.ts';
import type { UpstreamResponse } from '../upstream/stream.ts';
import type { ClientExchange, ClientSink, ClientTunnelSide } from './client-sink.ts';
import type { EntryPointContext } from './entry-point-context.ts';
import { grpcKind, toGrpcAnswer } from './grpc-status.ts';
import { directResponseHead, missingDateLine, responseFields } from './heads.ts';

/** The connection an `Http1Sink` writes for: it owns the socket's reading side. */
export interface Http1SinkOwner {
  /** Requests served on this connection, this one included. */
  readonly requestCount: number;
  /** Whether the connection had outlived `keepAliveMaxTime` when its current request arrived. */
  readonly tooOld: boolean;
  exchangeDone(ex: ClientExchange, keepAlive: boolean): void;
  resumeBody(): void;
  /**
   * The connection becomes a tunnel: stop reading HTTP, let go of the socket's reading side and
   * return the bytes read past the request (or null).
   */
  detachForTunnel(): Buffer | null;
  /** The client sent its FIN. */
  readonly clientEnded: boolean;
}

/** Bodies up to this size are written as part of the head's string (writeHead). */
const SMALL_BODY = 1024;

function uncork(socket: Socket): void {
  socket.uncork();
}

/**
 * The HTTP/1.1 side of `ClientSink`: serialises response heads (hop-by-hop fields dropped,
 * framing regenerated, keep-alive decided), re-chunks bodies whose length the upstream did not
 * give, and breaks the connection when a response cannot be completed. One per connection,
 * reused by each of its exchanges in turn.
 *
 * Syscalls matter here: a small response whose head and whole body arrived together is one
 * write(2); any other head is corked and flushed at the end of the turn with its first body
 * bytes (one writev).
 */
export class Http1Sink implements ClientSink {
  readonly socket: Socket;
  readonly clientIp: string;
  readonly http2 = false;
  readonly #ctx: EntryPointContext;
  readonly #owner: Http1SinkOwner;
  /** The current response is re-chunked towards the client. */
  #chunked = false;
  /** The connection's own upstream pools (NTLM, Negotiate servers); closed with it. */
  affinity: UpstreamAffinity | null = null;

  constructor(socket: Socket, clientIp: string, ctx: EntryPointContext, owner: Http1SinkOwner) {
    this.socket = socket;
    this.clientIp = clientIp;
    this.#ctx = ctx;
    this.#owner = owner;
  }

  #mustClose(ex: ClientExchange, close: boolean): boolean {
    if (close || !ex.parsed.keepAlive || this.#ctx.draining || this.#owner.tooOld) return true;
    const max = this.#ctx.keepAliveMaxRequests;
    return max > 0 && this.#owner.requestCount >= max;
  }

  get peer(): Socket {
    return this.socket;
  }

  get clientEnded(): boolean {
    return this.#owner.clientEnded;
  }

  ownAffinity(): UpstreamAffinity {
    this.affinity ??= new UpstreamAffinity();
    return this.affinity;
  }

  get serverName(): string | undefined {
    const s = this.socket as Partial<TLSSocket>;
    return s.encrypted === true ? s.servername || undefined : undefined;
  }

  interim(ex: ClientExchange, res: UpstreamResponse): boolean {
    // Every 1xx is relayed to HTTP/1.1 clients (100 without fields), as Traefik's reverse proxy
    // writes each one its transport hands the Got1xxResponse hook (net/http/httputil
    // ReverseProxy: 102 Processing and 104 too, not only 100 and 103); HTTP/1.0 clients get none
    // (RFC 9110 §15.2).
    if (ex.parsed.versionMinor === 1) {
      let s = `HTTP/1.1 ${res.status} ${res.reason}\r\n`;
      if (res.status !== 100) s += responseFields(res, true);
      return this.socket.write(`${s}\r\n`, 'latin1');
    }
    return true;
  }

  /** Set by #head: whether the connection closes after the response it built. */
  #close = false;

  /** The response's head, CRLFCRLF included; sets `#chunked` and `#close`. */
  #head(
    ex: ClientExchange,
    status: number,
    reason: string,
    res: UpstreamResponse,
    extra: string,
    wantClose: boolean,
  ): string {
    const http10 = ex.parsed.versionMinor === 0;
    let close = this.#mustClose(ex, wantClose);
    const kind = res.bodyKind;
    const rechunk = kind === BODY_CHUNKED || kind === BODY_CLOSE;
    // A 204 never has content, and RFC 9110 §8.6 forbids Content-Length on it: a client that
    // believed the upstream's value would take bytes of the next response as this body.
    let s = `HTTP/1.1 ${status} ${reason}\r\n${responseFields(res, rechunk || res.status === 204)}${missingDateLine(res.headers)}${extra}`;
    this.#chunked = false;
    if (rechunk) {
      if (!http10) {
        this.#chunked = true;
        s += 'Transfer-Encoding: chunked\r\n';
      } else {
        close = true; // HTTP/1.0 client: the end of the body is the end of the connection
      }
    }
    // An HTTP/2 server's answer that ended with its HEADERS frame (END_STREAM) and gave no length
    // is empty: Go's server writes `Content-Length: 0` for a handler that wrote nothing (HTTP/1.1
    // has no other way to say it). HEAD, 204 and 304 (an HTTP/1.1 server's only BODY_NONE) skip
    // the lookup.
    else if (
      kind === BODY_NONE &&
      ex.req.method !== 'HEAD' &&
      bodyAllowed(status) &&
      !res.headers.has('content-length')
    )
      s += 'Content-Length: 0\r\n';
    if (close) s += 'Connection: close\r\n';
    else if (http10) s += 'Connection: keep-alive\r\n';
    this.#close = close;
    return `${s}\r\n`;
  }

  head(
    ex: ClientExchange,
    status: number,
    reason: string,
    res: UpstreamResponse,
    extra: string,
    wantClose: boolean,
    body: Buffer | null,
    bodyStart: number,
    bodyEnd: number,
  ): boolean {
    const s = this.#head(ex, status, reason, res, extra, wantClose);
    const close = this.#close;
    const socket = this.socket;
    if (body !== null) {
      // Head and whole body in one write(2): no cork, no writev, no tick. A small body goes in
      // the head's string (latin1 maps every byte to itself and back): cheaper than a buffer
      // for the two, ~0.5 µs for 12 bytes, ~0.2 µs for 1 KiB (docs/performance.md).
      const n = bodyEnd - bodyStart;
      if (n <= SMALL_BODY) {
        // Not direct-writable (TLS, a busy socket): the buffer below, with no string made first.
        const handle = directHandle(socket);
        if (handle !== null) {
          writeToHandle(socket, handle, s + body.latin1Slice(bodyStart, bodyEnd));
          return close;
        }
      }
      const out = Buffer.allocUnsafe(s.length + n);
      out.latin1Write(s, 0, s.length);
      body.copy(out, s.length, bodyStart, bodyEnd);
      writeOut(socket, out);
      return close;
    }
    if (res.bodyKind === BODY_NONE) {
      writeOut(socket, s);
      return close;
    }
    // Body bytes follow in this same turn more often than not: send them with the head.
    socket.cork();
    socket.write(s, 'latin1');
    process.nextTick(uncork, socket);
    return close;
  }

  /** `head` with a whole small body as latin1 text: one write(2) of the two, as above. */
  headText(
    ex: ClientExchange,
    status: number,
    reason: string,
    res: UpstreamResponse,
    extra: string,
    wantClose: boolean,
    body: string,
  ): boolean {
    const s = this.#head(ex, status, reason, res, extra, wantClose);
    const socket = this.socket;
    const handle = directHandle(socket);
    if (handle !== null) writeToHandle(socket, handle, s + body);
    else {
      // As `head` writes a small body to a socket it cannot write directly (TLS): one buffer.
      const out = Buffer.allocUnsafe(s.length + body.length);
      out.latin1Write(s, 0, s.length);
      out.latin1Write(body, s.length, body.length);
      writeOut(socket, out);
    }
    return this.#close;
  }

  data(buf: Buffer, start: number, end: number): boolean {
    const socket = this.socket;
    if (this.#chunked) {
      socket.cork();
      socket.write(`${(end - start).toString(16)}\r\n`, 'latin1');
      socket.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
      const ok = socket.write('\r\n', 'latin1');
      socket.uncork();
      return ok;
    }
    return socket.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
  }

  /** Trailers are dropped: an HTTP/1.1 client gets the body without them. */
  end(_trailers: HeaderList | null): void {
    if (this.#chunked) this.socket.write('0\r\n\r\n', 'latin1');
  }

  direct(ex: ClientExchange, rh: ResponseHead, body: string, bodyBytes: number, wantClose: boolean): boolean {
    if (rh.status >= 400) {
      // A gRPC-Web call (HTTP/1.1 carries no other gRPC) learns of our errors from grpc-status.
      const kind = grpcKind(ex.req.headers);
      if (kind !== 0) {
        toGrpcAnswer(rh, kind, ex.req.headers.get('content-type')!, body);
        body = '';
        bodyBytes = 0;
      }
    }
    const close = this.#mustClose(ex, wantClose);
    this.#chunked = false;
    const s = directResponseHead(rh, bodyBytes, close, ex.parsed.versionMinor === 0);
    const socket = this.socket;
    if (!socket.destroyed) {
      if (ex.req.method === 'HEAD' || bodyBytes === 0) socket.write(s, 'latin1');
      else socket.write(s + body, 'utf8');
    }
    return close;
  }

  upgrade(
    ex: ClientExchange,
    status: number,
    reason: string,
    res: UpstreamResponse,
    extra: string,
  ): ClientTunnelSide | null {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return null;
    // Connection and Upgrade are hop-by-hop and dropped with the others: the switch puts its own.
    const protocol = res.headers.get('upgrade') ?? ex.parsed.upgrade ?? '';
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\n${responseFields(res, true)}${missingDateLine(res.headers)}${extra}Connection: Upgrade\r\nUpgrade: ${protocol}\r\n\r\n`,
      'latin1',
    );
    return { stream: socket, rest: this.#owner.detachForTunnel() };
  }

  broken(): void {
    this.socket.destroy();
  }

  exchangeDone(ex: ClientExchange, keepAlive: boolean): void {
    this.#owner.exchangeDone(ex, keepAlive);
  }

  resumeBody(): void {
    this.#owner.resumeBody();
  }
}
