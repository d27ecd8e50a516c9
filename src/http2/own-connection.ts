import type { Socket } from 'node:net';
import { unwrapIp } from '../core/ip.ts';
import type { RequestTls } from '../core/request.ts';
import type { Timed } from '../core/ticker.ts';
import { type EntryPointContext, outlivedKeepAlive } from '../proxy/entry-point-context.ts';
import type { Exchange } from '../proxy/exchange.ts';
import type { UpstreamAffinity } from '../upstream/affinity.ts';
import { FrameWriter } from './frame-writer.ts';
import {
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  E_ENHANCE_YOUR_CALM,
  E_NO_ERROR,
  E_PROTOCOL_ERROR,
  E_SETTINGS_TIMEOUT,
} from './frames.ts';
import { HpackDecoder } from './hpack-decoder.ts';
import { HpackEncoder } from './hpack-encoder.ts';
import { OwnFrames } from './own-frames.ts';
import { FloodLimits, MAX_UNSENT_CONTROL } from './own-limits.ts';
import type { RequestOrigin } from './own-request.ts';
import type { SendQueue } from './own-send-queue.ts';
import { type ReadOwner, SocketReader } from './own-socket-reader.ts';
import type { OwnStream } from './own-stream.ts';
import type { StreamConn } from './own-stream-conn.ts';
import { WriteScheduler } from './own-write-scheduler.ts';
import type { Http2Settings } from './settings.ts';
import { StreamMap } from './stream-map.ts';

const CONN = Symbol('traffic.h2.conn');
interface OwnedSocket extends Socket {
  [CONN]: OwnConnection;
}
// Listeners shared by every connection (no closure per connection): `this` is the socket.
function onSocketDrain(this: OwnedSocket): void {
  const c = this[CONN];
  c.unsent = 0;
  c.unsentControl = 0;
  c.writes.onDrain();
}
function onSocketClose(this: OwnedSocket): void {
  this[CONN].onSocketClose();
}
function ignoreError(): void {}
function startQueued(c: OwnConnection): void {
  c.startQueued();
}

/**
 * One HTTP/2 connection of the `own` engine (static `experimental.http2Engine`): our framing
 * (frame-reader/frame-writer), HPACK and flow control over the raw socket, every stream an
 * `Exchange` through an OwnStream, as session.ts does over node:http2. This part owns the socket,
 * the timers and the limits; own-frames.ts reads the frames.
 */
export class OwnConnection implements StreamConn, RequestOrigin, ReadOwner, Timed {
  readonly ctx: EntryPointContext;
  readonly clientIp: string;
  readonly trusted: boolean;
  readonly tls: RequestTls | undefined;
  readonly socket: Socket;
  readonly settings: Http2Settings;
  readonly writer: FrameWriter;
  readonly encoder = new HpackEncoder();
  readonly decoder: HpackDecoder;
  readonly frames: OwnFrames;
  readonly limits: FloodLimits;
  readonly recvWindowSize: number;
  /** Not a Map: no hash-table churn per stream (stream-map.ts says why). */
  readonly streams = new StreamMap<OwnStream>();
  deadline = 0;
  tickerSlot = -1;
  /** Its index in its glue's SlotList. */
  listSlot = -1;
  connWindow = DEFAULT_WINDOW;
  peerMaxFrame = DEFAULT_MAX_FRAME;
  /** The client's SETTINGS_INITIAL_WINDOW_SIZE: a new stream's send window. */
  peerInitialWindow = DEFAULT_WINDOW;
  /** Highest stream id the client opened (every lower idle one is closed, §5.1.1). */
  lastStream = 0;
  goawaySent = false;
  closed = false;
  /** The connection's own upstream pools (NTLM, Negotiate servers); closed with it. */
  affinity: UpstreamAffinity | null = null;
  /**
   * Streams that ended while the socket's buffer was full: their last frames still wait in it,
   * and they keep their place in `maxConcurrentStreams` until it drains. As Go's HTTP/2 server
   * (x/net/http2 server.go: a stream is closed in `wroteFrame`, once its END_STREAM frame is
   * written, and counts in `curClientStreams` until then): a client that never reads cannot
   * have response after response buffered here (CVE-2019-9517, "internal data buffering").
   */
  unsent = 0;
  /** PING and SETTINGS acknowledgements and RST_STREAMs written while the socket was full. */
  unsentControl = 0;
  /** The first SETTINGS arrived (the preface is complete). */
  settled = false;
  /** When our SETTINGS must have been acknowledged (§6.5.3), on the ticker's clock; 0 = done. */
  ackBy = 0;
  readonly input: SocketReader;
  readonly writes: WriteScheduler;
  readonly #onClosed: (c: OwnConnection) => void;
  #queue: OwnStream[] = [];
  #queued: Exchange[] = [];
  #startScheduled = false;
  #requests = 0;
  /** When the connection was accepted (ticker ms), for keepAliveMaxTime. */
  readonly #openedAt: number;

