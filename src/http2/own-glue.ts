import type { Socket } from 'node:net';
import { SlotList } from '../core/slot-list.ts';
import type { EntryPointContext } from '../proxy/entry-point-context.ts';
import { OwnConnection } from './own-connection.ts';
import type { Http2Settings } from './settings.ts';

/**
 * The HTTP/2 side of an entry point with the `own` engine (static `experimental.http2Engine`):
 * each connection is an OwnConnection on the raw socket, no node:http2. Same contract as
 * Http2Glue: `attach` takes a socket that speaks HTTP/2 from its first byte (h2c bytes already
 * read put back first, or TLS after ALPN h2).
 */
export class OwnHttp2Glue {
  readonly #ctx: EntryPointContext;
  readonly #settings: Http2Settings;
  readonly #onSessionClosed: () => void;
  /** Not a Set: connections come and go all the time (core/slot-list.ts says why). */
  readonly #conns = new SlotList<OwnConnection>();
  readonly #closed = (c: OwnConnection): void => {
    if (this.#conns.delete(c)) this.#onSessionClosed();
  };

  constructor(ctx: EntryPointContext, settings: Http2Settings, onSessionClosed: () => void) {
    this.#ctx = ctx;
    this.#settings = settings;
    this.#onSessionClosed = onSessionClosed;
  }

  get sessions(): number {
    return this.#conns.size;
  }

  attach(socket: Socket): void {
    // As Http2Glue: HTTP/2 has no half-closed connection, a client's FIN ends it.
    socket.allowHalfOpen = false;
    const c = new OwnConnection(socket, this.#ctx, this.#settings, this.#closed);
    this.#conns.add(c);
    if (socket.destroyed) {
      c.onSocketClose();
      return;
    }
    c.start();
  }

  closeAll(): void {
    for (const c of this.#conns.snapshot()) c.close();
  }

  destroyAll(): void {
    for (const c of this.#conns.snapshot()) c.destroy();
  }
}
