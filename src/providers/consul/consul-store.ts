import type { ConnectionOptions } from 'node:tls';
import type { ConsulProviderConfig } from '../../config/static/providers.ts';
import { clientTlsOptions, EngineError, engineFetch } from '../engine-client.ts';
import type { KvPair } from '../kv/kv-decode.ts';
import type { KvStore } from '../kv/kv-provider.ts';

interface ConsulEntry {
  readonly Key?: string;
  readonly Value?: string | null;
}

/** How long one blocking query may wait (Consul caps `wait` at 10 minutes; its default is 5). */
const WAIT = '5m';

/**
 * Consul's KV store as Traefik's kvtools/consul watches it: `GET /v1/kv/<rootKey>?recurse`, then
 * blocking queries with `index` = the last `X-Consul-Index`, which answer when something under
 * the prefix changed or the wait ran out (same index: nothing changed). An index that goes
 * backwards (the store was restored) starts over from 0, as Consul's documentation says.
 */
export class ConsulStore implements KvStore {
  readonly kind = 'consul';
  readonly #cfg: ConsulProviderConfig;
  readonly #tls: ConnectionOptions | undefined;
  #endpoint = 0;

  constructor(cfg: ConsulProviderConfig) {
    this.#cfg = cfg;
    this.#tls = clientTlsOptions(cfg.tls);
  }

  async *snapshots(prefix: string, signal: AbortSignal): AsyncGenerator<readonly KvPair[]> {
    const e = this.#cfg.endpoints[this.#endpoint % this.#cfg.endpoints.length]!;
    const base = /^https?:\/\//i.test(e)
      ? e.replace(/\/+$/, '')
      : `${this.#cfg.tls !== undefined ? 'https' : 'http'}://${e}`;
    const headers: Record<string, string> =
      this.#cfg.token === undefined ? {} : { 'x-consul-token': this.#cfg.token };
    let index = 0;
    let first = true;
    try {
      while (!signal.aborted) {
        const query = index === 0 ? 'recurse=true' : `recurse=true&index=${index}&wait=${WAIT}`;
        const { res, body } = await engineFetch(
          {
            url: `${base}/v1/kv/${encodeURI(prefix)}?${query}`,
            headers,
            signal,
            ...(this.#tls !== undefined ? { tls: this.#tls } : {}),
          },
          [200, 404],
        );
        const next = Number(res.headers['x-consul-index']);
        if (!Number.isInteger(next) || next < 0)
          throw new EngineError(`consul ${base}: no X-Consul-Index in the answer`);
        if (first || next !== index) {
          first = false;
          const entries = res.statusCode === 404 ? [] : (JSON.parse(body.toString('utf8')) as ConsulEntry[]);
          yield entries
            .filter((x) => typeof x.Key === 'string')
            .map((x) => ({
              key: x.Key!,
              value: x.Value == null ? '' : Buffer.from(x.Value, 'base64').toString('utf8'),
            }));
        }
        index = next < index ? 0 : next;
      }
    } catch (err) {
      this.#endpoint++;
      throw err;
    }
  }
}
