import { isIPv6 } from 'node:net';

export interface ThrottleOptions {
  /** Failures a client may make in a row before it is refused (429). */
  readonly burst: number;
  /** One failure is forgiven per this many milliseconds. */
  readonly forgiveMs: number;
  /** Clients remembered at most; beyond, the least recently seen one is forgotten. */
  readonly maxClients: number;
  readonly now: () => number;
}

export const DEFAULT_THROTTLE: Omit<ThrottleOptions, 'now'> = {
  burst: 10,
  forgiveMs: 6_000,
  maxClients: 10_000,
};

interface Entry {
  /** Failures not yet forgiven, as of `at`. */
  level: number;
  at: number;
  /** Failures left out of the log since the last line about this client. */
  unlogged: number;
}

/**
 * Failed admin authentications per client: a leaky bucket each (burst failures, then one more
 * per `forgiveMs`), a refusal while it is full; a try while refused counts as a failure too. State is a bounded Map (least recently seen
 * forgotten first) updated lazily on each failure: no timer, no per-client work between
 * requests, and nothing an attacker can grow past `maxClients` entries. An IPv6 client counts by
 * its /64, which one host can hold whole.
 */
export class AuthThrottle {
  readonly #opts: ThrottleOptions;
  readonly #clients = new Map<string, Entry>();

  constructor(opts: ThrottleOptions) {
    this.#opts = opts;
  }

  /** Milliseconds before this client may try again; 0 when it may now. */
  retryAfterMs(ip: string): number {
    const e = this.#clients.get(clientKey(ip));
    if (e === undefined) return 0;
    const level = this.#level(e);
    const over = level - (this.#opts.burst - 1);
    // Rounded to the millisecond: the level is a float of elapsed time.
    return over <= 0 ? 0 : Math.max(1, Math.round(over * this.#opts.forgiveMs));
  }

  /**
   * Records a failure. `log` is true for the first failure of a run and when the client becomes
   * refused, with how many failures were not logged since: a flood makes a few lines, not one
   * per request.
   */
  fail(ip: string): { readonly blocked: boolean; readonly log: boolean; readonly unlogged: number } {
    const key = clientKey(ip);
    const now = this.#opts.now();
    let e = this.#clients.get(key);
    if (e === undefined) {
      if (this.#clients.size >= this.#opts.maxClients) {
        const oldest = this.#clients.keys().next().value;
        if (oldest !== undefined) this.#clients.delete(oldest);
      }
      e = { level: 0, at: now, unlogged: 0 };
    } else {
      e.level = this.#level(e);
      e.at = now;
      // Most recently seen last: Map iteration order is insertion order.
      this.#clients.delete(key);
    }
    this.#clients.set(key, e);
    const first = e.level < 1;
    // Capped: a client that keeps hammering stays refused, but waits at most burst + 1 periods.
    e.level = Math.min(e.level + 1, 2 * this.#opts.burst);
    const blocked = e.level >= this.#opts.burst;
    const becameBlocked = blocked && e.level - 1 < this.#opts.burst;
    if (first || becameBlocked) {
      const unlogged = e.unlogged;
      e.unlogged = 0;
      return { blocked, log: true, unlogged };
    }
    e.unlogged++;
    return { blocked, log: false, unlogged: e.unlogged };
  }

  /** Clients remembered now (for tests and diagnostics). */
  get size(): number {
    return this.#clients.size;
  }

  #level(e: Entry): number {
    const elapsed = Math.max(0, this.#opts.now() - e.at);
    return Math.max(0, e.level - elapsed / this.#opts.forgiveMs);
  }
}

/** The address a client is counted by: IPv4 as it is, IPv6 by its first 64 bits. */
export function clientKey(ip: string): string {
  const a = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
  if (!isIPv6(a)) return a;
  const [head = '', tail] = a.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
