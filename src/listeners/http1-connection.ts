import type { Socket } from 'node:net';
import { unsentBytes } from '../core/direct-write.ts';
import { unwrapIp } from '../core/ip.ts';
import type { RequestHead, RequestTls } from '../core/request.ts';
import type { Timed } from '../core/ticker.ts';
import { ParseError } from '../http1/parse-error.ts';
import { adoptReadSlot, COPY_MAX, copyOut, ReadSlot, type ReadTarget } from '../http1/read-slot.ts';
import { parseRequestHead } from '../http1/request-head.ts';
import { canonicalPath, canonicalQuery } from '../http1/request-path.ts';
import { matchPreface, PREFACE_FULL, PREFACE_PARTIAL } from '../http2/preface.ts';
import type { ClientExchange } from '../proxy/client-sink.ts';
import { Http1Sink, type Http1SinkOwner } from '../proxy/client-sink-h1.ts';
import { type EntryPointContext, outlivedKeepAlive } from '../proxy/entry-point-context.ts';
import { Exchange } from '../proxy/exchange.ts';
import { applyForwardedHeaders, dropConnectionFields, forwardedProto } from '../proxy/forwarded.ts';
import { serverRefusal } from '../proxy/heads.ts';

const S_HEAD = 0;
const S_BODY = 1;
const S_WAIT = 2;
const S_CLOSED = 3;

/** Go's badRequestError texts (net/http readRequest) for the refusals that have one. */
const GO_DETAIL: Readonly<Record<string, string>> = {
  'missing Host': 'missing required Host header',
  'duplicate Host': 'too many Host headers',
  'invalid Host': 'malformed Host header',
};

/** The connection switched protocols: its bytes belong to a tunnel, no longer to us. */
const S_TUNNEL = 4;
/**
 * Between requests, while the client has not taken what was written to it: a client that
 * pipelines requests and reads no response is not read further (its responses would pile up
 * in memory without bound), as nginx does; the next request is parsed on 'drain'.
 */
const S_DRAIN = 5;

/** The listener side of a connection. */
export interface ConnectionOwner {
  connectionClosed(c: Http1Connection): void;
  /**
   * The connection opened with the HTTP/2 preface (h2c with prior knowledge). The connection has
   * let go of the socket: no listener of ours is left on it, and every byte read so far has been
   * put back (`unshift`) for the HTTP/2 session to read first.
   */
  switchToHttp2(c: Http1Connection, socket: Socket): void;
  /**
   * Where a connection that opened with a TLS record (0x16) goes, if anywhere: an entry point
   * with no TLS router sends its connections here unread (no peek), and Traefik's TCP router,
   * which always peeks, would hand that ClientHello to its HTTPS forwarder. Same hand-over as
   * `switchToHttp2`. Null: the bytes are HTTP's to refuse.
   */
  readonly switchToTls: ((c: Http1Connection, socket: Socket) => void) | null;
}

/**
 * The server side of one HTTP/1.1 client connection: reads request heads, hands each to an
 * Exchange, feeds it the body, and moves on to the next (pipelined) request only when the
 * previous response is complete, so responses leave in request order.
 */
