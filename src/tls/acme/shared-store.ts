/**
 * A key-value store that several proxy instances share (etcd, Redis, Consul KV, a directory):
 * what clustered ACME needs of it. Values are strings; keys are `/`-separated paths. The
 * compare-and-swap operations are what locks are made of: each backend implements them with
 * its own atomic primitive (an etcd transaction, a Lua script in Redis, Consul's `cas` index,
 * link(2)/rename(2) in a directory). The implementations live in src/cluster/.
 */
export interface SharedStore {
  /** For logs: `etcd://127.0.0.1:2379/traffic/acme` (never a password). */
  readonly description: string;
  /** The key prefix everything of this store lives under (`traffic/acme`). */
  readonly prefix: string;
  get(key: string): Promise<string | undefined>;
  /** Every key under `prefix` (which ends with `/`), with its value. */
  list(prefix: string): Promise<ReadonlyMap<string, string>>;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Writes `value` only when the key holds `expected` (undefined: absent); true when written. */
  compareAndSwap(key: string, expected: string | undefined, value: string): Promise<boolean>;
  /** Deletes the key only when it holds `expected`; true when deleted. */
  compareAndDelete(key: string, expected: string): Promise<boolean>;
  close(): void;
}
