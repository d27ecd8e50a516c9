import type { ZooKeeperProviderConfig } from '../../config/static/providers.ts';
import type { KvPair } from '../kv/kv-decode.ts';
import type { KvStore } from '../kv/kv-provider.ts';
import { ZK_NONODE, ZkConnection, ZkError } from './zk-connection.ts';

/** The session timeout the client asks for (the server may lower or raise it). */
const SESSION_MS = 10_000;

/**
 * ZooKeeper as Traefik's kvtools/zookeeper reads it: the tree under `/<rootKey>`; each node is a
 * key (its path without the first `/`) whose value is its data; a node without data is a folder,
 * unless it has no children and lies below an object (see #walk). The tree is read with one-shot watches on every node's children
 * and data (and, while the root is missing, on its creation); any notification reads it again
 * and sets them again. A closed session fails the store: the provider restarts with backoff.
 */
export class ZooKeeperStore implements KvStore {
  readonly kind = 'zookeeper';
  readonly #cfg: ZooKeeperProviderConfig;
  #endpoint = 0;

  constructor(cfg: ZooKeeperProviderConfig) {
    this.#cfg = cfg;
  }

  async *snapshots(prefix: string, signal: AbortSignal): AsyncGenerator<readonly KvPair[]> {
    const e = this.#cfg.endpoints[this.#endpoint++ % this.#cfg.endpoints.length]!;
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(e);
    const host = m?.[1] ?? m?.[2] ?? e;
    const port = Number(m?.[3] ?? 2181);
    const conn = await ZkConnection.open(host, port, SESSION_MS, signal);
    if (this.#cfg.username !== undefined || this.#cfg.password !== undefined) {
      try {
        await conn.addAuth('digest', `${this.#cfg.username ?? ''}:${this.#cfg.password ?? ''}`);
      } catch (e) {
        conn.close();
        throw e;
      }
    }
    let wake: (() => void) | undefined;
    let changed = false;
    conn.onWatch = () => {
      changed = true;
      wake?.();
    };
    conn.closed
      .then(() => {
        changed = true;
        wake?.();
      })
      .catch(() => {});
    try {
      const root = `/${prefix.replace(/^\/+|\/+$/g, '')}`;
      while (!signal.aborted) {
        changed = false;
        const pairs: KvPair[] = [];
        if (await conn.exists(root, true)) await this.#walk(conn, root, pairs, 0);
        yield pairs;
        if (!changed) {
          await new Promise<void>((r) => {
            const done = (): void => r();
            signal.addEventListener('abort', done, { once: true });
            wake = () => {
              signal.removeEventListener('abort', done);
              r();
            };
          });
        }
        wake = undefined;
        const failed = await Promise.race([conn.closed, Promise.resolve(undefined)]);
        if (failed !== undefined && !signal.aborted) throw failed;
      }
    } finally {
      conn.close();
    }
  }

  /** Every key at or below `path` (`depth` segments below the root), with watches set on each node. */
  async #walk(conn: ZkConnection, path: string, out: KvPair[], depth: number): Promise<void> {
    let children: string[];
    let data: Buffer;
    try {
      children = await conn.children(path, true);
      data = await conn.data(path, true);
    } catch (e) {
      // Deleted between the parent's listing and here: its parent's watch says so.
      if (e instanceof ZkError && e.code === ZK_NONODE) return;
      throw e;
    }
    const key = path.slice(1);
    // kvtools/zookeeper's List (listChildrenRecursive) returns every node, so Traefik reads a
    // childless node without data as a key with an empty value: `…/compressor/compress` or
    // `…/routers/<name>/tls` turn the option on (integration/zk_test.go). Below an object
    // (`http/routers/<name>/<field>` and deeper) it is read so here too. At an object's level and
    // above it is a folder: ZooKeeper keeps the folders whose keys were deleted, and they must not
    // become empty objects or sections (`http.routers: ""`).
    if (data.length > 0 || (children.length === 0 && depth >= 4))
      out.push({ key, value: data.toString('utf8') });
    for (const c of children) await this.#walk(conn, `${path}/${c}`, out, depth + 1);
  }
}
