import { connect } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ProxyError } from '../core/errors.ts';
import { encodeProxyHeader } from '../core/proxy-protocol.ts';
import { SlotList } from '../core/slot-list.ts';
import type { Ticker } from '../core/ticker.ts';
import { ReadSlot, registerReadSlot } from '../http1/read-slot.ts';
import { type ConnectionOwner, UpstreamConnection } from './connection.ts';
import type { StreamSource, UpstreamUser } from './stream.ts';
import { tlsConnectOptions, type UpstreamTls } from './transport-tls.ts';

export interface PoolOptions {
  readonly host: string;
  readonly port: number;
  /** Idle keep-alive connections kept (Traefik's maxIdleConnsPerHost). */
  readonly maxIdle: number;
  /** Open connections at most, idle + busy + connecting; 0 = unlimited. Beyond it, requests wait. */
  readonly maxConns: number;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** 0 = no limit. */
  readonly responseHeaderTimeoutMs: number;
  readonly maxResponseHeaderBytes: number;
  /**
   * Traefik v3.8's forwardingTimeouts.readTimeout and writeTimeout: per read of a response and
   * per write of a request (upstream/rw-deadlines.ts); absent or 0 = none.
   */
  readonly readTimeoutMs?: number;
  readonly writeTimeoutMs?: number;
  /** Present for `https://` servers: connections are TLS (the connect timeout covers the handshake). */
  readonly tls?: UpstreamTls;
  /**
   * Ours: a PROXY protocol header (version 1 or 2) is written first on each connection, naming
   * the client of the request that opened it. Such connections describe one client: the
   * transport keeps none idle (maxIdle 0), so none serves another client.
   */
  readonly proxyProtocol?: 1 | 2;
  /**
   * Each connection notes its local and remote addresses when it connects (a getsockname and a
   * getpeername per connection, none per request), for Go's read and write error texts that name
   * them (`read tcp 127.0.0.1:51234->127.0.0.1:9000: read: connection reset by peer`): the
   * forwardAuth pool only (core/go-net-error.ts).
   */
  readonly keepAddresses?: boolean;
}

export interface PoolStats {
  idle: number;
  busy: number;
  connecting: number;
  opened: number;
  closed: number;
  reused: number;
  waiting: number;
}

interface Waiter {
  user: UpstreamUser;
  method: string;
}

/**
 * Connections to one upstream server. Idle connections are reused LIFO (the most recently used
 * socket is the least likely to have been closed by the server's own idle timer).
 */
export class UpstreamPool implements ConnectionOwner, StreamSource {
  readonly options: PoolOptions;
  readonly ticker: Ticker;
  readonly stats: PoolStats = {
    idle: 0,
    busy: 0,
    connecting: 0,
    opened: 0,
    closed: 0,
    reused: 0,
    waiting: 0,
  };
  readonly #idle: UpstreamConnection[] = [];
  /**
   * Open connections and busy ones are counted (each connection carries `pooled` and `busy`),
   * and the connecting ones are a SlotList, not Sets: a long-lived Set that gains and loses an
   * entry per request (or per connection, with backends that close) rebuilds its hash table
   * every few dozen deletions, and V8 allocates the new table in the old generation, where the
   * Set lives: ~100 bytes of old-space garbage per request, which made the mark-compacts behind
   * the latency tail (docs/performance.md, "Old-space garbage from hash-table churn").
   */
  #openCount = 0;
  #busy = 0;
  /** Connections still connecting; each holds its waiter (`conn.waiter`). */
  readonly #connecting = new SlotList<UpstreamConnection>();
  readonly #waiters: Waiter[] = [];
  #closed = false;
  /** The latest TLS session the server gave us, offered on the next connection to resume. */
  #tlsSession: Buffer | undefined = undefined;

  /** Serves one client connection only (UpstreamAffinity): closed with it. */
  readonly dedicated: boolean;

  constructor(options: PoolOptions, ticker: Ticker, dedicated = false) {
    this.options = options;
    this.ticker = ticker;
    this.dedicated = dedicated;
  }

  /** A pool to the same server with the same transport, for one client connection. */
  dedicatedPool(): UpstreamPool {
    return new UpstreamPool(this.options, this.ticker, true);
  }

