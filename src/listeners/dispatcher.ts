import { isIPv6, type Socket } from 'node:net';
import { unwrapIp } from '../core/ip.ts';
import type { Logger } from '../core/logger.ts';
import { parseProxyHeader } from '../core/proxy-protocol.ts';
import { SlotList } from '../core/slot-list.ts';
import type { Ticker, Timed } from '../core/ticker.ts';
import { POSTGRES_SSL_REQUEST, POSTGRES_SSL_YES } from '../proxy/tcp/postgres.ts';
import { type ConnectionMeta, canonicalServerName, type TcpMatch } from '../router/tcp/index.ts';
import type { EntryPointRoutes, HttpsHosts, SnapshotRef, TcpRoute } from '../runtime/types.ts';
import { ALERT_INTERNAL_ERROR, refuseWithAlert, TLS10_RECORD } from '../tls/alerts.ts';
import { type ClientHello, MAX_CLIENT_HELLO_BYTES, parseClientHello } from '../tls/sni.ts';

/** A ClientHello as read by the dispatcher (tls/sni). */
export type Hello = Extract<ClientHello, { kind: 'hello' }>;

/** Where the dispatcher hands a connection, once it knows what it is. */
export interface DispatchTargets {
  /** Cleartext HTTP: HTTP/1.1, or h2c by its preface. Bytes already read are back in the socket. */
  http(socket: Socket): void;
  /**
   * A TLS connection for the HTTPS routers (or an ACME tls-alpn-01 challenge): `buffered` is what
   * was read, the ClientHello at least, not put back.
   */
  https(socket: Socket, buffered: Buffer, hello: Hello): void;
  /**
   * A TCP router's connection. `buffered`: bytes already read (null for none); `hello`: the
   * ClientHello for TLS routers (passthrough forwards `buffered` as is; termination hands it to
   * the TLS layer). `postgres`: the client asked for TLS with Postgres's SSLRequest, already
   * answered `S` (a passthrough server must be asked the same first).
   */
  tcp(
    socket: Socket,
    route: TcpMatch<TcpRoute>,
    buffered: Buffer | null,
    hello: Hello | null,
    postgres?: boolean,
  ): void;
}

export interface DispatcherOptions {
  readonly entryPoint: string;
  readonly snapshots: SnapshotRef;
  readonly ticker: Ticker;
  readonly logger: Logger;
  readonly targets: DispatchTargets;
  /** The most a client may take to send its first bytes (a ClientHello, or anything cleartext). */
  readonly firstBytesTimeoutMs: number;
  /**
   * How long a silent client is waited for before a cleartext ``HostSNI(`*`)`` TCP router serves
   * it as a server-first protocol (SMTP, MySQL, SSH send their banner first). Only used when the
   * entry point also has TLS routers; otherwise such a router gets the connection at once.
   */
  readonly serverFirstTimeoutMs: number;
  /** Always read a ClientHello first (ACME tls-alpn-01 challenges are answered on any entry point). */
  readonly alwaysPeek?: boolean;
  /**
   * The entry point's `allowACMEByPass`: a ClientHello offering `acme-tls/1` is routed like any
   * other (a TCP router may pass it through to a server that answers the challenge itself), the
   * HTTPS side still answering it when no TCP router takes it (Traefik's Router
   * EnableACMETLSPassthrough, pkg/server/router/tcp/router.go).
   */
  readonly acmeBypass?: boolean;
  /**
   * `proxyProtocol` of the entry point: a PROXY protocol header (v1 or v2, optional) is read
   * before anything else; `trusted` says whose headers are believed. Absent = none is read.
   */
  readonly proxyProtocol?: { trusted(ip: string): boolean } | null;
}

const ACME_TLS_ALPN = 'acme-tls/1';
const NO_ALPN: readonly string[] = [];

/**
 * The client a PROXY protocol header declared becomes the socket's peer for everyone after us:
 * own properties shadow net.Socket's getters on this socket only (HTTP, HTTP/2, TCP routing and
 * the access log all read `remoteAddress`), at no cost to connections without a header.
 */
