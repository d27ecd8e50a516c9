/**
 * Redis as a shared store: GET, SET, DEL, SCAN + MGET for a prefix, and two small Lua scripts
 * for compare-and-swap and compare-and-delete (a script runs atomically in Redis). One
 * connection (the RESP client of the Redis provider), opened on first use and again after it
 * broke, the next endpoint first.
 */
import type { AcmeStoreTls } from '../config/index.ts';
import { RespConnection, type RespValue } from '../providers/redis/resp.ts';
import type { SharedStore } from '../tls/acme/shared-store.ts';
import { StoreError, withTimeout } from './store-error.ts';
import { StoreTls } from './store-tls.ts';

export interface RedisKvOptions {
  readonly endpoints: readonly string[];
  readonly prefix: string;
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
  /** TLS to redis-server's `tls-port` (a client certificate when it has `tls-auth-clients`). */
  readonly tls?: AcmeStoreTls;
  readonly timeoutMs?: number;
}

const CAS = `local v = redis.call('GET', KEYS[1])
if (ARGV[1] == '0' and v == false) or (ARGV[1] == '1' and v == ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[3]) return 1 end
return 0`;
const CAD = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0`;

export class RedisKv implements SharedStore {
  readonly description: string;
  readonly prefix: string;
  readonly #o: RedisKvOptions;
  readonly #tls: StoreTls;
  #conn: Promise<RespConnection> | undefined;
  #endpoint = 0;
  #closed = new AbortController();

  constructor(o: RedisKvOptions) {
    this.#o = o;
    this.prefix = o.prefix;
    this.description = `redis://${o.endpoints.join(',')}/${o.prefix}${o.db === 0 ? '' : `?db=${o.db}`}`;
    this.#tls = new StoreTls(this.description, o.tls);
  }

  async get(key: string): Promise<string | undefined> {
    const v = await this.#command('GET', key);
    return typeof v === 'string' ? v : undefined;
  }

  async list(prefix: string): Promise<ReadonlyMap<string, string>> {
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const r = await this.#command('SCAN', cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', '1000');
      if (!Array.isArray(r) || typeof r[0] !== 'string' || !Array.isArray(r[1]))
        throw new StoreError(`${this.description}: unexpected SCAN reply`);
      cursor = r[0];
      for (const k of r[1] as RespValue[]) if (typeof k === 'string') keys.add(k);
    } while (cursor !== '0');
    const out = new Map<string, string>();
    if (keys.size === 0) return out;
    const names = [...keys];
    const values = await this.#command('MGET', ...names);
    if (!Array.isArray(values)) throw new StoreError(`${this.description}: unexpected MGET reply`);
    names.forEach((k, i) => {
      const v = (values as RespValue[])[i];
      if (typeof v === 'string') out.set(k, v);
    });
    return out;
  }

  async put(key: string, value: string): Promise<void> {
    await this.#command('SET', key, value);
  }

  async delete(key: string): Promise<void> {
    await this.#command('DEL', key);
  }

  async compareAndSwap(key: string, expected: string | undefined, value: string): Promise<boolean> {
    const r = await this.#command(
      'EVAL',
      CAS,
      '1',
      key,
      expected === undefined ? '0' : '1',
      expected ?? '',
      value,
    );
    return r === 1;
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    return (await this.#command('EVAL', CAD, '1', key, expected)) === 1;
  }

  close(): void {
    this.#closed.abort();
  }

  async #command(...args: string[]): Promise<RespValue> {
    let conn: RespConnection;
    try {
      conn = await this.#connection();
    } catch (e) {
      throw new StoreError(`${this.description}: ${(e as Error).message}`, { cause: e });
    }
    try {
      return await withTimeout(this.#o.timeoutMs, (signal) =>
        Promise.race([
          conn.command(...args),
          new Promise<never>((_, reject) =>
            signal.addEventListener('abort', () => reject(new Error('no reply in time')), { once: true }),
          ),
        ]),
      );
    } catch (e) {
      // A timed-out reply would answer the next command: this connection is done.
      if (!(e instanceof Error && /^redis \w+: /.test(e.message))) this.#drop(conn);
      throw new StoreError(`${this.description}: ${args[0]}: ${(e as Error).message}`, { cause: e });
    }
  }

  #drop(conn: RespConnection): void {
    conn.close();
    this.#conn = undefined;
  }

  #connection(): Promise<RespConnection> {
    if (this.#conn !== undefined) return this.#conn;
    const ep = this.#o.endpoints[this.#endpoint % this.#o.endpoints.length]!;
    const colon = ep.lastIndexOf(':');
    const host = ep.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(ep.slice(colon + 1));
    const opening = (async () => {
      const tls = this.#tls.options();
      // The signal given to open closes the connection when it aborts: the store's close, or
      // the connect timeout (cleared once connected).
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), this.#o.timeoutMs ?? 5_000);
      this.#closed.signal.addEventListener('abort', () => ac.abort(), { once: true });
      const conn = await RespConnection.open(host, port, tls, ac.signal).finally(() => clearTimeout(timer));
      conn.closed
        .then(() => {
          if (this.#conn === opening) this.#conn = undefined;
        })
        .catch(() => {});
      if (this.#o.password !== undefined)
        await conn.command(
          ...(this.#o.username === undefined
            ? ['AUTH', this.#o.password]
            : ['AUTH', this.#o.username, this.#o.password]),
        );
      if (this.#o.db !== 0) await conn.command('SELECT', String(this.#o.db));
      return conn;
    })();
    this.#conn = opening;
    opening.catch(() => {
      if (this.#conn === opening) this.#conn = undefined;
      this.#endpoint++;
    });
    return opening;
  }
}

const globEscape = (s: string): string => s.replace(/[*?[\]\\]/g, '\\$&');