  /**
   * Hands `user` a connection: synchronously when one is idle, else after connecting (or after
   * another request releases one, when maxConns is reached).
   */
  acquire(user: UpstreamUser, method: string, fresh = false): void {
    if (this.#closed) {
      user.onUpstreamError(new ProxyError('SERVICE_DISABLED', 'upstream pool closed'), 'connect', false);
      return;
    }
    if (!fresh) {
      const conn = this.#idle.pop();
      if (conn !== undefined) {
        this.stats.reused++;
        this.#useConn(conn, user, method);
        return;
      }
    }
    if (this.options.maxConns > 0 && this.#openCount >= this.options.maxConns) {
      // Make room by dropping an idle socket if a fresh one was asked for; otherwise queue.
      const spare = this.#idle.shift();
      if (spare !== undefined) spare.destroy();
      else {
        this.#waiters.push({ user, method });
        this.stats.waiting = this.#waiters.length;
        return;
      }
    }
    this.#open(user, method);
  }

  /** Withdraws a waiting or connecting user (its client went away). */
  cancel(user: UpstreamUser): void {
    const i = this.#waiters.findIndex((w) => w.user === user);
    if (i !== -1) {
      this.#waiters.splice(i, 1);
      this.stats.waiting = this.#waiters.length;
    }
    for (const conn of this.#connecting.snapshot()) {
      const w = conn.waiter;
      if (w !== null && w.user === user) {
        // Let the connection finish; it goes to the idle list for the next request.
        w.user = IDLE_SINK;
        conn.user = null;
      }
    }
  }

  #open(user: UpstreamUser, method: string): void {
    const o = this.options;
    let conn: UpstreamConnection;
    // The PROXY protocol header goes first, before TLS: written on the TCP socket before the
    // TLS socket wraps it (its 'connect' listener runs before TLS starts).
    const raw =
      o.proxyProtocol === undefined ? undefined : connect({ host: o.host, port: o.port, noDelay: true });
    if (raw !== undefined) raw.write(encodeProxyHeader(o.proxyProtocol!, user.proxyProtocolClient?.()));
    if (o.tls === undefined) {
      if (raw === undefined) {
        // Plain TCP: reads go to a reused buffer (ReadSlot), not a stream: the one shared by
        // upstream connections (a response head at a time), one of its own once a read fills it.
        const slot = new ReadSlot(false, true);
        const socket = connect({ host: o.host, port: o.port, noDelay: true, onread: slot.onread });
        registerReadSlot(socket, slot);
        conn = new UpstreamConnection(socket, this, false, slot);
      } else conn = new UpstreamConnection(raw, this);
    } else {
      // Loaded on first need (an https server): plain-HTTP proxies never load node:tls.
      const tlsOptions = tlsConnectOptions(o.tls, o.host, o.port, this.#tlsSession);
      const tls = process.getBuiltinModule('node:tls');
      if (raw === undefined) {
        // Decrypted bytes go to a ReadSlot as well (TLSWrap reads through the same listener as
        // a TCP handle). Not over a socket of our own (PROXY protocol): tls.connect takes
        // `onread` only when it creates the socket. Not a shared slot: that relies on each read
        // being handled before any other socket's, known of plain TCP reads from the event loop.
        const slot = new ReadSlot();
        // Node's tls.connect passes `onread` on to its socket; @types/node does not list it.
        const withSlot = { ...tlsOptions, onread: slot.onread };
        const socket = tls.connect(withSlot);
        socket.setNoDelay(true);
        registerReadSlot(socket, slot);
        conn = new UpstreamConnection(socket, this, true, slot);
      } else {
        const socket = tls.connect({ ...tlsOptions, socket: raw });
        // tls.connect ignores the noDelay option; the TLS socket passes this on to its TCP handle.
        socket.setNoDelay(true);
        conn = new UpstreamConnection(socket, this, true);
      }
    }
    conn.pooled = true;
    this.#openCount++;
    conn.waiter = { user, method };
    this.#connecting.add(conn);
    conn.user = user;
    this.stats.opened++;
    this.stats.connecting++;
    conn.deadline = this.options.connectTimeoutMs > 0 ? this.ticker.now + this.options.connectTimeoutMs : 0;
    this.ticker.add(conn);
  }

