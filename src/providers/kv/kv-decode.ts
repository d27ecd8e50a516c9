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

/** A value as read, with the key it came from (unwrapped once the tree is built). */
interface Leaf {
  readonly leaf: string;
  readonly key: string;
}

/** A folder of the tree: its children by name, and the name first written for each spelling. */
interface Folder {
  readonly children: Map<string, Folder | Leaf>;
  readonly spelling: Map<string, string>;
}

const INDEX = /^\d+$/;

/**
 * Traefik's KV layout (pkg/config/kv/kv.go, kv_node.go): under `rootKey`, each key is a path of
 * the dynamic configuration and its value the raw text of that setting: `traefik/http/routers/
 * web/rule`, `traefik/http/routers/web/entrypoints/0` (lists are indexed), `traefik/http/services/
 * app/loadbalancer/servers/0/url`. As Traefik reads them:
 *
 * - keys are taken in text order, and path segments that differ only in case are one
 *   (`containsNode` compares with strings.EqualFold): the first spelling names it;
 * - a trailing `/` is dropped; a segment of digits is a list index, which only orders the items
 *   (as text: `/10` comes before `/2`, and `/5` alone is a list of one);
 * - the items of a list of values (`…/entrypoints/0`, `…/entrypoints/1`: keys that end with an
 *   index) are joined with commas into one value (`filterPairs`), which the reading rules split
 *   again: an item `a,b` is two items.
 *
 * The result is plain data for the reading rules (numbers, booleans and lists are read from the
 * text there). `store` names the engine in issues: `etcd key traefik/http/routers/web/rule`.
 */
export function decodeKv(pairs: readonly KvPair[], rootKey: string, store: string): DecodedKv {
  const sources = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  const root = rootKey.replace(/\/+$/, '');
  const tree: Folder = { children: new Map(), spelling: new Map() };
  const sorted = [...pairs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { key, value } of sorted) {
    if (key !== root && !key.startsWith(`${root}/`)) continue; // `traefikfoo/…`: another root
    let parts = key.slice(root.length + 1).split('/');
    if (parts.includes('')) parts = parts.filter((p) => p !== '');
    if (parts.length === 0) continue; // the root itself
    let node = tree;
    for (let i = 0; i < parts.length - 1; i++) {
      const name = nameIn(node, parts[i]!);
      const next = node.children.get(name);
      if (next === undefined || 'leaf' in next) {
        // A key that is a folder of others too: its own value means nothing (folders made by
        // tools are empty). Say so when it is not.
        if (next !== undefined && next.leaf !== '') {
          issues.push(
            issue('warning', `the value of a key that has keys below it is ignored`, parts.slice(0, i + 1), {
              file: `${store} key ${next.key}`,
            }),
          );
        }
        const child: Folder = { children: new Map(), spelling: new Map() };
        node.children.set(name, child);
        node = child;
      } else node = next;
    }
    const last = nameIn(node, parts[parts.length - 1]!);
    const existing = node.children.get(last);
    if (existing !== undefined && !('leaf' in existing)) continue; // a folder already
    node.children.set(last, { leaf: value, key });
  }
  const data = unwrap(tree, [], sources) as Record<string, unknown>;
  const sourceOf: SourceOf = (path: ConfigPath) => {
    const key = sources.get(path.map(String).join('/').toLowerCase());
    return key === undefined ? undefined : `${store} key ${key}`;
  };
  return { data, sourceOf, issues };
}

/** The name `seg` goes by in `node`: the first spelling written, any case. */
function nameIn(node: Folder, seg: string): string {
  const lower = seg.toLowerCase();
  const known = node.spelling.get(lower);
  if (known !== undefined) return known;
  node.spelling.set(lower, seg);
  return seg;
}

/** The folder as plain data; `path` is where it lies (lowercase segments, for `sources`). */
function unwrap(node: Folder | Leaf, path: string[], sources: Map<string, string>): unknown {
  if ('leaf' in node) {
    sources.set(path.join('/').toLowerCase(), node.key);
    return node.leaf;
  }
  const entries = [...node.children];
  if (entries.length > 0 && entries.every(([name]) => INDEX.test(name))) {
    // A list: its items in the keys' text order (the map keeps the order they were first seen).
    const values = entries.filter(([, c]) => 'leaf' in c) as [string, Leaf][];
    if (values.length === entries.length) {
      // Values only: one comma-separated value, as Traefik's filterPairs joins them.
      values.forEach(([, c], i) => {
        sources.set([...path, String(i)].join('/').toLowerCase(), c.key);
      });
      sources.set(path.join('/').toLowerCase(), values[0]![1].key);
      return values.map(([, c]) => c.leaf).join(',');
    }
    return entries.map(([, c], i) => unwrap(c, [...path, String(i)], sources));
  }
  const out: Record<string, unknown> = {};
  for (const [name, c] of entries) out[name] = unwrap(c, [...path, name], sources);
  return out;
}
