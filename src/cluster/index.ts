/**
 * Stores shared by several proxy instances (tls/acme/shared-store.ts is the interface): etcd,
 * Redis, Consul KV and a shared directory, opened from a parsed `acme.storage` location.
 */
import type { AcmeStorageLocation } from '../config/index.ts';
import type { SharedStore } from '../tls/acme/shared-store.ts';
import { ConsulKv } from './consul-kv.ts';
import { DirKv } from './dir-kv.ts';
import { EtcdKv } from './etcd-kv.ts';
import { RedisKv } from './redis-kv.ts';

export { ConsulKv } from './consul-kv.ts';
export { DirKv } from './dir-kv.ts';
export { EtcdKv } from './etcd-kv.ts';
export { RedisKv } from './redis-kv.ts';
export { StoreError } from './store-error.ts';

/** The store for a location other than a file; undefined for a file (Traefik's acme.json). */
export function openSharedStore(l: AcmeStorageLocation): SharedStore | undefined {
  switch (l.kind) {
    case 'file':
      return undefined;
    case 'dir':
      return new DirKv(l.path);
    case 'etcd':
      return new EtcdKv({
        endpoints: l.endpoints,
        prefix: l.prefix,
        ...(l.username === undefined ? {} : { username: l.username }),
        ...(l.password === undefined ? {} : { password: l.password }),
        ...(l.tls === undefined ? {} : { tls: l.tls }),
      });
    case 'redis':
      return new RedisKv({
        endpoints: l.endpoints,
        prefix: l.prefix,
        db: l.db,
        ...(l.username === undefined ? {} : { username: l.username }),
        ...(l.password === undefined ? {} : { password: l.password }),
        ...(l.tls === undefined ? {} : { tls: l.tls }),
      });
    case 'consul':
      return new ConsulKv({
        endpoints: l.endpoints,
        prefix: l.prefix,
        ...(l.token === undefined ? {} : { token: l.token }),
        ...(l.tls === undefined ? {} : { tls: l.tls }),
      });
  }
}
