/**
 * TCP middlewares (Traefik's pkg/middlewares/tcp): they decide once per connection, before a
 * server is dialled. A refused connection is closed at once, as Traefik closes it.
 */
import { type IpBlock, ipBlockContains, parseIpBlock } from '../../core/ip.ts';

/** What the TCP router needs of a middleware (runtime/types TcpMiddleware has the same shape). */
export interface TcpAdmission {
  admit(clientIp: string): boolean;
  release?(clientIp: string): void;
  readonly refusal: number;
}

/** `ipAllowList.sourceRange`: connections from other addresses are closed. */
export class TcpIpAllowList implements TcpAdmission {
  readonly refusal = 403;
  readonly #blocks: readonly IpBlock[];
  readonly #scratch = new Uint16Array(8);

  constructor(sourceRange: readonly string[]) {
    // The schema checked every entry; an entry that still fails to parse would allow nothing.
    this.#blocks = sourceRange.map(parseIpBlock).filter((b): b is IpBlock => b !== undefined);
  }

  admit(clientIp: string): boolean {
    for (const b of this.#blocks) if (ipBlockContains(b, clientIp, this.#scratch)) return true;
    return false;
  }
}

/**
 * `inFlightConn.amount`: at most that many open connections per client IP (Traefik counts per
 * remote IP). The counts are shared state: kept across reloads that keep the middleware.
 */
export class TcpInFlightConn implements TcpAdmission {
  readonly refusal = 429;
  readonly #amount: number;
  readonly #open = new Map<string, number>();

  constructor(amount: number) {
    this.#amount = amount;
  }

  admit(clientIp: string): boolean {
    const n = this.#open.get(clientIp) ?? 0;
    if (n >= this.#amount) return false;
    this.#open.set(clientIp, n + 1);
    return true;
  }

  release(clientIp: string): void {
    const n = this.#open.get(clientIp) ?? 0;
    if (n <= 1) this.#open.delete(clientIp);
    else this.#open.set(clientIp, n - 1);
  }

  /** Open connections of one client (for tests and the admin API). */
  openFor(clientIp: string): number {
    return this.#open.get(clientIp) ?? 0;
  }
}
