import { createServer, type Server, type Socket } from 'node:net';
import { SlotList } from '../core/slot-list.ts';
import { defaultHttp2Settings, Http2Glue, type Http2Settings, OwnHttp2Glue } from '../http2/index.ts';
import type { EntryPointContext } from '../proxy/entry-point-context.ts';
import { type ConnectionOwner, Http1Connection } from './http1-connection.ts';

/**
 * How a connection speaks: `h1` HTTP/1.1 only (TLS without ALPN `h2`), `h2` HTTP/2 from the first
 * byte (TLS with ALPN `h2`), `detect` HTTP/1.1 unless it opens with the HTTP/2 preface (cleartext:
 * h2c with prior knowledge, served by default as Traefik does).
 */
export type ConnectionProtocol = 'h1' | 'h2' | 'detect';

/** Which HTTP/2 server serves the entry point's clients (static `experimental.http2Engine`). */
export type Http2Engine = 'node' | 'own';

/**
 * One HTTP entry point: a plain TCP server whose connections speak our HTTP/1.1 codec, or
 * HTTP/2 through node:http2 into the same pipeline. The listening socket lives as long as the
 * entry point; configuration reloads never touch it.
 */
export class HttpListener implements ConnectionOwner {
  readonly ctx: EntryPointContext;
  readonly #server: Server;
  /** Not a Set: connections come and go all the time (core/slot-list.ts says why). */
  readonly #conns = new SlotList<Http1Connection>();
  readonly #h2: Http2Glue | OwnHttp2Glue;
  #drained: (() => void) | null = null;
  /** A TLS entry point's front (handshake first, then `handle` with the decrypted socket). */
  #front: ((socket: Socket) => void) | null = null;

  setFront(front: (socket: Socket) => void): void {
    this.#front = front;
  }

  /** See ConnectionOwner.switchToTls: the entry point's TLS side, given the socket unread. */
  switchToTls: ((conn: Http1Connection, socket: Socket) => void) | null = null;

  /** `tls`: serves a socket whose first bytes (put back) are a TLS record. */
  setTlsFallback(tls: (socket: Socket) => void): void {
    this.switchToTls = (conn, socket) => {
      // The TLS side counts the connection again once it is decrypted.
      if (this.#conns.delete(conn)) this.#connectionGone();
      tls(socket);
    };
  }

  constructor(ctx: EntryPointContext, http2: Partial<Http2Settings> = {}, engine: Http2Engine = 'own') {
    this.ctx = ctx;
    const h2settings = { ...defaultHttp2Settings(ctx.limits), ...http2 };
    const gone = (): void => this.#connectionGone();
    this.#h2 =
      engine === 'own' ? new OwnHttp2Glue(ctx, h2settings, gone) : new Http2Glue(ctx, h2settings, gone);
    // allowHalfOpen: a client may send its request then FIN, and still read the response.
    // Connection caps (overload/entry-point-gate.ts) apply at accept, before TLS or a byte read.
    const gate = ctx.overload;
    const perClient = gate.perClient;
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => {
      if (perClient && !gate.admitConnection(socket)) return;
      if (this.#front !== null) this.#front(socket);
      else this.handle(socket, 'detect');
    });
    gate.attach(this.#server);
    this.#server.on('error', (err) =>
      ctx.logger.error('listener error', { entryPoint: ctx.name, error: err }),
    );
  }

  /**
   * Serves one accepted connection. The TLS layer calls this with the decrypted socket once the
   * handshake is done: `'h2'` when ALPN chose h2, else `'h1'`.
   */
  handle(socket: Socket, protocol: ConnectionProtocol): void {
    if (this.ctx.draining) {
      socket.destroy();
      return;
    }
    this.ctx.metrics?.connectionOpened();
    if (protocol === 'h2') {
      this.#h2.attach(socket);
      return;
    }
    this.#conns.add(new Http1Connection(socket, this.ctx, this, protocol === 'detect'));
  }

  // ---- ConnectionOwner

  connectionClosed(conn: Http1Connection): void {
    if (this.#conns.delete(conn)) this.#connectionGone();
  }

  switchToHttp2(conn: Http1Connection, socket: Socket): void {
    this.#conns.delete(conn);
    this.#h2.attach(socket);
  }

  #connectionGone(): void {
    this.ctx.metrics?.connectionClosed();
    if (this.connections === 0 && this.#drained !== null) this.#drained();
  }

  /**
   * `reusePort`: a data-plane worker binds its own socket on the shared port (SO_REUSEPORT; the
   * kernel spreads new connections over the workers' sockets), never the cluster's shared handle
   * (`exclusive`), which would make the primary accept every connection.
   */
  listen(host: string, port: number, reusePort = false): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#server.once('error', onError);
      const shared = reusePort ? { reusePort: true, exclusive: true } : {};
      this.#server.listen({ host: host === '' ? undefined : host, port, backlog: 4096, ...shared }, () => {
        this.#server.off('error', onError);
        const a = this.#server.address();
        if (a === null || typeof a === 'string') reject(new Error('listener has no address'));
        else resolve({ address: a.address, port: a.port });
      });
    });
  }

  /** Open client connections, HTTP/1.1 and HTTP/2. */
  get connections(): number {
    return this.#conns.size + this.#h2.sessions;
  }

  /**
   * Graceful shutdown: stop accepting, close idle keep-alive connections now, send GOAWAY on
   * HTTP/2 sessions, let in-flight exchanges finish (their responses carry Connection: close),
   * and destroy whatever is left when the grace period ends.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.ctx.draining = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const c of this.#conns.snapshot()) c.closeIfIdle();
    this.#h2.closeAll();
    if (this.connections > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const c of this.#conns.snapshot()) c.socket.destroy();
    this.#h2.destroyAll();
    await closed;
  }
}
