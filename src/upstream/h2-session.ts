import type { ClientHttp2Session, Settings } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ProxyError, upstreamError } from '../core/errors.ts';
import type { Timed } from '../core/ticker.ts';
import type { H2Pool } from './h2-pool.ts';
import type { PoolSession, ReplayStream, Waiter } from './h2-seam.ts';
import { H2UpstreamStream } from './h2-stream.ts';
import type { UpstreamUser } from './stream.ts';
import { tlsConnectError } from './tls-errors.ts';

export type { Waiter } from './h2-seam.ts';

/**
 * Streams assumed allowed until the server's SETTINGS arrive (RFC 9113 §6.5.2 leaves it
 * unlimited; Go's transport assumes 100 as well), and the cap when the server sets no limit.
 */
const INITIAL_MAX_STREAMS = 100;
const UNLIMITED_CAP = 1000;

export const S_CONNECTING = 0;
export const S_READY = 1;
/** GOAWAY received or sent: no new stream; the open ones finish. */
export const S_DRAINING = 2;
export const S_CLOSED = 3;

/** Receive windows: a paused response stream buffers at most this much. */
const STREAM_WINDOW = 256 * 1024;
const SESSION_WINDOW = 1024 * 1024;

/**
 * One HTTP/2 connection to a server (h2c with prior knowledge, or TLS with ALPN h2), carrying up
 * to the server's SETTINGS_MAX_CONCURRENT_STREAMS streams at once. The socket is dialled here,
 * so that connect failures are told apart from stream failures; the node:http2 session is made
 * once it is up.
 *
 * Liveness (Traefik's `readIdleTimeout`/`pingTimeout`, Go's ReadIdleTimeout): one ticker entry per
 * session compares the socket's `bytesRead` between sweeps; after `readIdleTimeout` without a
 * byte a PING goes out, and no answer within `pingTimeout` takes the session down, failing its
 * streams as broken rather than leaving them hanging. Nothing of this runs per request.
 */
