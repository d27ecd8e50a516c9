/**
 * Compares two V8 heap snapshots of one process (`--heapsnapshot-signal`, `v8.writeHeapSnapshot`,
 * the inspector's `HeapProfiler.takeHeapSnapshot`): what grew, by kind of node, and which nodes
 * are new. V8 takes a snapshot after a full collection and a node keeps its id from one
 * snapshot of a process to the next, so "new" means allocated between the two and still live.
 * How the soak's live set was read with it: docs/operations.md, "What the live set's growth is".
 */
import { readFileSync } from 'node:fs';

/** The parts of the `.heapsnapshot` JSON this reads (its format: node and edge fields, flat). */
interface RawSnapshot {
  readonly snapshot: {
    readonly meta: {
      readonly node_fields: readonly string[];
      readonly node_types: readonly [readonly string[], ...unknown[]];
      readonly edge_fields: readonly string[];
      readonly edge_types: readonly [readonly string[], ...unknown[]];
    };
  };
  readonly nodes: readonly number[];
  readonly edges: readonly number[];
  readonly strings: readonly string[];
}

export interface Snapshot {
  /** Node count. */
  readonly count: number;
  /** Each node's kind: `type|name` (names of strings, numbers and code collapsed, see kindOf). */
  readonly kinds: readonly string[];
  readonly selfSizes: Float64Array;
  readonly ids: Float64Array;
  /** For each node, the nodes that hold it by a strong (non-weak) edge, and the edge's name. */
  retainers(node: number): { readonly from: number; readonly edge: string }[];
}

export interface KindRow {
  readonly kind: string;
  readonly countDelta: number;
  readonly sizeDelta: number;
  /** In the later snapshot. */
  readonly count: number;
  readonly size: number;
}

const NAME_MAX = 80;

/**
 * A node's kind. Strings, numbers and compiled code are counted by type alone (their names are
 * their contents, or a per-function label that would make each its own row); the rest by type
 * and name (an object's name is its constructor's).
 */
function kindOf(type: string, name: string): string {
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') return 'string|';
  if (type === 'number') return 'number|';
  if (type === 'code') return name.startsWith('system / ') ? `code|${name}` : 'code|';
  return `${type}|${name.length > NAME_MAX ? name.slice(0, NAME_MAX) : name}`;
}

export function parseSnapshot(text: string): Snapshot {
  const raw = JSON.parse(text) as RawSnapshot;
  const meta = raw.snapshot.meta;
  const nf = meta.node_fields;
  const ef = meta.edge_fields;
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const N = nf.length;
  const E = ef.length;
  const iType = nf.indexOf('type');
  const iName = nf.indexOf('name');
  const iId = nf.indexOf('id');
  const iSize = nf.indexOf('self_size');
  const iEdges = nf.indexOf('edge_count');
  const eType = ef.indexOf('type');
  const eName = ef.indexOf('name_or_index');
  const eTo = ef.indexOf('to_node');
  const { nodes, edges, strings } = raw;
  const count = nodes.length / N;
  const kinds: string[] = new Array(count);
  const selfSizes = new Float64Array(count);
  const ids = new Float64Array(count);
  // Reverse edges, strong ones only, as (from node, edge offset) in CSR form.
  const weak = edgeTypes.indexOf('weak');
  const firstEdge = new Uint32Array(count + 1);
  const start = new Uint32Array(count + 1);
  for (let i = 0, e = 0; i < count; i++) {
    const o = i * N;
    kinds[i] = kindOf(nodeTypes[nodes[o + iType]!]!, strings[nodes[o + iName]!]!);
    selfSizes[i] = nodes[o + iSize]!;
    ids[i] = nodes[o + iId]!;
    const end = e + nodes[o + iEdges]! * E;
    for (; e < end; e += E) if (edges[e + eType] !== weak) start[edges[e + eTo]! / N + 1]!++;
    firstEdge[i + 1] = e;
  }
  for (let i = 0; i < count; i++) start[i + 1]! += start[i]!;
  const from = new Uint32Array(start[count]!);
  const via = new Uint32Array(start[count]!);
  const fill = start.slice();
  for (let i = 0; i < count; i++) {
    for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e += E) {
      if (edges[e + eType] === weak) continue;
      const to = edges[e + eTo]! / N;
      from[fill[to]!] = i;
      via[fill[to]!++] = e;
    }
  }
  const edgeName = (e: number): string => {
    const t = edgeTypes[edges[e + eType]!];
    const n = edges[e + eName]!;
    return t === 'element' || t === 'hidden' ? `[${n}]` : String(strings[n]);
  };
  return {
    count,
    kinds,
    selfSizes,
    ids,
    retainers(node) {
      const out: { from: number; edge: string }[] = [];
      for (let r = start[node]!; r < start[node + 1]!; r++)
        out.push({ from: from[r]!, edge: edgeName(via[r]!) });
      return out;
    },
  };
}

