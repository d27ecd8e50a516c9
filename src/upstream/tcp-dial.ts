import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Ticker, Timed } from '../core/ticker.ts';

/** What one connection to a TCP server needs. */
export interface TcpDialTarget {
  readonly host: string;
  readonly port: number;
  /** 0 = no limit (the OS's connect timeout). */
  readonly timeoutMs: number;
  /** TCP keep-alive probes after this idle time; -1 = off. */
  readonly keepAliveMs: number;
  /** Written first, before any payload and before TLS (the PROXY protocol header). */
  readonly preamble: Buffer | null;
  readonly tls: {
    readonly secureContext: import('node:tls').SecureContext;
    readonly servername: string | undefined;
    readonly rejectUnauthorized: boolean;
    /** The transport's peerCertURI check (upstream/peer-cert-uri.ts); absent = Node's hostname check. */
    readonly checkServerIdentity?: import('./transport-tls.ts').IdentityCheck | undefined;
    /** Set: the handshake is refused with this reason before it starts (Go's rule, build-tcp.ts). */
    readonly refusal?: string | undefined;
  } | null;
}

/** Why a dial failed, as the access log and metrics tell it. */
export type TcpDialFailure = 'timeout' | 'refused' | 'unreachable' | 'tls' | 'error';

export interface TcpDialCallbacks {
  connected(upstream: Duplex): void;
  failed(why: TcpDialFailure, message: string): void;
}

/** A dial in progress; `abort` drops it (the client left). */
export interface PendingDial {
  abort(): void;
}

const GO_KEEPALIVE_MS = 15_000;

function failureOf(e: NodeJS.ErrnoException): TcpDialFailure {
  switch (e.code) {
    case 'ECONNREFUSED':
    case 'ECONNRESET':
      return 'refused';
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unreachable';
    default:
      return (e.code ?? '').startsWith('ERR_TLS') || (e.code ?? '').startsWith('ERR_SSL') ? 'tls' : 'error';
  }
}

const DIAL = Symbol('traffic.tcpDial');
type Dialling = Duplex & { [DIAL]?: TcpDial | undefined };

// Listeners shared by every dial (no closure per connection): `this` is the socket.
function onDialError(this: Dialling, e: NodeJS.ErrnoException): void {
  this[DIAL]?.fail(failureOf(e), e.message);
}
function onDialConnect(this: Dialling): void {
  this[DIAL]?.tcpUp();
}
function onDialSecure(this: Dialling): void {
  this[DIAL]?.succeed(this);
}

/**
 * Opens one connection to a TCP server (Traefik's TCP dialer, pkg/tcp/dialer.go): connect with
 * `dialTimeout` and keep-alive, write the PROXY protocol header if any, then TLS if the server
 * has `tls: true`. Reports once, through `cb`. The timeout is a deadline on `ticker` (its tick
 * is the precision; dial timeouts are seconds), not a timer per connection.
 */
export function dialTcp(t: TcpDialTarget, cb: TcpDialCallbacks, ticker: Ticker): PendingDial {
  return new TcpDial(t, cb, ticker);
}

class TcpDial implements PendingDial, Timed {
  readonly #t: TcpDialTarget;
  readonly #cb: TcpDialCallbacks;
  readonly #ticker: Ticker;
  readonly #socket: Dialling;
  #tls: Dialling | null = null;
  #done = false;
  deadline = 0;
  tickerSlot = -1;

  constructor(t: TcpDialTarget, cb: TcpDialCallbacks, ticker: Ticker) {
    this.#t = t;
    this.#cb = cb;
    this.#ticker = ticker;
    // Keep-alive as connect() options, applied once the connection is up: setKeepAlive() before
    // that has libuv set it at socket creation (with its own 60 s) and node again after connect,
    // eight setsockopt calls per connection instead of four.
    const socket: Dialling = connect({
      host: t.host,
      port: t.port,
      noDelay: true,
      allowHalfOpen: true,
      keepAlive: t.keepAliveMs >= 0,
      keepAliveInitialDelay: t.keepAliveMs === 0 ? GO_KEEPALIVE_MS : Math.max(t.keepAliveMs, 0),
    });
    this.#socket = socket;
    socket[DIAL] = this;
    socket.on('error', onDialError);
    socket.once('connect', onDialConnect);
    if (t.timeoutMs > 0) {
      this.deadline = ticker.now + t.timeoutMs;
      ticker.add(this);
    }
  }

  onDeadline(): void {
    this.fail('timeout', `dial timeout after ${this.#t.timeoutMs}ms`);
  }

  abort(): void {
    this.fail('error', 'aborted');
  }

  /** TCP is up: the PROXY header, then TLS or the connection itself. */
  tcpUp(): void {
    if (this.#done) return;
    const t = this.#t;
    const socket = this.#socket;
    if (t.preamble !== null) socket.write(t.preamble);
    if (t.tls === null) {
      this.succeed(socket);
      return;
    }
    if (t.tls.refusal !== undefined) {
      this.fail('tls', t.tls.refusal);
      return;
    }
    const tls = process.getBuiltinModule('node:tls');
    const s: Dialling = tls.connect({
      socket: socket as Socket,
      secureContext: t.tls.secureContext,
      rejectUnauthorized: t.tls.rejectUnauthorized,
      ...(t.tls.servername === undefined ? {} : { servername: t.tls.servername }),
      ...(t.tls.checkServerIdentity === undefined ? {} : { checkServerIdentity: t.tls.checkServerIdentity }),
    });
    this.#tls = s;
    s[DIAL] = this;
    s.on('error', onDialError);
    s.once('secureConnect', onDialSecure);
  }

  fail(why: TcpDialFailure, message: string): void {
    if (this.#done) return;
    this.#end();
    this.#socket.destroy();
    this.#tls?.destroy();
    this.#cb.failed(why, message);
  }

  succeed(s: Duplex): void {
    if (this.#done) return;
    this.#end();
    this.#socket.off('error', onDialError);
    this.#tls?.off('error', onDialError);
    this.#cb.connected(s);
  }

  #end(): void {
    this.#done = true;
    // On the ticker exactly when a dial timeout was set (constructor).
    if (this.#t.timeoutMs > 0) this.#ticker.delete(this);
    this.#socket[DIAL] = undefined;
    if (this.#tls !== null) this.#tls[DIAL] = undefined;
  }
}
