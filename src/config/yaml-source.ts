import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type Tags,
  visit,
} from 'yaml';
import { loadModule } from '../core/lazy-module.ts';
import { type ConfigIssue, type ConfigPath, issue, type Place } from './issues.ts';
import { type Located, type Locator, noLocation, type Target } from './locator.ts';

export { type Located, type Locator, noLocation, type Target } from './locator.ts';

export interface YamlSource {
  readonly file: string;
  /** Plain JS data; undefined when the YAML could not be parsed. */
  readonly data: unknown;
  readonly issues: ConfigIssue[];
  readonly locate: Locator;
}

/**
 * Limits against resource exhaustion by a configuration file (a file provider reads whatever
 * lands in its folder): the text's size, and how much YAML aliases may expand (the "billion
 * laughs" pattern: each alias repeating the previous one nine times). The yaml library counts an
 * alias as the nodes it brings in, times the times it is used.
 */
export const MAX_DOCUMENT_CHARS = 16 * 1024 * 1024;
export const MAX_ALIAS_COUNT = 1000;

/**
 * Texts from this size on are parsed on a worker thread. A YAML document costs ~100 times its
 * text while it is built (the CST, every node with its range, the line table, then the plain
 * data): 10,000 routers (1 MB) took the process to ~420 MB, and V8 keeps much of what it grew
 * for that. On a worker the whole parse lives in an isolate of its own that is thrown away when
 * the worker exits; only the plain data comes back (a structured clone). Below this size the
 * worker's start-up (~30 ms, its own module loading) costs more than it saves. The worker's
 * module (config/yaml-offload.ts, with node:worker_threads) is loaded by the first such text.
 */
export const OFFLOAD_MIN_CHARS = 256 * 1024;

type OffloadModule = typeof import('./yaml-offload.ts');

export function parseYaml(text: string, file: string): YamlSource {
  if (text.length > MAX_DOCUMENT_CHARS) {
    const message = `the file is too large (${text.length} characters; at most ${MAX_DOCUMENT_CHARS})`;
    return { file, data: undefined, issues: [issue('error', message, [], { file })], locate: noLocation };
  }
  if (text.length >= OFFLOAD_MIN_CHARS) {
    const r = loadModule<OffloadModule>(import.meta.url, './yaml-offload.ts').parseYamlOffThread(text, file);
    if (r !== undefined) return { file, data: r.data, issues: r.issues, locate: lazyLocator(text, file) };
  }
  return parseYamlHere(text, file);
}

/**
 * `!!binary` as Go's yaml.v3 decodes it into an interface (what paerser reads files into): the
 * decoded bytes as a string, an error for data that is not base64. The library's own tag makes a
 * Buffer, whose enumerable prototype methods broke the copies made of the configuration (found by
 * fuzzing: `docker: !!binary` threw out of the static loader).
 */
const BINARY_AS_TEXT = {
  tag: 'tag:yaml.org,2002:binary',
  identify: () => false,
  resolve(src: string, onError: (message: string) => void): string {
    const b64 = src.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) {
      onError('!!binary value contains invalid base64 data');
      return '';
    }
    return Buffer.from(b64, 'base64').toString('utf8');
  },
};

/**
 * The parser's options: merge keys, duplicate keys checked by findDuplicateKeys (uniqueKeys: false
 * — the library's own check compares every key with every earlier one: O(n²), 5 s for 10,000
 * routers), `!!binary` as text.
 */
function yamlOptions(lineCounter: LineCounter) {
  return {
    lineCounter,
    prettyErrors: false,
    merge: true,
    uniqueKeys: false,
    customTags: (tags: Tags) => [BINARY_AS_TEXT, ...tags],
  } as const;
}

