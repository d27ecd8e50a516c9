import type { Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import type { Logger } from '../core/logger.ts';
import type { SnapshotRef } from '../runtime/types.ts';
import {
  type CompiledTlsOptions,
  checkClientCert,
  MAX_CLIENT_HELLO_BYTES,
  parseClientHello,
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

/**
 * TLS termination for one entry point. Node applies only the certificate of a context chosen in
 * SNICallback (versions, ciphers, client auth and ALPN stay the server's), so the ClientHello is
 * read first, the options set is chosen from its SNI (by the snapshot's TLS router), and the
 * socket is handed to a non-listening tls.Server made for that set. A new snapshot brings new
 * options objects, hence new servers: certificates and options change without a restart, and
 * connections already open keep the ones they started with.
 */
export class TlsFront {
  readonly #ref: SnapshotRef;
  readonly #logger: Logger;
  readonly #entryPoint: string;
  readonly #onSecure: (socket: TLSSocket) => void;
  readonly #challenges: AlpnChallenges | null;
  readonly #helloTimeoutMs: number;
  #servers = new WeakMap<CompiledTlsOptions, Map<StoredCertificate, TlsServer>>();
  /** Connections not through their handshake yet: nobody else tracks them (shutdown must). */
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
    helloTimeoutMs: number;
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
    this.#helloTimeoutMs = opts.helloTimeoutMs;
    this.#tickets = opts.tickets ?? new SessionTicketKeys();
    this.#ocsp = opts.ocsp ?? null;
  }

  /** Takes a fresh TCP connection: reads its ClientHello, then starts the right handshake. */
  accept(socket: Socket): void {
    let buf: Buffer | null = null;
    const timer = setTimeout(() => socket.destroy(), this.#helloTimeoutMs);
    timer.unref();
    this.#pending.add(socket);
    // A client that hangs up before its ClientHello is done: nothing more can come.
    const onEnd = (): void => {
      socket.destroy();
    };
    socket.once('end', onEnd);
    const onData = (chunk: Buffer): void => {
      buf = buf === null ? chunk : Buffer.concat([buf, chunk]);
      const hello = parseClientHello(buf);
      if (hello.kind === 'incomplete') {
        if (buf.length > MAX_CLIENT_HELLO_BYTES) {
          clearTimeout(timer);
          socket.destroy();
        }
        return;
      }
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      if (hello.kind === 'invalid') {
        // Plain HTTP on a TLS port gets a readable answer, as Go's and nginx's servers give.
        if (hello.plaintextHttp) {
          socket.end(
            'HTTP/1.0 400 Bad Request\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n',
          );
        } else socket.destroy();
        return;
      }
      const server = this.#serverFor(socket, hello.serverName, hello.alpn);
      if (server === undefined) {
        socket.destroy();
        return;
      }
      socket.unshift(buf);
      // Half-open during the handshake would hide a client's FIN from the TLS server (no
      // 'secureConnection', no error, no close: a leaked descriptor per such client). It is
      // turned back on once the handshake is done, for HTTP/1.1 half-close.
      socket.allowHalfOpen = false;
      server.emit('connection', socket);
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      clearTimeout(timer);
      this.#pending.delete(socket);
    });
  }

  /** Shutdown: drops the connections still in their handshake (the others are the listener's). */
  close(): void {
    for (const s of this.#pending) s.destroy();
    this.#pending.clear();
  }

  #serverFor(socket: Socket, sni: string | undefined, alpn: readonly string[]): TlsServer | undefined {
    if (this.#challenges !== null && sni !== undefined && alpn.includes(ACME_TLS_ALPN)) {
      const cert = this.#challenges.lookup(sni);
      if (cert !== undefined) return challengeServer(cert);
    }
    const tls = this.#ref.current.tls;
    if (tls === null) return undefined;
    const o = tls.options.get(tls.router.optionsFor(sni));
    if (o === undefined) return undefined;
    let fallback = tls.store.defaultCertificate;
    if (sni === undefined) {
      const found = tls.store.lookup(undefined, o, socket.localAddress);
      if (found === undefined) return undefined; // sniStrict: no SNI, no certificate
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
        // bounds the whole handshake by its header timeout; here it is the ClientHello within
        // it from accept, then the rest within it from the ClientHello.
        handshakeTimeout: this.#helloTimeoutMs,
      });
      if (!this.#tickets.install(server, o.fingerprint) && !this.#ticketHookMissing) {
        this.#ticketHookMissing = true;
        this.#logger.warn('session ticket keys cannot rotate on this node version: one key per options set', {
          entryPoint: this.#entryPoint,
        });
      }
      if (this.#ocsp !== null) server.on('OCSPRequest', this.#ocsp.onOcspRequest);
      server.on('secureConnection', (s: TLSSocket) => {
        s.allowHalfOpen = true;
        const reason = checkClientCert(s, o.clientAuthType);
        if (reason !== undefined) {
          this.#logger.debug('TLS client refused', { entryPoint: this.#entryPoint, reason });
          s.destroy();
          return;
        }
        this.#onSecure(s);
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

/** RFC 8737: present the challenge certificate on `acme-tls/1`, then close. */
function challengeServer(cert: { keyPem: string; certPem: string }): TlsServer {
  const server = createTlsServer({
    key: cert.keyPem,
    cert: cert.certPem,
    ALPNProtocols: [ACME_TLS_ALPN],
    minVersion: 'TLSv1.2',
  });
  server.on('secureConnection', (s: TLSSocket) => s.end());
  server.on('tlsClientError', (_err: Error, s: TLSSocket) => s.destroy());
  return server;
}
