import { type ConfigIssue, type ConfigPath, issue } from '../../config/issues.ts';
import type { SourceOf } from '../dynamic-data.ts';

export interface KvPair {
  readonly key: string;
  readonly value: string;
}

export interface DecodedKv {
  readonly data: Record<string, unknown>;
  readonly sourceOf: SourceOf;
  readonly issues: ConfigIssue[];
}

/**
 * Traefik's KV layout (pkg/config/kv/kv.go): under `rootKey`, each key is a path of the dynamic
 * configuration and its value the raw text of that setting: `traefik/http/routers/web/rule`,
 * `traefik/http/routers/web/entrypoints/0` (lists are indexed), `traefik/http/services/app/
 * loadbalancer/servers/0/url`. Keys are matched case-insensitively later, like every key. The
 * result is plain data for the reading rules (numbers, booleans and lists are read from the
 * text there). `store` names the engine in issues: `etcd key traefik/http/routers/web/rule`.
 */
export function decodeKv(pairs: readonly KvPair[], rootKey: string, store: string): DecodedKv {
  const data: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  const root = rootKey.replace(/\/+$/, '');
  // Shorter keys first: a key that is also a folder of others is seen before its children.
  const sorted = [...pairs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { key, value } of sorted) {
    if (key !== root && !key.startsWith(`${root}/`)) continue; // `traefikfoo/…`: another root
    let parts = key.slice(root.length + 1).split('/');
    if (parts.includes('')) parts = parts.filter((p) => p !== '');
    if (parts.length === 0) continue; // the root itself
    let node = data;
    let ok = true;
    for (let i = 0; i < parts.length - 1; i++) {
      const p = parts[i]!;
      const next = node[p];
      if (next === undefined || typeof next === 'string') {
        // A key that is a folder of others too: its own value means nothing (folders made by
        // tools are empty). Say so when it is not.
        if (typeof next === 'string' && next !== '') {
          issues.push(
            issue('warning', `the value of a key that has keys below it is ignored`, parts.slice(0, i + 1), {
              file: `${store} key ${root}/${parts.slice(0, i + 1).join('/')}`,
            }),
          );
        }
        const child: Record<string, unknown> = {};
        node[p] = child;
        node = child;
      } else if (typeof next === 'object' && next !== null) {
        node = next as Record<string, unknown>;
      } else {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    const last = parts[parts.length - 1]!;
    if (typeof node[last] === 'object' && node[last] !== null) continue;
    node[last] = value;
    // The key itself: its `etcd key …` text is made only when an issue asks for it.
    sources.set(parts.join('/').toLowerCase(), key);
  }
  const sourceOf: SourceOf = (path: ConfigPath) => {
    const key = sources.get(path.map(String).join('/').toLowerCase());
    return key === undefined ? undefined : `${store} key ${key}`;
  };
  return { data, sourceOf, issues };
}
