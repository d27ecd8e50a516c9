import { ProxyError } from '../core/errors.ts';
import type { PoolStats } from './pool.ts';
import type { ServerPool } from './server-pool.ts';
import type { UpstreamUser } from './stream.ts';

/**
 * The pool of a server whose URL no request can be sent to (config/dynamic/server-url.ts): it
 * opens nothing and fails every request before a byte is written, with Go's transport error as
 * Traefik gives it (`SERVER_URL_UNUSABLE`, 500). Asynchronously, as a connection attempt would.
 */
export class UnusablePool implements ServerPool {
  readonly stats: PoolStats = {
    idle: 0,
    busy: 0,
    connecting: 0,
    opened: 0,
    closed: 0,
    reused: 0,
    waiting: 0,
  };
  readonly streams = null;
  readonly #reason: string;
  readonly #waiting = new Set<UpstreamUser>();

  constructor(reason: string) {
    this.#reason = reason;
  }

  acquire(user: UpstreamUser): void {
    this.#waiting.add(user);
    queueMicrotask(() => {
      if (!this.#waiting.delete(user)) return;
      user.onUpstreamError(new ProxyError('SERVER_URL_UNUSABLE', this.#reason), 'connect', false);
    });
  }

  cancel(user: UpstreamUser): void {
    this.#waiting.delete(user);
  }

  close(): void {
    this.#waiting.clear();
  }
}