export function declareClient(socket: Socket, address: string, port: number): void {
  Object.defineProperty(socket, 'remoteAddress', { value: address, configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: port, configurable: true });
  Object.defineProperty(socket, 'remoteFamily', {
    value: isIPv6(address) ? 'IPv6' : 'IPv4',
    configurable: true,
  });
}

function httpsNames(hosts: HttpsHosts, serverName: string): boolean {
  if (serverName === '') return false;
  if (hosts.exact.has(serverName)) return true;
  const dot = serverName.indexOf('.');
  if (dot > 0 && hosts.wildcardParents.has(serverName.slice(dot + 1))) return true;
  // Traefik v3.8's `**.suffix` (muxer.DomainMatchHostExpression): one label or more under it.
  const suffixes = hosts.suffixes;
  if (suffixes !== null) {
    for (const s of suffixes) {
      if (
        serverName.length > s.length + 1 &&
        serverName.endsWith(s) &&
        serverName.charCodeAt(serverName.length - s.length - 1) === 46
      )
        return true;
    }
  }
  return false;
}

/**
 * One entry point's connection dispatcher (Traefik's TCP router, pkg/server/router/tcp/router.go).
 * A connection is looked at once, by its first bytes, and handed on:
 *
 * - no HTTPS and no TCP router on the entry point: straight to HTTP, nothing read (today's cost);
 * - only cleartext TCP routers and no TLS ones: the matching one at once, nothing read (Traefik's
 *   fast path, which lets server-first protocols work);
 * - otherwise the first bytes are read (with a timeout). A TLS ClientHello (first byte 0x16) goes,
 *   by its SNI and ALPN, in Traefik's order: an HTTPS router naming that host, a TCP TLS router
 *   other than the catch-all, an HTTPS router without host, the TCP TLS catch-all, the HTTPS
 *   routers (404). Anything else goes to a cleartext TCP router if one matches, else to HTTP.
 *   A client that sends nothing is served by a cleartext ``HostSNI(`*`)`` router after
 *   `serverFirstTimeoutMs` (Traefik closes it after its read timeout instead).
 *
 * It acts once per connection: HTTP keep-alive requests never pass through it again.
 */
export class EntryPointDispatcher {
  readonly opts: DispatcherOptions;
  /** Not a Set: connections come and go all the time (core/slot-list.ts says why). */
  readonly #pending = new SlotList<PendingConnection>();

  constructor(opts: DispatcherOptions) {
    this.opts = opts;
  }

  /** Connections still being looked at. */
  get pending(): number {
    return this.#pending.size;
  }

  accept(socket: Socket): void {
    const routes = this.opts.snapshots.current.tcp.entryPoint(this.opts.entryPoint);
    if (this.opts.proxyProtocol == null) {
      const at = this.atOnce(routes, unwrapIp(socket.remoteAddress));
      if (at !== null) {
        this.deliver(socket, at, null);
        return;
      }
    }
    const p = new PendingConnection(this, socket, routes, this.opts.proxyProtocol ?? null);
    this.#pending.add(p);
    p.start();
  }

  /**
   * Where a connection goes when nothing (more) needs reading: HTTP on an entry point with HTTP
   * routers only, or the matching router on one with cleartext TCP routers only; else null.
   */
  atOnce(routes: EntryPointRoutes, clientIp: string): 'http' | TcpMatch<TcpRoute> | null {
    if (this.opts.alwaysPeek === true) return null;
    if (routes.httpOnly) return 'http';
    if (routes.tcp !== null && routes.tcpTls === null && routes.https === null) {
      return routes.tcp.match({ serverName: '', clientIp, alpn: NO_ALPN }) ?? null;
    }
    return null;
  }

  /**
   * A connection that went to HTTP at once (`atOnce`) but opened with a TLS record: looked at as
   * Traefik's TCP router would have (its ClientHello, with no router for it, goes to the HTTPS
   * side, which handshakes with the default certificate and answers 404). Its bytes were put back
   * and it is paused.
   */
  acceptTls(socket: Socket): void {
    const routes = this.opts.snapshots.current.tcp.entryPoint(this.opts.entryPoint);
    const p = new PendingConnection(this, socket, routes, null);
    this.#pending.add(p);
    p.start();
    socket.resume();
  }

