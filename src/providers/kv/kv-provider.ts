import { collectYoung } from '../../core/settle-heap.ts';
import { type ProviderValidation, updateFromData } from '../dynamic-data.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { decodeKv, type KvPair } from './kv-decode.ts';

/**
 * A key-value store as the KV providers see it: every key under a prefix, at start and after
 * each change. The store's own watch mechanism (etcd watch, Redis keyspace notifications, Consul
 * blocking queries) decides when; the iteration throws when the store fails.
 */
export interface KvStore {
  /** How issues name the store: `etcd`, `redis`, `consul`. */
  readonly kind: string;
  snapshots(prefix: string, signal: AbortSignal): AsyncIterable<readonly KvPair[]>;
}

/**
 * Traefik's KV providers (pkg/provider/kv/kv.go): the keys under `rootKey` are the provider's
 * whole configuration; any change reads them all again. No key at all is an empty configuration
 * (the provider's routes are withdrawn). A failing store fails the watch (the supervisor
 * restarts it with backoff; the last good configuration serves meanwhile).
 */
export class KvProvider implements Provider {
  readonly name: string;
  readonly #store: KvStore;
  readonly #rootKey: string;
  readonly #validation: ProviderValidation;

  constructor(name: string, store: KvStore, rootKey: string, validation: ProviderValidation) {
    this.name = name;
    this.#store = store;
    this.#rootKey = rootKey;
    this.#validation = validation;
  }

  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
    return this.#run(signal);
  }

  async *#run(signal: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    // Traefik lists `rootKey` as a prefix without a slash (etcd: `traefik` also finds `traefikX`);
    // decodeKv keeps only the keys of this root.
    try {
      for await (const pairs of this.#store.snapshots(this.#rootKey, signal)) {
        if (signal.aborted) return;
        collectYoung();
        const decoded = decodeKv(pairs, this.#rootKey, this.#store.kind);
        yield updateFromData(decoded.data, this.name, decoded.sourceOf, this.#validation, decoded.issues, {
          quietCase: true,
        });
      }
    } catch (e) {
      if (signal.aborted) return; // a request cut by the abort: the watch simply ends
      throw e;
    }
  }
}
