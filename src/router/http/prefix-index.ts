/**
 * Routes keyed by path prefixes. `lookup(path)` returns, in rank order, every route that has a
 * key which is a prefix of `path`: each node of a radix tree holds that list precomputed (its own
 * keys merged with its ancestors'), so a lookup is a walk down the tree (one Map lookup and one
 * startsWith per edge) and no merge.
 */

export interface Ranked {
  readonly rank: number;
}

interface RadixNode<V> {
  /** Edge label from the parent; no key ends inside it. */
  readonly label: string;
  /** Routes whose key is a prefix of this node's full string, in rank order. */
  readonly list: readonly V[];
  readonly next: ReadonlyMap<number, RadixNode<V>> | undefined;
}

interface BuildNode<V> {
  readonly children: Map<number, BuildNode<V>>;
  readonly own: V[];
}

const EMPTY: readonly never[] = Object.freeze([]);

/** Merge of two rank-sorted lists, without duplicates. */
export function mergeByRank<V extends Ranked>(a: readonly V[], b: readonly V[]): readonly V[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out: V[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.rank < y.rank)) {
      out.push(x!);
      i++;
    } else if (x === undefined || y.rank < x.rank) {
      out.push(y);
      j++;
    } else {
      out.push(x);
      i++;
      j++;
    }
  }
  return out;
}

function convert<V extends Ranked>(
  start: BuildNode<V>,
  firstChar: number,
  inherited: readonly V[],
): RadixNode<V> {
  let node = start;
  let label = String.fromCharCode(firstChar);
  // Path compression: chains without keys and without branches become one edge.
  while (node.own.length === 0 && node.children.size === 1) {
    const [c, child] = node.children.entries().next().value as [number, BuildNode<V>];
    label += String.fromCharCode(c);
    node = child;
  }
  const list = mergeByRank(inherited, node.own);
  return { label, list, next: children(node, list) };
}

function children<V extends Ranked>(
  node: BuildNode<V>,
  list: readonly V[],
): ReadonlyMap<number, RadixNode<V>> | undefined {
  if (node.children.size === 0) return undefined;
  const next = new Map<number, RadixNode<V>>();
  for (const [c, child] of node.children) next.set(c, convert(child, c, list));
  return next;
}

export class PrefixIndex<V extends Ranked> {
  readonly #root: RadixNode<V>;

  private constructor(root: RadixNode<V>) {
    this.#root = root;
  }

  /** `entries` must come in rank order. */
  static build<V extends Ranked>(entries: Iterable<readonly [prefix: string, value: V]>): PrefixIndex<V> {
    const root: BuildNode<V> = { children: new Map(), own: [] };
    for (const [prefix, value] of entries) {
      let node = root;
      for (let i = 0; i < prefix.length; i++) {
        const c = prefix.charCodeAt(i);
        let child = node.children.get(c);
        if (child === undefined) {
          child = { children: new Map(), own: [] };
          node.children.set(c, child);
        }
        node = child;
      }
      // A rule listing the same prefix twice is one entry.
      if (node.own[node.own.length - 1] !== value) node.own.push(value);
    }
    const list = root.own.length ? root.own : EMPTY;
    return new PrefixIndex({ label: '', list, next: children(root, list) });
  }

  get empty(): boolean {
    return this.#root.next === undefined && this.#root.list.length === 0;
  }

  lookup(path: string): readonly V[] {
    let node = this.#root;
    let list = node.list;
    let pos = 0;
    for (;;) {
      const next = node.next;
      if (next === undefined) return list;
      const child = next.get(path.charCodeAt(pos));
      if (child === undefined || !path.startsWith(child.label, pos)) return list;
      pos += child.label.length;
      node = child;
      list = child.list;
    }
  }
}