  /** Hands a connection on as `atOnce` said; `buffered`: bytes read past a PROXY header. */
  deliver(socket: Socket, to: 'http' | TcpMatch<TcpRoute>, buffered: Buffer | null): void {
    if (to !== 'http') {
      this.opts.targets.tcp(socket, to, buffered, null);
      return;
    }
    if (buffered !== null) socket.unshift(buffered);
    this.opts.targets.http(socket);
    // Paused by the dispatcher, the socket must flow again for the HTTP side.
    socket.resume();
  }

  /** @internal */
  done(p: PendingConnection): void {
    this.#pending.delete(p);
    this.opts.ticker.delete(p);
  }

  /** Shutdown: connections not handed on yet are dropped. */
  close(): void {
    for (const p of this.#pending.snapshot()) p.socket.destroy();
    this.#pending.clear();
  }
}

/** A connection whose first bytes are being read. */
class PendingConnection implements Timed {
  readonly socket: Socket;
  readonly #d: EntryPointDispatcher;
  readonly #routes: EntryPointRoutes;
  #clientIp: string;
  /** A PROXY protocol header may still come first. */
  #proxy: { trusted(ip: string): boolean } | null;
  deadline = 0;
  tickerSlot = -1;
  listSlot = -1;
  #buf: Buffer | null = null;
  #over = false;
  /** The client's SSLRequest was answered `S`: a ClientHello must follow. */
  #postgres = false;
  readonly #onData = (chunk: Buffer): void => this.#data(chunk);
  readonly #onEnd = (): void => this.#fail();
  readonly #onClose = (): void => this.#fail();

  constructor(
    d: EntryPointDispatcher,
    socket: Socket,
    routes: EntryPointRoutes,
    proxy: { trusted(ip: string): boolean } | null,
  ) {
    this.#d = d;
    this.socket = socket;
    this.#routes = routes;
    this.#clientIp = unwrapIp(socket.remoteAddress);
    this.#proxy = proxy;
  }

