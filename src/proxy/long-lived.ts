import type { DynamicConfig } from '../config/dynamic/schema.ts';
import type { Ticker, Timed } from '../core/ticker.ts';

/**
 * A request that outlives ordinary ones: a tunnel (WebSocket), or a response still streaming
 * after its head (SSE, a download, a gRPC stream). What a reload needs to know of it.
 */
export interface LongLived {
  /** Qualified names, as in the merged configuration (`r@file`). */
  readonly routerName: string;
  readonly serviceName: string;
  readonly serverUrl: string;
  /** How long it may live on once its route or server is gone (its entry point's graceTimeOut). */
  readonly removalGraceMs: number;
  /** Ends it now, as a broken connection (never a clean end of a response cut short). */
  closeLongLived(): void;
}

/**
 * The long-lived requests of the process, reviewed after each reload. Requests keep the
 * snapshot they started with, so a reload never touches them by itself; this is what closes the
 * ones whose route or server the new configuration removed, once their grace period is over (a
 * reload that brings the route back in time spares them). Requests on routes a reload left in
 * place run through any number of reloads. Caddy, by contrast, closes every WebSocket on reload.
 */
export class LongLivedRegistry implements Timed {
  readonly #ticker: Ticker;
  readonly #items = new Set<LongLived>();
  /** Items condemned by a reload → when they are closed. */
  readonly #doomed = new Map<LongLived, number>();
  deadline = 0;
  tickerSlot = -1;

  constructor(ticker: Ticker) {
    this.#ticker = ticker;
  }

  get size(): number {
    return this.#items.size;
  }

  add(item: LongLived): void {
    this.#items.add(item);
  }

  delete(item: LongLived): void {
    this.#items.delete(item);
    this.#doomed.delete(item);
  }

  /** A new configuration is in force: condemn what it no longer serves, spare what it serves again. */
  review(config: DynamicConfig): void {
    const now = this.#ticker.now;
    for (const item of this.#items) {
      if (stillServed(config, item)) this.#doomed.delete(item);
      else if (!this.#doomed.has(item)) this.#doomed.set(item, now + item.removalGraceMs);
    }
    this.#arm();
  }

  onDeadline(now: number): void {
    for (const [item, at] of this.#doomed) {
      if (at > now) continue;
      this.#doomed.delete(item);
      this.#items.delete(item);
      item.closeLongLived();
    }
    this.#arm();
  }

  #arm(): void {
    let next = 0;
    for (const at of this.#doomed.values()) if (next === 0 || at < next) next = at;
    this.deadline = next;
    if (next !== 0) this.#ticker.add(this);
    else this.#ticker.delete(this);
  }
}

/**
 * Whether `config` still routes what `item` is doing: its router is there, and so is its server
 * in its service. Internal services and names this configuration does not hold (another
 * provider's) are left alone.
 */
function stillServed(config: DynamicConfig, item: LongLived): boolean {
  if (item.serviceName.endsWith('@internal')) return true;
  if (!Object.hasOwn(config.http.routers, item.routerName)) return false;
  const svc = config.http.services[item.serviceName];
  if (svc === undefined) return false;
  const lb = (svc as { loadBalancer?: { servers?: readonly { url: string }[] } }).loadBalancer;
  if (lb?.servers === undefined) return true;
  return lb.servers.some((s) => s.url.replace(/\/$/, '') === item.serverUrl);
}
