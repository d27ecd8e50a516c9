import type { Socket } from 'node:net';
import { unsentBytes, writeOut } from '../core/direct-write.ts';
import { ProxyError, upstreamError } from '../core/errors.ts';
import { invalidRequestField, REQUEST, settleFields } from '../core/field-values.ts';
import { joinHostPort } from '../core/go-net-error.ts';
import type { HeaderList } from '../core/headers.ts';
import type { Ticker, Timed } from '../core/ticker.ts';
import { CHUNKED_INCOMPLETE, ChunkedDecoder, type ChunkSink } from '../http1/chunked.ts';
import { ParseError } from '../http1/parse-error.ts';
import { COPY_MAX, copyOut, isSharedReadBuffer, type ReadSlot, type ReadTarget } from '../http1/read-slot.ts';
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, CONNECT_TUNNEL } from '../http1/request-head.ts';
import { BODY_CLOSE, type ParsedResponse, parseResponseHead } from '../http1/response-head.ts';
import type { DedicatedSource } from './affinity.ts';
import { type HeadWriter, queueHead } from './head-flush.ts';
import { RwDeadlines, rwDeadlineCame } from './rw-deadlines.ts';
import type { OutgoingRequest, UpstreamStream, UpstreamUser } from './stream.ts';
import { isTlsProtocolError, tlsConnectError, tlsRejected } from './tls-errors.ts';

/** What a connection needs of the pool that owns it. */
export interface ConnectionOwner {
  readonly options: {
    /** 0 = no limit. */
    readonly responseHeaderTimeoutMs: number;
    readonly maxResponseHeaderBytes: number;
    /** forwardingTimeouts.readTimeout / writeTimeout (Traefik v3.8); absent or 0 = none. */
    readonly readTimeoutMs?: number;
    readonly writeTimeoutMs?: number;
    /** Note `local->remote` at connect, for Go's error texts (PoolOptions.keepAddresses). */
    readonly keepAddresses?: boolean;
  };
  readonly ticker: Ticker;
  /** The TCP (and TLS) handshake completed. */
  onConnected(conn: UpstreamConnection): void;
  /** A response ended cleanly on a reusable connection. */
  release(conn: UpstreamConnection): void;
  /** Called exactly once when the connection is destroyed. */
  onClosed(conn: UpstreamConnection): void;
  /** The connection switched protocols (101): it is no longer the pool's, and not closed by it. */
  onDetached(conn: UpstreamConnection): void;
  /** A verified TLS connection received a session ticket. */
  onTlsSession(session: Buffer): void;
  /** The pool serves one client connection only (UpstreamAffinity). */
  readonly dedicated?: boolean;
  /** A pool like this one, dedicated to one client connection (UpstreamAffinity.stick). */
  dedicatedPool?(): DedicatedSource;
}

/** Bodies up to this size that arrive with their head are passed along with it (one write). */
const WHOLE_BODY_MAX = 16 * 1024;
const S_CONNECTING = 0;
const S_IDLE = 1;
const S_HEAD = 2;
const S_BODY = 3;
const S_CLOSED = 4;

/**
 * One keep-alive connection to an upstream server: the client side of our HTTP/1.1 codec, and the
 * HTTP/1.1 `UpstreamStream` (one exchange at a time). Listeners are attached once for the
 * connection's life and dispatch to the current user. The connection goes back to the pool only
 * after a response that was cleanly delimited; every anomaly (parse error, extra bytes,
 * premature close, timeout) destroys it.
 */
