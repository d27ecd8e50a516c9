/**
 * Tokens of the Traefik v3 rule language. Traefik parses rules with Go's expression parser
 * (vulcand/predicate over go/parser), so string literals follow Go: backtick raw strings and
 * double-quoted interpreted strings; a single-quoted literal is a Go rune and is rejected.
 */
import type { RuleError } from './ast.ts';

export type TokenKind = 'and' | 'or' | 'not' | 'lparen' | 'rparen' | 'comma' | 'ident' | 'string' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  readonly offset: number;
  /** Identifier text, or the decoded string value. */
  readonly text: string;
  /** For strings: true for a backtick literal. */
  readonly raw: boolean;
}

export type LexResult = { ok: true; tokens: Token[] } | { ok: false; error: RuleError };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function err(message: string, offset: number): { ok: false; error: RuleError } {
  return { ok: false, error: { message, offset } };
}

export function tokenize(rule: string): LexResult {
  const tokens: Token[] = [];
  let i = 0;
  const n = rule.length;
  while (i < n) {
    const c = rule.charCodeAt(i);
    // Go's scanner treats exactly these as white space between tokens.
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    const start = i;
    switch (c) {
      case 38: // &
        if (rule.charCodeAt(i + 1) !== 38) return err('expected "&&"', i);
        tokens.push({ kind: 'and', offset: start, text: '&&', raw: false });
        i += 2;
        continue;
      case 124: // |
        if (rule.charCodeAt(i + 1) !== 124) return err('expected "||"', i);
        tokens.push({ kind: 'or', offset: start, text: '||', raw: false });
        i += 2;
        continue;
      case 33: // !
        tokens.push({ kind: 'not', offset: start, text: '!', raw: false });
        i++;
        continue;
      case 40:
        tokens.push({ kind: 'lparen', offset: start, text: '(', raw: false });
        i++;
        continue;
      case 41:
        tokens.push({ kind: 'rparen', offset: start, text: ')', raw: false });
        i++;
        continue;
      case 44:
        tokens.push({ kind: 'comma', offset: start, text: ',', raw: false });
        i++;
        continue;
      case 96: {
        // Raw string: no escapes; Go drops carriage returns from raw literals.
        const end = rule.indexOf('`', i + 1);
        if (end === -1) return err('unterminated backtick string', start);
        const text = rule.slice(i + 1, end).replaceAll('\r', '');
        tokens.push({ kind: 'string', offset: start, text, raw: true });
        i = end + 1;
        continue;
      }
      case 34: {
        const r = readQuoted(rule, start);
        if (!r.ok) return r;
        tokens.push({ kind: 'string', offset: start, text: r.value, raw: false });
        i = r.end;
        continue;
      }
      case 39:
        return err('single-quoted strings are not allowed; use backticks (`...`) or double quotes', start);
      default:
        if (isIdentStart(c)) {
          while (i < n && isIdentPart(rule.charCodeAt(i))) i++;
          tokens.push({ kind: 'ident', offset: start, text: rule.slice(start, i), raw: false });
          continue;
        }
        return err(`unexpected character ${JSON.stringify(rule[i])}`, start);
    }
  }
  tokens.push({ kind: 'eof', offset: n, text: '', raw: false });
  return { ok: true, tokens };
}

type QuotedResult = { ok: true; value: string; end: number } | { ok: false; error: RuleError };

/** A Go interpreted string literal starting at the opening quote. */
function readQuoted(rule: string, start: number): QuotedResult {
  let out = '';
  // \x and octal escapes produce bytes; they are collected and decoded as UTF-8 together.
  let bytes: number[] = [];
  const flush = (at: number): RuleError | undefined => {
    if (bytes.length === 0) return undefined;
    try {
      out += utf8.decode(Uint8Array.from(bytes));
    } catch {
      return { message: 'string escapes do not form valid UTF-8', offset: at };
    }
    bytes = [];
    return undefined;
  };
  let i = start + 1;
  while (i < rule.length) {
    const c = rule.charCodeAt(i);
    if (c === 34) {
      const e = flush(i);
      if (e) return { ok: false, error: e };
      return { ok: true, value: out, end: i + 1 };
    }
    if (c === 10) return err('newline in double-quoted string', i);
    if (c !== 92) {
      const e = flush(i);
      if (e) return { ok: false, error: e };
      out += rule[i];
      i++;
      continue;
    }
    const escAt = i;
    const e = rule[i + 1];
    i += 2;
    const simple = SIMPLE_ESCAPES[e ?? ''];
    if (simple !== undefined) {
      const fe = flush(escAt);
      if (fe) return { ok: false, error: fe };
      out += simple;
      continue;
    }
    if (e === 'x' || (e !== undefined && e >= '0' && e <= '7')) {
      const digits = e === 'x' ? 2 : 3;
      const base = e === 'x' ? 16 : 8;
      const from = e === 'x' ? i : i - 1;
      let v = 0;
      for (let k = 0; k < digits; k++) {
        const d = hexValue(rule.charCodeAt(from + k));
        if (d === -1 || d >= base) return err('invalid escape sequence in double-quoted string', escAt);
        v = v * base + d;
      }
      if (v > 255) return err('octal escape value > 255', escAt);
      bytes.push(v);
      i = from + digits;
      continue;
    }
    if (e === 'u' || e === 'U') {
      const digits = e === 'u' ? 4 : 8;
      let v = 0;
      for (let k = 0; k < digits; k++) {
        const d = hexValue(rule.charCodeAt(i + k));
        if (d === -1) return err('invalid escape sequence in double-quoted string', escAt);
        v = v * 16 + d;
      }
      if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
        return err('escape sequence is an invalid Unicode code point', escAt);
      }
      const fe = flush(escAt);
      if (fe) return { ok: false, error: fe };
      out += String.fromCodePoint(v);
      i += digits;
      continue;
    }
    return err('unknown escape sequence in double-quoted string', escAt);
  }
  return err('unterminated double-quoted string', start);
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
