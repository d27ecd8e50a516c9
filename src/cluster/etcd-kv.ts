/**
 * etcd v3 through its JSON gateway (the client port of etcd 3.4+): range, put, deleterange and
 * txn. A compare-and-swap is one transaction comparing the key's value (or, for "absent", its
 * create revision with 0), so that two instances can never both take a lock. Endpoints are
 * tried in turn: the next one after a connection failure.
 */
import type { SharedStore } from '../tls/acme/shared-store.ts';
import { StoreError, withTimeout } from './store-error.ts';

interface RangeResponse {
  readonly kvs?: readonly { readonly key?: string; readonly value?: string }[];
}

export interface EtcdKvOptions {
  readonly endpoints: readonly string[];
  readonly prefix: string;
  readonly username?: string;
  readonly password?: string;
  readonly timeoutMs?: number;
}

export class EtcdKv implements SharedStore {
  readonly description: string;
  readonly prefix: string;
  readonly #o: EtcdKvOptions;
  #endpoint = 0;
  #token: string | undefined;

  constructor(o: EtcdKvOptions) {
    this.#o = o;
    this.prefix = o.prefix;
    this.description = `etcd://${o.endpoints.join(',')}/${o.prefix}`;
  }

  async get(key: string): Promise<string | undefined> {
    const r = await this.#call<RangeResponse>('/v3/kv/range', { key: b64(key) });
    const v = r.kvs?.[0]?.value;
    return r.kvs?.[0] === undefined ? undefined : unb64(v ?? '');
  }

  async list(prefix: string): Promise<ReadonlyMap<string, string>> {
    const r = await this.#call<RangeResponse>('/v3/kv/range', {
      key: b64(prefix),
      range_end: prefixEnd(prefix).toString('base64'),
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
    const base = `http://${this.#o.endpoints[this.#endpoint % this.#o.endpoints.length]}`;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#o.username !== undefined) headers['authorization'] = this.#token ?? (await this.#auth(base));
    let res: Response;
    try {
      res = await withTimeout(this.#o.timeoutMs, (signal) =>
        fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body), signal }),
      );
    } catch (e) {
      this.#endpoint++;
      throw new StoreError(`${this.description}: ${path}: ${describe(e)}`, { cause: e });
    }
    const text = await res.text();
    if (res.status === 401 && !retried && this.#o.username !== undefined) {
      this.#token = undefined; // an expired token: authenticate again once
      return this.#call(path, body, true);
    }
    if (res.status !== 200)
      throw new StoreError(`${this.description}: ${path}: status ${res.status}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }

  async #auth(base: string): Promise<string> {
    const res = await withTimeout(this.#o.timeoutMs, (signal) =>
      fetch(`${base}/v3/auth/authenticate`, {
        method: 'POST',
        body: JSON.stringify({ name: this.#o.username, password: this.#o.password ?? '' }),
        signal,
      }),
    );
    const r = (await res.json()) as { token?: string };
    if (res.status !== 200 || r.token === undefined)
      throw new StoreError(`${this.description}: authentication failed (status ${res.status})`);
    this.#token = r.token;
    return r.token;
  }
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

/** etcd's prefix range end: the prefix with its last byte incremented. */
function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix, 'utf8');
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      b[i] = b[i]! + 1;
      return b.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

function describe(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}
