import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ProxyError, upstreamError } from '../core/errors.ts';
import type { Timed } from '../core/ticker.ts';
import { FrameWriter } from '../http2/frame-writer.ts';
import { DEFAULT_MAX_FRAME, DEFAULT_WINDOW, E_ENHANCE_YOUR_CALM, E_NO_ERROR } from '../http2/frames.ts';
import { HpackDecoder } from '../http2/hpack-decoder.ts';
import { HpackEncoder } from '../http2/hpack-encoder.ts';
import type { SendQueue, SendWindow } from '../http2/own-send-queue.ts';
import { type ReadOwner, SocketReader } from '../http2/own-socket-reader.ts';
import { WriteScheduler } from '../http2/own-write-scheduler.ts';
import { StreamMap } from '../http2/stream-map.ts';
import type { H2Pool } from './h2-pool.ts';
import type { PoolSession, ReplayStream, Waiter } from './h2-seam.ts';
import { S_CLOSED, S_CONNECTING, S_DRAINING, S_READY } from './h2-session.ts';
import { OwnH2Frames, SESSION_WINDOW } from './own-h2-frames.ts';
import { OwnH2Keepalive } from './own-h2-keepalive.ts';
import { OwnH2Stream } from './own-h2-stream.ts';
import type { UpstreamUser } from './stream.ts';
import { tlsConnectError } from './tls-errors.ts';

/** Streams assumed allowed until the server's SETTINGS arrive, as the node engine's session. */
const INITIAL_MAX_STREAMS = 100;
/** Stream ids are 31 bits (RFC 9113 §5.1.1): a session that used them all takes no new stream. */
const LAST_ID = 0x7fff_ffff;

const OWNER = Symbol('traffic.h2.own-upstream');
interface OwnedSocket extends Socket {
  [OWNER]: OwnH2Session;
}
// Listeners shared by every session (no closure per connection): `this` is the socket.
function onTcp(this: OwnedSocket): void {
  this[OWNER].tcpUp = true;
}
function onUp(this: OwnedSocket): void {
  this[OWNER].onConnect();
}
function onDrain(this: OwnedSocket): void {
  this[OWNER].writes.onDrain();
}
function onError(this: OwnedSocket, err: Error): void {
  this[OWNER].onSocketError(err);
}
function onClose(this: OwnedSocket): void {
  this[OWNER].onSocketClose();
}

/**
 * One HTTP/2 connection to a server made by our own client (static `experimental.http2Engine:
 * own`), in place of node:http2's session (h2-session.ts) behind the same pool: h2c with prior
 * knowledge, or TLS with ALPN h2. The frame reader/writer and HPACK of the own server engine
 * (src/http2) carry the bytes; own-h2-frames.ts reads the server's frames, own-h2-stream.ts is a
 * request. The server engine's SocketReader reads (plain TCP into a ReadSlot, TLS by 'data').
 */
export class OwnH2Session implements PoolSession, ReadOwner, SendWindow, Timed {
  readonly pool: H2Pool;
  readonly socket: Socket;
  readonly writer: FrameWriter;
  readonly encoder = new HpackEncoder();
  readonly decoder: HpackDecoder;
  /** Not a Map: no hash-table churn per stream (http2/stream-map.ts says why). */
  readonly streams = new StreamMap<OwnH2Stream>();
  readonly keepalive: OwnH2Keepalive;
  readonly frames: OwnH2Frames;
  readonly input: SocketReader;
  readonly writes: WriteScheduler;
  deadline = 0;
  tickerSlot = -1;
  state = S_CONNECTING;
  active = 0;
  maxStreams = INITIAL_MAX_STREAMS;
  uses = 0;
  waiters: Waiter[] = [];
  /** Why the session went down, for the streams that break with it. */
  down: ProxyError | null = null;
  tcpUp = false;
  /** Send side (RFC 9113 §6.9): the connection window and the server's SETTINGS. */
  connWindow = DEFAULT_WINDOW;
  peerMaxFrame = DEFAULT_MAX_FRAME;
  peerInitialWindow = DEFAULT_WINDOW;
  /** The server's SETTINGS_MAX_HEADER_LIST_SIZE: a larger request head is not sent (unset: none). */
  peerMaxHeaderList = Number.MAX_SAFE_INTEGER;
  /** The next stream id we open (client streams are odd). */
  nextId = 1;
  /** GOAWAY's last stream id; streams above it were not processed. -1 = no GOAWAY. */
  goawayLast = -1;
  readonly #tls: boolean;
  #goawaySent = false;