  start(): void {
    const o = this.#d.opts;
    const s = this.socket;
    s.on('data', this.#onData);
    s.on('end', this.#onEnd);
    s.on('error', this.#onClose);
    s.on('close', this.#onClose);
    // A cleartext catch-all may be a server-first protocol: wait less for the client to speak.
    const wait =
      this.#routes.tcp !== null
        ? Math.min(o.serverFirstTimeoutMs, o.firstBytesTimeoutMs)
        : o.firstBytesTimeoutMs;
    this.deadline = o.ticker.now + wait;
    o.ticker.add(this);
  }

  onDeadline(): void {
    if (this.#over) return;
    const tcp = this.#routes.tcp;
    if (this.#buf === null && tcp !== null) {
      // Nothing came: a server-first protocol (the client waits for a banner).
      const m = tcp.match(this.#meta('', NO_ALPN));
      if (m !== undefined) {
        this.#handOff();
        this.#d.opts.targets.tcp(this.socket, m, null, null);
        return;
      }
    }
    this.#fail();
  }

  #meta(serverName: string, alpn: readonly string[]): ConnectionMeta {
    return { serverName, clientIp: this.#clientIp, alpn };
  }

  #data(chunk: Buffer): void {
    if (this.#over) return;
    if (this.#buf === null && this.#routes.tcp !== null) {
      // The client speaks after all: the usual wait for the rest of its first message.
      this.deadline = this.#d.opts.ticker.now + this.#d.opts.firstBytesTimeoutMs;
    }
    let buf = this.#buf === null ? chunk : Buffer.concat([this.#buf, chunk]);
    this.#buf = buf;
    if (this.#proxy !== null) {
      const rest = this.#proxyHeader(buf);
      if (rest === undefined) return;
      this.#buf = rest.length === 0 ? null : rest;
      const at = this.#d.atOnce(this.#routes, this.#clientIp);
      if (at !== null) {
        this.#handOff();
        this.#d.deliver(this.socket, at, this.#buf);
        return;
      }
      if (rest.length === 0) return;
      buf = rest;
    }
    const first = buf[0]!;
    const r = this.#routes;
    if (first === 0 && !this.#postgres && (r.tcp === null || r.tcpTls !== null || r.https !== null)) {
      // Postgres asks for TLS in cleartext first (Traefik's isPostgres and servePostgres,
      // pkg/server/router/tcp/postgres.go): its SSLRequest is answered `S`, and the ClientHello
      // that follows is routed among the TLS TCP routers. Not where Traefik's fast path serves
      // cleartext TCP routers without reading (we read there only for ACME tls-alpn-01).
      const n = Math.min(buf.length, POSTGRES_SSL_REQUEST.length);
      if (buf.compare(POSTGRES_SSL_REQUEST, 0, n, 0, n) === 0) {
        if (n < POSTGRES_SSL_REQUEST.length) return;
        this.#postgres = true;
        this.socket.write(POSTGRES_SSL_YES);
        const rest = buf.subarray(POSTGRES_SSL_REQUEST.length);
        this.#buf = rest.length === 0 ? null : rest;
        if (rest.length === 0) {
          this.deadline = this.#d.opts.ticker.now + this.#d.opts.firstBytesTimeoutMs;
          return;
        }
        buf = rest;
      }
    }
    // 0x16: a TLS handshake record; 0x80: an SSLv2-style hello, which the TLS layer then refuses.
    if (first !== 0x16 && first !== 0x80 && !this.#postgres) {
      this.#cleartext(buf);
      return;
    }
    if (this.#postgres && buf[0] !== 0x16 && buf[0] !== 0x80) {
      // Traefik closes a Postgres client that does not go on with TLS.
      this.#fail();
      return;
    }
    const hello = parseClientHello(buf);
    if (hello.kind === 'incomplete') {
      if (buf.length > MAX_CLIENT_HELLO_BYTES) this.#refuseHello(ALERT_INTERNAL_ERROR);
      return;
    }
    if (hello.kind === 'invalid') {
      this.#d.opts.logger.debug('not a TLS ClientHello', {
        entryPoint: this.#d.opts.entryPoint,
        reason: hello.reason,
      });
      this.#refuseHello(hello.alert);
      return;
    }
    if (this.#postgres) this.#postgresTls(buf, hello);
    else this.#tls(buf, hello);
  }

  /**
   * Reads the PROXY protocol header at the start of `buf`, if any: the bytes after it, or
   * undefined (more bytes needed, or the connection was refused). A trusted peer's header gives
   * the connection its client address, for everything after (rules, X-Forwarded-For, access
   * log, allow lists); an untrusted peer's is read and ignored, and a malformed header (from
   * any peer) closes the connection.
   */
  #proxyHeader(buf: Buffer): Buffer | undefined {
    const r = parseProxyHeader(buf);
    switch (r.kind) {
      case 'incomplete':
        return undefined;
      case 'none':
        this.#proxy = null;
        return buf;
      case 'invalid':
        this.#d.opts.logger.debug('malformed PROXY protocol header', {
          entryPoint: this.#d.opts.entryPoint,
          clientIp: this.#clientIp,
          reason: r.reason,
        });
        this.#fail();
        return undefined;
      case 'header': {
        if (!this.#proxy!.trusted(this.#clientIp)) {
          // Traefik's buildProxyProtocolListener (pkg/server/server_entrypoint_tcp.go): the
          // policy for a peer outside trustedIPs is go-proxyproto's IGNORE, which reads the
          // header and drops it; the connection is served with the peer's own address.
          this.#d.opts.logger.debug('PROXY protocol header from an untrusted peer ignored', {
            entryPoint: this.#d.opts.entryPoint,
            clientIp: this.#clientIp,
          });
          this.#proxy = null;
          return buf.subarray(r.length);
        }
        this.#proxy = null;
        if (r.addresses !== null) {
          declareClient(this.socket, r.addresses.sourceAddress, r.addresses.sourcePort);
          this.#clientIp = unwrapIp(r.addresses.sourceAddress);
        }
        return buf.subarray(r.length);
      }
    }
  }

