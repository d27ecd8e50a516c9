import type { Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import { DEFAULT_TLS_NAME } from '../config/dynamic/sections.ts';
import type { Logger } from '../core/logger.ts';
import type { SnapshotRef } from '../runtime/types.ts';
import {
  ALERT_UNRECOGNIZED_NAME,
  type CompiledTlsOptions,
  checkClientCert,
  recordVersionOf,
  refuseClientCert,
  refuseWithAlert,
  SessionTicketKeys,
  type StoredCertificate,
  tlsServerOptions,
} from '../tls/index.ts';

/** ACME tls-alpn-01 challenge certificates by name (the resolver's store). */
export interface AlpnChallenges {
  lookup(name: string): { readonly keyPem: string; readonly certPem: string } | undefined;
}

/** What the TLS front needs of the OCSP stapler (tls/ocsp). */
export interface OcspHook {
  readonly onOcspRequest: (
    certificate: Buffer,
    issuer: Buffer,
    callback: (err: Error | null, resp: Buffer | null) => void,
  ) => void;
}

const ACME_TLS_ALPN = 'acme-tls/1';

/** Why #serverFor has no server: close at once, or send Go's unrecognized_name alert first. */
const CLOSE = 0;
const UNRECOGNIZED_NAME = 1;
type Refusal = typeof CLOSE | typeof UNRECOGNIZED_NAME;

/**
 * A connection's own secure handler, kept on its TCP socket: node's TLS server hands us the
 * TLSSocket it made around it, whose `_parent` is that socket (node has kept this field since
 * its first TLS server; nothing public links the two).
 */
const ON_SECURE = Symbol('traffic.tls.onSecure');
type Tagged = Socket & { [ON_SECURE]?: (socket: TLSSocket) => void };

function destroyOnError(this: Socket): void {
  this.destroy();
}

/**
 * TLS termination for one entry point. Node applies only the certificate of a context chosen in
 * SNICallback (versions, ciphers, client auth and ALPN stay the server's), so the ClientHello is
 * read first (by the entry point's dispatcher), the options set is chosen from its SNI (by the
 * snapshot's TLS router) or given (a TCP router's), and the socket is handed to a non-listening
 * tls.Server made for that set. A new snapshot brings new
 * options objects, hence new servers: certificates and options change without a restart, and
 * connections already open keep the ones they started with.
 */
export class TlsFront {
  readonly #ref: SnapshotRef;
  readonly #logger: Logger;
  readonly #entryPoint: string;
  readonly #onSecure: (socket: TLSSocket) => void;
  readonly #challenges: AlpnChallenges | null;
  readonly #handshakeTimeoutMs: number;
  #servers = new WeakMap<CompiledTlsOptions, Map<StoredCertificate, TlsServer>>();
  /** Connections in their handshake: nobody else tracks them (shutdown must). */
  readonly #pending = new Set<Socket>();
  /**
   * Every reload makes new servers; with node's default (random keys per server) each reload
   * would void every session ticket, and every client would pay a full handshake again. The keys
   * derive from a per-process secret, the options' fingerprint and the rotation period instead
   * (tls/session-tickets): an unchanged policy keeps resuming across reloads, a ticket never
   * resumes under a different policy (one that asks for client certificates, trusts other CAs or
   * allows other versions), which would skip its checks, and keys rotate every period.
   */
  readonly #tickets: SessionTicketKeys;
  /** Node pauses each handshake that asks for a status for an 'OCSPRequest' listener: only with stapling. */
  readonly #ocsp: OcspHook | null;
  #ticketHookMissing = false;

  constructor(opts: {
    ref: SnapshotRef;
    logger: Logger;
    entryPoint: string;
    /** A handshake completed (client certificate checked): serve HTTP on it. */
    onSecure: (socket: TLSSocket) => void;
    challenges: AlpnChallenges | null;
    /** The handshake after the ClientHello (the entry point's readHeaderTimeout). */
    handshakeTimeoutMs: number;
    /** Ticket keys (a fresh secret and the standard period by default). */
    tickets?: SessionTicketKeys;
    /** OCSP stapling (static `ocsp`): the stapler's handshake hook. */
    ocsp?: OcspHook | null;
  }) {
    this.#ref = opts.ref;
    this.#logger = opts.logger;
    this.#entryPoint = opts.entryPoint;
    this.#onSecure = opts.onSecure;
    this.#challenges = opts.challenges;
    this.#handshakeTimeoutMs = opts.handshakeTimeoutMs;
    this.#tickets = opts.tickets ?? new SessionTicketKeys();
    this.#ocsp = opts.ocsp ?? null;
  }

  /**
   * Starts the handshake of a connection whose ClientHello the dispatcher has read (`buffered`,
   * not put back yet), with the options its SNI chooses, or `options` (a TCP router's own).
   * `onSecure` replaces the front's handler for this connection (a TCP router terminating TLS).
   */
  handshake(
    socket: Socket,
    buffered: Buffer,
    hello: { readonly serverName: string | undefined; readonly alpn: readonly string[] },
    options?: string,
    onSecure?: (socket: TLSSocket) => void,
  ): void {
    const server = this.#serverFor(socket, hello.serverName, hello.alpn, options);
    if (server === CLOSE) {
      socket.destroy();
      return;
    }
    if (server === UNRECOGNIZED_NAME) {
      refuseWithAlert(socket, ALERT_UNRECOGNIZED_NAME, recordVersionOf(buffered));
      return;
    }
    if (onSecure !== undefined) (socket as Tagged)[ON_SECURE] = onSecure;
    this.#pending.add(socket);
    socket.once('close', () => this.#pending.delete(socket));
    socket.on('error', destroyOnError);
    socket.unshift(buffered);
    // Half-open during the handshake would hide a client's FIN from the TLS server (no
    // 'secureConnection', no error, no close: a leaked descriptor per such client). It is
    // turned back on once the handshake is done, for HTTP/1.1 half-close.
    socket.allowHalfOpen = false;
    server.emit('connection', socket);
  }

  /** Shutdown: drops the connections still in their handshake (the others are the listener's). */
  close(): void {
    for (const s of this.#pending) s.destroy();
    this.#pending.clear();
  }

  #serverFor(
    socket: Socket,
    sni: string | undefined,
    alpn: readonly string[],
    options: string | undefined,
  ): TlsServer | Refusal {
    if (alpn.includes(ACME_TLS_ALPN)) {
      // Traefik's tlsmanager Get (isACMETLS): a ClientHello offering acme-tls/1 gets a pending
      // challenge's certificate or none, whatever else it offers and whatever the options; none
      // is Go's unrecognized_name alert (tls/alerts.ts).
      const cert = sni === undefined ? undefined : this.#challenges?.lookup(sni);
      if (cert !== undefined) return challengeServer(cert, this.#handshakeTimeoutMs);
      // The default options broken: Traefik's acmeTLSALPNHandler is its brokenTLSRouter then.
      return this.#ref.current.tls?.options.has(DEFAULT_TLS_NAME) === true ? UNRECOGNIZED_NAME : CLOSE;
    }
    const tls = this.#ref.current.tls;
    if (tls === null) return CLOSE;
    const o = tls.options.get(options ?? tls.routerFor(this.#entryPoint).optionsFor(sni));
    // Options that could not be built: Traefik's brokenTLSRouter closes at once, no alert
    // (pkg/server/router/tcp/router.go).
    if (o === undefined) return CLOSE;
    let fallback = tls.store.defaultCertificate;
    if (sni === undefined) {
      const found = tls.store.lookup(undefined, o, socket.localAddress);
      // sniStrict, no SNI: Traefik's GetCertificate has no certificate, Go says unrecognized_name.
      if (found === undefined) return UNRECOGNIZED_NAME;
      fallback = found.certificate;
    }
    let byCert = this.#servers.get(o);
    if (byCert === undefined) {
      byCert = new Map();
      this.#servers.set(o, byCert);
    }
    let server = byCert.get(fallback);
    if (server === undefined) {
      server = createTlsServer({
        ...tlsServerOptions(o, tls.store, fallback),
        allowHalfOpen: false,
        // The rest of the handshake gets readHeaderTimeout too (node's default is 120 s): a
        // client that sends its ClientHello and then stalls is slowloris on TLS. Go's server
        // bounds the whole handshake by its header timeout; here the dispatcher has the
        // ClientHello within it from accept, then the rest within it from the ClientHello.
        handshakeTimeout: this.#handshakeTimeoutMs,
      });
      if (!this.#tickets.install(server, o.fingerprint) && !this.#ticketHookMissing) {
        this.#ticketHookMissing = true;
        this.#logger.warn('session ticket keys cannot rotate on this node version: one key per options set', {
          entryPoint: this.#entryPoint,
        });
      }
      if (this.#ocsp !== null) server.on('OCSPRequest', this.#ocsp.onOcspRequest);
      server.on('secureConnection', (s: TLSSocket) => {
        const raw = (s as { _parent?: Tagged })._parent;
        if (raw !== undefined) {
          this.#pending.delete(raw);
          // A client declared by a PROXY protocol header (own properties on the TCP socket) is
          // the TLS socket's client too.
          if (Object.hasOwn(raw, 'remoteAddress')) {
            for (const k of ['remoteAddress', 'remotePort', 'remoteFamily'] as const) {
              Object.defineProperty(s, k, { value: raw[k], configurable: true });
            }
          }
        }
        s.allowHalfOpen = true;
        const refused = checkClientCert(s, o.clientAuthType);
        if (refused !== undefined) {
          this.#logger.debug('TLS client refused', { entryPoint: this.#entryPoint, reason: refused.reason });
          refuseClientCert(s, refused.alert);
          return;
        }
        (raw?.[ON_SECURE] ?? this.#onSecure)(s);
      });
      server.on('tlsClientError', (err: Error, s: TLSSocket) => {
        // Node only reports a failed or timed-out handshake; the socket would stay open.
        s.destroy();
        this.#logger.debug('TLS handshake failed', { entryPoint: this.#entryPoint, error: err.message });
      });
      byCert.set(fallback, server);
    }
    return server;
  }
}

/**
 * RFC 8737: present the challenge certificate on `acme-tls/1`, then close. Its handshake is
 * bounded like any other (Traefik v3.7.13 gave the TLS-ALPN challenge handshake a timeout):
 * with node's default a client naming a pending challenge and then stalling held the socket
 * 120 s.
 */
function challengeServer(cert: { keyPem: string; certPem: string }, handshakeTimeoutMs: number): TlsServer {
  const server = createTlsServer({
    key: cert.keyPem,
    cert: cert.certPem,
    ALPNProtocols: [ACME_TLS_ALPN],
    minVersion: 'TLSv1.2',
    handshakeTimeout: handshakeTimeoutMs,
  });
  server.on('secureConnection', (s: TLSSocket) => s.end());
  server.on('tlsClientError', (_err: Error, s: TLSSocket) => s.destroy());
  return server;
}
