import type { Ticker } from '../core/ticker.ts';
import { type PoolOptions, UpstreamPool } from '../upstream/pool.ts';

/**
 * Long-lived resources that survive configuration reloads: a server whose URL and transport did
 * not change keeps its pool (and its warm keep-alive connections) across generations. After a
 * swap, `retain` closes whatever the new generation no longer uses.
 */
export class ResourceCache {
  readonly #pools = new Map<string, UpstreamPool>();
  readonly #ticker: Ticker;

  constructor(ticker: Ticker) {
    this.#ticker = ticker;
  }

  pool(options: PoolOptions): UpstreamPool {
    const key = poolKey(options);
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new UpstreamPool(options, this.#ticker);
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** Closes pools not in `used` (busy connections finish their response first). */
  retain(used: ReadonlySet<UpstreamPool>): number {
    let closed = 0;
    for (const [key, pool] of this.#pools) {
      if (!used.has(pool)) {
        pool.close();
        this.#pools.delete(key);
        closed++;
      }
    }
    return closed;
  }

  closeAll(): void {
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
  }
}

function poolKey(o: PoolOptions): string {
  return `${o.host}|${o.port}|${o.maxIdle}|${o.maxConns}|${o.idleTimeoutMs}|${o.connectTimeoutMs}|${o.responseHeaderTimeoutMs}|${o.maxResponseHeaderBytes}`;
}