  constructor(pool: H2Pool, socket: Socket, tls: boolean) {
    this.pool = pool;
    this.socket = socket;
    this.#tls = tls;
    this.writer = new FrameWriter(socket);
    this.decoder = new HpackDecoder(4096, pool.options.maxResponseHeaderBytes, 1024);
    this.frames = new OwnH2Frames(this);
    this.keepalive = new OwnH2Keepalive(this);
    this.input = new SocketReader(socket, this, true);
    this.writes = new WriteScheduler(socket, this.writer, this.input, this.streams);
    const s = socket as OwnedSocket;
    s[OWNER] = this;
    if (tls) {
      s.on('connect', onTcp);
      s.on('secureConnect', onUp);
    } else s.on('connect', onUp);
    s.on('error', onError);
    s.on('close', onClose);
    this.keepalive.connecting();
  }

  get hasRoom(): boolean {
    return this.state === S_READY && this.active < this.maxStreams && this.nextId < LAST_ID;
  }

  onConnect(): void {
    if (this.state !== S_CONNECTING) return;
    const s = this.socket;
    if (this.#tls && (s as TLSSocket).alpnProtocol !== 'h2') {
      // The server speaks HTTP/1.1 only: the socket and the waiters go to the HTTP/1.1 side.
      this.state = S_CLOSED;
      this.pool.ticker.delete(this);
      s.off('connect', onTcp);
      s.off('secureConnect', onUp);
      s.off('error', onError);
      s.off('close', onClose);
      const waiters = this.waiters;
      this.waiters = [];
      this.pool.notH2(this, s as TLSSocket, waiters);
      return;
    }
    this.input.start();
    s.on('drain', onDrain);
    // §3.4: the preface, our SETTINGS, then the connection window beyond the default.
    const w = this.writer;
    w.preface();
    w.settings(this.frames.ourSettings());
    w.windowUpdate(0, SESSION_WINDOW - DEFAULT_WINDOW);
    w.flush();
    this.state = S_READY;
    this.keepalive.up();
    this.pool.onReady(this);
  }

  // ---- streams

  startStream(user: UpstreamUser, method: string): void {
    this.#take();
    this.pool.streams.opened++;
    user.onUpstreamReady(new OwnH2Stream(this, user, method));
  }

  resumeStream(st: ReplayStream): void {
    this.#take();
    (st as OwnH2Stream).rebind(this);
  }