  constructor(
    socket: Socket,
    ctx: EntryPointContext,
    settings: Http2Settings,
    onClosed: (c: OwnConnection) => void,
  ) {
    this.socket = socket;
    this.ctx = ctx;
    this.settings = settings;
    this.#onClosed = onClosed;
    this.#openedAt = ctx.ticker.now;
    this.clientIp = unwrapIp(socket.remoteAddress);
    this.trusted = ctx.isTrusted(this.clientIp);
    this.tls =
      (socket as { encrypted?: boolean }).encrypted === true ? (socket as unknown as RequestTls) : undefined;
    this.recvWindowSize = settings.initialWindowSize;
    this.writer = new FrameWriter(socket);
    this.decoder = new HpackDecoder(
      settings.headerTableSize,
      settings.maxHeaderListSize,
      settings.maxHeaderListPairs,
    );
    this.input = new SocketReader(socket, this);
    this.writes = new WriteScheduler(socket, this.writer, this.input, this.streams);
    this.frames = new OwnFrames(this);
    this.limits = new FloodLimits(ctx.ticker, settings, this);
    // Our SETTINGS first (§3.4), then the connection window beyond the default.
    this.writer.settings(this.frames.ourSettings());
    if (settings.connectionWindowSize > DEFAULT_WINDOW) {
      this.writer.windowUpdate(0, settings.connectionWindowSize - DEFAULT_WINDOW);
    }
    this.writes.schedule();
    const s = socket as OwnedSocket;
    s[CONN] = this;
    s.on('error', ignoreError);
    s.on('close', onSocketClose);
    s.on('drain', onSocketDrain);
    const ht = ctx.readHeaderTimeoutMs;
    const first = ht > 0 ? ht : ctx.idleTimeoutMs;
    this.deadline = ctx.ticker.now + first;
    // §6.5.3: the client acknowledges our SETTINGS within the time it has for its preface
    // (readHeaderTimeout), or the connection ends with SETTINGS_TIMEOUT. No key of its own:
    // Traefik (Go's server) has none, nor a check at all.
    if (first > 0) this.ackBy = this.deadline;
    ctx.ticker.add(this);
  }

  /** Starts reading (the glue attached the socket). */
  start(): void {
    this.input.start();
  }

  /** ReadOwner: a read was processed. */
  afterRead(r: number): void {
    if (r > 0) {
      this.connError(
        r,
        r === E_PROTOCOL_ERROR && !this.settled ? 'bad connection preface' : 'frame too large',
      );
    }
    this.writes.flushNow();
    if (this.#queue.length > 0 && !this.#startScheduled) {
      this.#startScheduled = true;
      setImmediate(startQueued, this);
    }
  }

  /** A payload this connection's streams may keep (see SocketReader.keep). */
  keep(buf: Buffer, start: number, end: number): Buffer {
    return this.input.keep(buf, start, end);
  }

