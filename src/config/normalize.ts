import type { z } from 'zod';
import { parseGoBool } from '../core/go-bool.ts';
import { type ConfigIssue, type ConfigPath, issue } from './issues.ts';
import { isPlainObject } from './schema-helpers.ts';
import { describeSchema, type SchemaNode } from './schema-walk.ts';
import type { Locator } from './yaml-source.ts';

/*
 * Reads a parsed file the way Traefik's file decoder (traefik/paerser: file → untyped nodes →
 * typed fields) reads it, before the zod schemas check it, so that no schema is written twice:
 *
 * - keys match the schema's case-insensitively at every level (paerser compares field names with
 *   strings.EqualFold); a key spelled otherwise gets a warning naming the usual spelling;
 * - a null value is skipped, as if the key were absent (paerser drops nil map values), so an empty
 *   `routers:` is no section at all;
 * - every scalar is read from its text where the schema wants another type: "10" is a number,
 *   "true" a boolean, 8080 a string, and a plain string where a list is expected is split on
 *   commas (`entryPoints: web,websecure`), as Traefik's flags, env and labels are;
 * - a section given as `true` means "present with its defaults" and `false` "absent" (paerser's
 *   allowEmpty sections: `tls: true`);
 * - an unknown key at the top is ignored with a warning (paerser keeps only the root's field
 *   names: YAML anchors such as `x-defaults`, Traefik v1 keys); an unknown key deeper stays an
 *   error for the schema to report;
 * - two spellings of one key in one map are merged, as paerser fills one field from both;
 * - deprecated keys are accepted with a warning, and deprecated spellings read as their
 *   replacement when it exists (`ipWhiteList` → `ipAllowList`).
 *
 * Issue paths use the canonical keys; the returned locator maps them back to the keys as written.
 */

export interface NormalizeOptions {
  readonly locate: Locator;
  /** Top-level keys kept as they are, unchecked (the static file's dynamic sections). */
  readonly passThrough?: readonly string[];
  /**
   * No warning for a key written in another case (labels and KV keys are lowercase by
   * convention: `loadbalancer.server.port` is how everyone writes them).
   */
  readonly quietCase?: boolean;
  /**
   * A file read by Traefik's file decoder (paerser parser/nodes_metadata.go addMetadata): an
   * element of a map or struct type with nothing under it (`routers: {}`, `http: {}`, an empty
   * TOML table) is refused, "<key> cannot be a standalone element", and the whole file with it,
   * unless its field is tagged allowEmpty. Every map here (maps are never allowEmpty; a map of
   * raw values, a plugin's options, excepted); of the structs, those `emptySection` names (given
   * the canonical path): the others are read as empty, which Traefik does for its allowEmpty
   * ones (`tls: {}` on a router, `compress: {}`).
   */
  readonly standalone?: { readonly emptySection?: (path: ConfigPath) => boolean };
}

export interface Normalized {
  readonly data: unknown;
  readonly issues: ConfigIssue[];
  /** Takes canonical paths. */
  readonly locate: Locator;
  /** An element Traefik's file decoder refuses the whole file for (see `standalone`). */
  readonly refused?: true;
}