export class UpstreamSession implements PoolSession, Timed {
  readonly pool: H2Pool;
  deadline = 0;
  tickerSlot = -1;
  state = S_CONNECTING;
  client: ClientHttp2Session | null = null;
  /** Streams taken (handed out, not yet closed). */
  active = 0;
  maxStreams = INITIAL_MAX_STREAMS;
  /** Streams started on this session in all. */
  uses = 0;
  /** Users waiting for this session to come up. */
  waiters: Waiter[] = [];
  /** Why the session went down, for the streams that break with it. */
  down: ProxyError | null = null;
  readonly #socket: Socket;
  readonly #tls: boolean;
  #tcpUp = false;
  /** GOAWAY's last stream id; streams above it were not processed. -1 = no GOAWAY. */
  #goawayLast = -1;
  #idleSince = 0;
  #lastBytes = 0;
  #lastReadAt = 0;
  #pingSentAt = 0;
  // Socket listeners, kept to be removed when the socket goes to the HTTP/1.1 pool.
  readonly #onTcp = (): void => {
    this.#tcpUp = true;
  };
  readonly #onUp = (): void => this.#onConnect();
  readonly #onError = (err: Error): void => this.#onSocketError(err);
  readonly #onEnd = (): void => this.#onSocketClose();

  constructor(pool: H2Pool, socket: Socket, tls: boolean) {
    this.pool = pool;
    this.#socket = socket;
    this.#tls = tls;
    const o = pool.options;
    this.deadline = o.connectTimeoutMs > 0 ? pool.ticker.now + o.connectTimeoutMs : 0;
    pool.ticker.add(this);
    if (tls) {
      socket.on('connect', this.#onTcp);
      socket.on('secureConnect', this.#onUp);
    } else socket.on('connect', this.#onUp);
    socket.on('error', this.#onError);
    socket.on('close', this.#onEnd);
  }

  /** Why streams of this session broke, when the session itself went down (else null). */
  get failure(): ProxyError | null {
    if (this.down !== null) return this.down;
    return this.client?.destroyed === true
      ? new ProxyError('UPSTREAM_RESET', 'upstream closed the connection')
      : null;
  }

  #onConnect(): void {
    if (this.state !== S_CONNECTING) return;
    const pool = this.pool;
    if (this.#tls) {
      const alpn = (this.#socket as TLSSocket).alpnProtocol;
      if (alpn !== 'h2') {
        // The server speaks HTTP/1.1 only: the socket and the waiters go to the HTTP/1.1 side.
        this.state = S_CLOSED;
        pool.ticker.delete(this);
        const socket = this.#socket;
        socket.off('connect', this.#onTcp);
        socket.off('secureConnect', this.#onUp);
        socket.off('error', this.#onError);
        socket.off('close', this.#onEnd);
        const waiters = this.waiters;
        this.waiters = [];
        pool.notH2(this, this.#socket as TLSSocket, waiters);
        return;
      }
    }
    const o = pool.options;
    const client = process.getBuiltinModule('node:http2').connect(pool.origin, {
      createConnection: () => this.#socket,
      settings: {
        enablePush: false,
        initialWindowSize: STREAM_WINDOW,
        maxHeaderListSize: o.maxResponseHeaderBytes,
      },
      maxHeaderListPairs: 1024,
    });
    this.client = client;
    this.state = S_READY;
    client.on('remoteSettings', (s: Settings) => this.#onSettings(s));
    client.on('goaway', (_code: number, last: number) => this.#onGoaway(last));
    client.on('error', (err: Error) => {
      this.down ??= upstreamError(err, 'response');
    });
    client.on('close', () => this.#onClosed());
    client.setLocalWindowSize(SESSION_WINDOW);
    const now = pool.ticker.now;
    this.#lastReadAt = now;
    this.#idleSince = now;
    this.#arm(now);
    pool.onReady(this);
  }

  /** Hands `user` a stream of this session. */
  startStream(user: UpstreamUser, method: string): void {
    this.active++;
    this.uses++;
    this.pool.streams.active++;
    this.pool.streams.opened++;
    user.onUpstreamReady(new H2UpstreamStream(this, user, method));
  }

  /** Takes a refused stream of another session. */
  resumeStream(st: ReplayStream): void {
    this.active++;
    this.uses++;
    this.pool.streams.active++;
    (st as H2UpstreamStream).rebind(this);
  }

  /** A stream of this session closed (or was given up before it was sent). */
  streamClosed(): void {
    this.active--;
    this.pool.streams.active--;
    if (this.active === 0 && this.state === S_READY) {
      this.#idleSince = this.pool.ticker.now;
      this.#arm(this.#idleSince);
    }
    this.pool.onStreamFreed(this);
  }

  get hasRoom(): boolean {
    return this.state === S_READY && this.active < this.maxStreams;
  }

  /** Whether stream `id` was above the last one a GOAWAY said the server processed. */
  refusedAbove(id: number): boolean {
    return this.#goawayLast >= 0 && id > this.#goawayLast;
  }

  #onSettings(s: Settings): void {
    const m = s.maxConcurrentStreams;
    this.maxStreams = m === undefined || m > UNLIMITED_CAP ? UNLIMITED_CAP : m;
    this.pool.onReady(this);
  }

  #onGoaway(last: number): void {
    if (this.#goawayLast < 0 || last < this.#goawayLast) this.#goawayLast = last;
    if (this.state === S_READY) {
      this.state = S_DRAINING;
      this.pool.streams.goaways++;
      this.pool.onDraining(this);
    }
  }

  // ---- the ticker: connect timeout, idle timeout, PING keepalive

  #keepaliveDeadline(): number {
    const r = this.pool.options.readIdleTimeoutMs;
    return r > 0 ? this.#lastReadAt + r : 0;
  }

  #arm(now: number): void {
    const o = this.pool.options;
    let d = this.#keepaliveDeadline();
    if (this.#pingSentAt !== 0) d = this.#pingSentAt + o.pingTimeoutMs;
    if (this.active === 0 && this.state === S_READY && o.idleTimeoutMs > 0) {
      const idle = this.#idleSince + o.idleTimeoutMs;
      if (d === 0 || idle < d) d = idle;
    }
    this.deadline = d === 0 ? 0 : Math.max(d, now + 1);
  }

  onDeadline(now: number): void {
    if (this.state === S_CONNECTING) {
      this.#fail(
        new ProxyError(
          'UPSTREAM_CONNECT_TIMEOUT',
          this.#tcpUp ? 'upstream TLS handshake timeout' : 'upstream connect timeout',
        ),
      );
      return;
    }
    if (this.state === S_CLOSED) return;
    const o = this.pool.options;
    if (this.#pingSentAt !== 0 && now >= this.#pingSentAt + o.pingTimeoutMs) {
      this.pool.streams.pingTimeouts++;
      this.#destroy(
        new ProxyError(
          'UPSTREAM_RESET',
          `upstream session did not answer a PING within ${o.pingTimeoutMs}ms`,
        ),
      );
      return;
    }
    if (this.active === 0 && this.state === S_READY && o.idleTimeoutMs > 0) {
      if (now >= this.#idleSince + o.idleTimeoutMs) {
        this.close();
        return;
      }
    }
    if (o.readIdleTimeoutMs > 0 && this.#pingSentAt === 0) {
      const bytes = this.#socket.bytesRead;
      if (bytes !== this.#lastBytes) {
        this.#lastBytes = bytes;
        this.#lastReadAt = now;
      } else if (now >= this.#lastReadAt + o.readIdleTimeoutMs) {
        this.#ping(now);
      }
    }
    this.#arm(now);
  }

  #ping(now: number): void {
    const client = this.client;
    if (client === null || client.destroyed) return;
    this.#pingSentAt = now;
    const sent = client.ping((err) => {
      if (err !== null || this.state === S_CLOSED) return;
      this.#pingSentAt = 0;
      this.#lastReadAt = this.pool.ticker.now;
      this.#lastBytes = this.#socket.bytesRead;
      this.#arm(this.#lastReadAt);
    });
    if (!sent) this.#pingSentAt = 0; // too many PINGs outstanding: the next sweep tries again
  }

  // ---- the end

  /** Graceful: GOAWAY, open streams finish, then the connection closes. */
  close(): void {
    if (this.state === S_CLOSED) return;
    if (this.state === S_CONNECTING) {
      this.#fail(new ProxyError('SERVICE_DISABLED', 'upstream pool closed'));
      return;
    }
    if (this.state === S_READY) {
      this.state = S_DRAINING;
      this.pool.onDraining(this);
    }
    const client = this.client!;
    if (!client.closed && !client.destroyed) client.close();
  }

  #destroy(err: ProxyError): void {
    this.down ??= err;
    if (this.state === S_READY) {
      this.state = S_DRAINING;
      this.pool.onDraining(this);
    }
    this.client?.destroy();
    this.#socket.destroy();
  }

  /** Before the session exists: the waiters fail with `err` (phase 'connect'). */
  #fail(err: ProxyError): void {
    if (this.state !== S_CONNECTING) return;
    this.state = S_CLOSED;
    this.pool.ticker.delete(this);
    this.#socket.destroy();
    const waiters = this.waiters;
    this.waiters = [];
    this.pool.onClosed(this, waiters, err);
  }

  #onSocketError(err: Error): void {
    if (this.state === S_CONNECTING) {
      this.#fail(this.#tls ? tlsConnectError(err, this.#tcpUp) : upstreamError(err, 'connect'));
      return;
    }
    this.down ??= upstreamError(err, 'response');
  }

  #onSocketClose(): void {
    if (this.state === S_CONNECTING) {
      this.#fail(
        this.#tls
          ? tlsConnectError(null, this.#tcpUp)
          : new ProxyError('UPSTREAM_UNREACHABLE', 'connection closed while connecting'),
      );
      return;
    }
    this.down ??= new ProxyError('UPSTREAM_RESET', 'upstream closed the connection');
  }

  #onClosed(): void {
    if (this.state === S_CLOSED) return;
    this.state = S_CLOSED;
    this.down ??= new ProxyError('UPSTREAM_RESET', 'upstream closed the connection');
    this.pool.ticker.delete(this);
    this.#socket.destroy();
    this.pool.onClosed(this, [], null);
  }
}
