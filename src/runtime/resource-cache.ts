import { loadModule } from '../core/lazy-module.ts';
import type { Ticker } from '../core/ticker.ts';
import { RuleMemo } from '../router/index.ts';
import type { AlpnPool } from '../upstream/alpn-pool.ts';
import type { H2Pool, H2PoolOptions } from '../upstream/h2-pool.ts';
import { type PoolOptions, UpstreamPool } from '../upstream/pool.ts';
import type { ServerPool } from '../upstream/server-pool.ts';

/**
 * The HTTP/2 client (our engine and node:http2's) is loaded by the first h2c:// or https://
 * server a configuration names, when its pool is created (see core/lazy-module.ts).
 */
const h2Module = (): typeof import('../upstream/h2-pool.ts') =>
  loadModule(import.meta.url, '../upstream/h2-pool.ts');
const alpnModule = (): typeof import('../upstream/alpn-pool.ts') =>
  loadModule(import.meta.url, '../upstream/alpn-pool.ts');

interface Managed {
  /** Called after each swap that uses the object (idempotent): probes start only once live. */
  start?(): void;
  close?(): void;
}

/**
 * Long-lived resources that survive configuration reloads: a server whose URL and transport did
 * not change keeps its pool (and its warm keep-alive connections) across generations; a service
 * whose servers and health settings did not change keeps its health state and probes; a
 * middleware whose configuration did not change keeps its counters (rate-limit buckets, breaker
 * metrics, requests in flight). After a swap, `retain` closes whatever the new generation no
 * longer uses.
 */
export class ResourceCache {
  readonly #pools = new Map<string, ServerPool>();
  readonly #shared = new Map<string, object>();
  /** Server URLs per service as last built, to tell which servers a reload added. */
  readonly #serverUrls = new Map<string, ReadonlySet<string>>();
  readonly #ticker: Ticker;
  /** Who carries HTTP/2 upstream sessions (static `experimental.http2Engine`). */
  readonly #h2Engine: 'node' | 'own';
  /** Compiled router rules, reused by the next build (router/http/rule-memo.ts). */
  readonly rules = new RuleMemo();

  constructor(ticker: Ticker, h2Engine: 'node' | 'own' = 'node') {
    this.#ticker = ticker;
    this.#h2Engine = h2Engine;
  }

  get ticker(): Ticker {
    return this.#ticker;
  }

  /** HTTP/1.1 connections to an `http://` server (or an `https://` one with disableHTTP2). */
  pool(options: PoolOptions): UpstreamPool {
    return this.#get(poolKey(options), () => new UpstreamPool(options, this.#ticker));
  }

  /** HTTP/2 sessions to an `h2c://` server. */
  h2Pool(options: H2PoolOptions): H2Pool {
    return this.#get(
      `h2|${h2PoolKey(options)}`,
      () => new (h2Module().H2Pool)(options, this.#ticker, null, this.#h2Engine),
    );
  }

  /** An `https://` server that may pick h2 or http/1.1 by ALPN. */
  alpnPool(h1: PoolOptions, h2: H2PoolOptions): AlpnPool {
    return this.#get(
      `alpn|${poolKey(h1)}|${h2PoolKey(h2)}`,
      () => new (alpnModule().AlpnPool)(h1, h2, this.#ticker, this.#h2Engine),
    );
  }

  #get<P extends ServerPool>(key: string, create: () => P): P {
    let pool = this.#pools.get(key) as P | undefined;
    if (pool === undefined) {
      pool = create();
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** The object stored under `key`, created on first use. */
  shared<T extends object>(key: string, create: () => T): T {
    let v = this.#shared.get(key) as T | undefined;
    if (v === undefined) {
      v = create();
      this.#shared.set(key, v);
    }
    return v;
  }

  /**
   * Remembers a service's server URLs and returns those of the previous build, or undefined when
   * the service is new (or this is the first configuration).
   */
  swapServerUrls(service: string, urls: ReadonlySet<string>): ReadonlySet<string> | undefined {
    const prev = this.#serverUrls.get(service);
    this.#serverUrls.set(service, urls);
    return prev;
  }

  /**
   * Closes pools and shared objects the new generation does not use (busy connections finish
   * first) and starts those it does.
   */
  retain(used: ReadonlySet<ServerPool>, usedKeys: ReadonlySet<string> = new Set()): number {
    let closed = 0;
    for (const [key, pool] of this.#pools) {
      if (!used.has(pool)) {
        pool.close();
        this.#pools.delete(key);
        closed++;
      }
    }
    for (const [key, obj] of this.#shared) {
      if (usedKeys.has(key)) (obj as Managed).start?.();
      else {
        (obj as Managed).close?.();
        this.#shared.delete(key);
      }
    }
    return closed;
  }

  closeAll(): void {
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
    for (const obj of this.#shared.values()) (obj as Managed).close?.();
    this.#shared.clear();
  }
}

/** `https` servers add their transport's TLS digest: same settings and PEM contents, same pool. */
export function poolKey(o: PoolOptions): string {
  return `${o.host}|${o.port}|${o.maxIdle}|${o.maxConns}|${o.idleTimeoutMs}|${o.connectTimeoutMs}|${o.responseHeaderTimeoutMs}|${o.maxResponseHeaderBytes}|${o.readTimeoutMs ?? 0}|${o.writeTimeoutMs ?? 0}|${o.tls === undefined ? '' : `tls:${o.tls.id}`}|${o.proxyProtocol ?? ''}`;
}

/** HTTP/2 pools also differ by their keepalive settings. */
export function h2PoolKey(o: H2PoolOptions): string {
  return `${o.host}|${o.port}|${o.maxIdle}|${o.maxConns}|${o.idleTimeoutMs}|${o.connectTimeoutMs}|${o.responseHeaderTimeoutMs}|${o.maxResponseHeaderBytes}|${o.readTimeoutMs ?? 0}|${o.writeTimeoutMs ?? 0}|${o.readIdleTimeoutMs}|${o.pingTimeoutMs}|${o.tls === undefined ? '' : `tls:${o.tls.id}`}`;
}