export class Http1Connection implements Http1SinkOwner, Timed, ReadTarget {
  readonly socket: Socket;
  readonly clientIp: string;
  readonly trusted: boolean;
  readonly #ctx: EntryPointContext;
  readonly #owner: ConnectionOwner;
  /** The socket itself on TLS connections (what passTLSClientCert reads), else undefined. */
  readonly #tls: RequestTls | undefined;
  /** Writes this connection's responses, one exchange after the other. */
  readonly #sink: Http1Sink;
  requestCount = 0;
  /** keepAliveMaxTime: set when a request arrives on a connection older than the limit. */
  tooOld = false;
  /** When the connection was accepted (ticker ms), for keepAliveMaxTime. */
  readonly #openedAt: number;
  deadline = 0;
  tickerSlot = -1;
  /** Its index in its listener's SlotList. */
  listSlot = -1;
  #buf: Buffer | null = null;
  #off = 0;
  /** End of the bytes in `#buf` (a slot's buffer is longer than what was read into it). */
  #end = 0;
  /** `#buf` is the ReadSlot's buffer, which the next read overwrites: keep nothing of it. */
  #shared = false;
  /** Reads into a buffer of our own (plain TCP, from the second request on), else null: 'data'. */
  #slot: ReadSlot | null = null;
  #slotTried = false;
  #state = S_HEAD;
  #ex: Exchange | null = null;
  #paused = false;
  #headTimerArmed = false;
  /** writeTimeout's deadline for the request in flight on the ticker's clock, 0 = none. */
  #writeBy = 0;
  #inProcess = false;
  #clientEnded = false;
  /** Until the first request head: whether the connection may turn out to be h2c. */
  #h2c: boolean;
  readonly #listeners: {
    readonly data: (chunk: Buffer) => void;
    readonly end: () => void;
    readonly error: () => void;
    readonly close: () => void;
    readonly drain: () => void;
  };

  /** `h2c`: look for the HTTP/2 preface (cleartext entry points; TLS chooses by ALPN instead). */
  constructor(socket: Socket, ctx: EntryPointContext, owner: ConnectionOwner, h2c: boolean) {
    this.socket = socket;
    this.#ctx = ctx;
    this.#owner = owner;
    this.#h2c = h2c;
    this.#openedAt = ctx.ticker.now;
    // Duck-typed: importing node:tls here would load it in proxies that have no TLS.
    this.#tls =
      (socket as { encrypted?: boolean } | null | undefined)?.encrypted === true
        ? (socket as unknown as RequestTls)
        : undefined;
    this.clientIp = unwrapIp(socket.remoteAddress);
    this.trusted = ctx.isTrusted(this.clientIp);
    this.#sink = new Http1Sink(socket, this.clientIp, ctx, this);
    const l = {
      data: (chunk: Buffer) => this.#onData(chunk),
      end: () => this.#onEnd(),
      error: () => {}, // 'close' follows; the exchange learns about it there
      close: () => this.#onClose(),
      drain: () => this.#onDrain(),
    };
    this.#listeners = l;
    socket.on('data', l.data);
    socket.on('end', l.end);
    socket.on('error', l.error);
    socket.on('close', l.close);
    socket.on('drain', l.drain);
    // A new connection must start its first request within readHeaderTimeout, not idleTimeout
    // (keep-alive waits between requests): as Go's server, whose header deadline starts when the
    // connection is served. A client that connects and sends nothing (slowloris's cheapest form)
    // holds the connection 10 s by default instead of 180.
    this.deadline = ctx.ticker.now + ctx.readHeaderTimeoutMs;
    ctx.ticker.add(this);
  }

  get idle(): boolean {
    return this.#state === S_HEAD && this.#ex === null && (this.#buf === null || this.#off >= this.#end);
  }

  #onData(chunk: Buffer): void {
    if (this.#state === S_CLOSED) return;
    this.#take(chunk, chunk.length, false);
  }

  /** ReadTarget: `buf[0..n)` was read into the ReadSlot's buffer. */
  onRead(buf: Buffer, n: number): boolean {
    const state = this.#state;
    // A tunnel reads the socket as a stream now: hand it a copy through the readable side.
    if (state === S_TUNNEL) return this.socket.push(copyOut(buf, 0, n));
    if (state !== S_CLOSED) this.#take(buf, n, true);
    return true;
  }

  #take(buf: Buffer, n: number, shared: boolean): void {
    const held = this.#buf;
    if (held === null || this.#off >= this.#end) {
      this.#buf = buf;
      this.#end = n;
      this.#shared = shared;
    } else {
      // What is held was made our own before (keepRest): it survives the next read.
      const all = Buffer.concat([
        held.subarray(this.#off, this.#end),
        n === buf.length ? buf : buf.subarray(0, n),
      ]);
      this.#buf = all;
      this.#end = all.length;
      this.#shared = false;
    }
    this.#off = 0;
    this.#process();
    if (this.#shared) this.#keepRest();
  }

  /** Bytes of the slot's buffer still unprocessed (a partial head, pipelined requests) are copied out. */
  #keepRest(): void {
    const b = this.#buf;
    this.#shared = false;
    if (b !== null && this.#off < this.#end) {
      const rest = copyOut(b, this.#off, this.#end);
      this.#buf = rest;
      this.#off = 0;
      this.#end = rest.length;
    } else this.#buf = null;
  }

  /**
   * From the first request on, a TCP or TLS connection reads into a buffer of its own (ReadSlot):
   * not before, since an h2c connection is handed to the HTTP/2 engine as a stream.
   */
  #adoptSlot(): void {
    this.#slotTried = true;
    const slot = new ReadSlot();
    if (!adoptReadSlot(this.socket, slot)) return;
    slot.target = this;
    this.#slot = slot;
    this.socket.off('data', this.#listeners.data);
  }

  #process(): void {
    if (this.#inProcess) return;
    this.#inProcess = true;
    try {
      this.#loop();
    } catch (e) {
      this.#internalError(e);
    } finally {
      this.#inProcess = false;
    }
  }

  #loop(): void {
    for (;;) {
      const buf = this.#buf;
      const len = buf === null ? 0 : this.#end;
      switch (this.#state) {
        case S_HEAD: {
          if (buf === null || this.#off >= len) {
            this.#buf = null;
            if (this.#clientEnded) this.#close();
            else this.#resume();
            return;
          }
          if (this.#h2c && buf[this.#off] === 0x50 /* P */) {
            const m = matchPreface(buf, this.#off, len);
            if (m === PREFACE_FULL) {
              this.#handOver(buf.subarray(this.#off, len), this.#owner.switchToHttp2);
              return;
            }
            if (m === PREFACE_PARTIAL) {
              if (!this.#headTimerArmed) {
                this.#headTimerArmed = true;
                this.deadline = this.#ctx.ticker.now + this.#ctx.readHeaderTimeoutMs;
              }
              if (this.#clientEnded) this.#close();
              return;
            }
          }
          // A ClientHello as the connection's first bytes (#h2c: nothing served yet, cleartext).
          if (this.#h2c && buf[this.#off] === 0x16 && this.#owner.switchToTls !== null) {
            this.#handOver(buf.subarray(this.#off, len), this.#owner.switchToTls);
            return;
          }
          const r = parseRequestHead(buf, this.#off, len, this.#ctx.limits);
          if (r === null) {
            if (!this.#headTimerArmed) {
              this.#headTimerArmed = true;
              this.deadline = this.#ctx.ticker.now + this.#ctx.readHeaderTimeoutMs;
            }
            if (this.#clientEnded) this.#close();
            return;
          }
          if (r instanceof ParseError) {
            this.#reject(r);
            return;
          }
          const path = canonicalPath(r.path, this.#ctx.pathPolicy);
          if (path instanceof ParseError) {
            this.#reject(path);
            return;
          }
          this.#off += r.headLength;
          this.#h2c = false;
          if (!this.#slotTried) this.#adoptSlot();
          this.requestCount++;
          if (outlivedKeepAlive(this.#ctx, this.#openedAt)) this.tooOld = true;
          this.#headTimerArmed = false;
          const rt = this.#ctx.readTimeoutMs;
          this.deadline = rt > 0 ? this.#ctx.ticker.now + rt : 0;
          if (this.#ctx.writeTimeoutMs > 0) this.#armWriteTimeout();
          const req: RequestHead = {
            method: r.method,
            path,
            query: canonicalQuery(r.query, this.#ctx.pathPolicy),
            host: r.host,
            hostPort: r.hostPort,
            headers: r.headers,
            clientIp: this.clientIp,
            scheme: this.#ctx.scheme,
            entryPoint: this.#ctx.name,
            tls: this.#tls,
            omitForwardedFor: false,
          };
          // Fields the client named in Connection are hop-by-hop (RFC 9110 §7.6.1): dropped
          // before routing and before we add our own fields (but `forwardedHeaders.connection`).
          const tokens = r.connectionTokens;
          if (tokens !== null) dropConnectionFields(r.headers, tokens, this.#ctx.connectionKept);
          applyForwardedHeaders(
            r.headers,
            this.trusted,
            this.clientIp,
            forwardedProto(this.#ctx.scheme, r.upgrade),
            r.authority,
            r.hostPort,
            this.#ctx.schemeHeaders,
          );
          const ex = new Exchange(this.#sink, this.#ctx, r, req);
          this.#ex = ex;
          this.#state = ex.bodyDone ? S_WAIT : S_BODY;
          ex.start();
          continue;
        }
        case S_BODY: {
          const ex = this.#ex!;
          if (ex.done) return; // exchangeDone already moved us on (or closed)
          if (buf === null || this.#off >= len) {
            this.#buf = null;
            this.#resume();
            return;
          }
          if (!ex.canTakeBody) {
            this.#pause();
            return;
          }
          if (this.#shared) {
            // The body goes to the upstream socket, whose write may stay queued: never the
            // slot's memory. A small piece is copied, a large read keeps the buffer for good.
            this.#shared = false;
            if (len - this.#off <= COPY_MAX) {
              const own = copyOut(buf, this.#off, len);
              this.#buf = own;
              this.#off = 0;
              this.#end = own.length;
              continue;
            }
            this.#slot!.lend();
          }
          const next = ex.feedBody(buf, this.#off, len);
          if (next < 0) {
            ex.failBody(ex.bodyError ?? 'malformed body');
            return;
          }
          this.#off = next;
          if (ex.bodyDone) {
            if (this.#state === S_BODY) this.#state = S_WAIT;
            continue;
          }
          if (!ex.canTakeBody) {
            this.#pause();
            return;
          }
          continue;
        }
        case S_WAIT: {
          // Pipelined bytes wait for the response in flight; hold a bounded amount only.
          if (buf !== null && len - this.#off > this.#ctx.limits.maxHeaderBytes) this.#pause();
          return;
        }
        default:
          return;
      }
    }
  }

  #internalError(e: unknown): void {
    const ex = this.#ex;
    if (ex !== null && !ex.done) ex.onInternalError(e);
    else {
      this.#ctx.logger.error('internal error', {
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      });
      this.socket.destroy();
    }
  }

  // ---- Http1SinkOwner

  exchangeDone(ex: ClientExchange, keepAlive: boolean): void {
    if (this.#ex !== ex) return;
    this.#ex = null;
    this.#writeBy = 0;
    if (this.#state === S_CLOSED || this.#state === S_TUNNEL) return;
    if (!keepAlive || this.#ctx.draining) {
      this.#close();
      return;
    }
    this.deadline = this.#ctx.ticker.now + this.#ctx.idleTimeoutMs;
    if (unsentBytes(this.socket) > this.socket.writableHighWaterMark) {
      this.#state = S_DRAIN;
      this.#pause();
      return;
    }
    this.#state = S_HEAD;
    this.#process();
  }

  #onDrain(): void {
    if (this.#state !== S_DRAIN) {
      this.#ex?.onClientDrain();
      return;
    }
    this.#state = S_HEAD;
    this.#process();
  }

  detachForTunnel(): Buffer | null {
    const buf = this.#buf;
    const rest =
      buf === null || this.#off >= this.#end
        ? null
        : this.#shared
          ? copyOut(buf, this.#off, this.#end)
          : buf.subarray(this.#off, this.#end);
    this.#shared = false;
    this.#state = S_TUNNEL;
    this.#buf = null;
    this.deadline = 0;
    // A tunnel has no response to time: writeTimeout ends with the 101.
    this.#writeBy = 0;
    this.#ctx.ticker.delete(this);
    // Only 'close' stays ours (the listener counts the connection until it closes); reading,
    // writing and errors are the tunnel's now.
    const socket = this.socket;
    const l = this.#listeners;
    socket.off('data', l.data);
    socket.off('end', l.end);
    socket.off('error', l.error);
    socket.off('drain', l.drain);
    socket.pause();
    this.#paused = false;
    return rest;
  }

  resumeBody(): void {
    if (this.#state === S_BODY) {
      this.#resume();
      this.#process();
    }
  }

  // ---- lifecycle

  #pause(): void {
    if (!this.#paused) {
      this.#paused = true;
      this.socket.pause();
    }
  }

  #resume(): void {
    if (this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
  }

  /** Answer a request we refuse to parse, and close: we cannot know where the next one starts. */
  #reject(err: ParseError): void {
    this.#ctx.logger.debug('rejected request', {
      status: err.status,
      reason: err.reason,
      clientIp: this.clientIp,
      entryPoint: this.#ctx.name,
    });
    this.#state = S_CLOSED;
    this.#buf = null;
    // Go's server's own refusal, with the text of its badRequestError for the Host's faults.
    this.socket.end(serverRefusal(err.status, GO_DETAIL[err.reason] ?? ''), 'latin1');
    this.#destroySoon();
  }

  /** Hands the socket over (HTTP/2, TLS) with the bytes read so far put back in front. */
  #handOver(rest: Buffer, to: (c: Http1Connection, socket: Socket) => void): void {
    const socket = this.socket;
    this.#state = S_CLOSED;
    this.#buf = null;
    this.#ctx.ticker.delete(this);
    // Paused first: with no 'data' listener, a flowing socket would drop what we unshift.
    socket.pause();
    const l = this.#listeners;
    socket.off('data', l.data);
    socket.off('end', l.end);
    socket.off('error', l.error);
    socket.off('close', l.close);
    socket.off('drain', l.drain);
    socket.unshift(rest);
    to.call(this.#owner, this, socket);
  }

  /** Graceful end: flush what was written, send FIN. */
  #close(): void {
    if (this.#state === S_CLOSED) return;
    this.#state = S_CLOSED;
    this.#buf = null;
    this.socket.end();
    this.#destroySoon();
  }

  /** After our FIN, give the peer a moment to close; then free the socket regardless. */
  #destroySoon(): void {
    this.deadline = this.#ctx.ticker.now + 5000;
  }

  /** Called by the listener on graceful shutdown. */
  closeIfIdle(): void {
    if (this.idle) this.#close();
  }

  /**
   * writeTimeout (Go's WriteTimeout, which Traefik sets): from the request's head to the end of
   * its response. Shares the connection's one deadline with readTimeout, whichever comes first.
   */
  #armWriteTimeout(): void {
    const by = this.#ctx.ticker.now + this.#ctx.writeTimeoutMs;
    this.#writeBy = by;
    if (this.deadline === 0 || by < this.deadline) this.deadline = by;
  }

  onDeadline(now: number): void {
    const writeBy = this.#writeBy;
    if (writeBy !== 0 && now >= writeBy && this.#state !== S_CLOSED && this.#state !== S_TUNNEL) {
      // The response was not written in time (a client that stops reading, or a slow upstream):
      // as Go's server, the connection is closed; 'close' aborts the exchange and its upstream.
      this.#ctx.logger.debug('response write timeout', {
        clientIp: this.clientIp,
        entryPoint: this.#ctx.name,
      });
      this.#state = S_CLOSED;
      this.socket.destroy();
      return;
    }
    this.#onReadDeadline();
    // readTimeout came first and the request goes on: writeTimeout is still to come.
    if (this.#writeBy !== 0 && this.deadline === 0 && this.#state !== S_CLOSED) this.deadline = this.#writeBy;
  }

  #onReadDeadline(): void {
    if (this.#state === S_CLOSED) {
      this.socket.destroy();
      return;
    }
    if (this.#state === S_HEAD) {
      if (this.#headTimerArmed) this.#reject(new ParseError(408, 'request header timeout'));
      else this.#close(); // idle keep-alive connection
      return;
    }
    if (this.#state === S_DRAIN) {
      // The client took none of its responses for idleTimeout: it is gone or hostile.
      this.#state = S_CLOSED;
      this.socket.destroy();
      return;
    }
    const ex = this.#ex;
    if (this.#state === S_WAIT && this.#clientEnded && ex !== null && !ex.responseStarted) {
      ex.abort();
      this.#close();
      return;
    }
    // readTimeout: the whole request did not arrive in time. The exchange answers 408 itself
    // (and drops its upstream): aborting it first would close the connection before the 408.
    if (ex !== null && !ex.responseStarted && this.#state === S_BODY) {
      ex.failBody('request read timeout', 408);
      return;
    }
    // readTimeout, counted from the request's head, also bounds the wait for the response head:
    // a frozen backend gets a 504 instead of holding the request for ever.
    if (ex !== null && !ex.responseStarted && this.#state === S_WAIT) ex.readTimeoutBeforeHead();
  }

  get clientEnded(): boolean {
    return this.#clientEnded;
  }

  #onEnd(): void {
    this.#clientEnded = true;
    if (this.#state === S_WAIT && this.#ex !== null && !this.#ex.responseStarted) {
      // A FIN after a complete request is either a half-close (the client still reads) or an
      // abort we cannot tell apart. Keep waiting for the response, but not forever: a hung
      // upstream without responseHeaderTimeout would otherwise hold both sockets for good.
      this.deadline = this.#ctx.ticker.now + (this.#ctx.readTimeoutMs > 0 ? this.#ctx.readTimeoutMs : 60_000);
      if (this.#writeBy !== 0 && this.#writeBy < this.deadline) this.deadline = this.#writeBy;
    }
    // Half-close after a complete request still gets its response (RFC 9112 §9.6).
    if (this.#state === S_HEAD && this.#ex === null) this.#process();
    else if (this.#state === S_BODY && this.#ex !== null && !this.#ex.bodyDone) {
      this.#ex.failBody('client closed before the request body was complete');
    }
  }

  #onClose(): void {
    // Backend connections that authenticated this client (NTLM, Negotiate) go with it.
    const affinity = this.#sink.affinity;
    if (affinity !== null) affinity.close();
    if (this.#state === S_TUNNEL) {
      // The tunnel saw the close too and reports it; only our bookkeeping is left.
      this.#state = S_CLOSED;
      this.#ctx.ticker.delete(this);
      this.#owner.connectionClosed(this);
      return;
    }
    this.#state = S_CLOSED;
    this.#buf = null;
    const ex = this.#ex;
    this.#ex = null;
    if (ex !== null && !ex.done) ex.abort();
    this.#ctx.ticker.delete(this);
    this.#owner.connectionClosed(this);
  }
}