  /**
   * Takes a TLS connection opened elsewhere, its handshake done (an https server that answered
   * `http/1.1` to an ALPN offer of h2): it serves `user` now, then joins the pool like any other.
   */
  adopt(socket: TLSSocket, user: UpstreamUser, method: string): void {
    const conn = new UpstreamConnection(socket, this, true);
    conn.pooled = true;
    this.#openCount++;
    this.stats.opened++;
    this.ticker.add(conn);
    if (this.#closed) {
      conn.destroy();
      user.onUpstreamError(new ProxyError('SERVICE_DISABLED', 'upstream pool closed'), 'connect', false);
      return;
    }
    this.#useConn(conn, user, method);
  }

  #useConn(conn: UpstreamConnection, user: UpstreamUser, method: string): void {
    conn.busy = true;
    this.stats.busy = ++this.#busy;
    conn.begin(user, method);
    user.onUpstreamReady(conn);
  }

  /** A connection stops serving a request; false when it was not serving one. */
  #unbusy(conn: UpstreamConnection): boolean {
    if (!conn.busy) return false;
    conn.busy = false;
    this.stats.busy = --this.#busy;
    return true;
  }

  /** UpstreamConnection calls this when its TCP handshake completes. */
  onConnected(conn: UpstreamConnection): void {
    const w = conn.waiter;
    conn.waiter = null;
    this.#connecting.delete(conn);
    this.stats.connecting--;
    if (w === null || w.user === IDLE_SINK) {
      this.#toIdle(conn);
      return;
    }
    this.#useConn(conn, w.user, w.method);
  }

  /** A verified TLS connection of this pool received a session ticket. */
  onTlsSession(session: Buffer): void {
    this.#tlsSession = session;
  }

  /** A response ended cleanly on a reusable connection. */
  release(conn: UpstreamConnection): void {
    this.#unbusy(conn);
    // Nobody waits, as a rule: the length test spares the shift builtin's call (~0.4 % in perf).
    const w = this.#waiters.length === 0 ? undefined : this.#waiters.shift();
    if (w !== undefined) {
      this.stats.waiting = this.#waiters.length;
      this.stats.reused++;
      this.#useConn(conn, w.user, w.method);
      return;
    }
    this.#toIdle(conn);
  }

  #toIdle(conn: UpstreamConnection): void {
    if (this.#closed || this.#idle.length >= this.options.maxIdle) {
      conn.setIdle(0);
      conn.destroy();
      return;
    }
    conn.setIdle(this.options.idleTimeoutMs > 0 ? this.ticker.now + this.options.idleTimeoutMs : 0);
    this.#idle.push(conn);
  }

  /**
   * The connection switched protocols (a WebSocket): its socket now belongs to a tunnel. For the
   * pool it is as good as closed (a slot freed up), but the socket stays open.
   */
  onDetached(conn: UpstreamConnection): void {
    this.onClosed(conn);
  }

  /** UpstreamConnection calls this exactly once when it is destroyed. */
  onClosed(conn: UpstreamConnection): void {
    if (!conn.pooled) return;
    conn.pooled = false;
    this.#openCount--;
    this.ticker.delete(conn);
    this.stats.closed++;
    if (this.#connecting.delete(conn)) {
      conn.waiter = null;
      this.stats.connecting--;
    } else if (!this.#unbusy(conn)) {
      const i = this.#idle.indexOf(conn);
      if (i !== -1) this.#idle.splice(i, 1);
    }
    // A slot freed up: start a connection for the oldest waiter.
    const w = this.#waiters.shift();
    if (w !== undefined) {
      this.stats.waiting = this.#waiters.length;
      this.#open(w.user, w.method);
    }
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  /** Stops reuse: idle sockets close now, busy ones when their response ends. */
  close(): void {
    this.#closed = true;
    for (const conn of this.#idle.splice(0)) conn.destroy();
    for (const w of this.#waiters.splice(0)) {
      w.user.onUpstreamError(new ProxyError('SERVICE_DISABLED', 'upstream pool closed'), 'connect', false);
    }
  }
}

/** Stands in for a user that went away while its connection was being opened. */
const IDLE_SINK: UpstreamUser = {
  onUpstreamReady: () => {},
  onUpstreamInterim: () => {},
  onUpstreamHead: () => {},
  onUpstreamData: () => {},
  onUpstreamEnd: () => {},
  onUpstreamError: () => {},
  onUpstreamDrain: () => {},
  onInternalError: () => {},
  onUpstreamUpgrade: () => {},
};
