import { type AST, getStaticTOMLValue, ParseError, parseTOML } from 'toml-eslint-parser';
import { type ConfigIssue, type ConfigPath, issue, type Place } from './issues.ts';
import type { Located, Locator, YamlSource } from './yaml-source.ts';

/*
 * TOML files (Traefik reads `.toml` with BurntSushi/toml), with the same positions in issues as
 * YAML files: toml-eslint-parser gives every key and value its source range, which is indexed
 * here by config path.
 */

interface Spot {
  /** Start offset of the key that names the value (absent for array items). */
  readonly key?: number;
  readonly value: AST.TOMLNode;
}

export function parseToml(text: string, file: string): YamlSource {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const at = (offset: number): Place => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file, line: lo + 1, col: offset - lineStarts[lo]! + 1 };
  };
  let ast: AST.TOMLProgram;
  try {
    ast = parseTOML(text);
  } catch (err) {
    const where: Place =
      err instanceof ParseError ? { file, line: err.lineNumber, col: err.column + 1 } : { file };
    const message = err instanceof Error ? err.message : String(err);
    // toml-eslint-parser overflows the stack on a basic string of ~120,000 characters or more
    // (it spreads the string's code points into one call): the file is not wrong, only beyond
    // what the parser can take, and saying "syntax error" would send the reader looking for one.
    const said =
      err instanceof RangeError
        ? `TOML file too large for the parser (a value of about 100,000 characters or more?): ${message}`
        : `TOML syntax error: ${message}`;
    const bare = where.line === undefined ? undefined : unquotedValue(text, where.line);
    const issues: ConfigIssue[] = [
      bare === undefined
        ? issue('error', said, [], where)
        : issue('error', `${said} (${bare.hint})`, bare.path, where),
    ];
    return { file, data: undefined, issues, locate: () => ({ file, exact: false }) };
  }
  const spots = new Map<string, Spot>();
  const top = ast.body[0];
  for (const item of top.body) {
    if (item.type === 'TOMLTable') {
      // The header names the table: `[http.routers.api]`, `[[…servers]]` (with its index).
      const path = item.resolvedKey;
      addKeyParts(spots, [], item.key, path.length - (item.kind === 'array' ? 1 : 0));
      spots.set(key(path), { key: item.key.keys.at(-1)!.range[0], value: item });
      for (const kv of item.body) addKeyValue(spots, path, kv);
    } else addKeyValue(spots, [], item);
  }
  const locate: Locator = (path, target = 'value', offset) => {
    for (let n = path.length; n >= 0; n--) {
      const spot = spots.get(key(path.slice(0, n)));
      if (spot === undefined) continue;
      if (n < path.length || target === 'key') {
        const start = spot.key ?? spot.value.range[0];
        return { ...at(start), exact: offset === undefined };
      }
      return valueAt(spot.value, offset, at);
    }
    return { file, exact: false };
  };
  const data = getStaticTOMLValue(ast) as unknown;
  return { file, data, issues: [], locate };
}

function key(path: ConfigPath): string {
  return JSON.stringify(path);
}

/** The intermediate tables a dotted key opens (`a.b.c = 1` opens `a` and `a.b`). */
function addKeyParts(spots: Map<string, Spot>, base: ConfigPath, k: AST.TOMLKey, upTo: number): void {
  const names = k.keys.map((p) => (p.type === 'TOMLBare' ? p.name : p.value));
  for (let i = 0; i < names.length && base.length + i < upTo; i++) {
    const path = [...base, ...names.slice(0, i + 1)];
    if (!spots.has(key(path))) spots.set(key(path), { key: k.keys[i]!.range[0], value: k.keys[i]! });
  }
}

function addKeyValue(spots: Map<string, Spot>, base: ConfigPath, kv: AST.TOMLKeyValue): void {
  const names = kv.key.keys.map((p) => (p.type === 'TOMLBare' ? p.name : p.value));
  addKeyParts(spots, base, kv.key, base.length + names.length - 1);
  const path = [...base, ...names];
  spots.set(key(path), { key: kv.key.keys.at(-1)!.range[0], value: kv.value });
  addContent(spots, path, kv.value);
}

function addContent(spots: Map<string, Spot>, path: ConfigPath, node: AST.TOMLContentNode): void {
  if (node.type === 'TOMLArray') {
    node.elements.forEach((e, i) => {
      spots.set(key([...path, i]), { value: e });
      addContent(spots, [...path, i], e);
    });
  } else if (node.type === 'TOMLInlineTable') {
    for (const kv of node.body) addKeyValue(spots, path, kv);
  }
}

/** Start of a value, or of the `offset`-th character of a one-line string without escapes. */
function valueAt(node: AST.TOMLNode, offset: number | undefined, at: (o: number) => Place): Located {
  const start = node.range[0];
  if (offset === undefined) return { ...at(start), exact: true };
  if (node.type === 'TOMLValue' && node.kind === 'string' && !node.multiline) {
    const quoted = node.range[1] - node.range[0] - 2;
    // Without escapes the value is the text between the quotes, one character per character.
    if (quoted === node.value.length && offset <= quoted) return { ...at(start + 1 + offset), exact: true };
  }
  return { ...at(start), exact: false };
}

/** A TOML number, boolean or date, which needs no quotes (TOML 1.0's grammar, loosely). */
const TOML_BARE =
  /^(?:true|false|[+-]?(?:inf|nan)|[+-]?\d[\d_]*(?:\.[\d_]+)?(?:[eE][+-]?\d+)?|0x[\da-fA-F_]+|0o[0-7_]+|0b[01_]+|\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+)?(?:Z|[+-]\d{2}:\d{2})?|\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/;

/**
 * A YAML habit in a TOML file: a string left unquoted (`address = :8443`, `level = DEBUG`,
 * `rule = Host(...)`, `entryPoints = [web]`), which the parser reports as "Unexpected character"
 * or "Must be a newline". Says which key, and how to write it. Only on the line of the error.
 */
function unquotedValue(text: string, line: number): { hint: string; path: ConfigPath } | undefined {
  const lines = text.split('\n');
  const m = /^\s*([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\s*=\s*(.*?)\s*$/.exec(lines[line - 1] ?? '');
  if (m === null) return undefined;
  const [, key, written] = m as unknown as [string, string, string];
  // A comment after a value that is not quoted is not part of it.
  const value = /^["']/.test(written) ? written : written.replace(/\s+#.*$/, '');
  const bare = (v: string) => v !== '' && !/^["'[{]/.test(v) && !TOML_BARE.test(v);
  let hint: string | undefined;
  if (bare(value)) hint = `a string needs quotes in TOML: ${key} = ${JSON.stringify(value)}`;
  else {
    const list = /^\[(.*)\]$/.exec(value);
    const items = list?.[1]?.split(',').map((v) => v.trim()) ?? [];
    if (items.some(bare))
      hint = `strings need quotes in TOML: ${key} = [${items.map((v) => (bare(v) ? JSON.stringify(v) : v)).join(', ')}]`;
  }
  if (hint === undefined) return undefined;
  // The table the key is in: the nearest header above it.
  let table: string[] = [];
  for (let i = line - 2; i >= 0; i--) {
    const h = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$/.exec(lines[i]!);
    if (h !== null) {
      table = h[1]!.split('.').map((p) => p.trim().replace(/^["']|["']$/g, ''));
      break;
    }
  }
  return { hint, path: [...table, ...key.split('.')] };
}
