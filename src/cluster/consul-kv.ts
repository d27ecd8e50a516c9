/**
 * Consul's KV API: `GET /v1/kv/<key>` (404: absent; `?recurse` for a prefix), `PUT`, `DELETE`.
 * Compare-and-swap uses Consul's own check-and-set: `?cas=0` creates only when absent, `?cas=N`
 * writes (or deletes) only when the key's ModifyIndex is still N, so the value read and compared
 * is the value replaced.
 */
import type { AcmeStoreTls } from '../config/index.ts';
import { engineRequest, readBody } from '../providers/engine-client.ts';
import type { SharedStore } from '../tls/acme/shared-store.ts';
import { StoreError, withTimeout } from './store-error.ts';
import { StoreTls } from './store-tls.ts';

interface Entry {
  readonly Key?: string;
  readonly Value?: string | null;
  readonly ModifyIndex?: number;
}

export interface ConsulKvOptions {
  readonly endpoints: readonly string[];
  readonly prefix: string;
  readonly token?: string;
  /** HTTPS to the agent (Consul's `verify_incoming` asks for a client certificate too). */
  readonly tls?: AcmeStoreTls;
  readonly timeoutMs?: number;
}

export class ConsulKv implements SharedStore {
  readonly description: string;
  readonly prefix: string;
  readonly #o: ConsulKvOptions;
  readonly #tls: StoreTls;
  #endpoint = 0;

  constructor(o: ConsulKvOptions) {
    this.#o = o;
    this.prefix = o.prefix;
    this.description = `consul://${o.endpoints.join(',')}/${o.prefix}`;
    this.#tls = new StoreTls(this.description, o.tls);
  }

  async get(key: string): Promise<string | undefined> {
    const e = await this.#entry(key);
    return e === undefined ? undefined : value(e);
  }

  async list(prefix: string): Promise<ReadonlyMap<string, string>> {
    const { status, text } = await this.#call('GET', prefix, 'recurse=true');
    if (status === 404) return new Map();
    const entries = JSON.parse(text) as Entry[];
    return new Map(entries.filter((e) => typeof e.Key === 'string').map((e) => [e.Key!, value(e)]));
  }

  async put(key: string, v: string): Promise<void> {
    await this.#call('PUT', key, '', v);
  }

  async delete(key: string): Promise<void> {
    await this.#call('DELETE', key, '');
  }

  async compareAndSwap(key: string, expected: string | undefined, v: string): Promise<boolean> {
    let index = 0;
    if (expected !== undefined) {
      const e = await this.#entry(key);
      if (e === undefined || value(e) !== expected) return false;
      index = e.ModifyIndex ?? 0;
    }
    return (await this.#call('PUT', key, `cas=${index}`, v)).text.trim() === 'true';
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    const e = await this.#entry(key);
    if (e === undefined || value(e) !== expected) return false;
    return (await this.#call('DELETE', key, `cas=${e.ModifyIndex ?? 0}`)).text.trim() === 'true';
  }

  close(): void {}

  async #entry(key: string): Promise<Entry | undefined> {
    const { status, text } = await this.#call('GET', key, '');
    if (status === 404) return undefined;
    return (JSON.parse(text) as Entry[])[0];
  }

  async #call(
    method: string,
    key: string,
    query: string,
    body?: string,
  ): Promise<{ status: number; text: string }> {
    const base = `${this.#tls.enabled ? 'https' : 'http'}://${this.#o.endpoints[this.#endpoint % this.#o.endpoints.length]}`;
    const path = key.split('/').map(encodeURIComponent).join('/');
    const url = `${base}/v1/kv/${path}${query === '' ? '' : `?${query}`}`;
    const tls = this.#tls.options();
    let res: { status: number; text: string };
    try {
      res = await withTimeout(this.#o.timeoutMs, async (signal) => {
        const r = await engineRequest({
          url,
          method,
          headers: this.#o.token === undefined ? {} : { 'x-consul-token': this.#o.token },
          ...(body === undefined ? {} : { body }),
          signal,
          ...(tls === undefined ? {} : { tls }),
        });
        return { status: r.statusCode ?? 0, text: (await readBody(r)).toString('utf8') };
      });
    } catch (e) {
      this.#endpoint++;
      throw new StoreError(`${this.description}: ${method} ${key}: ${(e as Error).message}`, { cause: e });
    }
    const { text } = res;
    if (res.status !== 200 && !(res.status === 404 && method === 'GET'))
      throw new StoreError(
        `${this.description}: ${method} ${key}: status ${res.status}: ${text.slice(0, 200)}`,
      );
    return { status: res.status, text };
  }
}

const value = (e: Entry): string => (e.Value == null ? '' : Buffer.from(e.Value, 'base64').toString('utf8'));