/** parseYaml on this thread (the worker's side of parseYamlOffThread). */
export function parseYamlHere(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, yamlOptions(lineCounter));
  const at = (offset: number): Place => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  const issues: ConfigIssue[] = [];
  for (const e of doc.errors) {
    const message =
      e.code === 'MULTIPLE_DOCS'
        ? 'the file holds several YAML documents; a configuration file must hold exactly one'
        : `YAML syntax error: ${e.message}`;
    issues.push(issue('error', message, [], at(e.pos[0])));
  }
  if (doc.errors.length === 0) {
    for (const dup of findDuplicateKeys(doc.contents)) {
      issues.push(issue('error', `YAML syntax error: duplicate key "${dup.key}"`, [], at(dup.offset)));
    }
  }
  for (const w of doc.warnings) issues.push(issue('warning', `YAML: ${w.message}`, [], at(w.pos[0])));
  const locate: Locator = (path, target = 'value', offset) =>
    locateIn(doc, text, at, file, path, target, offset);
  if (issues.some((i) => i.severity === 'error')) return { file, data: undefined, issues, locate };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (e) {
    if (e instanceof ReferenceError) {
      // The library throws a ReferenceError once aliases expand past the limit.
      const message = `YAML aliases expand too much (more than ${MAX_ALIAS_COUNT} nodes): refused as a resource exhaustion attack; write the values out or use fewer aliases`;
      issues.push(issue('error', message, [], { file }));
      return { file, data: undefined, issues, locate };
    }
    // It also throws on a `<<` merge key whose value is not a map or a list of maps (found by
    // fuzzing): a mistake in the file, reported where it is like any other.
    const where = badMergeKey(doc);
    const message = `YAML syntax error: ${e instanceof Error ? e.message : String(e)}`;
    issues.push(issue('error', message, [], where === undefined ? { file } : at(where)));
    return { file, data: undefined, issues, locate };
  }
  const proto = findProtoKey(data, [], new Set());
  if (proto !== undefined) {
    // Kept as an own property by the parser, but dropped or turned into a prototype by anything
    // that copies the object: refuse it rather than lose it silently.
    const { exact: _, ...where } = locate(proto, 'key');
    issues.push(issue('error', '`__proto__` is not allowed as a key or name', proto, where));
    return { file, data: undefined, issues, locate };
  }
  // The document (every node, its source range, the line table) is ~10 times the text: a
  // 10,000-router file's would stay resident for as long as the configuration is in force, only
  // to place an issue a later build may find. Only the text is kept (the provider keeps it too);
  // the document is parsed again when asked, and the answer cached for the rest of that turn.
  return { file, data, issues, locate: lazyLocator(text, file) };
}

/** A Locator over `text` that holds no document between uses (see parseYaml). */
function lazyLocator(text: string, file: string): Locator {
  let parsed: { doc: Document; at: (offset: number) => Place } | undefined;
  return (path, target = 'value', offset) => {
    if (parsed === undefined) {
      const lineCounter = new LineCounter();
      const doc = parseDocument(text, yamlOptions(lineCounter));
      const at = (o: number): Place => {
        const { line, col } = lineCounter.linePos(o);
        return { file, line, col };
      };
      parsed = { doc, at };
      // Issues are located in bursts (one per faulty object of a build): one parse per burst.
      setTimeout(() => {
        parsed = undefined;
      }, 0).unref();
    }
    return locateIn(parsed.doc, text, parsed.at, file, path, target, offset);
  };
}

/** The offset of the first `<<` merge key whose value cannot be merged (not a map, nor maps). */
function badMergeKey(doc: Document): number | undefined {
  const isMapLike = (n: unknown): boolean => isMap(n) || (isAlias(n) && isMap(n.resolve(doc)));
  let found: number | undefined;
  visit(doc, {
    Pair(_, pair) {
      // With `merge: true` the key's value is a symbol; its source text is `<<`.
      if (!isScalar(pair.key) || pair.key.source !== '<<') return undefined;
      const v = pair.value;
      if (isMapLike(v) || (isSeq(v) && v.items.every(isMapLike))) return undefined;
      found = pair.key.range?.[0];
      return visit.BREAK;
    },
  });
  return found;
}

function findProtoKey(
  value: unknown,
  path: (string | number)[],
  seen: Set<object>,
): (string | number)[] | undefined {
  // Aliases can make the data a graph (even a cycle): visit each object once.
  if (typeof value !== 'object' || value === null || seen.has(value)) return undefined;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findProtoKey(value[i], [...path, i], seen);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (key === '__proto__') return [...path, key];
    const found = findProtoKey((value as Record<string, unknown>)[key], [...path, key], seen);
    if (found) return found;
  }
  return undefined;
}

interface Walked {
  node: unknown;
  keyNode: Node | undefined;
  /** The deepest node reached, and the key that names it. */
  depth: number;
}

