import type { ConnectionOptions } from 'node:tls';
import type { RedisProviderConfig } from '../../config/static/providers.ts';
import { clientTlsOptions, EngineError } from '../engine-client.ts';
import type { KvPair } from '../kv/kv-decode.ts';
import type { KvStore } from '../kv/kv-provider.ts';
import { RespConnection } from './resp.ts';

/**
 * Redis as Traefik's kvtools/redis watches it: keyspace notifications turned on
 * (`CONFIG SET notify-keyspace-events KEA`), `PSUBSCRIBE __keyspace@<db>__:<rootKey>*`, and the
 * whole prefix listed with `SCAN MATCH <rootKey>*` and `MGET` at start and after each
 * notification. The subscription is made before the first listing, so that no change between
 * the two is missed. Either connection closing fails the watch.
 */
export class RedisStore implements KvStore {
  readonly kind = 'redis';
  readonly #cfg: RedisProviderConfig;
  readonly #tls: ConnectionOptions | undefined;
  #endpoint = 0;

  constructor(cfg: RedisProviderConfig) {
    this.#cfg = cfg;
    this.#tls = clientTlsOptions(cfg.tls);
  }

  async *snapshots(prefix: string, signal: AbortSignal): AsyncGenerator<readonly KvPair[]> {
    const endpoint = this.#cfg.endpoints[this.#endpoint % this.#cfg.endpoints.length]!;
    const { host, port } = hostPort(endpoint);
    const conns: RespConnection[] = [];
    try {
      const open = async (): Promise<RespConnection> => {
        const c = await RespConnection.open(host, port, this.#tls, signal);
        conns.push(c);
        if (this.#cfg.password !== undefined) {
          const who = this.#cfg.username === undefined ? [] : [this.#cfg.username];
          await c.command('AUTH', ...who, this.#cfg.password);
        }
        return c;
      };
      const cmd = await open();
      if (this.#cfg.db !== 0) await cmd.command('SELECT', String(this.#cfg.db));
      await cmd.command('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
      const sub = await open();
      let dirty = true;
      let wake: (() => void) | undefined;
      sub.onPush = () => {
        dirty = true;
        wake?.();
      };
      await sub.psubscribe(`__keyspace@${this.#cfg.db}__:${globEscape(prefix)}*`);
      const broken = Promise.race([cmd.closed, sub.closed]);
      while (!signal.aborted) {
        while (dirty) {
          // Notifications during the listing ask for another one: the last listing is current.
          dirty = false;
          yield await list(cmd, prefix);
        }
        const failed = await Promise.race([
          broken,
          new Promise<undefined>((r) => {
            wake = () => r(undefined);
          }),
        ]);
        wake = undefined;
        if (failed !== undefined) throw failed;
      }
    } catch (e) {
      this.#endpoint++;
      throw e;
    } finally {
      for (const c of conns) c.close();
    }
  }
}

async function list(cmd: RespConnection, prefix: string): Promise<KvPair[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const r = await cmd.command('SCAN', cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', '1000');
    if (!Array.isArray(r) || r.length !== 2 || !Array.isArray(r[1]))
      throw new EngineError('redis SCAN: unexpected reply');
    cursor = String(r[0]);
    for (const k of r[1] as unknown[]) if (typeof k === 'string') keys.push(k);
  } while (cursor !== '0');
  const unique = [...new Set(keys)];
  const pairs: KvPair[] = [];
  for (let i = 0; i < unique.length; i += 500) {
    const batch = unique.slice(i, i + 500);
    const values = await cmd.command('MGET', ...batch);
    if (!Array.isArray(values)) throw new EngineError('redis MGET: unexpected reply');
    batch.forEach((key, j) => {
      const v = (values as unknown[])[j];
      // Deleted since the SCAN, or not a string (a hash under the root): not configuration.
      if (typeof v === 'string') pairs.push({ key, value: v });
    });
  }
  return pairs;
}

/** Glob characters in the prefix are meant literally. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

function hostPort(endpoint: string): { host: string; port: number } {
  const m = /^(?:rediss?:\/\/)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(endpoint);
  if (m === null) throw new EngineError(`redis: invalid endpoint ${JSON.stringify(endpoint)} (host:port)`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2] ?? 6379) };
}
