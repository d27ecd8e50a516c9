import { connect, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ProxyError } from '../core/errors.ts';
import type { Ticker } from '../core/ticker.ts';
import type { PoolSession, ReplayStream, Waiter } from './h2-seam.ts';
import { S_CONNECTING, S_READY, UpstreamSession } from './h2-session.ts';
import { OwnH2Session } from './own-h2-session.ts';
import { type PoolStats, UpstreamPool } from './pool.ts';
import type { ServerPool, StreamStats } from './server-pool.ts';
import type { UpstreamUser } from './stream.ts';
import { ALPN_H2, tlsConnectOptions, type UpstreamTls } from './transport-tls.ts';

export interface H2PoolOptions {
  readonly host: string;
  readonly port: number;
  /** Idle sessions kept (Traefik's maxIdleConnsPerHost, counted in sessions). */
  readonly maxIdle: number;
  /** Sessions at most, connecting included; 0 = unlimited. Beyond it, requests wait for a stream. */
  readonly maxConns: number;
  /** A session without streams for this long is closed (idleConnTimeout); 0 = never. */
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** 0 = no limit. */
  readonly responseHeaderTimeoutMs: number;
  readonly maxResponseHeaderBytes: number;
  /** forwardingTimeouts.readTimeout / writeTimeout, per stream (upstream/rw-deadlines.ts); 0 = none. */
  readonly readTimeoutMs?: number;
  readonly writeTimeoutMs?: number;
  /** A PING after this long without a byte from the server (readIdleTimeout); 0 = no PINGs. */
  readonly readIdleTimeoutMs: number;
  /** No PING answer within this long takes the session down (pingTimeout). */
  readonly pingTimeoutMs: number;
  /** Present for `https://` servers: TLS with ALPN h2 (then http/1.1). Absent: h2c. */
  readonly tls?: UpstreamTls;
}

/** Where an `https://` server that answered ALPN with http/1.1 is served instead. */
export interface AlpnFallback {
  /** The server picked HTTP/1.1 on `socket` (handshake done): serve `waiters` over HTTP/1.1. */
  fallback(socket: TLSSocket, waiters: readonly Waiter[]): void;
  /** A session of this pool negotiated h2. */
  negotiatedH2(): void;
}

/**
 * The HTTP/2 `StreamSource` of one server: requests share one multiplexed session until its
 * SETTINGS_MAX_CONCURRENT_STREAMS is reached, then more sessions open (up to `maxConns`; beyond,
 * requests wait for a stream to close). A session that receives GOAWAY takes no new stream and
 * drains; streams it did not process are sent again on another session. Sessions without streams
 * close after `idleTimeoutMs`, or at once beyond `maxIdle` idle ones.
 *
 * The HTTP/1.1 pool is a separate class: nothing of this is on the HTTP/1.1 path.
 */
export class H2Pool implements ServerPool {
  readonly options: H2PoolOptions;
  readonly ticker: Ticker;
  /** `:scheme` of the requests. */
  readonly scheme: 'http' | 'https';
  /** The origin node:http2 is told (the socket is ours; only the scheme matters to it). */
  readonly origin: string;
  readonly streams: StreamStats = {
    active: 0,
    opened: 0,
    refused: 0,
    goaways: 0,
    pingTimeouts: 0,
    floods: 0,
  };
  readonly #counts = { opened: 0, closed: 0, reused: 0 };
  readonly #sessions: PoolSession[] = [];
  #waiters: Waiter[] = [];
  #closed = false;
  #tlsSession: Buffer | undefined = undefined;
  readonly #alpn: AlpnFallback | null;
  /** HTTP/1.1 connections to the same server, for upgrade requests; made on the first one. */
  #h1: UpstreamPool | null = null;
  /** Sessions are our own HTTP/2 client (static `experimental.http2Engine: own`), not node:http2. */
  readonly #own: boolean;

  constructor(
    options: H2PoolOptions,
    ticker: Ticker,
    alpn: AlpnFallback | null = null,
    engine: 'node' | 'own' = 'node',
  ) {
    this.options = options;
    this.#own = engine === 'own';
    this.ticker = ticker;
    this.scheme = options.tls === undefined ? 'http' : 'https';
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    this.origin = `${this.scheme}://${host}:${options.port}`;
    this.#alpn = alpn;
  }

