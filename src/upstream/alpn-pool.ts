import type { TLSSocket } from 'node:tls';
import { ProxyError } from '../core/errors.ts';
import type { Ticker } from '../core/ticker.ts';
import { type AlpnFallback, H2Pool, type H2PoolOptions } from './h2-pool.ts';
import type { Waiter } from './h2-seam.ts';
import type { PoolOptions, PoolStats } from './pool.ts';
import { UpstreamPool } from './pool.ts';
import type { ServerPool, StreamStats } from './server-pool.ts';
import type { UpstreamUser } from './stream.ts';

const UNKNOWN = 0;
const HTTP1 = 1;
const HTTP2 = 2;

/**
 * An `https://` server whose transport allows HTTP/2 (Traefik's default, `disableHTTP2: false`):
 * connections offer ALPN `h2, http/1.1` and the server's choice decides. Until a handshake told,
 * requests go to the HTTP/2 pool, whose connection may turn out to be HTTP/1.1: that socket (its
 * handshake done, nothing sent) and the requests waiting on it are handed to the HTTP/1.1 pool,
 * which serves every later request (offering http/1.1 only). A server that picks h2 again on a
 * later connection of the HTTP/2 pool is served by it.
 */
export class AlpnPool implements ServerPool, AlpnFallback {
  readonly h1: UpstreamPool;
  readonly h2: H2Pool;
  #mode = UNKNOWN;

  constructor(h1: PoolOptions, h2: H2PoolOptions, ticker: Ticker, h2Engine: 'node' | 'own' = 'node') {
    this.h1 = new UpstreamPool(h1, ticker);
    this.h2 = new H2Pool(h2, ticker, this, h2Engine);
  }

  /** 'h2', 'http/1.1', or '' until a server's handshake told. */
  get protocol(): string {
    return this.#mode === HTTP2 ? 'h2' : this.#mode === HTTP1 ? 'http/1.1' : '';
  }

  get stats(): PoolStats {
    return this.#mode === HTTP1 ? this.h1.stats : this.h2.stats;
  }

  /** Upgrade requests go over HTTP/1.1 (ALPN http/1.1 only). */
  get upgrades(): UpstreamPool {
    return this.h1;
  }

  get streams(): StreamStats | null {
    return this.#mode === HTTP1 ? null : this.h2.streams;
  }

  acquire(user: UpstreamUser, method: string, fresh?: boolean): void {
    if (this.#mode === HTTP1) this.h1.acquire(user, method, fresh);
    else this.h2.acquire(user, method, fresh);
  }

  cancel(user: UpstreamUser): void {
    this.h1.cancel(user);
    this.h2.cancel(user);
  }

  negotiatedH2(): void {
    this.#mode = HTTP2;
  }

  fallback(socket: TLSSocket, waiters: readonly Waiter[]): void {
    this.#mode = HTTP1;
    let first = true;
    for (const w of waiters) {
      if (w.replay !== null) {
        // A refused HTTP/2 stream cannot move to HTTP/1.1: it fails as unprocessed.
        w.replay.replayFailed(
          new ProxyError('UPSTREAM_RESET', 'upstream refused the stream (not processed)'),
        );
        continue;
      }
      if (first) {
        first = false;
        this.h1.adopt(socket, w.user, w.method);
      } else this.h1.acquire(w.user, w.method);
    }
    if (first) socket.destroy();
  }

  close(): void {
    this.h1.close();
    this.h2.close();
  }
}