export function readSnapshot(path: string): Snapshot {
  return parseSnapshot(readFileSync(path, 'utf8'));
}

function totals(s: Snapshot, keep: (i: number) => boolean = () => true): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (let i = 0; i < s.count; i++) {
    if (!keep(i)) continue;
    const k = s.kinds[i]!;
    const t = out.get(k);
    if (t === undefined) out.set(k, [1, s.selfSizes[i]!]);
    else {
      t[0]++;
      t[1] += s.selfSizes[i]!;
    }
  }
  return out;
}

/** Count and self size by kind, later less earlier, largest size change first. */
export function diffByKind(earlier: Snapshot, later: Snapshot): KindRow[] {
  const a = totals(earlier);
  const b = totals(later);
  const rows: KindRow[] = [];
  for (const [kind, [count, size]] of b) {
    const [c0, s0] = a.get(kind) ?? [0, 0];
    rows.push({ kind, countDelta: count - c0, sizeDelta: size - s0, count, size });
  }
  for (const [kind, [c0, s0]] of a) {
    if (!b.has(kind)) rows.push({ kind, countDelta: -c0, sizeDelta: -s0, count: 0, size: 0 });
  }
  return rows.sort((x, y) => Math.abs(y.sizeDelta) - Math.abs(x.sizeDelta));
}

/** Types whose nodes get fresh ids in every snapshot (made by the embedder for each): never "new". */
const UNSTABLE_IDS = /^(native|synthetic)\|/;

/**
 * Whether node `i` of `later` is new since `earlier`: an id the earlier snapshot has not, on a
 * node whose id is kept across snapshots (not native or synthetic).
 */
export function isNewIn(earlier: Snapshot, later: Snapshot): (i: number) => boolean {
  const seen = new Set<number>(earlier.ids);
  return (i) => !seen.has(later.ids[i]!) && !UNSTABLE_IDS.test(later.kinds[i]!);
}

/**
 * The later snapshot's nodes that the earlier one has not (by id), by kind, largest first.
 * Native and synthetic nodes (Node's C++ objects, backing stores, roots) are left out: their
 * ids are not kept from one snapshot to the next (diffByKind counts them).
 */
export function newByKind(earlier: Snapshot, later: Snapshot): KindRow[] {
  const rows: KindRow[] = [];
  for (const [kind, [count, size]] of totals(later, isNewIn(earlier, later))) {
    rows.push({ kind, countDelta: count, sizeDelta: size, count, size });
  }
  return rows.sort((x, y) => y.sizeDelta - x.sizeDelta);
}

/**
 * A chain of holders of `node`, up to `depth` steps: at each step the first strong holder not
 * seen yet, a named property preferred over an internal slot. One path of many, for a look.
 */
export function retainerPath(s: Snapshot, node: number, depth = 10): string[] {
  const out = [s.kinds[node]!];
  const seen = new Set([node]);
  let cur = node;
  for (let d = 0; d < depth; d++) {
    const holders = s.retainers(cur).filter((r) => !seen.has(r.from));
    const pick = holders.find((r) => !r.edge.startsWith('[')) ?? holders[0];
    if (pick === undefined) break;
    out.push(`<-${pick.edge}- ${s.kinds[pick.from]!}`);
    seen.add(pick.from);
    cur = pick.from;
  }
  return out;
}

export function formatRows(rows: readonly KindRow[], top: number): string {
  const lines = [
    '| kind (type\\|name) | Δ size (bytes) | Δ count | count | size |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of rows.slice(0, top)) {
    lines.push(
      `| ${r.kind.replaceAll('|', '\\|')} | ${r.sizeDelta} | ${r.countDelta} | ${r.count} | ${r.size} |`,
    );
  }
  return lines.join('\n');
}
