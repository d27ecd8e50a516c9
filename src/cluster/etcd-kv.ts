/**
 * etcd v3 through its JSON gateway (the client port of etcd 3.4+): range, put, deleterange and
 * txn. A compare-and-swap is one transaction comparing the key's value (or, for "absent", its
 * create revision with 0), so that two instances can never both take a lock. Endpoints are
 * tried in turn: the next one after a connection failure.
 */
import type { AcmeStoreTls } from '../config/index.ts';
import { engineRequest, readBody } from '../providers/engine-client.ts';
import { b64, etcdHint, prefixEnd, unb64 } from '../providers/etcd/index.ts';
import type { SharedStore } from '../tls/acme/shared-store.ts';
import { StoreError, withTimeout } from './store-error.ts';
import { StoreTls } from './store-tls.ts';

interface RangeResponse {
  readonly kvs?: readonly { readonly key?: string; readonly value?: string }[];
}

export interface EtcdKvOptions {
  readonly endpoints: readonly string[];
  readonly prefix: string;
  readonly username?: string;
  readonly password?: string;
  /** HTTPS to the gateway, with a client certificate when etcd runs with --client-cert-auth. */
  readonly tls?: AcmeStoreTls;
  readonly timeoutMs?: number;
}

export class EtcdKv implements SharedStore {
  readonly description: string;
  readonly prefix: string;
  readonly #o: EtcdKvOptions;
  readonly #tls: StoreTls;
  #endpoint = 0;
  #token: string | undefined;

  constructor(o: EtcdKvOptions) {
    this.#o = o;
    this.prefix = o.prefix;
    this.description = `etcd://${o.endpoints.join(',')}/${o.prefix}`;
    this.#tls = new StoreTls(this.description, o.tls);
  }

  async get(key: string): Promise<string | undefined> {
    const r = await this.#call<RangeResponse>('/v3/kv/range', { key: b64(key) });
    const v = r.kvs?.[0]?.value;
    return r.kvs?.[0] === undefined ? undefined : unb64(v ?? '');
  }

  async list(prefix: string): Promise<ReadonlyMap<string, string>> {
    const r = await this.#call<RangeResponse>('/v3/kv/range', {
      key: b64(prefix),
      range_end: b64(prefixEnd(prefix)),
    });
    return new Map((r.kvs ?? []).map((kv) => [unb64(kv.key ?? ''), unb64(kv.value ?? '')]));
  }

  async put(key: string, value: string): Promise<void> {
    await this.#call('/v3/kv/put', { key: b64(key), value: b64(value) });
  }

  async delete(key: string): Promise<void> {
    await this.#call('/v3/kv/deleterange', { key: b64(key) });
  }

  async compareAndSwap(key: string, expected: string | undefined, value: string): Promise<boolean> {
    const compare =
      expected === undefined
        ? { key: b64(key), result: 'EQUAL', target: 'CREATE', create_revision: '0' }
        : { key: b64(key), result: 'EQUAL', target: 'VALUE', value: b64(expected) };
    const r = await this.#call<{ succeeded?: boolean }>('/v3/kv/txn', {
      compare: [compare],
      success: [{ request_put: { key: b64(key), value: b64(value) } }],
    });
    return r.succeeded === true;
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    const r = await this.#call<{ succeeded?: boolean }>('/v3/kv/txn', {
      compare: [{ key: b64(key), result: 'EQUAL', target: 'VALUE', value: b64(expected) }],
      success: [{ request_delete_range: { key: b64(key) } }],
    });
    return r.succeeded === true;
  }

  close(): void {}

  async #call<T>(path: string, body: unknown, retried = false): Promise<T> {
    const base = `${this.#tls.enabled ? 'https' : 'http'}://${this.#o.endpoints[this.#endpoint % this.#o.endpoints.length]}`;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#o.username !== undefined) headers['authorization'] = this.#token ?? (await this.#auth(base));
    const r = await this.#post(base, path, body, headers);
    if (r.status === 401 && !retried && this.#o.username !== undefined) {
      this.#token = undefined; // an expired token: authenticate again once
      return this.#call(path, body, true);
    }
    if (r.status !== 200)
      throw new StoreError(
        etcdHint(`${this.description}: ${path}: status ${r.status}: ${r.text.slice(0, 200)}`),
      );
    return JSON.parse(r.text) as T;
  }

  /** One POST and its whole answer; a connection or TLS failure moves on to the next endpoint. */
  async #post(
    base: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<{ status: number; text: string }> {
    const tls = this.#tls.options();
    try {
      return await withTimeout(this.#o.timeoutMs, async (signal) => {
        const res = await engineRequest({
          url: `${base}${path}`,
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          signal,
          ...(tls === undefined ? {} : { tls }),
        });
        return { status: res.statusCode ?? 0, text: (await readBody(res)).toString('utf8') };
      });
    } catch (e) {
      this.#endpoint++;
      throw new StoreError(`${this.description}: ${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  async #auth(base: string): Promise<string> {
    const r = await this.#post(
      base,
      '/v3/auth/authenticate',
      { name: this.#o.username, password: this.#o.password ?? '' },
      { 'content-type': 'application/json' },
    );
    const token = r.status === 200 ? (JSON.parse(r.text) as { token?: string }).token : undefined;
    if (token === undefined)
      throw new StoreError(
        etcdHint(
          `${this.description}: authentication as ${this.#o.username} failed (status ${r.status}: ${r.text.slice(0, 200)})`,
        ),
      );
    this.#token = token;
    return token;
  }
}
