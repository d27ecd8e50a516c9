import type { ConnectionOptions } from 'node:tls';
import type { EtcdProviderConfig } from '../../config/static/providers.ts';
import { clientTlsOptions, EngineError, engineFetch, engineRequest, lines } from '../engine-client.ts';
import type { KvPair } from '../kv/kv-decode.ts';
import type { KvStore } from '../kv/kv-provider.ts';

interface RangeResponse {
  readonly header?: { readonly revision?: string };
  readonly kvs?: readonly { readonly key?: string; readonly value?: string }[];
}

/** A watch event as the JSON gateway writes it: `type` absent means PUT (proto3's default). */
interface WatchEvent {
  readonly type?: string;
  readonly kv?: { readonly key?: string; readonly value?: string };
}

interface WatchMessage {
  readonly result?: {
    readonly created?: boolean;
    readonly canceled?: boolean;
    readonly compact_revision?: string;
    readonly cancel_reason?: string;
    readonly events?: readonly WatchEvent[];
  };
  readonly error?: { readonly message?: string };
}

/**
 * etcd v3 through its JSON gateway (`/v3/kv/range`, `/v3/watch`, which etcd 3.4+ serves on the
 * client port), as Traefik's kvtools/etcdv3 uses the gRPC API: a prefix range, then a watch of
 * the prefix from the range's revision + 1, so that no change between the two is missed.
 * Traefik reads the whole prefix again at each event; the events carry the keys and values
 * written (in revision order, from the listed revision on), so they are applied to the listed
 * pairs instead: the same pairs, without listing a thousand routes' keys again at each change.
 * Endpoints are tried in turn; a failure ends the iteration.
 */
export class EtcdStore implements KvStore {
  readonly kind = 'etcd';
  readonly #cfg: EtcdProviderConfig;
  readonly #tls: ConnectionOptions | undefined;
  #endpoint = 0;

  constructor(cfg: EtcdProviderConfig) {
    this.#cfg = cfg;
    this.#tls = clientTlsOptions(cfg.tls);
  }

  /** `host:port` or a URL → the base URL of the gateway. */
  #base(): string {
    const e = this.#cfg.endpoints[this.#endpoint % this.#cfg.endpoints.length]!;
    if (/^https?:\/\//i.test(e)) return e.replace(/\/+$/, '');
    return `${this.#cfg.tls !== undefined ? 'https' : 'http'}://${e}`;
  }

  async *snapshots(prefix: string, signal: AbortSignal): AsyncGenerator<readonly KvPair[]> {
    const base = this.#base();
    try {
      const headers = await this.#auth(base, signal);
      const range = { key: b64(prefix), range_end: b64(prefixEnd(prefix)) };
      const list = async (): Promise<{ pairs: KvPair[]; revision: number }> => {
        const r = await this.#post<RangeResponse>(base, '/v3/kv/range', range, headers, signal);
        const pairs = (r.kvs ?? []).map((kv) => ({ key: unb64(kv.key ?? ''), value: unb64(kv.value ?? '') }));
        return { pairs, revision: Number(r.header?.revision ?? 0) };
      };
      const first = await list();
      const pairs = new Map(first.pairs.map((p) => [p.key, p.value]));
      yield first.pairs;
      const res = await engineRequest({
        url: `${base}/v3/watch`,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ create_request: { ...range, start_revision: String(first.revision + 1) } }),
        signal,
        ...(this.#tls !== undefined ? { tls: this.#tls } : {}),
      });
      if (res.statusCode !== 200) throw new EngineError(`POST ${base}/v3/watch: status ${res.statusCode}`);
      for await (const line of lines(res)) {
        const m = JSON.parse(line) as WatchMessage;
        if (m.error !== undefined) throw new EngineError(`etcd watch: ${m.error.message ?? 'error'}`);
        const r = m.result;
        if (r?.canceled === true) {
          const why =
            r.compact_revision !== undefined
              ? `compacted at revision ${r.compact_revision}`
              : r.cancel_reason;
          throw new EngineError(`etcd watch canceled${why ? `: ${why}` : ''}`);
        }
        const events = r?.events ?? [];
        if (events.length === 0) continue;
        for (const ev of events) {
          const key = unb64(ev.kv?.key ?? '');
          if (ev.type === 'DELETE') pairs.delete(key);
          else pairs.set(key, unb64(ev.kv?.value ?? ''));
        }
        yield Array.from(pairs, ([key, value]) => ({ key, value }));
      }
      if (!signal.aborted) throw new EngineError(`etcd ${base}: the watch stream ended`);
    } catch (e) {
      // The next attempt (the supervisor restarts us) tries the next endpoint.
      this.#endpoint++;
      if (e instanceof EngineError) throw new EngineError(etcdHint(e.message), e.status);
      throw e;
    }
  }

  async #auth(base: string, signal: AbortSignal): Promise<Record<string, string>> {
    if (this.#cfg.username === undefined) return {};
    const r = await this.#post<{ token?: string }>(
      base,
      '/v3/auth/authenticate',
      { name: this.#cfg.username, password: this.#cfg.password ?? '' },
      {},
      signal,
    );
    if (r.token === undefined) throw new EngineError(`etcd ${base}: authentication returned no token`);
    return { authorization: r.token };
  }

  async #post<T>(
    base: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<T> {
    const { body: out } = await engineFetch({
      url: `${base}${path}`,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal,
      ...(this.#tls !== undefined ? { tls: this.#tls } : {}),
    });
    return JSON.parse(out.toString('utf8')) as T;
  }
}

/**
 * etcd's JSON gateway, with --client-cert-auth and authentication on, refuses (400) a client
 * certificate that has a Common Name (the gateway cannot pass it on as the user): say what to do.
 */
export function etcdHint(message: string): string {
  return /CommonName of client sending a request against gateway/.test(message)
    ? `${message} (with authentication on, etcd's JSON gateway takes only client certificates without a Common Name)`
    : message;
}

/** etcd's JSON gateway (grpc-gateway) carries keys and values as base64: text or bytes in. */
export function b64(s: string | Buffer): string {
  return (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');
}

/** A key or value from etcd's JSON gateway, as text. */
export function unb64(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

/** etcd's prefix range end: the prefix with its last byte incremented (clientv3.GetPrefixRangeEnd). */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix, 'utf8');
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      b[i] = b[i]! + 1;
      return b.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
