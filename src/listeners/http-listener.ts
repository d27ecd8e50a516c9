import { createServer, type Server, type Socket } from 'node:net';
import type { EntryPointContext } from '../proxy/entry-point-context.ts';
import { Http1Connection } from './http1-connection.ts';

/**
 * One HTTP entry point: a plain TCP server whose connections speak our HTTP/1.1 codec. The
 * listening socket lives as long as the entry point; configuration reloads never touch it.
 */
export class HttpListener {
  readonly ctx: EntryPointContext;
  readonly #server: Server;
  readonly #conns = new Set<Http1Connection>();
  #drained: (() => void) | null = null;

  constructor(ctx: EntryPointContext) {
    this.ctx = ctx;
    // allowHalfOpen: a client may send its request then FIN, and still read the response.
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) =>
      this.#accept(socket),
    );
    this.#server.on('error', (err) =>
      ctx.logger.error('listener error', { entryPoint: ctx.name, error: err }),
    );
  }

  #accept(socket: Socket): void {
    if (this.ctx.draining) {
      socket.destroy();
      return;
    }
    const conn = new Http1Connection(socket, this.ctx, (c) => this.#onClosed(c));
    this.#conns.add(conn);
    this.ctx.metrics?.connectionOpened();
  }

  #onClosed(conn: Http1Connection): void {
    if (this.#conns.delete(conn)) this.ctx.metrics?.connectionClosed();
    if (this.#conns.size === 0 && this.#drained !== null) this.#drained();
  }

  listen(host: string, port: number): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#server.once('error', onError);
      this.#server.listen({ host: host === '' ? undefined : host, port, backlog: 4096 }, () => {
        this.#server.off('error', onError);
        const a = this.#server.address();
        if (a === null || typeof a === 'string') reject(new Error('listener has no address'));
        else resolve({ address: a.address, port: a.port });
      });
    });
  }

  get connections(): number {
    return this.#conns.size;
  }

  /**
   * Graceful shutdown: stop accepting, close idle keep-alive connections now, let in-flight
   * exchanges finish (their responses carry Connection: close), and destroy whatever is left
   * when the grace period ends.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.ctx.draining = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const c of this.#conns) c.closeIfIdle();
    if (this.#conns.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const c of this.#conns) c.socket.destroy();
    await closed;
  }
}