  /** Sessions by state, read at scrape time (nothing is counted per request). */
  get stats(): PoolStats {
    let idle = 0;
    let busy = 0;
    let connecting = 0;
    let waiting = this.#waiters.length;
    for (const s of this.#sessions) {
      if (s.state === S_CONNECTING) {
        connecting++;
        waiting += s.waiters.length;
      } else if (s.active > 0) busy++;
      else if (s.state === S_READY) idle++;
    }
    const c = this.#counts;
    return { idle, busy, connecting, opened: c.opened, closed: c.closed, reused: c.reused, waiting };
  }

  /** An `h2c://` server's upgrade requests go to it over cleartext HTTP/1.1. */
  get upgrades(): UpstreamPool {
    this.#h1 ??= new UpstreamPool(this.options, this.ticker);
    return this.#h1;
  }

  get sessionCount(): number {
    return this.#sessions.length;
  }

  acquire(user: UpstreamUser, method: string, fresh = false): void {
    if (this.#closed) {
      user.onUpstreamError(new ProxyError('SERVICE_DISABLED', 'upstream pool closed'), 'connect', false);
      return;
    }
    const sessions = this.#sessions;
    if (!fresh) {
      // The oldest session with room first: one session carries everything until it is full.
      for (let i = 0; i < sessions.length; i++) {
        const s = sessions[i]!;
        if (s.hasRoom) {
          if (s.uses > 0) this.#counts.reused++;
          s.startStream(user, method);
          return;
        }
      }
      for (let i = 0; i < sessions.length; i++) {
        const s = sessions[i]!;
        if (s.state === S_CONNECTING && s.waiters.length < s.maxStreams) {
          s.waiters.push({ user, method, replay: null });
          return;
        }
      }
    }
    const w: Waiter = { user, method, replay: null };
    if (this.#canOpen()) this.#open().waiters.push(w);
    else this.#waiters.push(w);
  }

  cancel(user: UpstreamUser): void {
    this.#h1?.cancel(user);
    const drop = (list: Waiter[]): void => {
      const i = list.findIndex((w) => w.user === user && w.replay === null);
      if (i !== -1) list.splice(i, 1);
    };
    drop(this.#waiters);
    for (const s of this.#sessions) if (s.state === S_CONNECTING) drop(s.waiters);
  }

  /** A refused stream wants another session (not `from`). */
  replay(st: ReplayStream, from: PoolSession): void {
    if (this.#closed) {
      st.replayFailed(new ProxyError('SERVICE_DISABLED', 'upstream pool closed'));
      return;
    }
    for (const s of this.#sessions) {
      if (s !== from && s.hasRoom) {
        s.resumeStream(st);
        return;
      }
    }
    const w: Waiter = { user: st.user!, method: '', replay: st };
    for (const s of this.#sessions) {
      if (s.state === S_CONNECTING && s.waiters.length < s.maxStreams) {
        s.waiters.push(w);
        return;
      }
    }
    if (this.#canOpen()) this.#open().waiters.push(w);
    else this.#waiters.push(w);
  }

  cancelReplay(st: ReplayStream): void {
    const drop = (list: Waiter[]): void => {
      const i = list.findIndex((w) => w.replay === st);
      if (i !== -1) list.splice(i, 1);
    };
    drop(this.#waiters);
    for (const s of this.#sessions) if (s.state === S_CONNECTING) drop(s.waiters);
  }

  #canOpen(): boolean {
    const max = this.options.maxConns;
    return max === 0 || this.#sessions.length < max;
  }

  #open(): PoolSession {
    const o = this.options;
    let socket: Socket;
    if (o.tls === undefined) socket = connect({ host: o.host, port: o.port, noDelay: true });
    else {
      const tls = process
        .getBuiltinModule('node:tls')
        .connect(tlsConnectOptions(o.tls, o.host, o.port, this.#tlsSession, ALPN_H2));
      tls.setNoDelay(true);
      // Resuming skips the certificate checks; node emits 'session' only once they passed.
      tls.on('session', (t: Buffer) => {
        this.#tlsSession = t;
      });
      socket = tls;
    }
    const s = this.#own
      ? new OwnH2Session(this, socket, o.tls !== undefined)
      : new UpstreamSession(this, socket, o.tls !== undefined);
    this.#sessions.push(s);
    this.#counts.opened++;
    return s;
  }

  // ---- what sessions report

  /** A session is up (or the server's SETTINGS raised its limit): serve who waits. */
  onReady(s: PoolSession): void {
    if (s.waiters.length > 0) {
      const own = s.waiters;
      s.waiters = [];
      let i = 0;
      for (; i < own.length && s.hasRoom; i++) this.#serve(s, own[i]!);
      // More waited on it than the server allows: they queue for the next stream or session.
      if (i < own.length) this.#waiters = own.slice(i).concat(this.#waiters);
    }
    this.#alpn?.negotiatedH2();
    this.#dispatch();
  }

  #serve(s: PoolSession, w: Waiter): void {
    if (w.replay !== null) s.resumeStream(w.replay);
    else {
      if (s.uses > 0) this.#counts.reused++;
      s.startStream(w.user, w.method);
    }
  }

  /** Queued requests go to sessions with room, or to new sessions while allowed. */
  #dispatch(): void {
    while (this.#waiters.length > 0 && !this.#closed) {
      let target: PoolSession | undefined;
      for (const s of this.#sessions) {
        if (s.hasRoom) {
          target = s;
          break;
        }
      }
      if (target !== undefined) {
        this.#serve(target, this.#waiters.shift()!);
        continue;
      }
      // Sessions still connecting take the queue (up to the streams they will allow).
      let connecting = false;
      for (const s of this.#sessions) if (s.state === S_CONNECTING) connecting = true;
      if (connecting || !this.#canOpen()) return;
      const n = this.#open();
      n.waiters = this.#waiters;
      this.#waiters = [];
      return;
    }
  }

  onStreamFreed(s: PoolSession): void {
    if (this.#waiters.length > 0) {
      if (s.hasRoom) this.#serve(s, this.#waiters.shift()!);
      return;
    }
    if (s.active === 0 && s.state === S_READY) {
      const max = this.options.maxIdle;
      if (this.#closed || max === 0) s.close();
      else if (this.#sessions.length > max) {
        let idle = 0;
        for (const x of this.#sessions) if (x.active === 0 && x.state === S_READY) idle++;
        if (idle > max) s.close();
      }
    }
  }

  /** GOAWAY received (or we close it): the session takes no new streams. */
  onDraining(_s: PoolSession): void {
    this.#dispatch();
  }

  /**
   * A session is gone. `err` set: it never came up, and its `waiters` fail with it (phase
   * 'connect', nothing was sent); the pool's queue is tried again on a new session.
   */
  onClosed(s: PoolSession, waiters: readonly Waiter[], err: ProxyError | null): void {
    const i = this.#sessions.indexOf(s);
    if (i === -1) return;
    this.#sessions.splice(i, 1);
    this.#counts.closed++;
    if (err !== null) {
      for (const w of waiters) {
        if (w.replay !== null) w.replay.replayFailed(err);
        else w.user.onUpstreamError(err, 'connect', false);
      }
    }
    if (this.#closed) return;
    this.#dispatch();
  }

  /** The TLS server chose HTTP/1.1: the socket and its waiters leave this pool. */
  notH2(s: PoolSession, socket: TLSSocket, waiters: readonly Waiter[]): void {
    const i = this.#sessions.indexOf(s);
    if (i !== -1) this.#sessions.splice(i, 1);
    const all = waiters.concat(this.#waiters);
    this.#waiters = [];
    if (this.#alpn !== null && !this.#closed) {
      this.#alpn.fallback(socket, all);
      return;
    }
    socket.destroy();
    const err = new ProxyError('UPSTREAM_BAD_RESPONSE', 'the server did not accept HTTP/2 (ALPN h2)');
    for (const w of all) {
      if (w.replay !== null) w.replay.replayFailed(err);
      else w.user.onUpstreamError(err, 'connect', false);
    }
  }

  /** Stops taking requests: idle sessions close now, busy ones after their streams (GOAWAY). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#h1?.close();
    for (const s of [...this.#sessions]) s.close();
    const waiters = this.#waiters;
    this.#waiters = [];
    const err = new ProxyError('SERVICE_DISABLED', 'upstream pool closed');
    for (const w of waiters) {
      if (w.replay !== null) w.replay.replayFailed(err);
      else w.user.onUpstreamError(err, 'connect', false);
    }
  }
}