  /**
   * Cleartext bytes: a matching cleartext TCP router, else the HTTP side, even on an entry point
   * that serves only TLS (Traefik's httpForwarder is always set, pkg/server/server_entrypoint_tcp.go
   * SwitchRouter: its HTTP handler then answers 404, or 400 to what is not HTTP).
   */
  #cleartext(buf: Buffer): void {
    const r = this.#routes;
    const t = this.#d.opts.targets;
    if (r.tcp !== null) {
      const m = r.tcp.match(this.#meta('', NO_ALPN));
      if (m !== undefined) {
        this.#handOff();
        t.tcp(this.socket, m, buf, null);
        return;
      }
    }
    this.#handOff();
    this.socket.unshift(buf);
    t.http(this.socket);
    // The HTTP side listens now; paused by us, the socket must flow again for it.
    this.socket.resume();
  }

  #tls(buf: Buffer, hello: Hello): void {
    const r = this.#routes;
    const t = this.#d.opts.targets;
    const alpn = hello.alpn;
    this.#handOff();
    if (alpn.includes(ACME_TLS_ALPN) && this.#d.opts.acmeBypass !== true) {
      t.https(this.socket, buf, hello);
      return;
    }
    const sni = canonicalServerName(hello.serverName);
    const https = r.https;
    if (https !== null && httpsNames(https, sni)) {
      t.https(this.socket, buf, hello);
      return;
    }
    const m = r.tcpTls?.match(this.#meta(sni, alpn));
    if (m !== undefined && !m.catchAll) {
      t.tcp(this.socket, m, buf, hello);
      return;
    }
    if (https?.catchAll === true) {
      t.https(this.socket, buf, hello);
      return;
    }
    if (m !== undefined) {
      t.tcp(this.socket, m, buf, hello);
      return;
    }
    // No router for it: the HTTPS side answers (a 404 over TLS), as Traefik's httpsForwarder does.
    t.https(this.socket, buf, hello);
  }

  /**
   * A Postgres client's ClientHello: only the TLS TCP routers can take it, the catch-all as any
   * other (Traefik's servePostgres); none matching closes the connection.
   */
  #postgresTls(buf: Buffer, hello: Hello): void {
    const m = this.#routes.tcpTls?.match(this.#meta(canonicalServerName(hello.serverName), hello.alpn));
    if (m === undefined) {
      this.#fail();
      return;
    }
    this.#handOff();
    this.#d.opts.targets.tcp(this.socket, m, buf, hello, true);
  }

  /** The connection leaves the dispatcher: our listeners go, the socket stays paused for the next owner. */
  #handOff(): void {
    this.#over = true;
    const s = this.socket;
    s.pause();
    s.off('data', this.#onData);
    s.off('end', this.#onEnd);
    s.off('error', this.#onClose);
    s.off('close', this.#onClose);
    this.#d.done(this);
  }

  #fail(): void {
    if (this.#over) return;
    this.#handOff();
    this.socket.destroy();
  }

  /**
   * A malformed ClientHello: Traefik's peek (clientHelloInfo) lets it through as TLS without a
   * name, and Go's server refuses it with the alert the parser names (0: none, a bare close), in
   * a TLS 1.0 record (no version chosen yet: conn.go writeRecordLocked).
   */
  #refuseHello(alert: number): void {
    // After a Postgres SSLRequest Traefik routes among TCP routers only (servePostgres), none of
    // which takes a nameless hello unless HostSNI(`*`): closed bare, as when nothing matches.
    if (alert === 0 || this.#postgres) {
      this.#fail();
      return;
    }
    if (this.#over) return;
    this.#handOff();
    refuseWithAlert(this.socket, alert, TLS10_RECORD);
  }
}
