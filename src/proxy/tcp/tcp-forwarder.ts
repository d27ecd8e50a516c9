import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { unwrapIp } from '../../core/ip.ts';
import type { Logger } from '../../core/logger.ts';
import { encodeProxyHeader } from '../../core/proxy-protocol.ts';
import type { Ticker } from '../../core/ticker.ts';
import type { AccessLog } from '../../observability/access-log.ts';
import type { Layer4Metrics, TcpSeries } from '../../observability/metrics/layer4.ts';
import type { TcpRoute, TcpServerRuntime } from '../../runtime/types.ts';
import {
  dialTcp,
  type PendingDial,
  type TcpDialCallbacks,
  type TcpDialFailure,
} from '../../upstream/tcp-dial.ts';
import { Tunnel, type TunnelEnd, type TunnelListener } from '../tunnel.ts';
import { POSTGRES_SSL_REQUEST } from './postgres.ts';

/** A ClientHello as the dispatcher read it. */
export interface TcpHello {
  readonly serverName: string | undefined;
  readonly alpn: readonly string[];
}

export interface TcpForwarderOptions {
  readonly entryPoint: string;
  readonly ticker: Ticker;
  readonly logger: Logger;
  readonly accessLog: AccessLog | null;
  readonly metrics: Layer4Metrics | null;
  /** TLS termination (the entry point's TLS gate): `onSecure` gets the decrypted stream. */
  terminate(
    socket: Socket,
    buffered: Buffer,
    hello: TcpHello,
    options: string,
    onSecure: (s: TLSSocket) => void,
  ): void;
}

/**
 * Bytes one direction may hold unsent before its reader stops: one read chunk beyond what the
 * kernel took. Bounded per connection; spares a stop and a restart of reading per chunk.
 */
const TCP_SLACK = 64 * 1024;

/** Access-log statuses of TCP connections (docs/protocols.md). */
const STATUS: Readonly<Record<TunnelEnd, number>> = {
  closed: 200,
  broken: 502,
  idle: 408,
  'closed-by-proxy': 503,
};
const DIAL_STATUS: Readonly<Record<TcpDialFailure, number>> = {
  timeout: 504,
  refused: 502,
  unreachable: 502,
  tls: 502,
  error: 502,
};

/**
 * The TCP side of an entry point: a matched router's connections are admitted by its
 * middlewares, TLS-terminated if the router says so, given a server by its service, and joined
 * to a connection to that server by a Tunnel (backpressure both ways, FIN passed on as FIN with
 * Traefik's terminationDelay, a reset passed on as a FIN as Traefik's connCopy does, an idle
 * timeout of ours). Each
 * connection is counted in metrics and logged once in the access log.
 */
export class TcpForwarder {
  readonly opts: TcpForwarderOptions;
  readonly #sessions = new Set<TcpSession>();

  constructor(opts: TcpForwarderOptions) {
    this.opts = opts;
  }

  /** Open TCP connections (client side). */
  get open(): number {
    return this.#sessions.size;
  }

  /** `postgres`: a Postgres client's SSLRequest was answered (listeners/dispatcher.ts). */
  serve(
    socket: Socket,
    route: TcpRoute,
    buffered: Buffer | null,
    hello: TcpHello | null,
    postgres = false,
  ): void {
    const s = new TcpSession(this, socket, route, hello, postgres && route.tls.kind === 'passthrough');
    this.#sessions.add(s);
    s.start(buffered, hello);
  }

