/**
 * Tokens of the Traefik v3 rule language. Traefik parses rules with Go's expression parser
 * (vulcand/predicate over go/parser), so string literals follow Go: backtick raw strings and
 * double-quoted interpreted strings; a single-quoted literal is a Go rune and is rejected.
 */
import { readGoQuoted } from '../../core/go-string.ts';
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

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

function err(message: string, offset: number): { ok: false; error: RuleError } {
  return { ok: false, error: { message, offset } };
}

/**
 * Where a Go comment starting at `i` (`//` to the end of its line, `/* … *\/`) ends, and whether
 * it holds a line break (a general comment over lines acts as one for go/scanner's semicolons);
 * -1 for a general comment never closed.
 */
function skipComment(rule: string, i: number): { end: number; newline: boolean } {
  if (rule.charCodeAt(i + 1) === 47 /* / */) {
    const nl = rule.indexOf('\n', i);
    return { end: nl === -1 ? rule.length : nl, newline: false };
  }
  const close = rule.indexOf('*/', i + 2);
  if (close === -1) return { end: -1, newline: false };
  return { end: close + 2, newline: rule.slice(i, close).includes('\n') };
}

/** Whether only white space and comments follow `i`. */
function blankFrom(rule: string, i: number): boolean {
  while (i < rule.length) {
    const c = rule.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13 || c === 10) i++;
    else if (c === 47 && (rule.charCodeAt(i + 1) === 47 || rule.charCodeAt(i + 1) === 42)) {
      const end = skipComment(rule, i).end;
      if (end === -1) return false;
      i = end;
    } else return false;
  }
  return true;
}

/** The error for a line break (or a comment over lines) after an identifier, a string or `)`. */
const LINE_BREAK =
  'a line break after an identifier, a string or `)` ends the rule for Traefik (Go inserts a semicolon there): end the line with `&&` or `||` instead, or fold the rule (`>-`)';

/** The last token is one after which go/scanner inserts a semicolon at a line break. */
function endsExpression(tokens: readonly Token[]): boolean {
  const last = tokens[tokens.length - 1];
  return last !== undefined && (last.kind === 'ident' || last.kind === 'string' || last.kind === 'rparen');
}

export function tokenize(rule: string): LexResult {
  const tokens: Token[] = [];
  let i = 0;
  const n = rule.length;
  while (i < n) {
    const c = rule.charCodeAt(i);
    // Go's scanner treats exactly these as white space between tokens.
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (c === 10) {
      // Go's scanner inserts a semicolon at a line break after an identifier, a string or `)`,
      // which ParseExpr takes only at the very end: a rule written over lines (a YAML `|` block)
      // with `&&` starting the next line is a syntax error in Traefik (go/scanner, then
      // go/parser ParseExprFrom), its router disabled; so here.
      if (endsExpression(tokens) && !blankFrom(rule, i + 1)) return err(LINE_BREAK, i);
      i++;
      continue;
    }
    // Go's comments, which go/scanner skips (Traefik accepts ``Host(`a`) /* www */``).
    if (c === 47 && (rule.charCodeAt(i + 1) === 47 || rule.charCodeAt(i + 1) === 42)) {
      const comment = skipComment(rule, i);
      if (comment.end === -1) return err('comment not terminated', i);
      if (comment.newline && endsExpression(tokens) && !blankFrom(rule, comment.end))
        return err(LINE_BREAK, i);
      i = comment.end;
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
        const r = readGoQuoted(rule, start);
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