function walk(doc: Document, path: ConfigPath): Walked {
  let node: unknown = doc.contents;
  let keyNode: Node | undefined;
  let depth = 0;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    let next: { value: unknown; key: Node | undefined } | undefined;
    if (isMap(node)) next = findPair(doc, node.items, String(seg), 0);
    else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      next = { value: node.items[seg], key: undefined };
    }
    if (next === undefined) break;
    node = next.value;
    keyNode = next.key;
    depth++;
  }
  return { node, keyNode, depth };
}

function findPair(
  doc: Document,
  items: readonly { key: unknown; value: unknown }[],
  key: string,
  level: number,
): { value: unknown; key: Node | undefined } | undefined {
  for (const p of items) {
    if (isScalar(p.key) && typeof p.key.value !== 'symbol' && String(p.key.value) === key) {
      return { value: p.value, key: p.key };
    }
  }
  if (level > 8) return undefined;
  // YAML merge keys (`<<: *base`): the key lives in the merged map.
  for (const p of items) {
    if (!isScalar(p.key) || (p.key as { source?: unknown }).source !== '<<') continue;
    const sources = isSeq(p.value) ? p.value.items : [p.value];
    for (const s of sources) {
      const m = isAlias(s) ? s.resolve(doc) : s;
      if (isMap(m)) {
        const found = findPair(doc, m.items, key, level + 1);
        if (found) return found;
      }
    }
  }
  return undefined;
}

function startOf(node: unknown): number | undefined {
  const range = (node as { range?: readonly number[] } | null)?.range;
  return range?.[0];
}

function locateIn(
  doc: Document,
  text: string,
  at: (offset: number) => Place,
  file: string,
  path: ConfigPath,
  target: Target,
  offset: number | undefined,
): Located {
  const w = walk(doc, path);
  const keyStart = startOf(w.keyNode);
  if (w.depth < path.length || target === 'key') {
    const start = keyStart ?? startOf(w.node);
    return start === undefined ? { file, exact: false } : { ...at(start), exact: offset === undefined };
  }
  const range = (w.node as { range?: readonly number[] } | null)?.range;
  // An empty value (`key:`) has a zero-width range just after the colon; the key is clearer.
  if (range === undefined || range[0] === range[1]) {
    return keyStart === undefined ? { file, exact: false } : { ...at(keyStart), exact: offset === undefined };
  }
  const start = range[0]!;
  if (offset === undefined) return { ...at(start), exact: true };
  const exact = isScalar(w.node) ? scalarCharOffset(text, start, range[1]!, w.node.type, offset) : undefined;
  return exact === undefined ? { ...at(start), exact: false } : { ...at(exact), exact: true };
}

/** Source offset of the `offset`-th character of a one-line scalar's value, if it can be known. */
function scalarCharOffset(
  text: string,
  start: number,
  end: number,
  type: string | undefined,
  offset: number,
): number | undefined {
  const src = text.slice(start, end);
  if (src.includes('\n') || offset < 0) return undefined;
  if (type === 'PLAIN') return offset <= src.length ? start + offset : undefined;
  if (type !== 'QUOTE_SINGLE' && type !== 'QUOTE_DOUBLE') return undefined;
  let i = 1;
  let n = 0;
  const close = src.length - 1;
  while (i < close && n < offset) {
    if (type === 'QUOTE_SINGLE') i += src[i] === "'" ? 2 : 1;
    else i += src[i] === '\\' ? escapeLength(src, i) : 1;
    n++;
  }
  return n === offset ? start + i : undefined;
}

function escapeLength(src: string, i: number): number {
  switch (src[i + 1]) {
    case 'x':
      return 4;
    case 'u':
      return 6;
    case 'U':
      return 10;
    default:
      return 2;
  }
}

/** Duplicate keys in any map of the document (YAML 1.2 §3.2.1.1 forbids them), in one pass. */
function findDuplicateKeys(root: unknown): { key: string; offset: number }[] {
  const out: { key: string; offset: number }[] = [];
  const stack: unknown[] = [root];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object' || seen.has(node) || isAlias(node)) continue;
    seen.add(node);
    if (isMap(node)) {
      const keys = new Set<string>();
      for (const pair of node.items) {
        const k = pair.key;
        // `<<` merge keys may repeat; non-scalar keys do not occur in a configuration.
        if (isScalar(k) && k.value !== '<<') {
          const name = String(k.value);
          if (keys.has(name)) out.push({ key: name, offset: k.range?.[0] ?? 0 });
          keys.add(name);
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return out;
}
