import type { Http2Server, ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { EntryPointContext } from '../proxy/entry-point-context.ts';
import { H2Session } from './session.ts';
import type { Http2Settings } from './settings.ts';

type Http2Module = typeof import('node:http2');

/**
 * The HTTP/2 side of an entry point. `attach(socket)` takes a connection that speaks HTTP/2 from
 * its first byte: a cleartext one that opened with the connection preface (h2c with prior
 * knowledge; bytes already read are `unshift`ed back first), or a TLS one whose ALPN chose `h2`.
 * nghttp2 (node:http2) does the framing, HPACK, flow control and the protocol checks; each
 * stream becomes an `Exchange` of the same pipeline as HTTP/1.1.
 *
 * node:http2 costs ~13 MB of resident memory once loaded, so it is imported on the first HTTP/2
 * connection, not at start: an entry point nobody speaks HTTP/2 to never pays for it.
 */
export class Http2Glue {
  readonly #ctx: EntryPointContext;
  readonly #settings: Http2Settings;
  readonly #onSessionClosed: () => void;
  readonly #sessions = new Set<H2Session>();
  #server: Http2Server | null = null;
  #loading = false;
  #waiting: Socket[] = [];

  constructor(ctx: EntryPointContext, settings: Http2Settings, onSessionClosed: () => void) {
    this.#ctx = ctx;
    this.#settings = settings;
    this.#onSessionClosed = onSessionClosed;
  }

  /** Open HTTP/2 connections. */
  get sessions(): number {
    return this.#sessions.size + this.#waiting.length;
  }

  attach(socket: Socket): void {
    // HTTP/2 has no half-closed connection: a client's FIN ends it. Left half-open (the entry
    // point's sockets are, for HTTP/1.1), a session whose client vanished while its streams
    // were flow-controlled would never write again, never see an error, and hold its upstream
    // connections forever.
    socket.allowHalfOpen = false;
    if (this.#server !== null) {
      this.#server.emit('connection', socket);
      return;
    }
    // Until the module is there, bytes stay in the socket's buffer; the session reads them first.
    socket.pause();
    this.#waiting.push(socket);
    if (this.#loading) return;
    this.#loading = true;
    import('node:http2').then(
      (mod) => this.#loaded(mod),
      (err: unknown) => {
        this.#ctx.logger.error('cannot load node:http2', { error: String(err) });
        for (const s of this.#waiting) s.destroy();
        this.#waiting = [];
        this.#loading = false;
      },
    );
  }

  #loaded(mod: Http2Module): void {
    const s = this.#settings;
    const server = mod.createServer({
      settings: {
        maxConcurrentStreams: s.maxConcurrentStreams,
        headerTableSize: s.headerTableSize,
        initialWindowSize: s.initialWindowSize,
        maxHeaderListSize: s.maxHeaderListSize,
        enablePush: false,
        // RFC 8441: WebSocket over HTTP/2 (browsers use it when the site is on h2).
        enableConnectProtocol: true,
      },
      maxHeaderListPairs: s.maxHeaderListPairs,
      maxSessionMemory: s.maxSessionMemoryMb,
      maxSessionRejectedStreams: s.maxRejectedStreams,
      maxSessionInvalidFrames: s.maxInvalidFrames,
    });
    server.on('session', (session: ServerHttp2Session) => this.#onSession(session));
    this.#server = server;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const socket of waiting) {
      if (socket.destroyed) {
        this.#onSessionClosed();
        continue;
      }
      server.emit('connection', socket);
    }
  }

  #onSession(session: ServerHttp2Session): void {
    const h = new H2Session(session, this.#ctx, this.#settings, (x) => this.#closed(x));
    this.#sessions.add(h);
  }

  #closed(h: H2Session): void {
    if (this.#sessions.delete(h)) this.#onSessionClosed();
  }

  /** Graceful shutdown: GOAWAY to every session; open streams finish. */
  closeAll(): void {
    for (const h of this.#sessions) h.close();
  }

  destroyAll(): void {
    for (const h of this.#sessions) h.destroy();
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const s of waiting) {
      s.destroy();
      this.#onSessionClosed();
    }
  }
}