/** Canonical key → the key as written, for the branches where a key was renamed. */
interface PathMap {
  readonly keys: Map<string | number, { readonly original: string | number; readonly child?: PathMap }>;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** The value is removed from its parent. */
const DROP = Symbol('drop');

/**
 * A path as a chain from the leaf up, made into an array only for an issue: a provider's
 * configuration is read again at each change, and copying the path at every key of a thousand
 * routers was most of what reading it allocated.
 */
type Chain = { readonly up: Chain; readonly seg: string | number } | undefined;

function pathOf(c: Chain): ConfigPath {
  const out: (string | number)[] = [];
  for (let at = c; at !== undefined; at = at.up) out.push(at.seg);
  return out.reverse();
}

type ObjectNode = Extract<SchemaNode, { kind: 'object' }>;

/** An object node's keys by lowercase spelling, made once per node (nodes are memoized). */
interface Lookup {
  readonly known: ReadonlyMap<string, string>;
  readonly unsupported: ReadonlyMap<string, string>;
  readonly aliases: ReadonlyMap<string, readonly [string, string]>;
}

const lookups = new WeakMap<ObjectNode, Lookup>();

function lookupOf(node: ObjectNode): Lookup {
  let l = lookups.get(node);
  if (l === undefined) {
    l = {
      known: new Map(Object.keys(node.shape).map((k) => [k.toLowerCase(), k])),
      // Removed keys too: spelled in any case, each is refused by name at its place by the schema.
      unsupported: new Map(
        [...node.unsupported, ...Object.keys(node.removed)].map((k) => [k.toLowerCase(), k]),
      ),
      aliases: new Map(Object.entries(node.aliases).map(([a, k]) => [a.toLowerCase(), [a, k] as const])),
    };
    lookups.set(node, l);
  }
  return l;
}

export function normalizeConfig(data: unknown, schema: z.core.$ZodType, opts: NormalizeOptions): Normalized {
  const issues: ConfigIssue[] = [];
  /** `at`: the key as written (for the position); `path`: the canonical one (for the message). */
  const warn = (message: string, at: Chain, path: Chain, severity: ConfigIssue['severity'] = 'warning') => {
    const { exact: _, ...where } = opts.locate(pathOf(at), 'key');
    issues.push(issue(severity, message, pathOf(path), where));
  };
  const passThrough = new Set((opts.passThrough ?? []).map((k) => k.toLowerCase()));
  let refused = false;
  const standalone = (at: Chain, path: Chain) => {
    refused = true;
    const key = path?.seg ?? '';
    warn(
      `\`${key}\` cannot be a standalone element: an empty section here makes Traefik refuse the whole file (paerser: it needs at least one key under it)`,
      at,
      path,
      'error',
    );
  };

  const walk = (
    value: unknown,
    node: SchemaNode,
    orig: Chain,
    canon: Chain,
    depth: number,
  ): [unknown, (PathMap | undefined)?] => {
    switch (node.kind) {
      case 'object':
        return walkObject(value, node, orig, canon, depth);
      case 'record': {
        if (!isPlainObject(value)) return [value];
        const out: Record<string, unknown> = {};
        let map: PathMap | undefined;
        const element = describeSchema(node.value);
        let entries = 0;
        for (const k in value) {
          const v = value[k];
          if (v === null) continue;
          entries++;
          const [nv, child] = walk(v, element, { up: orig, seg: k }, { up: canon, seg: k }, depth + 1);
          if (nv === DROP) continue;
          out[k] = nv;
          if (child !== undefined) map = mapped(map, k, { original: k, child });
        }
        // A map of raw values (a plugin's) is refused empty too where the caller names it: paerser
        // reads raw only what is under it (nodes_metadata.go add: addRawValue for its children).
        if (
          entries === 0 &&
          opts.standalone !== undefined &&
          (!isRawMap(node.value) || opts.standalone.emptySection?.(pathOf(canon)) === true)
        )
          standalone(orig, canon);
        return [out, map];
      }
      case 'array': {
        let list = value;
        if (typeof value === 'string') {
          list = value.trim() === '' ? [] : value.split(',').map((s) => s.trim());
        } else if (typeof value === 'number' || typeof value === 'boolean') list = [String(value)];
        else if (isIndexMap(value)) list = fromIndexMap(value);
        if (!Array.isArray(list)) return [value];
        const element = describeSchema(node.element);
        let map: PathMap | undefined;
        const out = list.map((item: unknown, i) => {
          const [nv, child] = walk(item, element, { up: orig, seg: i }, { up: canon, seg: i }, depth + 1);
          if (child !== undefined) map = mapped(map, i, { original: i, child });
          return nv === DROP ? null : nv;
        });
        return [out, map];
      }
      case 'boolean': {
        // Go's strconv.ParseBool, which paerser uses for every boolean field.
        const b = typeof value === 'string' ? parseGoBool(value.trim()) : undefined;
        if (b !== undefined) return [b];
        if (value === 1 || value === 0) return [value === 1];
        return [value];
      }
      case 'number':
        return [typeof value === 'string' && NUMBER.test(value.trim()) ? Number(value) : value];
      case 'string':
        return [typeof value === 'number' || typeof value === 'boolean' ? String(value) : value];
      default:
        return [value];
    }
  };

  const walkObject = (
    value: unknown,
    node: ObjectNode,
    orig: Chain,
    canon: Chain,
    depth: number,
  ): [unknown, (PathMap | undefined)?] => {
    // paerser's allowEmpty sections (parser/nodes_metadata.go): `true` (any case) or an empty
    // value turns one on with its defaults, as a label `traefik.http.routers.r.tls=` or an empty
    // KV key `…/tls` gives; any other value turns it off (`Disabled`: a value other than "" and
    // "true"), `false` as much as `exposedByDefault:false` or `1`: said by a warning then.
    if (
      value === true ||
      value === '' ||
      (typeof value === 'string' && value.trim().toLowerCase() === 'true')
    ) {
      if (opts.standalone?.emptySection?.(pathOf(canon)) === true) standalone(orig, canon);
      return [{}];
    }
    if (value === false || (typeof value === 'string' && value.trim().toLowerCase() === 'false'))
      return [DROP];
    if (!isPlainObject(value)) return [value];
    if (
      opts.standalone?.emptySection !== undefined &&
      !hasNonNull(value) &&
      opts.standalone.emptySection(pathOf(canon))
    )
      standalone(orig, canon);
    const { known: lowerKnown, unsupported: lowerUnsupported, aliases: lowerAliases } = lookupOf(node);
    const out: Record<string, unknown> = {};
    let writtenAs: Map<string, string> | undefined;
    let map: PathMap | undefined;
    for (const key in value) {
      const v = value[key];
      if (v === null) continue;
      const exact = Object.hasOwn(node.shape, key);
      const lower = exact && lowerAliases.size === 0 ? key : key.toLowerCase();
      let canonical = exact ? key : lowerKnown.get(lower);
      const alias = lowerAliases.size === 0 ? undefined : lowerAliases.get(lower);
      if (alias !== undefined) {
        const [spelling, target] = alias;
        if (Object.hasOwn(node.shape, target)) {
          warn(
            `\`${spelling}\` is deprecated: it is read as \`${target}\``,
            { up: orig, seg: key },
            { up: canon, seg: target },
          );
          canonical = target;
        } else {
          warn(
            `\`${spelling}\` is deprecated (Traefik's replacement is \`${target}\`)`,
            { up: orig, seg: key },
            { up: canon, seg: spelling },
          );
        }
      }
      if (canonical === undefined) {
        canonical = lowerUnsupported.get(lower);
        if (canonical === undefined) {
          if (depth === 0 && passThrough.has(lower)) {
            out[key] = v;
            continue;
          }
          if (depth === 0) {
            warn(
              `unknown top-level key \`${key}\` is ignored (as Traefik ignores it)`,
              { up: orig, seg: key },
              { up: undefined, seg: key },
            );
            continue;
          }
          // Unknown here: left for the schema, which names it (with a suggestion) at its place.
          out[key] = v;
          continue;
        }
      }
      if (canonical !== key && alias === undefined && opts.quietCase !== true) {
        warn(
          `\`${key}\` is read as \`${canonical}\` (keys are case-insensitive)`,
          { up: orig, seg: key },
          { up: canon, seg: canonical },
        );
      }
      const deprecation = node.deprecated[canonical];
      if (deprecation !== undefined)
        warn(
          `\`${canonical}\` is deprecated: ${deprecation}`,
          { up: orig, seg: key },
          { up: canon, seg: canonical },
        );
      const earlier = writtenAs?.get(canonical);
      const child = node.shape[canonical];
      if (earlier !== undefined) {
        // paerser makes one node per spelling and fills the field from each in turn, the keys
        // sorted (file/raw_node.go sortKeys; parser/element_fill.go): sections merge, a value
        // both give is the one of the spelling that sorts last, a map entry both name too.
        warn(
          `\`${key}\` repeats \`${earlier}\` (keys are case-insensitive): both are read and merged, as Traefik does`,
          { up: orig, seg: key },
          { up: canon, seg: key },
        );
        const childNode: SchemaNode = child === undefined ? { kind: 'other' } : describeSchema(child);
        const [nv] = walk(v, childNode, { up: orig, seg: key }, { up: canon, seg: canonical }, depth + 1);
        if (nv === DROP || !Object.hasOwn(out, canonical)) continue;
        out[canonical] = mergeSpellings(out[canonical], nv, childNode, key > earlier);
        continue;
      }
      writtenAs ??= new Map();
      writtenAs.set(canonical, key);
      if ((typeof v === 'string' || typeof v === 'number') && child !== undefined && isSectionOff(v, child)) {
        warn(
          `${JSON.stringify(v)} is not a section: it turns \`${canonical}\` off, as Traefik reads any value but true there (write its keys under it)`,
          { up: orig, seg: key },
          { up: canon, seg: canonical },
        );
        continue;
      }
      const [nv, childMap] =
        child === undefined
          ? [v, undefined]
          : walk(v, describeSchema(child), { up: orig, seg: key }, { up: canon, seg: canonical }, depth + 1);
      if (nv === DROP) continue;
      out[canonical] = nv;
      if (canonical !== key || childMap !== undefined) {
        map = mapped(
          map,
          canonical,
          childMap === undefined ? { original: key } : { original: key, child: childMap },
        );
      }
    }
    return [out, map];
  };

  const [out, map] = walk(data, describeSchema(schema), undefined, undefined, 0);
  const locate: Locator =
    map === undefined
      ? opts.locate
      : (path, target, offset) => opts.locate(original(path, map), target, offset);
  return { data: out === DROP ? {} : out, issues, locate, ...(refused ? { refused: true as const } : {}) };
}

/** No key with a value: paerser drops null values, so such a map has no children. */
function hasNonNull(v: Record<string, unknown>): boolean {
  for (const k in v) if (v[k] !== null) return true;
  return false;
}

/** A map of raw values (Go's map[string]interface{}: a plugin's options), filled as it is. */
/** Whether `path` is one of `patterns` (`*`: any one segment): the tables of `standalone`. */
export function matchesPath(path: ConfigPath, patterns: readonly (readonly string[])[]): boolean {
  return patterns.some(
    (p) => p.length === path.length && p.every((seg, i) => seg === '*' || seg === path[i]),
  );
}

function isRawMap(element: z.core.$ZodType): boolean {
  const t = element._zod.def.type;
  return t === 'unknown' || t === 'any';
}

/**
 * A section (an object of the schema) given a value other than true/false/'' is off: paerser
 * marks an allowEmpty section node with any other value Disabled (parser/nodes_metadata.go), so
 * `docker: exposedByDefault:false` leaves the Docker provider off in Traefik.
 */
function isSectionOff(v: string | number, child: z.core.$ZodType): boolean {
  if (describeSchema(child).kind !== 'object') return false;
  const s = typeof v === 'string' ? v.trim().toLowerCase() : '';
  return typeof v === 'number' || (s !== '' && s !== 'true' && s !== 'false');
}

/**
 * Two spellings of one key, merged as paerser fills one field from both nodes: a section field by
 * field, a map entry by entry (an entry both name: the later one whole), any other value the
 * later one. `laterWins`: `b`'s spelling sorts after `a`'s.
 */
function mergeSpellings(a: unknown, b: unknown, node: SchemaNode, laterWins: boolean): unknown {
  if ((node.kind !== 'object' && node.kind !== 'record') || !isPlainObject(a) || !isPlainObject(b))
    return laterWins ? b : a;
  const out: Record<string, unknown> = { ...a };
  for (const k in b) {
    if (!Object.hasOwn(out, k)) out[k] = b[k];
    else if (node.kind === 'record') out[k] = laterWins ? b[k] : out[k];
    else {
      const child = node.shape[k];
      out[k] = mergeSpellings(
        out[k],
        b[k],
        child === undefined ? { kind: 'other' } : describeSchema(child),
        laterWins,
      );
    }
  }
  return out;
}

/** `map` with one more renamed key, made on the first (most objects have none). */
function mapped(
  map: PathMap | undefined,
  key: string | number,
  entry: { readonly original: string | number; readonly child?: PathMap },
): PathMap {
  const m = map ?? { keys: new Map() };
  m.keys.set(key, entry);
  return m;
}

/** The path as written in the file, for a canonical path. */
function original(path: ConfigPath, map: PathMap): ConfigPath {
  const out: (string | number)[] = [];
  let here: PathMap | undefined = map;
  for (const seg of path) {
    const entry: { readonly original: string | number; readonly child?: PathMap } | undefined =
      here?.keys.get(seg);
    out.push(entry?.original ?? seg);
    here = entry?.child;
  }
  return out;
}

/** `{ "0": a, "1": b }`: a list as labels (`[0]`) and KV stores (`/0`) write it. */
function isIndexMap(v: unknown): v is Record<string, unknown> {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => /^(0|[1-9]\d{0,5})$/.test(k));
}

/** The list in index order; a missing index is a hole Traefik's decoder would fill with zero values. */
function fromIndexMap(v: Record<string, unknown>): unknown[] {
  return Object.keys(v)
    .map(Number)
    .sort((a, b) => a - b)
    .map((k) => v[String(k)]);
}
