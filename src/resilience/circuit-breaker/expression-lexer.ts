/**
 * Tokens of Traefik's circuit-breaker expression language. Traefik (through vulcand/oxy and
 * mailgun/predicate) parses the expression as a Go expression, so numbers follow Go's decimal
 * literal syntax (`10`, `0.5`, `.5`, `1e3`) and identifiers are case-sensitive.
 */
import { readGoQuoted } from '../../core/go-string.ts';

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
    } else if (c === '"') {
      // Go's interpreted string (strconv.Unquote), as vulcand/predicate reads it.
      const q = readGoQuoted(src, i);
      if (!q.ok) throw new LexError(q.error.message, q.error.offset);
      tokens.push({ kind: 'string', value: q.value, text: src.slice(i, q.end), offset: i });
      i = q.end;
    } else if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end === -1) throw new LexError('unterminated string literal', i);
      const text = src.slice(i, end + 1);
      tokens.push({ kind: 'string', value: text.slice(1, -1), text, offset: i });
      i = end + 1;
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