export class UpstreamConnection implements Timed, ChunkSink, UpstreamStream, ReadTarget, HeadWriter {
  readonly socket: Socket;
  readonly pool: ConnectionOwner;
  user: UpstreamUser | null = null;
  deadline = 0;
  tickerSlot = -1;
  /** Serving a request for its pool (the pool counts these). */
  busy = false;
  /** Counted among its pool's open connections (until closed or detached). */
  pooled = false;
  /** Its index in the pool's list of connections still connecting. */
  listSlot = -1;
  /** Connecting: the request waiting for it (the pool's). */
  waiter: { user: UpstreamUser; method: string } | null = null;
  /** Requests served on this connection so far. */
  uses = 0;
  #state = S_CONNECTING;
  /** A request head queued for the end of this turn (head-flush.ts), not written yet. */
  #pendingHead: string | null = null;
  /** cork() calls not yet matched by uncork(): a head written meanwhile goes with what follows. */
  #corks = 0;
  #buf: Buffer | null = null;
  #method = 'GET';
  #bodyKind = BODY_NONE;
  #remaining = 0;
  #reusable = false;
  #decoder: ChunkedDecoder | null = null;
  #gotBytes = false;
  /** The request body goes out chunked (its length was not known). */
  #chunkedRequest = false;
  /** A `tls.TLSSocket` (https server): ready once the handshake is done, not at TCP connect. */
  readonly #tls: boolean;
  #tcpUp = false;
  /** The protocol the current request asks to switch to (101 accepted only then), or null. */
  #upgrade: string | null = null;
  /** Bytes of empty lines skipped since an interim (1xx) response, or -1 when none came before. */
  #interimGap = -1;
  /** Reads land in a buffer of ours (plain TCP); null: the socket emits 'data' (TLS). */
  #slot: ReadSlot | null;
  /** After a protocol switch: reads go to the socket's readable side, for the tunnel. */
  #detached = false;
  /** The transport's readTimeout/writeTimeout deadlines; null (nothing to do) without either. */
  readonly #rw: RwDeadlines | null;
  /** `local->remote`, noted at connect when the pool keeps them (PoolOptions.keepAddresses). */
  #addresses: string | undefined = undefined;
  readonly #listeners: {
    readonly data: (chunk: Buffer) => void;
    readonly end: () => void;
    readonly error: (err: Error) => void;
    readonly close: () => void;
    readonly drain: () => void;
  };

  /**
   * `socket` is a `net.Socket`, or a `tls.TLSSocket` when `tls` is true: both stream the
   * same bytes to the codec, so nothing below the ready signal differs. `slot`: the socket was
   * created with `slot.onread` (plain TCP or TLS), so its bytes come through `onRead`, not 'data'.
   */
  constructor(socket: Socket, pool: ConnectionOwner, tls = false, slot: ReadSlot | null = null) {
    this.socket = socket;
    this.pool = pool;
    this.#tls = tls;
    this.#slot = slot;
    const o = pool.options;
    const readMs = o.readTimeoutMs ?? 0;
    const writeMs = o.writeTimeoutMs ?? 0;
    this.#rw = readMs > 0 || writeMs > 0 ? new RwDeadlines(readMs, writeMs) : null;
    if (slot !== null) slot.target = this;
    if (tls) {
      // The connect deadline keeps running through the handshake.
      socket.on('connect', () => {
        this.#tcpUp = true;
      });
      socket.on('secureConnect', () => this.#onConnect());
      // Resuming skips the certificate checks; Node emits 'session' only once they passed.
      socket.on('session', (session: Buffer) => pool.onTlsSession(session));
    } else socket.on('connect', () => this.#onConnect());
    const l = {
      data: (chunk: Buffer) => {
        this.#onBytes(chunk, chunk.length, false);
      },
      end: () => this.#onEnd(),
      error: (err: Error) => this.#onSocketError(err),
      close: () => this.#onClose(),
      drain: () => {
        if (this.#rw !== null) this.#rwDrained();
        this.user?.onUpstreamDrain();
      },
    };
    this.#listeners = l;
    if (slot === null) socket.on('data', l.data);
    socket.on('end', l.end);
    socket.on('error', l.error);
    socket.on('close', l.close);
    socket.on('drain', l.drain);
  }

  /** Called by the pool when handing the connection to a user; arms the response-header timer. */
  begin(user: UpstreamUser, method: string): void {
    this.user = user;
    this.uses++;
    this.#method = method;
    this.#state = S_HEAD;
    this.#gotBytes = false;
    this.#interimGap = -1;
    const t = this.pool.options.responseHeaderTimeoutMs;
    this.deadline = t > 0 ? this.pool.ticker.now + t : 0;
    this.#rw?.reset(this.deadline);
  }

  // ---- UpstreamStream: the request, serialised as HTTP/1.1

  sendHead(out: OutgoingRequest, authority: string): void {
    // Fields made at run time on a path the exchange did not check (forwardAuth's request, an
    // error page's): settled before latin1 can cut a character to CR or LF (core/field-values.ts).
    if (out.headers.unsettled) {
      const bad = settleFields(out.headers, REQUEST);
      if (bad !== null) {
        const user = this.user;
        this.destroy();
        user?.onUpstreamError(invalidRequestField(bad), 'connect', false);
        return;
      }
    }
    this.#chunkedRequest = out.bodyKind === BODY_CHUNKED;
    this.#upgrade = out.upgrade;
    const head = `${out.method} ${out.target} HTTP/1.1\r\nHost: ${authority}\r\n${out.h1Fields()}`;
    // A head with a body, or one a caller corks with what follows, goes out with it as before.
    if (out.bodyKind !== BODY_NONE || this.#corks > 0) {
      const ok = this.socket.write(head, 'latin1');
      if (this.#rw !== null) this.#rwWrote(ok, out.bodyKind === BODY_NONE);
      return;
    }
    this.#pendingHead = head;
    queueHead(this);
    if (this.#rw !== null) this.#rwWrote(true, true);
  }

  flushHead(): void {
    const head = this.#pendingHead;
    if (head === null) return;
    this.#pendingHead = null;
    writeOut(this.socket, head);
  }

  sendBody(buf: Buffer, start: number, end: number): boolean {
    this.flushHead();
    const s = this.socket;
    const data = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
    let ok: boolean;
    if (!this.#chunkedRequest) ok = s.write(data);
    else {
      s.cork();
      s.write(`${(end - start).toString(16)}\r\n`, 'latin1');
      s.write(data);
      ok = s.write('\r\n', 'latin1');
      s.uncork();
    }
    if (!ok && this.#rw !== null) this.#rwWrote(false, false);
    return ok;
  }

  /** Trailers are not sent to HTTP/1.1 servers: nothing we forward needs them there. */
  endBody(_trailers?: HeaderList | null): void {
    this.flushHead();
    const ok = this.#chunkedRequest ? this.socket.write('0\r\n\r\n', 'latin1') : true;
    if (this.#rw !== null) this.#rwWrote(ok, true);
  }

  /**
   * readTimeout/writeTimeout bookkeeping after a write of the request (`ok`: the socket took it
   * without queueing past its mark; `last`: the request is complete, its response is awaited).
   */
  #rwWrote(ok: boolean, last: boolean): void {
    const rw = this.#rw!;
    const now = this.pool.ticker.now;
    if (!ok || unsentBytes(this.socket) > 0) rw.writeBlocked(now, unsentBytes(this.socket));
    if (last) rw.requestWritten(now);
    if (this.#state === S_HEAD || this.#state === S_BODY) this.deadline = rw.soonest();
  }

  #rwDrained(): void {
    const rw = this.#rw!;
    rw.drained();
    if (this.#state === S_HEAD || this.#state === S_BODY) this.deadline = rw.soonest();
  }

  cork(): void {
    this.flushHead();
    this.#corks++;
    this.socket.cork();
  }

  uncork(): void {
    if (this.#corks > 0) this.#corks--;
    this.socket.uncork();
  }

  pause(): void {
    this.socket.pause();
    const rw = this.#rw;
    if (rw !== null && (this.#state === S_HEAD || this.#state === S_BODY)) {
      // A slow client: the server is not the one stalling (Go's copy reads nothing meanwhile).
      rw.pause();
      this.deadline = rw.soonest();
    }
  }

  resume(): void {
    this.socket.resume();
    const rw = this.#rw;
    if (rw !== null && (this.#state === S_HEAD || this.#state === S_BODY)) {
      rw.resume(this.pool.ticker.now);
      this.deadline = rw.soonest();
    }
  }

  get pendingBytes(): number {
    return unsentBytes(this.socket) + (this.#pendingHead?.length ?? 0);
  }

  /** Marks idle (after release); the pool sets the idle deadline. */
  setIdle(deadline: number): void {
    this.#state = S_IDLE;
    this.user = null;
    this.#rw?.reset(0);
    this.deadline = deadline;
  }

  /** Detach the user and destroy: used on client abort and for anything abnormal. */
  destroy(): void {
    this.user = null;
    this.#pendingHead = null;
    if (this.#state !== S_CLOSED) {
      this.#state = S_CLOSED;
      this.socket.destroy();
      this.pool.onClosed(this);
    }
  }

  onDeadline(now: number): void {
    const user = this.user;
    const state = this.#state;
    if (state === S_IDLE) {
      this.destroy();
      return;
    }
    const rw = this.#rw;
    if (rw !== null && (state === S_HEAD || state === S_BODY)) {
      rwDeadlineCame(this, rw, now, this.pendingBytes, user, state === S_BODY, this.uses > 1);
      return;
    }
    this.destroy();
    if (user === null) return;
    if (state === S_CONNECTING) {
      user.onUpstreamError(
        new ProxyError(
          'UPSTREAM_CONNECT_TIMEOUT',
          this.#tcpUp ? 'upstream TLS handshake timeout' : 'upstream connect timeout',
        ),
        'connect',
        false,
      );
    } else {
      user.onUpstreamError(
        new ProxyError('UPSTREAM_RESPONSE_TIMEOUT', 'upstream response header timeout'),
        state === S_BODY ? 'body' : 'head',
        this.uses > 1,
      );
    }
  }

  #onConnect(): void {
    this.deadline = 0;
    if (this.pool.options.keepAddresses === true) {
      const s = this.socket;
      this.#addresses = `${joinHostPort(s.localAddress ?? '', s.localPort ?? 0)}->${joinHostPort(s.remoteAddress ?? '', s.remotePort ?? 0)}`;
    }
    this.pool.onConnected(this);
  }

  /** The ReadSlot's callback: `buf[0..n)` was read into the connection's reused buffer. */
  onRead(buf: Buffer, n: number): boolean {
    if (this.#detached) {
      // A tunnel reads the socket as a stream now: hand it a copy through the readable side.
      return this.socket.push(copyOut(buf, 0, n));
    }
    this.#onBytes(buf, n, true);
    return true;
  }

  /** `buf[0..end)` arrived; `shared`: in the ReadSlot's buffer, which the next read overwrites. */
  #onBytes(buf: Buffer, end: number, shared: boolean): void {
    const rw = this.#rw;
    if (rw !== null && (this.#state === S_HEAD || this.#state === S_BODY)) {
      rw.readSeen(this.pool.ticker.now);
      this.deadline = rw.soonest();
    }
    try {
      if (this.#state === S_HEAD) {
        this.#gotBytes = true;
        const held = this.#buf;
        if (held === null) {
          this.#parseHeads(buf, 0, end, shared);
          return;
        }
        this.#buf = null;
        const all = Buffer.concat([held, end === buf.length ? buf : buf.subarray(0, end)]);
        this.#parseHeads(all, 0, all.length, false);
        return;
      }
      if (this.#state === S_BODY) {
        this.#body(buf, 0, end, shared);
        return;
      }
      // Bytes while idle (or connecting): the server is not speaking HTTP to us. Never reuse it.
      this.destroy();
    } catch (e) {
      // An exception while relaying (a response middleware, our own bug) fails this exchange only.
      const user = this.user;
      this.destroy();
      user?.onInternalError(e);
    }
  }

  #parseHeads(buf: Buffer, start: number, end: number, shared: boolean): void {
    const user = this.user;
    if (user === null) return;
    for (;;) {
      if (this.#interimGap >= 0) {
        // Some servers send an empty line after `100 Continue` before the final head. RFC 9112
        // §2.2 asks a recipient to ignore at least one empty line before a start line, and HAProxy
        // and Caddy relay the final response. Only whole CRLFs, only after an interim response,
        // within the head size limit: a bare CR or LF still fails below.
        let i = start;
        while (i + 1 < end && buf[i] === 0x0d && buf[i + 1] === 0x0a) i += 2;
        this.#interimGap += i - start;
        start = i;
        if (this.#interimGap > this.pool.options.maxResponseHeaderBytes) {
          this.#fail(new ProxyError('UPSTREAM_BAD_RESPONSE', 'upstream response head too large'), 'head');
          return;
        }
        if (start === end || (start + 1 === end && buf[start] === 0x0d)) {
          this.#buf = start === end ? null : shared ? copyOut(buf, start, end) : buf.subarray(start, end);
          return;
        }
        this.#interimGap = -1;
      }
      const res = parseResponseHead(buf, start, end, this.#method, this.pool.options.maxResponseHeaderBytes);
      if (res === null) {
        this.#buf = shared
          ? copyOut(buf, start, end)
          : start === 0 && end === buf.length
            ? buf
            : buf.subarray(start, end);
        return;
      }
      if (res instanceof ParseError) {
        this.#fail(new ProxyError('UPSTREAM_BAD_RESPONSE', res.reason), 'head');
        return;
      }
      start += res.headLength;
      if (res.status < 200) {
        if (res.status === 101) {
          // Only to an upgrade we asked for, and only to that protocol (Go's reverse proxy rule);
          // otherwise the bytes after it are not HTTP and nothing can be relayed.
          const wanted = this.#upgrade;
          const got = res.headers.get('upgrade')?.split(',')[0]?.trim().toLowerCase();
          if (wanted === null || got === undefined || got.split('/')[0] !== wanted) {
            this.#fail(
              new ProxyError(
                'UPSTREAM_BAD_RESPONSE',
                wanted === null
                  ? 'unsolicited 101 Switching Protocols'
                  : `101 to ${got ?? 'no protocol'} instead of ${wanted}`,
              ),
              'head',
            );
            return;
          }
          const rest = end > start ? buf.subarray(start, end) : null;
          this.#switchProtocols(res, rest !== null && shared ? copyOut(buf, start, end) : rest);
          return;
        }
        user.onUpstreamInterim(res);
        if (this.user !== user) return;
        this.#interimGap = 0;
        continue;
      }
      if (this.#upgrade === CONNECT_TUNNEL && this.#connectAnswer(res, buf, start, end, shared)) return;
      const rw = this.#rw;
      if (rw === null) this.deadline = 0;
      else {
        rw.header = 0;
        this.deadline = rw.soonest();
      }
      this.#startBody(res);
      if (res.connectionAuth) this.#connectionAuth(user);
      const cl = res.contentLength;
      if (this.#bodyKind === BODY_LENGTH && cl <= WHOLE_BODY_MAX && end - start >= cl) {
        // The common small response: head and whole body in one read, handed over together
        // (copied out of a shared read buffer: the user may keep it), or as text the head's
        // string already holds, to a user that takes it (no copy, no Buffer).
        if (!shared) user.onUpstreamHead(res, buf, start, start + cl);
        else if (!this.#headText(user, res, cl))
          user.onUpstreamHead(res, copyOut(buf, start, start + cl), 0, cl);
        if (this.user !== user) return;
        if (end > start + cl) this.#reusable = false; // bytes beyond the body: not HTTP
        this.#finish();
        return;
      }
      user.onUpstreamHead(res, null, 0, 0);
      if (this.user !== user) return;
      if (this.#bodyKind === BODY_NONE) {
        if (start < end) this.#reusable = false;
        this.#finish();
        return;
      }
      if (start < end) this.#body(buf, start, end, shared);
      return;
    }
  }

  /**
   * The answer to a CONNECT (the proxy's tunnel of an HTTP/2 client's CONNECT). A 2xx opens the
   * tunnel (RFC 9110 §9.3.6: its framing fields mean nothing): the socket leaves the pool as after
   * a 101 and the bytes after the head are the tunnel's. Any other answer is relayed as a
   * response, and the connection is not reused after it, as Traefik v3.7.12 closes it
   * (pkg/proxy/httputil/connect.go, #13556 "Do not add back CONNECT requests to the pool"):
   * a backend that refused may still read what it thinks is tunnel data. True: switched.
   */
  #connectAnswer(res: ParsedResponse, buf: Buffer, start: number, end: number, shared: boolean): boolean {
    if (res.status >= 300) return false; // not reused: #startBody
    const rest = end > start ? (shared ? copyOut(buf, start, end) : buf.subarray(start, end)) : null;
    this.#switchProtocols(res, rest);
    return true;
  }

  /** The head with its `cl`-byte body as text, if the head's string reaches it and `user` takes it. */
  #headText(user: UpstreamUser, res: ParsedResponse, cl: number): boolean {
    if (user.onUpstreamHeadText === undefined) return false;
    const from = res.headLength;
    const text = res.text;
    return text.length >= from + cl && user.onUpstreamHeadText(res, text.slice(from, from + cl));
  }

  /**
   * 101 to our upgrade: the socket is no longer HTTP. It leaves the pool (never reused) with no
   * listener of ours on it, and goes to the user, who pipes it from now on.
   */
  #switchProtocols(res: ParsedResponse, rest: Buffer | null): void {
    const user = this.user!;
    const socket = this.socket;
    this.user = null;
    this.#state = S_CLOSED;
    this.#buf = null;
    this.deadline = 0;
    const l = this.#listeners;
    socket.off('data', l.data);
    socket.off('end', l.end);
    socket.off('error', l.error);
    socket.off('close', l.close);
    socket.off('drain', l.drain);
    // Reads into our buffer go on: they reach the tunnel through the socket's readable side.
    this.#detached = true;
    // No data event may fire before the user's listeners are on.
    socket.pause();
    this.pool.onDetached(this);
    user.onUpstreamUpgrade(res, socket, rest);
  }

  /**
   * The server authenticates this connection (an NTLM or Negotiate challenge): the client sticks
   * to a pool of its own for it (Traefik's kerberosRoundTripper), and, ours beyond Traefik, a
   * connection of a shared pool that took part in such a handshake is never reused: a Negotiate
   * success may authenticate it while answering with one, and it would serve the next client as
   * that user.
   */
  #connectionAuth(user: UpstreamUser): void {
    const pool = this.pool;
    if (pool.dedicated !== true) this.#reusable = false;
    user.onConnectionAuth?.(pool);
  }

  #startBody(res: ParsedResponse): void {
    this.#state = S_BODY;
    this.#bodyKind = res.bodyKind;
    this.#remaining = res.contentLength;
    // A refused CONNECT's connection is not reused (#connectAnswer).
    this.#reusable = res.reusable && this.#upgrade !== CONNECT_TUNNEL;
    if (res.bodyKind === BODY_CHUNKED) {
      if (this.#decoder === null) this.#decoder = new ChunkedDecoder();
      else this.#decoder.reset();
    }
  }

  #body(buf: Buffer, start: number, end: number, shared: boolean): void {
    const user = this.user;
    if (user === null) return;
    if (shared) {
      // The user may keep what it gets: small reads are copied out of the reused buffer, large
      // ones take it along and the next read goes to a fresh one. The buffer common to every
      // idle connection (ReadSlot `shared`) cannot go along: a large read there is copied, and
      // the connection reads into buffers of its own from now on (a large body is coming).
      if (end - start <= COPY_MAX) {
        buf = copyOut(buf, start, end);
        start = 0;
        end = buf.length;
      } else if (isSharedReadBuffer(buf)) {
        this.#slot!.unshare();
        buf = copyOut(buf, start, end);
        start = 0;
        end = buf.length;
      } else this.#slot!.lend();
    }
    switch (this.#bodyKind) {
      case BODY_LENGTH: {
        const avail = end - start;
        if (avail <= this.#remaining) {
          this.#remaining -= avail;
          user.onUpstreamData(buf, start, end);
          if (this.#remaining === 0 && this.user === user) this.#finish();
        } else {
          // More than Content-Length announced: deliver the body, never reuse this socket.
          const stop = start + this.#remaining;
          this.#remaining = 0;
          this.#reusable = false;
          user.onUpstreamData(buf, start, stop);
          if (this.user === user) this.#finish();
        }
        return;
      }
      case BODY_CHUNKED: {
        const decoder = this.#decoder!;
        const r = decoder.feed(buf, start, end, this);
        if (this.user !== user) return;
        if (r === CHUNKED_INCOMPLETE) return;
        if (r < 0) {
          this.#fail(new ProxyError('UPSTREAM_BAD_RESPONSE', `bad chunked body: ${decoder.error}`), 'body');
          return;
        }
        if (r < end) this.#reusable = false;
        this.#finish();
        return;
      }
      case BODY_CLOSE:
        user.onUpstreamData(buf, start, end);
        return;
    }
  }

  onChunkData(buf: Buffer, start: number, end: number): void {
    this.user?.onUpstreamData(buf, start, end);
  }

  /** A cleanly delimited response ended. */
  #finish(): void {
    const user = this.user;
    this.user = null;
    this.#buf = null;
    if (this.#reusable && this.#state === S_BODY) this.pool.release(this);
    else this.destroy();
    user?.onUpstreamEnd(null);
  }

  /** The user may only reuse the connection if it also finished sending a complete request. */
  markNotReusable(): void {
    this.#reusable = false;
  }

  #fail(err: ProxyError, phase: 'head' | 'body'): void {
    const user = this.user;
    const reused = this.uses > 1;
    this.destroy();
    user?.onUpstreamError(err, phase, reused);
  }

  #onEnd(): void {
    if (this.#state === S_BODY && this.#bodyKind === BODY_CLOSE) {
      this.#reusable = false;
      this.#finish();
      return;
    }
    this.#onPrematureClose(null);
  }

  #onSocketError(err: Error): void {
    this.#onPrematureClose(err);
  }

  #onClose(): void {
    this.#onPrematureClose(null);
  }

  #onPrematureClose(err: Error | null): void {
    const state = this.#state;
    if (state === S_CLOSED) return;
    const user = this.user;
    const reused = this.uses > 1;
    this.destroy();
    if (user === null) return;
    if (state === S_CONNECTING) {
      const e = this.#tls
        ? tlsConnectError(err, this.#tcpUp)
        : upstreamError(err ?? new Error('connection closed'), 'connect');
      user.onUpstreamError(e, 'connect', false);
    } else if (state === S_HEAD) {
      const e: ProxyError =
        err === null
          ? new ProxyError('UPSTREAM_RESET', 'upstream closed the connection before responding')
          : // A TLS 1.3 server refuses our client certificate (or its absence) with an alert
            // that arrives only after our handshake completed and the request went out.
            this.#tls && !reused && !this.#gotBytes && isTlsProtocolError(err)
            ? tlsRejected(err)
            : upstreamError(err, 'request');
      if (this.#addresses !== undefined) e.addresses = this.#addresses;
      // `reused && !gotBytes` is the keep-alive race: the server closed an idle socket as we wrote.
      user.onUpstreamError(e, 'head', reused && !this.#gotBytes);
    } else {
      const e =
        err === null
          ? new ProxyError('UPSTREAM_RESET', 'upstream closed the connection mid-response')
          : upstreamError(err, 'response');
      if (this.#addresses !== undefined) e.addresses = this.#addresses;
      user.onUpstreamError(e, 'body', reused);
    }
  }
}