  /** @internal */
  ended(s: TcpSession): void {
    this.#sessions.delete(s);
    if (this.#sessions.size === 0) this.#drained?.();
  }

  /** Shutdown: every connection gets a FIN both ways; what is left after `graceMs` is destroyed. */
  async shutdown(graceMs: number): Promise<void> {
    for (const s of [...this.#sessions]) s.close();
    if (this.#sessions.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const s of [...this.#sessions]) s.destroy();
  }

  #drained: (() => void) | null = null;
}

class TcpSession implements TunnelListener, TcpDialCallbacks {
  readonly #f: TcpForwarder;
  readonly #socket: Socket;
  readonly #route: TcpRoute;
  readonly #clientIp: string;
  readonly #host: string;
  readonly #protocol: string;
  readonly #startedAt = performance.now();
  readonly #startTime = Date.now();
  #series: TcpSeries | null = null;
  #server: TcpServerRuntime | null = null;
  #dial: PendingDial | null = null;
  #tunnel: Tunnel | null = null;
  #admitted = 0;
  #over = false;
  #client: Duplex | null = null;
  #initial: Buffer | null = null;
  /** Passthrough of a Postgres client: the server is asked for TLS (SSLRequest) first. */
  readonly #postgres: boolean;
  #pgUpstream: Duplex | null = null;
  /** The ClientHello the dispatcher read (TLS termination starts from it). */
  #hello: TcpHello | null = null;
  /** TLS termination: the server, dialled, while the client's handshake runs. */
  #held: Duplex | null = null;

  constructor(f: TcpForwarder, socket: Socket, route: TcpRoute, hello: TcpHello | null, postgres: boolean) {
    this.#f = f;
    this.#postgres = postgres;
    this.#socket = socket;
    this.#route = route;
    this.#clientIp = unwrapIp(socket.remoteAddress);
    this.#host = hello?.serverName ?? '';
    this.#protocol =
      route.tls.kind === 'none' ? 'tcp' : route.tls.kind === 'passthrough' ? 'tls-passthrough' : 'tls';
  }

  start(buffered: Buffer | null, hello: TcpHello | null): void {
    const r = this.#route;
    const m = this.#f.opts.metrics;
    if (m !== null) {
      this.#series = m.tcp(this.#f.opts.entryPoint, r.router, r.service.name);
      this.#series.opened();
    }
    const s = this.#socket;
    s.on('error', ignore);
    (s as Owned)[SESSION] = this;
    s.once('close', onEarlyClose);
    if (r.tls.kind === 'broken') {
      // Traefik's brokenTLSRouter (pkg/server/router/tcp/manager.go): a router whose TLS options
      // could not be built closes what it matches, before its middlewares and its service.
      this.#fail(500, 'tls_options');
      return;
    }
    for (const mw of r.middlewares) {
      if (!mw.admit(this.#clientIp)) {
        this.#fail(mw.refusal, mw.refusal === 429 ? 'too_many' : 'not_allowed');
        return;
      }
      this.#admitted++;
    }
    // TLS termination too dials first: Traefik's TLSHandler hands the router's handler a
    // tls.Conn whose handshake runs on its first read, after the load balancer picked a server
    // and Proxy.ServeTCP dialled it; without a server, or when the dial fails, the client's
    // handshake is cut.
    this.#hello = hello;
    this.#connect(s, buffered);
  }

  #connect(client: Duplex, initial: Buffer | null): void {
    if (this.#over) return;
    const server = this.#route.service.pick();
    if (server === undefined) {
      this.#fail(503, 'no_server');
      return;
    }
    this.#server = server;
    const t = server.transport;
    // Traefik's TCP dialer: the PROXY protocol header names the client as we see it (declared
    // by a PROXY header we received, if any) and our own address of that connection.
    const v = t.proxyProtocol;
    const preamble = v === 0 ? null : encodeProxyHeader(v, this.#socket);
    this.#client = client;
    this.#initial = initial;
    // An address no dial can use (a host that is no name): Traefik's dial fails, so does ours.
    if (server.unusable !== undefined) {
      this.failed('unreachable', server.unusable);
      return;
    }
    this.#dial = dialTcp(
      {
        host: server.host,
        port: server.port,
        timeoutMs: t.dialTimeoutMs,
        keepAliveMs: t.keepAliveMs,
        preamble,
        tls: server.tls,
      },
      this,
      this.#f.opts.ticker,
    );
  }

  /** The dial succeeded: the tunnel joins the client to its server. */
  connected(upstream: Duplex): void {
    this.#dial = null;
    const client = this.#client!;
    if (this.#over || client.destroyed) {
      upstream.destroy();
      return;
    }
    if (this.#postgres) {
      this.#askPostgres(upstream);
      return;
    }
    const tls = this.#route.tls;
    if (tls.kind === 'terminate') {
      this.#held = upstream;
      upstream.on('error', ignore);
      const initial = this.#initial;
      this.#initial = null;
      this.#f.opts.terminate(
        this.#socket,
        initial ?? Buffer.alloc(0),
        this.#hello ?? { serverName: undefined, alpn: [] },
        tls.options,
        (secure) => this.#secured(secure),
      );
      return;
    }
    this.#join(upstream, null);
  }

  /** The client's TLS handshake is done: the server dialled before it is joined to it. */
  #secured(secure: TLSSocket): void {
    const upstream = this.#held;
    this.#held = null;
    if (upstream === null || this.#over) return;
    if (upstream.destroyed) {
      this.#fail(502, 'server_closed');
      return;
    }
    this.#client = secure;
    this.#join(upstream, null);
  }

  /**
   * Traefik's postgresConn (pkg/server/router/tcp/postgres.go): the server gets the SSLRequest
   * the client sent us, and must answer exactly `S` (which the client already had from us) before
   * the ClientHello goes on; any other answer closes both.
   */
  #askPostgres(upstream: Duplex): void {
    this.#pgUpstream = upstream;
    (upstream as Owned)[SESSION] = this;
    upstream.on('error', ignore);
    upstream.on('data', onPostgresReply);
    upstream.on('close', onPostgresGone);
    upstream.write(POSTGRES_SSL_REQUEST);
  }

  /** @internal The server's first bytes after the SSLRequest. */
  postgresReply(upstream: Duplex, chunk: Buffer | null): void {
    if (this.#pgUpstream !== upstream) return;
    this.#pgUpstream = null;
    upstream.off('data', onPostgresReply);
    upstream.off('close', onPostgresGone);
    upstream.pause();
    if (chunk === null || chunk.length !== 1 || chunk[0] !== 0x53 || this.#over) {
      upstream.destroy();
      if (!this.#over) {
        this.#f.opts.logger.debug('invalid response from Postgres server', {
          server: this.#server!.address,
        });
        this.#fail(502, 'postgres_refused');
      }
      return;
    }
    this.#join(upstream, null);
  }

  #join(upstream: Duplex, upstreamRest: Buffer | null): void {
    const client = this.#client!;
    if (this.#over || client.destroyed) {
      upstream.destroy();
      return;
    }
    this.#socket.off('close', onEarlyClose);
    const t = this.#server!.transport;
    const tunnel = new Tunnel(
      client,
      upstream,
      this.#f.opts.ticker,
      t.idleTimeoutMs,
      t.terminationDelayMs,
      this,
      TCP_SLACK,
      true,
    );
    this.#tunnel = tunnel;
    const initial = this.#initial;
    this.#initial = null;
    tunnel.start(initial, upstreamRest);
  }

  failed(why: TcpDialFailure, message: string): void {
    this.#dial = null;
    this.#f.opts.logger.debug('TCP server unreachable', {
      server: this.#server!.address,
      reason: why,
      error: message,
    });
    this.#fail(DIAL_STATUS[why], `dial_${why}`);
  }

  clientClosed(): void {
    this.#fail(499, 'client_closed');
  }

  onTunnelEnd(tunnel: Tunnel, end: TunnelEnd): void {
    if (end === 'broken') this.#series?.failed('broken');
    this.#finish(STATUS[end], tunnel.bytesUp, tunnel.bytesDown);
  }

  /** Refused or failed before (or instead of) a tunnel: the client is closed at once. */
  #fail(status: number, reason: string): void {
    if (this.#over) return;
    this.#dial?.abort();
    this.#pgUpstream?.destroy();
    this.#series?.failed(reason);
    // Closed, as Traefik's conn.Close() (the middlewares, the load balancers, Proxy.ServeTCP in
    // pkg/tcp): a FIN, or the kernel's reset when bytes the client sent were never read (there
    // the kernel holds them: Traefik reads nothing before a TCP router on its fast path). Here
    // they wait in the socket's buffer, nobody having taken them: the same reset, then.
    this.#held?.destroy();
    this.#held = null;
    const s = this.#socket;
    if (!s.destroyed) {
      if (s.readableLength > 0) s.resetAndDestroy();
      else s.destroy();
    }
    this.#finish(status, 0, 0);
  }

  #finish(status: number, bytesIn: number, bytesOut: number): void {
    if (this.#over) return;
    this.#over = true;
    this.#socket.off('close', onEarlyClose);
    const mws = this.#route.middlewares;
    for (let i = 0; i < this.#admitted; i++) mws[i]!.release?.(this.#clientIp);
    const seconds = (performance.now() - this.#startedAt) / 1000;
    this.#series?.closed(bytesIn, bytesOut, seconds);
    this.#f.ended(this);
    const log = this.#f.opts.accessLog;
    if (log !== null) {
      log.log({
        startTime: this.#startTime,
        clientIp: this.#clientIp,
        method: 'TCP',
        host: this.#host,
        path: '-',
        query: '',
        protocol: this.#protocol,
        status,
        bytesIn,
        bytesOut,
        durationMs: seconds * 1000,
        entryPoint: this.#f.opts.entryPoint,
        router: this.#route.router,
        service: this.#server?.service ?? this.#route.service.name,
        server: this.#server?.address ?? '',
        userAgent: '',
        referer: '',
      });
    }
  }

  /** Shutdown: a FIN both ways, as a tunnel closed by us. */
  close(): void {
    if (this.#tunnel !== null) this.#tunnel.close('closed-by-proxy');
    else this.#fail(503, 'shutdown');
  }

  destroy(): void {
    this.#tunnel?.client.destroy();
    this.#tunnel?.upstream.destroy();
    if (!this.#over) this.#fail(503, 'shutdown');
  }
}

function ignore(): void {}

const SESSION = Symbol('traffic.tcpSession');
type Owned = Duplex & { [SESSION]?: TcpSession };

function onPostgresReply(this: Owned, chunk: Buffer): void {
  this[SESSION]?.postgresReply(this, chunk);
}
function onPostgresGone(this: Owned): void {
  this[SESSION]?.postgresReply(this, null);
}

/** The client left before its tunnel was up (shared by every session: `this` is the socket). */
function onEarlyClose(this: Owned): void {
  this[SESSION]?.clientClosed();
}