  #take(): void {
    this.active++;
    this.uses++;
    this.pool.streams.active++;
  }

  /** A new stream id for `st`, which is now open on the wire. */
  register(st: OwnH2Stream): number {
    const id = this.nextId;
    this.nextId += 2;
    this.streams.set(id, st);
    return id;
  }

  /** A stream taken by `startStream`/`resumeStream` is done with this session. */
  streamClosed(id: number): void {
    if (id !== 0) this.streams.delete(id);
    this.active--;
    this.pool.streams.active--;
    if (this.active === 0) {
      if (this.state === S_READY) this.keepalive.idle();
      else if (this.state === S_DRAINING) this.#end();
    }
    this.pool.onStreamFreed(this);
  }

  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS (capped) is known: more may be served. */
  onSettings(maxStreams: number): void {
    this.maxStreams = maxStreams;
    this.pool.onReady(this);
  }

  /** GOAWAY: no new stream; those above `last` were not processed and go to another session. */
  onGoaway(last: number): void {
    if (this.goawayLast < 0 || last < this.goawayLast) this.goawayLast = last;
    if (this.state === S_READY) {
      this.state = S_DRAINING;
      this.pool.streams.goaways++;
      this.pool.onDraining(this);
    }
    for (const [id, st] of this.streams.entries()) if (id > last) st.refused();
    if (this.active === 0 && this.state === S_DRAINING) this.#end();
  }

  // ---- reading

  get closed(): boolean {
    return this.state === S_CLOSED;
  }

  /** ReadOwner: a read was processed (`code`: E_NO_ERROR or the connection error it made). */
  afterRead(code: number): void {
    this.keepalive.read();
    if (code > 0) this.connError(code, 'frame too large');
    this.writes.flushNow();
  }

  // ---- writing

  waitForWindow(q: SendQueue): void {
    this.writes.waitForWindow(q);
  }

  // ---- the end

  /** Graceful: GOAWAY, open streams finish, then the connection closes. */
  close(): void {
    if (this.state === S_CLOSED) return;
    if (this.state === S_CONNECTING) {
      this.fail(new ProxyError('SERVICE_DISABLED', 'upstream pool closed'));
      return;
    }
    if (this.state === S_READY) {
      this.state = S_DRAINING;
      this.pool.onDraining(this);
    }
    if (!this.#goawaySent) {
      this.#goawaySent = true;
      this.writer.goaway(0, E_NO_ERROR);
      this.writes.schedule();
    }
    if (this.active === 0) this.#end();
  }

  #end(): void {
    this.writes.flushNow();
    this.socket.destroySoon();
  }

  /** The connection is unusable (`err` says why): every stream breaks with it. */
  destroy(err: ProxyError): void {
    this.down ??= err;
    if (this.state === S_READY) {
      this.state = S_DRAINING;
      this.pool.onDraining(this);
    }
    this.socket.destroy();
  }

  /** A connection error of the server's (RFC 9113 §5.4.1): GOAWAY with its code, then the end. */
  connError(code: number, why: string): void {
    if (this.state === S_CLOSED || this.#goawaySent) return;
    this.#goawaySent = true;
    this.writer.goaway(0, code);
    this.writes.flushNow();
    this.destroy(new ProxyError('UPSTREAM_BAD_RESPONSE', `HTTP/2 protocol error of the upstream: ${why}`));
  }

  /**
   * The server floods us with frames we must answer or process (PING, SETTINGS, empty DATA):
   * GOAWAY(ENHANCE_YOUR_CALM), counted, and the session ends with its streams, as the server
   * side ends a flooding client's connection (own-limits.ts).
   */
  flood(what: string): void {
    if (this.state === S_CLOSED || this.#goawaySent) return;
    this.pool.streams.floods++;
    this.connError(E_ENHANCE_YOUR_CALM, `${what} flood`);
  }

  /** Before the session exists: the waiters fail with `err` (phase 'connect'). */
  fail(err: ProxyError): void {
    if (this.state !== S_CONNECTING) return;
    this.state = S_CLOSED;
    this.pool.ticker.delete(this);
    this.socket.destroy();
    const waiters = this.waiters;
    this.waiters = [];
    this.pool.onClosed(this, waiters, err);
  }

  onSocketError(err: Error): void {
    if (this.state === S_CONNECTING) {
      this.fail(this.#tls ? tlsConnectError(err, this.tcpUp) : upstreamError(err, 'connect'));
      return;
    }
    this.down ??= upstreamError(err, 'response');
  }

  onSocketClose(): void {
    if (this.state === S_CONNECTING) {
      this.fail(
        this.#tls
          ? tlsConnectError(null, this.tcpUp)
          : new ProxyError('UPSTREAM_UNREACHABLE', 'connection closed while connecting'),
      );
      return;
    }
    if (this.state === S_CLOSED) return;
    this.state = S_CLOSED;
    this.down ??= new ProxyError('UPSTREAM_RESET', 'upstream closed the connection');
    this.pool.ticker.delete(this);
    const open = [...this.streams.values()];
    this.streams.clear();
    for (let i = 0; i < open.length; i++) open[i]!.connectionClosed();
    this.pool.onClosed(this, [], null);
  }

  onDeadline(now: number): void {
    this.keepalive.onDeadline(now);
  }
}