  /** A new stream's exchange, started once the read that opened it is processed. */
  enqueue(s: OwnStream, ex: Exchange): void {
    this.#queue.push(s);
    this.#queued.push(ex);
    this.deadline = this.ackBy;
    const max = this.ctx.keepAliveMaxRequests;
    if ((max > 0 && ++this.#requests >= max) || outlivedKeepAlive(this.ctx, this.#openedAt)) this.close();
  }

  startQueued(): void {
    const streams = this.#queue;
    const exchanges = this.#queued;
    this.#queue = [];
    this.#queued = [];
    this.#startScheduled = false;
    for (let i = 0; i < streams.length; i++) {
      if (this.closed) return;
      const ex = exchanges[i]!;
      try {
        streams[i]!.start(ex);
      } catch (e) {
        ex.onInternalError(e);
      }
    }
    this.writes.flushNow();
  }

  // ---- StreamConn

  waitForWindow(q: SendQueue): void {
    this.writes.waitForWindow(q);
  }

  windowUpdate(stream: number, n: number): void {
    this.writer.windowUpdate(stream, n);
    this.writes.schedule();
  }

  rst(stream: number, code: number): void {
    if (!this.controlQueued()) return;
    this.writer.rst(stream, code);
    this.writes.schedule();
  }

  /**
   * A frame we owe the client (a PING or SETTINGS acknowledgement, a RST_STREAM) is about to be
   * written: false, and the connection ends as a flood, once more than MAX_UNSENT_CONTROL of them
   * went into a socket that has not drained since. nghttp2's max_outbound_ack (the node engine's;
   * Go's server: maxQueuedControlFrames, 10,000): a client that never reads while it sends PINGs
   * within the rate limit would otherwise have their answers buffered without bound
   * (CVE-2019-9512, ping flood; -9515, settings flood; -9514, reset flood).
   */
  controlQueued(): boolean {
    if (!this.writes.socketFull || ++this.unsentControl <= MAX_UNSENT_CONTROL) return true;
    this.flood('unsent control frames');
    return false;
  }

  peerReset(): void {
    if (!this.closed) this.limits.peerReset();
  }

  streamClosed(s: OwnStream): void {
    if (this.streams.get(s.id) === s) this.streams.delete(s.id);
    if (!this.closed) this.frames.streamClosed(s.id, s.remoteEnded, s.resetByUs);
    if (this.writes.socketFull) this.unsent++;
    if (this.streams.size > 0 || this.closed) return;
    if (this.goawaySent) this.#end();
    else {
      const idle = this.ctx.ticker.now + this.ctx.idleTimeoutMs;
      this.deadline = this.ackBy !== 0 && this.ackBy < idle ? this.ackBy : idle;
    }
  }

  /** The client acknowledged our SETTINGS: the deadline is the connection's own again. */
  settingsAcked(): void {
    if (this.ackBy === 0) return;
    this.ackBy = 0;
    // Before the first stream, the first deadline (readHeaderTimeout) runs on.
    if (this.lastStream === 0) return;
    if (this.streams.size > 0 || this.#queue.length > 0) this.deadline = 0;
    else if (!this.goawaySent) this.deadline = this.ctx.ticker.now + this.ctx.idleTimeoutMs;
  }

  // ---- errors

  flood(what: string): void {
    if (this.closed) return;
    this.ctx.logger.warn('http2 flood: session closed', {
      flood: what,
      clientIp: this.clientIp,
      entryPoint: this.ctx.name,
    });
    this.#goaway(E_ENHANCE_YOUR_CALM);
  }

  /** A connection error (RFC 9113 §5.4.1): GOAWAY with its code, then the connection ends. */
  connError(code: number, why: string): void {
    if (this.closed) return;
    this.ctx.logger.debug('http2 session error', { error: why, code, clientIp: this.clientIp });
    this.#goaway(code);
  }

  #goaway(code: number): void {
    this.writer.goaway(this.lastStream, code);
    this.goawaySent = true;
    this.writes.flushNow();
    this.#abortAll();
    this.socket.destroySoon();
  }

  // ---- lifecycle

  /**
   * Idle keep-alive timeout, the preface and SETTINGS did not arrive within readHeaderTimeout,
   * or our SETTINGS were not acknowledged within it.
   */
  onDeadline(now: number): void {
    if (!this.settled) {
      this.socket.destroy();
      return;
    }
    if (this.ackBy !== 0 && now >= this.ackBy) {
      this.connError(E_SETTINGS_TIMEOUT, 'SETTINGS not acknowledged in time');
      return;
    }
    if (this.streams.size === 0) this.close();
  }

  /** Graceful: GOAWAY(NO_ERROR, last stream), open streams finish, then the connection ends. */
  close(): void {
    if (this.closed || this.goawaySent) return;
    this.writer.goaway(this.lastStream, E_NO_ERROR);
    this.goawaySent = true;
    this.writes.schedule();
    if (this.streams.size === 0 && this.#queue.length === 0) this.#end();
  }

  #end(): void {
    this.writes.flushNow();
    this.closed = true;
    this.socket.destroySoon();
  }

  destroy(): void {
    this.socket.destroy();
  }

  #abortAll(): void {
    this.closed = true;
    for (const s of [...this.streams.values()]) s.connectionClosed();
    this.streams.clear();
  }

  onSocketClose(): void {
    this.#abortAll();
    if (this.affinity !== null) this.affinity.close();
    this.ctx.ticker.delete(this);
    this.#onClosed(this);
  }
}
