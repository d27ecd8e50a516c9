/**
 * Tokens of Traefik's circuit-breaker expression language. Traefik (through vulcand/oxy and
 * mailgun/predicate) parses the expression as a Go expression, so numbers follow Go's decimal
 * literal syntax (`10`, `0.5`, `.5`, `1e3`) and identifiers are case-sensitive.
 */

export type ComparisonOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

export type Token =
  | { readonly kind: 'ident'; readonly text: string; readonly offset: number }
  | { readonly kind: 'number'; readonly value: number; readonly text: string; readonly offset: number }
  | { readonly kind: 'op'; readonly op: ComparisonOp; readonly offset: number }
  /** A Go string literal (`"GET"`, or raw between backquotes), its value unquoted. */
  | { readonly kind: 'string'; readonly value: string; readonly text: string; readonly offset: number }
  | {
      readonly kind: '(' | ')' | ',' | '&&' | '||' | 'end';
      readonly offset: number;
    };

export class LexError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** Describes a token for an error message, quoting what the user wrote. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the expression';
    case 'ident':
    case 'number':
    case 'string':
      return `'${token.text}'`;
    case 'op':
      return `'${token.op}'`;
    default:
      return `'${token.kind}'`;
  }
}

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    const next = src[i + 1];
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, offset: i });
      i++;
    } else if (c === '&' || c === '|') {
      if (next !== c) throw new LexError(`unexpected '${c}': the logical operator is '${c}${c}'`, i);
      tokens.push({ kind: c === '&' ? '&&' : '||', offset: i });
      i += 2;
    } else if (c === '<' || c === '>') {
      const op: ComparisonOp = next === '=' ? (c === '<' ? '<=' : '>=') : c;
      tokens.push({ kind: 'op', op, offset: i });
      i += op.length;
    } else if (c === '=' || c === '!') {
      if (next !== '=') {
        throw new LexError(
          c === '='
            ? "unexpected '=': the equality operator is '=='"
            : "unexpected '!': negation is not supported",
          i,
        );
      }
      tokens.push({ kind: 'op', op: c === '=' ? '==' : '!=', offset: i });
      i += 2;
    } else if (c === '"' || c === '`') {
      const end = stringEnd(src, i);
      const text = src.slice(i, end);
      tokens.push({ kind: 'string', value: unquote(text, i), text, offset: i });
      i = end;
    } else if ((c >= '0' && c <= '9') || c === '.') {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(src);
      if (m === null) throw new LexError(`malformed number starting with '${c}'`, i);
      const text = m[0];
      const after = src[i + text.length];
      if (after !== undefined && /[A-Za-z0-9_.]/.test(after)) {
        throw new LexError(`malformed number '${text}${after}'`, i);
      }
      tokens.push({ kind: 'number', value: Number(text), text, offset: i });
      i += text.length;
    } else {
      IDENT.lastIndex = i;
      const m = IDENT.exec(src);
      if (m === null) throw new LexError(`unexpected character '${c}'`, i);
      tokens.push({ kind: 'ident', text: m[0], offset: i });
      i += m[0].length;
    }
  }
  tokens.push({ kind: 'end', offset: src.length });
  return tokens;
}

/** The offset just past the string literal that starts at `start` (a quote or a backquote). */
function stringEnd(src: string, start: number): number {
  const q = src[start]!;
  for (let i = start + 1; i < src.length; i++) {
    const c = src[i]!;
    if (c === q) return i + 1;
    if (q === '"' && c === '\\') i++;
    else if (q === '"' && c === '\n') break;
  }
  throw new LexError('unterminated string literal', start);
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
};

/**
 * Go's strconv.Unquote, as vulcand/predicate reads a string literal: a raw string as it is, an
 * interpreted one with Go's escapes (`\n`, `\"`, `\x41`, `\u00e9`…).
 */
function unquote(text: string, offset: number): string {
  if (text[0] === '`') return text.slice(1, -1);
  const body = text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i] ?? '';
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    const digits = body.slice(i + 1, i + 1 + hex);
    if (hex === 0 || !/^[0-9A-Fa-f]+$/.test(digits) || digits.length !== hex) {
      throw new LexError(`invalid escape '\\${e}' in a string literal`, offset + 1 + i);
    }
    out += String.fromCodePoint(Number.parseInt(digits, 16));
    i += hex;
  }
  return out;
}
