/**
 * Traefik's error for a rule it refuses, word for word, found by reading the rule as Traefik does
 * rather than from our own parser's verdict:
 *
 * 1. Go's go/parser.ParseExpr (vulcand/predicate's Parse starts there): a syntax error is Go's
 *    scanner.ErrorList text, `L:C: msg` (line, byte column) of the first error, `(and N more
 *    errors)` after it, as Go's recovery finds them (every scanner error; a parser error only on
 *    a line without one);
 * 2. vulcand/predicate's parse of the Go tree (parse.go: `unsupported function: F`, `x is not
 *    defined`, `example.com is not defined`, `*ast.ParenExpr is not supported`, `== is not
 *    supported`, `unsupported function argument type: 'CHAR'`, `expected identifier, got:
 *    *ast.CallExpr`), rules.NewParser's functions building the
 *    rules.Tree (pkg/rules/parser.go; `!` inverts, De Morgan);
 * 3. the muxer's addRule (pkg/muxer/http/mux.go, pkg/muxer/tcp/mux.go): rules.CheckRule (`no args
 *    for matcher M`, `empty args for matcher M, [a ]`), the argument count, then the matcher's own
 *    check (pkg/muxer/http/matcher.go, pkg/muxer/tcp/matcher.go: a path without `/`, a non-ASCII
 *    host, Go's regexp errors, pkg/ip/checker.go's CIDR errors with Go's net/netip texts, HostSNI's
 *    host check, ALPN's `acme-tls/1`).
 *
 * A value of another Go type is reflect's panic that predicate's callFunction recovers (`reflect:
 * cannot use int as type string in Call`), an index predicate's `properties are not supported`.
 * Undefined where the rule uses what this reading does not follow (Go's keywords that start a
 * type or function literal, composite literals, slices, assignments, an unterminated comment,
 * hex floats and numbers go/scanner refuses, NUL or a byte order mark; a `\x` byte past ASCII in
 * a string): the caller then keeps our own words. Computed when the API is asked, never per
 * request.
 */

import { domainToASCII } from 'node:url';
import { traefikIpCheckerError } from '../core/go-netip.ts';
import { goAtoiError, goQuote } from '../core/go-string.ts';
import { goRegexpError, goRegexpErrorText } from '../core/re2/go-errors.ts';
import { MUX_DEFAULT_PATTERN, muxTemplateParts, quoteMeta } from '../router/rule/mux-template.ts';
import { matcherSpellings } from '../router/rule/parser.ts';
import { isAscii } from '../router/rule/text.ts';

// ---------------------------------------------------------------------------------------------
// Go's scanner (go/scanner), for the tokens a rule uses.

type Kind =
  | 'IDENT'
  | 'STRING'
  | 'CHAR'
  | 'LPAREN'
  | 'RPAREN'
  | 'LBRACK'
  | 'RBRACK'
  | 'COMMA'
  | 'INT'
  | 'FLOAT'
  | 'IMAG'
  | 'LAND'
  | 'LOR'
  /** Go's other binary (or unary) operators: `==`, `-`, `&`, `|`…, the operator in `lit`. */
  | 'OP'
  | 'NOT'
  | 'PERIOD'
  | 'COLON'
  | 'SEMI'
  /** A Go keyword other than those that start a type or function literal (not followed). */
  | 'KEYWORD'
  | 'EOF'
  | 'ILLEGAL';

interface Tok {
  readonly kind: Kind;
  /** UTF-16 offset in the rule. */
  readonly pos: number;
  /** The literal's source text (IDENT, STRING, CHAR, INT, FLOAT, ILLEGAL), an OP's operator; `\n` for an inserted semicolon. */
  readonly lit: string;
  /** A STRING's value. */
  readonly value?: string;
  /** The scanner's errors at this token (reported when the parser reaches it). */
  readonly errors?: readonly { readonly pos: number; readonly msg: string }[];
}

/** What this reading does not follow: the caller keeps our words. */
class Unsupported extends Error {}

const KEYWORDS = new Set(
  'break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var'.split(
    ' ',
  ),
);

const TYPE_KEYWORDS = new Set(['func', 'map', 'chan', 'struct', 'interface']);

/** The keywords after which go/scanner inserts a semicolon at a newline. */
const SEMI_KEYWORDS = new Set(['break', 'continue', 'fallthrough', 'return']);

/** go/parser's stmtStart: the keywords its advance() stops at after a missing operand. */
const STMT_START = new Set(
  'break const continue defer fallthrough for go goto if return select switch type var'.split(' '),
);

/** Go's %#U of a rune: `U+201C '“'`, or `U+00A0` alone for one strconv.IsPrint refuses. */
function hashU(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const u = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return cp === 0x20 || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch) ? `${u} '${ch}'` : u;
}

/** Go's operators a rule may hold; Unsupported for Go's others (assignments, brackets, `<-`…). */
function operator(src: string, i: number): { kind: Kind; text: string } | undefined {
  const three = src.slice(i, i + 3);
  const two = src.slice(i, i + 2);
  if (['<<=', '>>=', '&^=', '...'].includes(three)) throw new Unsupported();
  if (['+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', ':=', '++', '--', '<-'].includes(two)) {
    throw new Unsupported();
  }
  if (two === '&&') return { kind: 'LAND', text: two };
  if (two === '||') return { kind: 'LOR', text: two };
  if (['&^', '<<', '>>', '==', '!=', '<=', '>='].includes(two)) return { kind: 'OP', text: two };
  const c = src[i]!;
  if ('&|+-*/%^<>'.includes(c)) return { kind: 'OP', text: c };
  if (c === '!') return { kind: 'NOT', text: c };
  if (c === ':') return { kind: 'COLON', text: c };
  if (c === '.') return { kind: 'PERIOD', text: c };
  if ('=~{};'.includes(c)) throw new Unsupported();
  return undefined;
}

function scan(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let insertSemi = false;
  const n = src.length;
  for (;;) {
    while (i < n) {
      const c = src[i]!;
      if (c === ' ' || c === '\t' || c === '\r' || (c === '\n' && !insertSemi)) i++;
      else break;
    }
    if (i >= n) {
      if (insertSemi) toks.push({ kind: 'SEMI', pos: n, lit: '\n' });
      toks.push({ kind: 'EOF', pos: n, lit: '' });
      return toks;
    }
    const start = i;
    const c = src[i]!;
    if (c === '\n') {
      toks.push({ kind: 'SEMI', pos: i, lit: '\n' });
      insertSemi = false;
      i++;
      continue;
    }
    if (/^[\p{L}_]/u.test(String.fromCodePoint(src.codePointAt(i)!))) {
      const m = /^[\p{L}_][\p{L}\p{Nd}_]*/u.exec(src.slice(i))!;
      const word = m[0];
      i += word.length;
      if (KEYWORDS.has(word)) {
        // go/parser reads these as types or function literals: not followed.
        if (TYPE_KEYWORDS.has(word)) throw new Unsupported();
        toks.push({ kind: 'KEYWORD', pos: start, lit: word });
        insertSemi = SEMI_KEYWORDS.has(word);
        continue;
      }
      toks.push({ kind: 'IDENT', pos: start, lit: word });
      insertSemi = true;
      continue;
    }
    if (c === '/' && (src[i + 1] === '/' || src[i + 1] === '*')) {
      // A comment: go/scanner inserts the semicolon first when the comments end the line, then
      // skips them ("newline consumed").
      if (insertSemi && findLineEnd(src, i)) toks.push({ kind: 'SEMI', pos: i, lit: '\n' });
      insertSemi = false;
      if (src[i + 1] === '/') {
        const nl = src.indexOf('\n', i);
        i = nl === -1 ? n : nl;
      } else {
        const close = src.indexOf('*/', i + 2);
        // Not terminated: go/scanner's error at the end, not followed.
        if (close === -1) throw new Unsupported();
        i = close + 2;
      }
      continue;
    }
    const semiBefore: boolean = insertSemi;
    insertSemi = false;
    switch (c) {
      case '`': {
        const end = src.indexOf('`', i + 1);
        if (end < 0) {
          toks.push({
            kind: 'STRING',
            pos: start,
            lit: src.slice(start),
            errors: [{ pos: start, msg: 'raw string literal not terminated' }],
          });
          i = n;
        } else {
          const raw = src.slice(i + 1, end).replaceAll('\r', '');
          toks.push({ kind: 'STRING', pos: start, lit: `\`${raw}\``, value: raw });
          i = end + 1;
        }
        insertSemi = true;
        continue;
      }
      case '"':
      case "'": {
        const q = quoted(src, i);
        toks.push({
          kind: c === '"' ? 'STRING' : 'CHAR',
          pos: start,
          lit: src.slice(start, q.end),
          ...(q.value === undefined ? {} : { value: q.value }),
          ...(q.errors.length === 0 ? {} : { errors: q.errors }),
        });
        i = q.end;
        insertSemi = true;
        continue;
      }
      case '(':
        toks.push({ kind: 'LPAREN', pos: start, lit: '' });
        i++;
        continue;
      case ')':
        toks.push({ kind: 'RPAREN', pos: start, lit: '' });
        i++;
        insertSemi = true;
        continue;
      case ',':
        toks.push({ kind: 'COMMA', pos: start, lit: '' });
        i++;
        continue;
      case '[':
        toks.push({ kind: 'LBRACK', pos: start, lit: '' });
        i++;
        continue;
      case ']':
        toks.push({ kind: 'RBRACK', pos: start, lit: '' });
        i++;
        insertSemi = true;
        continue;
    }
    if ((c >= '0' && c <= '9') || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const n = goNumber(src.slice(i));
      toks.push({ kind: n.kind, pos: start, lit: n.lit });
      i += n.lit.length;
      insertSemi = true;
      continue;
    }
    const op = operator(src, i);
    if (op !== undefined) {
      toks.push({ kind: op.kind, pos: start, lit: op.text });
      i += op.text.length;
      continue;
    }
    // Anything else is an illegal character to Go's scanner (`@`, `#`, `$`, `?`, `\`…).
    const ch = String.fromCodePoint(src.codePointAt(i)!);
    // NUL, a byte order mark, a lone surrogate (invalid UTF-8): go/scanner's other texts.
    if (ch === '\0' || ch === '\ufeff' || /^[\ud800-\udfff]$/.test(ch)) throw new Unsupported();
    const u = hashU(ch);
    toks.push({
      kind: 'ILLEGAL',
      pos: start,
      lit: ch,
      errors: [{ pos: start, msg: `illegal character ${u}` }],
    });
    i += ch.length;
    // go/scanner keeps insertSemi across an illegal character.
    insertSemi = semiBefore;
  }
}

type ScanError = { pos: number; msg: string };

/**
 * go/scanner findLineEnd at the `/` of a comment: whether the comments there end the line (or
 * the text), so that a semicolon is due before them.
 */
function findLineEnd(src: string, i: number): boolean {
  let j = i + 1;
  while (src[j] === '/' || src[j] === '*') {
    if (src[j] === '/') return true;
    j++;
    while (j < src.length) {
      const ch = src[j];
      if (ch === '\n') return true;
      j++;
      if (ch === '*' && src[j] === '/') {
        j++;
        break;
      }
    }
    while (src[j] === ' ' || src[j] === '\t' || src[j] === '\r') j++;
    if (j >= src.length || src[j] === '\n') return true;
    if (src[j] !== '/') return false;
    j++;
  }
  return false;
}

/** Go's decimal digits with `_` separators between them. */
const DIGITS = '[0-9](?:_?[0-9])*';
/** go/scanner's decimal and prefixed integers and decimal floats, well formed. */
const GO_NUMBER = new RegExp(
  `^(?:(0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+)|(${DIGITS})(\\.(?:${DIGITS})?)?|(\\.${DIGITS}))` +
    `([eE][+-]?${DIGITS})?(i?)(?![0-9a-zA-Z_.])`,
);

/**
 * go/scanner scanNumber for Go's well-formed numbers: `12`, `012`, `1_000`, `0x1f`, `0o17`,
 * `0b101` (INT), `1.5`, `.5`, `1.`, `1e3`, `1_0.5` (FLOAT), any of them with `i` (IMAG). What
 * scanNumber refuses (`1__0`, `0x`, an octal with 8 or 9), hex floats and a number a letter
 * follows are not followed.
 */
function goNumber(text: string): { kind: 'INT' | 'FLOAT' | 'IMAG'; lit: string } {
  const m = GO_NUMBER.exec(text);
  if (m === null) throw new Unsupported();
  const [lit, prefixed, int, frac, dotted, exp, imag] = m;
  if (prefixed !== undefined && exp !== undefined) throw new Unsupported();
  const isInt = dotted === undefined && frac === undefined && exp === undefined;
  if (imag === 'i') return { kind: 'IMAG', lit: lit! };
  if (isInt && int !== undefined && /^0[0-9_]*[89]/.test(int)) throw new Unsupported();
  return { kind: isInt ? 'INT' : 'FLOAT', lit: lit! };
}

/** go/scanner digitVal. */
function digitVal(c: string | undefined): number {
  if (c === undefined) return 16;
  if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48;
  if (c >= 'a' && c <= 'f') return c.charCodeAt(0) - 87;
  if (c >= 'A' && c <= 'F') return c.charCodeAt(0) - 55;
  return 16;
}

/**
 * go/scanner scanEscape at `j` (the character after the backslash): where it stops (at the
 * offending character when it fails), the code point (a byte for `\x` and octal), or its error.
 */
function scanEscape(
  src: string,
  j: number,
  quote: string,
): { end: number; cp?: number; byte?: boolean; error?: ScanError } {
  const offs = j;
  const c = src[j];
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
  if (c !== undefined && (simple[c] !== undefined || c === quote)) {
    return { end: j + 1, cp: c === quote ? quote.charCodeAt(0) : simple[c]! };
  }
  let n: number;
  let base: number;
  let max: number;
  if (c !== undefined && c >= '0' && c <= '7') [n, base, max] = [3, 8, 255];
  else if (c === 'x') [n, base, max, j] = [2, 16, 255, j + 1];
  else if (c === 'u') [n, base, max, j] = [4, 16, 0x10ffff, j + 1];
  else if (c === 'U') [n, base, max, j] = [8, 16, 0x10ffff, j + 1];
  else {
    const msg = c === undefined ? 'escape sequence not terminated' : 'unknown escape sequence';
    return { end: j, error: { pos: offs, msg } };
  }
  let x = 0;
  for (; n > 0; n--, j++) {
    const d = digitVal(src[j]);
    if (d >= base) {
      if (src[j] === undefined) return { end: j, error: { pos: j, msg: 'escape sequence not terminated' } };
      const u = hashU(String.fromCodePoint(src.codePointAt(j)!));
      return { end: j, error: { pos: j, msg: `illegal character ${u} in escape sequence` } };
    }
    x = x * base + d;
  }
  if (x > max || (x >= 0xd800 && x < 0xe000)) {
    return { end: j, error: { pos: offs, msg: 'escape sequence is invalid Unicode code point' } };
  }
  return { end: j, cp: x, byte: max === 255 };
}

/**
 * go/scanner scanString (`"`) or scanRune (`'`) at `start`: where the literal ends, its errors
 * (each one Go reports), and its value when it has no error and holds text only (a `\x` or octal
 * byte past ASCII would make a string JS does not hold: no value).
 */
function quoted(src: string, start: number): { end: number; value?: string; errors: ScanError[] } {
  const quote = src[start]!;
  const errors: ScanError[] = [];
  let j = start + 1;
  let value = '';
  let opaque = false;
  let runes = 0;
  let valid = true;
  for (;;) {
    const c = src[j];
    if (c === undefined || c === '\n') {
      if (quote === '"') errors.push({ pos: start, msg: 'string literal not terminated' });
      else if (valid) errors.push({ pos: start, msg: 'rune literal not terminated' });
      valid = false;
      break;
    }
    const ch = String.fromCodePoint(src.codePointAt(j)!);
    j += ch.length;
    if (ch === quote) break;
    runes++;
    if (ch !== '\\') {
      value += ch;
      continue;
    }
    const e = scanEscape(src, j, quote);
    j = e.end;
    if (e.error !== undefined) {
      errors.push(e.error);
      valid = false;
    } else if (e.byte === true && e.cp! > 0x7f) {
      opaque = true;
    } else {
      value += String.fromCodePoint(e.cp!);
    }
  }
  if (quote === "'" && valid && runes !== 1) errors.push({ pos: start, msg: 'illegal rune literal' });
  return { end: j, errors, ...(errors.length === 0 && !opaque ? { value } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Go's parser (go/parser ParseExpr), for the expressions a rule is made of.

export type Expr =
  | { readonly t: 'ident'; readonly name: string }
  /** `value`: a string's (undefined when JS cannot hold it), a number's source. */
  | {
      readonly t: 'lit';
      readonly kind: 'STRING' | 'CHAR' | 'INT' | 'FLOAT' | 'IMAG';
      readonly value: string | undefined;
    }
  | { readonly t: 'paren'; readonly x: Expr }
  | { readonly t: 'not'; readonly x: Expr }
  /** Go's other unary operators (`-x`, `+x`, `^x`, `&x`), which predicate refuses. */
  | { readonly t: 'unary'; readonly op: string; readonly x: Expr }
  | { readonly t: 'star'; readonly x: Expr }
  | { readonly t: 'sel'; readonly x: Expr; readonly name: string }
  | { readonly t: 'binary'; readonly op: string; readonly x: Expr; readonly y: Expr }
  | { readonly t: 'call'; readonly fun: Expr; readonly args: readonly Expr[] }
  /** `x[i]`: an index (slices, type instances and composite literals are not followed). */
  | { readonly t: 'index'; readonly x: Expr; readonly index: Expr }
  /** What go/parser makes of a missing operand (only with errors, never read). */
  | { readonly t: 'bad' };

/** go/token precedences of Go's binary operators; `&&` and `||` are predicate's and/or. */
function precedence(t: Tok): number {
  if (t.kind === 'LOR') return 1;
  if (t.kind === 'LAND') return 2;
  if (t.kind !== 'OP') return 0;
  if (['==', '!=', '<', '<=', '>', '>='].includes(t.lit)) return 3;
  if (['+', '-', '|', '^'].includes(t.lit)) return 4;
  return 5;
}

const TOKEN_TEXT: Record<Kind, string> = {
  IDENT: 'IDENT',
  STRING: 'STRING',
  CHAR: 'CHAR',
  INT: 'INT',
  FLOAT: 'FLOAT',
  IMAG: 'IMAG',
  LPAREN: '(',
  RPAREN: ')',
  LBRACK: '[',
  RBRACK: ']',
  COMMA: ',',
  LAND: '&&',
  LOR: '||',
  OP: '',
  NOT: '!',
  PERIOD: '.',
  COLON: ':',
  SEMI: ';',
  KEYWORD: '',
  EOF: 'EOF',
  ILLEGAL: 'ILLEGAL',
};

const LITERALS: readonly Kind[] = ['IDENT', 'STRING', 'CHAR', 'INT', 'FLOAT', 'IMAG'];

/** One of Go's syntax errors: `pos` a UTF-16 offset, made `line:col` (byte column) when told. */
interface GoError {
  readonly pos: number;
  readonly line: number;
  readonly msg: string;
}

/** go/parser's bailout: more than ten errors stop it. */
class Bailout extends Error {}

/**
 * go/parser for the expressions a rule is made of, recovering as Go's does (errorExpected,
 * expect's `make progress`, atComma's inserted comma, advance to the end after a missing
 * operand), so that its error list is Go's: the scanner's errors all, the parser's dropped on a
 * line that already has one (go/parser error, without AllErrors).
 */
class GoParser {
  readonly #toks: Tok[];
  readonly #lineOf: (pos: number) => number;
  #k = -1;
  #syncPos = 0;
  #syncCnt = 0;
  tok!: Tok;
  readonly errors: GoError[] = [];

  constructor(toks: Tok[], lineOf: (pos: number) => number) {
    this.#toks = toks;
    this.#lineOf = lineOf;
    this.next();
  }

  next(): void {
    this.#k = Math.min(this.#k + 1, this.#toks.length - 1);
    this.tok = this.#toks[this.#k]!;
    // go/scanner reports through its error handler, which adds every error.
    for (const e of this.tok.errors ?? [])
      this.errors.push({ pos: e.pos, line: this.#lineOf(e.pos), msg: e.msg });
  }

  /** go/parser error: dropped on the line of the last error; past ten, a bailout. */
  error(pos: number, msg: string): void {
    const line = this.#lineOf(pos);
    const n = this.errors.length;
    if (n > 0 && this.errors[n - 1]!.line === line) return;
    if (n > 10) throw new Bailout();
    this.errors.push({ pos, line, msg });
  }

  /** go/parser errorExpected: `expected X, found Y` at the current token. */
  errorExpected(what: string): void {
    const t = this.tok;
    let found: string;
    if (t.kind === 'SEMI' && t.lit === '\n') found = 'newline';
    else if (LITERALS.includes(t.kind)) found = t.lit;
    else found = `'${t.kind === 'OP' || t.kind === 'KEYWORD' ? t.lit : TOKEN_TEXT[t.kind]}'`;
    this.error(t.pos, `expected ${what}, found ${found}`);
  }

  /** go/parser expect (and expect2): the error if another token, and progress either way. */
  expect(kind: Kind): void {
    if (this.tok.kind !== kind) this.errorExpected(`'${TOKEN_TEXT[kind]}'`);
    this.next();
  }

  parseExpr(prec1 = 1): Expr {
    let x = this.parseUnary();
    for (;;) {
      const t = this.tok;
      const prec = precedence(t);
      if (prec < prec1) return x;
      this.next();
      const y = this.parseExpr(prec + 1);
      x = { t: 'binary', op: t.kind === 'LAND' ? 'and' : t.kind === 'LOR' ? 'or' : t.lit, x, y };
    }
  }

  parseUnary(): Expr {
    const t = this.tok;
    if (t.kind === 'NOT') {
      this.next();
      return { t: 'not', x: this.parseUnary() };
    }
    if (t.kind === 'OP' && ['+', '-', '^', '&'].includes(t.lit)) {
      this.next();
      return { t: 'unary', op: t.lit, x: this.parseUnary() };
    }
    if (t.kind === 'OP' && t.lit === '*') {
      this.next();
      return { t: 'star', x: this.parseUnary() };
    }
    // parsePrimaryExpr: calls and selectors.
    let x = this.parseOperand();
    for (;;) {
      if (this.kind() === 'LPAREN') {
        x = this.parseCall(x);
      } else if (this.kind() === 'LBRACK') {
        // parseIndexOrSliceOrInstance for a plain index only, read without an error.
        this.next();
        const errors = this.errors.length;
        if (this.kind() === 'RBRACK' || this.kind() === 'COLON') throw new Unsupported();
        const index = this.parseExpr();
        if (this.errors.length !== errors || this.kind() !== 'RBRACK') throw new Unsupported();
        this.next();
        x = { t: 'index', x, index };
      } else if (this.kind() === 'PERIOD') {
        this.next();
        if (this.kind() === 'IDENT') {
          x = { t: 'sel', x, name: this.tok.lit };
          this.next();
        } else {
          // A type assertion, `x.(T)`, is not followed here.
          if (this.kind() === 'LPAREN') throw new Unsupported();
          this.errorExpected('selector or type assertion');
          this.next();
          x = { t: 'sel', x, name: '_' };
        }
      } else {
        return x;
      }
    }
  }

  parseOperand(): Expr {
    const t = this.tok;
    switch (t.kind) {
      case 'IDENT':
        this.next();
        return { t: 'ident', name: t.lit };
      case 'STRING':
      case 'CHAR':
      case 'INT':
      case 'FLOAT':
      case 'IMAG':
        this.next();
        return { t: 'lit', kind: t.kind, value: t.kind === 'STRING' || t.kind === 'CHAR' ? t.value : t.lit };
      case 'LPAREN': {
        this.next();
        const x = this.parseExpr();
        this.expect('RPAREN');
        return { t: 'paren', x };
      }
      // An array or slice type (`[]int{1}`): not followed.
      case 'LBRACK':
        throw new Unsupported();
      default:
        this.errorExpected('operand');
        this.advance();
        return { t: 'bad' };
    }
  }

  /**
   * go/parser advance(stmtStart): on to the next statement keyword (or the end), where it stops
   * if the parser made progress since its last stop, or for ten stops without progress.
   */
  advance(): void {
    for (; this.kind() !== 'EOF'; this.next()) {
      if (this.kind() !== 'KEYWORD' || !STMT_START.has(this.tok.lit)) continue;
      // token.Pos: the offset plus the file's base, 1.
      const pos = this.tok.pos + 1;
      if (pos === this.#syncPos && this.#syncCnt < 10) {
        this.#syncCnt++;
        return;
      }
      if (pos > this.#syncPos) {
        this.#syncPos = pos;
        this.#syncCnt = 0;
        return;
      }
    }
  }

  /** The current token's kind (read afresh: next() moves it). */
  kind(): Kind {
    return this.tok.kind;
  }

  /** The current token is a semicolon the scanner inserted at a newline or the end. */
  atNewline(): boolean {
    return this.tok.kind === 'SEMI' && this.tok.lit === '\n';
  }

  parseCall(fun: Expr): Expr {
    this.next();
    const args: Expr[] = [];
    while (this.kind() !== 'RPAREN' && this.kind() !== 'EOF') {
      args.push(this.parseExpr());
      // go/parser atComma: a missing comma is reported and "inserted"; the token is skipped.
      if (this.kind() !== 'COMMA') {
        if (this.kind() === 'RPAREN') break;
        const nl = this.atNewline() ? ' before newline' : '';
        this.error(this.tok.pos, `missing ','${nl} in argument list`);
      }
      this.next();
    }
    // go/parser expectClosing.
    if (this.kind() !== 'RPAREN' && this.atNewline()) {
      this.error(this.tok.pos, "missing ',' before newline in argument list");
      this.next();
    }
    this.expect('RPAREN');
    return { t: 'call', fun, args };
  }
}

/** go/parser.ParseExpr: the tree, or Go's error text (`1:13: expected operand, found 'EOF'`). */
function parseGoExpr(rule: string): { ok: true; x: Expr } | { ok: false; text: string } {
  const toks = scan(rule);
  // token.File: a line starts after each newline, but not after one that ends the text.
  const starts = [0];
  for (let i = rule.indexOf('\n'); i >= 0 && i + 1 < rule.length; i = rule.indexOf('\n', i + 1)) {
    starts.push(i + 1);
  }
  const lineOf = (pos: number): number => {
    let line = 1;
    while (line < starts.length && starts[line]! <= pos) line++;
    return line;
  };
  const p = new GoParser(toks, lineOf);
  let x: Expr = { t: 'bad' };
  try {
    x = p.parseExpr();
    if (p.atNewline()) p.next();
    p.expect('EOF');
  } catch (e) {
    if (!(e instanceof Bailout)) throw e;
  }
  if (p.errors.length === 0) return { ok: true, x };
  // ErrorList.Sort, then Error(): the first, and how many more.
  const errors = [...p.errors].sort((a, b) => a.pos - b.pos || (a.msg < b.msg ? -1 : a.msg > b.msg ? 1 : 0));
  const first = errors[0]!;
  const col = Buffer.byteLength(rule.slice(starts[first.line - 1]!, first.pos), 'utf8') + 1;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more errors)` : '';
  return { ok: false, text: `${first.line}:${col}: ${first.msg}${more}` };
}

/**
 * go/parser.ParseExpr of an expression: its tree, or Go's error text (`1:23: expected operand,
 * found 'EOF'`), which vulcand/predicate's Parse returns as is; undefined when this reading
 * cannot tell (a circuit breaker's or buffering's expression: traefik-oxy-errors.ts).
 */
export function goParseExpr(expr: string): { ok: true; x: Expr } | { ok: false; text: string } | undefined {
  try {
    return parseGoExpr(expr);
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// vulcand/predicate over rules.NewParser's functions: the rules.Tree.

type Tree =
  | { readonly op: 'and' | 'or'; readonly left: Tree; readonly right: Tree }
  | {
      readonly op: 'leaf';
      readonly matcher: string;
      readonly not: boolean;
      readonly values: readonly string[];
    };

/** Traefik's rules.invert: `!` on an operator swaps it and inverts both sides (De Morgan). */
function invert(t: Tree): Tree {
  if (t.op === 'leaf') return { ...t, not: !t.not };
  return { op: t.op === 'and' ? 'or' : 'and', left: invert(t.left), right: invert(t.right) };
}

/** One of vulcand/predicate's errors (its text as the error's message). */
export class PredicateError extends Error {}

/** Go's %T of each go/ast node. */
export const GO_TYPE: Record<Expr['t'], string> = {
  ident: '*ast.Ident',
  lit: '*ast.BasicLit',
  paren: '*ast.ParenExpr',
  not: '*ast.UnaryExpr',
  unary: '*ast.UnaryExpr',
  star: '*ast.StarExpr',
  sel: '*ast.SelectorExpr',
  binary: '*ast.BinaryExpr',
  call: '*ast.CallExpr',
  index: '*ast.IndexExpr',
  bad: '*ast.BadExpr',
};

/** A number predicate's literalToValue makes: strconv.Atoi's int or ParseFloat's float64. */
export interface GoNumber {
  readonly go: 'int' | 'float64';
  readonly value: number;
}

/** A value predicate's parse makes: a rules.Tree, or a literal's Go value. */
type Value = Tree | string | GoNumber;

/** Go's %T (and reflect's type text) of a value of a rule. */
function ruleGoType(v: Value): string {
  if (typeof v === 'string') return 'string';
  return 'go' in v ? v.go : 'rules.TreeBuilder';
}

function isTree(v: Value): v is Tree {
  return typeof v === 'object' && !('go' in v);
}

/**
 * predicate's literalToValue for a number: Atoi (an INT) or ParseFloat (a FLOAT), or its
 * `failed to parse argument: L, error: strconv.Atoi: parsing "L": value out of range`.
 */
export function goNumberLiteral(kind: 'INT' | 'FLOAT' | 'IMAG', lit: string): GoNumber {
  // literalToValue reads no other kind.
  if (kind === 'IMAG') throw new PredicateError("unsupported function argument type: 'IMAG'");
  const fail = (e: string) => new PredicateError(`failed to parse argument: ${lit}, error: ${e}`);
  if (kind === 'INT') {
    // strconv.Atoi reads base 10 digits only (`012` is 12; `0x10`, `1_000` are invalid syntax),
    // an int64 here.
    const e = goAtoiError(lit);
    if (e !== undefined) throw fail(e);
    return { go: 'int', value: Number(lit) };
  }
  // ParseFloat takes Go's `_` separators.
  const f = Number(lit.replaceAll('_', ''));
  if (!Number.isFinite(f)) throw fail(`strconv.ParseFloat: parsing ${goQuote(lit)}: value out of range`);
  return { go: 'float64', value: f };
}

/** predicate's parse: a Value, or a thrown PredicateError / Unsupported. */
function predicate(x: Expr, fns: Map<string, string>): Value {
  switch (x.t) {
    case 'binary': {
      const a = predicate(x.x, fns);
      const b = predicate(x.y, fns);
      // getJoinFunction: no function for Go's other operators.
      if (x.op !== 'and' && x.op !== 'or') throw new PredicateError(`${x.op} is not supported`);
      // andFunc/orFunc(left, right TreeBuilder) called by reflect (callFunction recovers its panic).
      for (const v of [a, b]) if (!isTree(v)) throw new PredicateError(reflectArgError(v));
      return { op: x.op, left: a as Tree, right: b as Tree };
    }
    case 'paren':
      return predicate(x.x, fns);
    case 'unary':
      // getJoinFunction before the operand is read.
      throw new PredicateError(`${x.op} is not supported`);
    case 'not': {
      const a = predicate(x.x, fns);
      if (!isTree(a)) throw new PredicateError(reflectArgError(a));
      return invert(a);
    }
    default:
      return evaluate(x, fns);
  }
}

/** reflect's panic for a non-TreeBuilder given to andFunc, orFunc or notFunc. */
function reflectArgError(v: Value): string {
  return `reflect: Call using ${ruleGoType(v)} as type rules.TreeBuilder`;
}

/**
 * The name of a call's function as vulcand/predicate reads it (getIdentifier, getSelector):
 * `F` or `pkg.F`; anything else is its error.
 */
export function predicateCallName(fun: Expr): string {
  if (fun.t === 'ident') return fun.name;
  if (fun.t === 'sel' && fun.x.t === 'ident') return `${fun.x.name}.${fun.name}`;
  if (fun.t === 'sel') throw new PredicateError(`expected selector identifier, got: ${GO_TYPE[fun.x.t]}`);
  throw new PredicateError(`expected identifier, got: ${GO_TYPE[fun.t]}`);
}

/** predicate's evaluateSelector: `a.b.c`, or its error for a selector on anything else. */
export function selector(x: Extract<Expr, { t: 'sel' }>): string {
  const fields = [x.name];
  let base: Expr = x.x;
  while (base.t === 'sel') {
    fields.unshift(base.name);
    base = base.x;
  }
  if (base.t !== 'ident') throw new PredicateError(`unsupported selector type: ${GO_TYPE[base.t]}`);
  fields.unshift(base.name);
  return fields.join('.');
}

/** predicate's evaluateExpr. */
function evaluate(x: Expr, fns: Map<string, string>): Value {
  switch (x.t) {
    case 'lit':
      // literalToValue: strings, ints and floats; any other kind is refused.
      if (x.kind === 'CHAR') throw new PredicateError("unsupported function argument type: 'CHAR'");
      if (x.value === undefined) throw new Unsupported();
      return x.kind === 'STRING' ? x.value : goNumberLiteral(x.kind, x.value);
    case 'ident':
      throw new PredicateError(`${x.name} is not defined`);
    case 'sel':
      throw new PredicateError(`${selector(x)} is not defined`);
    case 'index':
      // evaluateExpr: no GetProperty in Traefik's definition (trace.NotFound).
      throw new PredicateError('properties are not supported');
    case 'call': {
      const name = predicateCallName(x.fun);
      const matcher = fns.get(name);
      if (matcher === undefined) throw new PredicateError(`unsupported function: ${name}`);
      // evaluateArguments reads them all, then reflect calls the matcher's func(...string).
      const args = x.args.map((a) => evaluate(a, fns));
      const bad = args.find((v) => typeof v !== 'string');
      if (bad !== undefined)
        throw new PredicateError(`reflect: cannot use ${ruleGoType(bad)} as type string in Call`);
      return { op: 'leaf', matcher, not: false, values: args as string[] };
    }
    default:
      throw new PredicateError(`${GO_TYPE[x.t]} is not supported`);
  }
}

/** Parsed by predicate: the Tree, or predicate's error, or `notTree` for a value that is no rule. */
function readRule(
  rule: string,
  matchers: readonly string[],
): { tree: Tree } | { goError: string } | { predicateError: string } | { notTree: true } {
  const parsed = parseGoExpr(rule);
  if (!parsed.ok) return { goError: parsed.text };
  try {
    const t = predicate(parsed.x, matcherSpellings(matchers));
    return isTree(t) ? { tree: t } : { notTree: true };
  } catch (e) {
    if (e instanceof PredicateError) return { predicateError: e.message };
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// The matchers' own checks.

/** regexp.Compile's error text for `pattern`, or undefined when Go compiles it. */
function goRegexp(pattern: string): string | undefined {
  const e = goRegexpError(pattern);
  return e === undefined ? undefined : goRegexpErrorText(e);
}

const HTTP_MATCHERS = {
  ClientIP: [1],
  Method: [1],
  Host: [1],
  HostRegexp: [1],
  Path: [1],
  PathRegexp: [1],
  PathPrefix: [1],
  Header: [2],
  HeaderRegexp: [2],
  Query: [1, 2],
  QueryRegexp: [1, 2],
} as const satisfies Record<string, readonly number[]>;

/** pkg/muxer/http/matcher.go: the matcher's own error for its values, after the count check. */
function httpMatcherError(matcher: string, v: readonly string[]): string | undefined {
  const a = v[0]!;
  switch (matcher) {
    case 'ClientIP': {
      const e = traefikIpCheckerError(a);
      return e === undefined ? undefined : `initializing IP checker for ClientIP matcher: ${e}`;
    }
    case 'Host':
      return isAscii(a)
        ? undefined
        : `invalid value ${goQuote(a)} for Host matcher, non-ASCII characters are not allowed`;
    case 'HostRegexp': {
      if (!isAscii(a))
        return `invalid value ${goQuote(a)} for HostRegexp matcher, non-ASCII characters are not allowed`;
      const e = goRegexp(a);
      return e === undefined ? undefined : `compiling HostRegexp matcher: ${e}`;
    }
    case 'Path':
    case 'PathPrefix':
      return a.startsWith('/') ? undefined : `path ${goQuote(a)} does not start with a '/'`;
    case 'PathRegexp': {
      // Traefik's pathRegexp says PathPrefix.
      const e = goRegexp(a);
      return e === undefined ? undefined : `compiling PathPrefix matcher: ${e}`;
    }
    case 'HeaderRegexp': {
      const e = goRegexp(v[1]!);
      return e === undefined ? undefined : `compiling HeaderRegexp matcher: ${e}`;
    }
    case 'QueryRegexp': {
      if (v.length === 1) return undefined;
      const e = goRegexp(v[1]!);
      return e === undefined ? undefined : `compiling QueryRegexp matcher: ${e}`;
    }
    default:
      return undefined;
  }
}

/** rules.CheckRule's error. */
function checkRuleError(t: Extract<Tree, { op: 'leaf' }>): string | undefined {
  if (t.values.length === 0) return `no args for matcher ${t.matcher}`;
  if (t.values.some((v) => v === '')) return `empty args for matcher ${t.matcher}, [${t.values.join(' ')}]`;
  return undefined;
}

/** pkg/muxer/http/mux.go addRule: the first error, wrapped as it wraps them. */
function httpAddRule(t: Tree): string | undefined {
  if (t.op !== 'leaf') {
    const left = httpAddRule(t.left);
    if (left !== undefined) return `error while adding rule ${t.op}: ${left}`;
    return httpAddRule(t.right);
  }
  const check = checkRuleError(t);
  if (check !== undefined) return `error while checking rule ${t.matcher}: ${check}`;
  const counts: readonly number[] = HTTP_MATCHERS[t.matcher as keyof typeof HTTP_MATCHERS];
  if (!counts.includes(t.values.length)) {
    return `error while adding rule ${t.matcher}: unexpected number of parameters; got ${t.values.length}, expected one of [${counts.join(' ')}]`;
  }
  const e = httpMatcherError(t.matcher, t.values);
  return e === undefined ? undefined : `error while adding rule ${t.matcher}: ${e}`;
}

/** Traefik v2's HTTP matchers (pkg/muxer/http matcher_v2.go httpFuncsV2), for `ruleSyntax: v2`. */
const HTTP_MATCHERS_V2 = [
  'ClientIP',
  'Method',
  'Host',
  'HostHeader',
  'HostRegexp',
  'Path',
  'PathPrefix',
  'Headers',
  'HeadersRegexp',
  'Query',
];

/** Go's `%v` of a []string: `[a b c]`. */
function goStrings(l: readonly string[]): string {
  return `[${l.join(' ')}]`;
}

/** Capturing groups in a Go regexp (`(x)`, `(?P<n>x)`, `(?<n>x)`), outside classes and escapes. */
function captures(re: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') {
      inClass = true;
      if (re[i + 1] === '^') i++;
      if (re[i + 1] === ']') i++;
    } else if (c === '(' && (re[i + 1] !== '?' || re[i + 2] === 'P' || re[i + 2] === '<')) n++;
  }
  return n;
}

/**
 * gorilla/mux newRouteRegexp's error for a template (the containous/mux fork Traefik's
 * matcher_v2.go builds its routes with): `mux: unbalanced braces in "…"`, `mux: missing name or
 * pattern in "{…}"`, Go's regexp error for a variable's `^pattern$` or for the whole pattern.
 * A variable's pattern with a capturing group makes newRouteRegexp panic: not followed.
 */
function muxTemplateError(tpl: string, typ: 'path' | 'prefix' | 'host' | 'query'): string | undefined {
  const defaultPattern = MUX_DEFAULT_PATTERN[typ === 'prefix' ? 'path' : typ];
  const parts = muxTemplateParts(tpl, defaultPattern);
  if (parts === undefined) return `mux: unbalanced braces in ${goQuote(tpl)}`;
  let pattern = '^';
  for (const [i, v] of parts.vars.entries()) {
    if (v.name === '' || v.pattern === '') return `mux: missing name or pattern in ${goQuote(v.text)}`;
    pattern += `${quoteMeta(v.raw)}(?P<v${i}>${v.pattern})`;
    const e = goRegexp(`^${v.pattern}$`);
    if (e !== undefined) return e;
    if (captures(v.pattern) > 0) throw new Unsupported();
  }
  pattern += quoteMeta(parts.tail);
  if (typ === 'query' && tpl.slice(tpl.indexOf('=') + 1) === '') pattern += defaultPattern;
  if (typ !== 'prefix') pattern += '$';
  return goRegexp(pattern);
}

/** The first error of `f` over `l`. */
function firstOf(l: readonly string[], f: (v: string) => string | undefined): string | undefined {
  for (const v of l) {
    const e = f(v);
    if (e !== undefined) return e;
  }
  return undefined;
}

/** pkg/muxer/http/matcher_v2.go: a v2 matcher's error for its values (no count check in v2). */
function httpMatcherErrorV2(matcher: string, v: readonly string[]): string | undefined {
  switch (matcher) {
    case 'Host':
    case 'HostHeader':
      return firstOf(v, (h) =>
        isAscii(h)
          ? undefined
          : `invalid value ${goQuote(h)} for "Host" matcher, non-ASCII characters are not allowed`,
      );
    case 'HostRegexp':
      return firstOf(v, (h) =>
        isAscii(h)
          ? muxTemplateError(h, 'host')
          : `invalid value ${goQuote(h)} for HostRegexp matcher, non-ASCII characters are not allowed`,
      );
    case 'ClientIP': {
      const e = firstOf(v, traefikIpCheckerError);
      return e === undefined ? undefined : `could not initialize IP Checker for "ClientIP" matcher: ${e}`;
    }
    case 'Path':
    case 'PathPrefix':
      return firstOf(v, (p) =>
        p !== '' && !p.startsWith('/')
          ? `mux: path must start with a slash, got ${goQuote(p)}`
          : muxTemplateError(p, matcher === 'Path' ? 'path' : 'prefix'),
      );
    case 'Headers':
    case 'HeadersRegexp': {
      // mux checkPairs, then (HeadersRegexp) each value's regexp.Compile in order.
      if (v.length % 2 !== 0) return `mux: number of parameters must be multiple of 2, got ${goStrings(v)}`;
      if (matcher === 'Headers') return undefined;
      return firstOf(
        v.filter((_, i) => i % 2 === 1),
        goRegexp,
      );
    }
    case 'Query': {
      // queryV2 splits each on its first `=`; mux Queries checks the count, then each `k=v`.
      const q = v.flatMap((e) => {
        const eq = e.indexOf('=');
        return eq === -1 ? [e] : [e.slice(0, eq), e.slice(eq + 1)];
      });
      if (q.length % 2 !== 0) return `mux: number of parameters must be multiple of 2, got ${goStrings(q)}`;
      for (let i = 0; i < q.length; i += 2) {
        const e = muxTemplateError(`${q[i]}=${q[i + 1]}`, 'query');
        if (e !== undefined) return e;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** pkg/muxer/http/mux.go addRule with the v2 functions. */
function httpAddRuleV2(t: Tree): string | undefined {
  if (t.op !== 'leaf') {
    const left = httpAddRuleV2(t.left);
    if (left !== undefined) return `error while adding rule ${t.op}: ${left}`;
    return httpAddRuleV2(t.right);
  }
  const check = checkRuleError(t);
  if (check !== undefined) return `error while checking rule ${t.matcher}: ${check}`;
  const e = httpMatcherErrorV2(t.matcher, t.values);
  return e === undefined ? undefined : `error while adding rule ${t.matcher}: ${e}`;
}

/**
 * Traefik's error for an HTTP router's rule, as pkg/muxer/http AddRoute returns it (`error while
 * parsing rule R: …`); undefined when Traefik accepts the rule or this reading cannot tell.
 * `syntax`: the router's ruleSyntax. A `v2` rule is read with v2's functions (SyntaxParser.parse
 * picks the parser) and matcher_v2.go's checks (gorilla/mux's template and pairs errors); with
 * none given, a rule v3 accepts is read as v2 (`core.defaultRuleSyntax`).
 */
export function traefikHttpRuleError(rule: string, syntax?: string): string | undefined {
  try {
    const parsing = `error while parsing rule ${rule}`;
    const parseStage = (matchers: readonly string[]): string | Tree => {
      const r = readRule(rule, matchers);
      // parser.parse wraps predicate's errors, AddRoute wraps parser.parse's.
      if ('goError' in r) return `${parsing}: ${parsing}: ${r.goError}`;
      if ('predicateError' in r) return `${parsing}: ${parsing}: ${r.predicateError}`;
      if ('notTree' in r) return `${parsing}: ${parsing}`;
      return r.tree;
    };
    if (syntax !== 'v2') {
      const r = parseStage(Object.keys(HTTP_MATCHERS));
      if (typeof r === 'string') return r;
      const added = httpAddRule(r);
      if (added !== undefined) return `${parsing}: error while adding rule ${rule}: ${added}`;
      if (syntax !== undefined) return undefined;
    }
    const v2 = parseStage(HTTP_MATCHERS_V2);
    if (typeof v2 === 'string') return v2;
    const added = httpAddRuleV2(v2);
    return added === undefined ? undefined : `${parsing}: error while adding rule ${rule}: ${added}`;
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// TCP rules (pkg/muxer/tcp), as the TCP router manager reports them.

const TCP_MATCHERS = ['ALPN', 'ClientIP', 'HostSNI', 'HostSNIRegexp'];

/** The host check of pkg/muxer/tcp/matcher.go hostSNI: `[[:word:].-:]+`, else its IDNA form. */
const HOST_OR_IP = /^[0-9A-Za-z_.\-:]+$/;

function tcpMatcherError(t: Extract<Tree, { op: 'leaf' }>): string | undefined {
  const check = checkRuleError(t);
  if (check !== undefined) return check;
  if (t.values.length !== 1) return `unexpected number of parameters; got ${t.values.length}, expected 1`;
  const a = t.values[0]!;
  switch (t.matcher) {
    case 'ALPN':
      return a === 'acme-tls/1'
        ? `invalid protocol value for ALPN matcher, ${goQuote(a)} is not allowed`
        : undefined;
    case 'ClientIP': {
      const e = traefikIpCheckerError(a);
      return e === undefined ? undefined : `initializing IP checker for ClientIP matcher: ${e}`;
    }
    case 'HostSNI': {
      if (a === '*' || HOST_OR_IP.test(a)) return undefined;
      // idna.Lookup.ToASCII; WHATWG's domainToASCII is close (it refuses what Lookup refuses
      // in practice: bad labels, forbidden code points).
      if (isAscii(a)) return `invalid value for HostSNI matcher, ${goQuote(a)} is not a valid hostname`;
      const ascii = domainToASCII(a);
      if (ascii !== '' && HOST_OR_IP.test(ascii)) return undefined;
      return `invalid value for HostSNI matcher, ${goQuote(a)} is not a valid hostname`;
    }
    case 'HostSNIRegexp': {
      if (!isAscii(a))
        return `invalid value for HostSNIRegexp matcher, ${goQuote(a)} is not a valid hostname`;
      const e = goRegexp(a);
      return e === undefined ? undefined : `compiling HostSNIRegexp matcher: ${e}`;
    }
    default:
      return undefined;
  }
}

/** pkg/muxer/tcp/mux.go addRule: the first error, not wrapped. */
function tcpAddRule(t: Tree): string | undefined {
  if (t.op !== 'leaf') return tcpAddRule(t.left) ?? tcpAddRule(t.right);
  return tcpMatcherError(t);
}

/**
 * Traefik's errors for a TCP router's rule (v3 syntax): `parse`, the TCP manager's
 * `invalid rule: "R" , …` of ParseHostSNI (predicate's reading, before anything else is built);
 * `add`, the muxer's `error while adding rule R: …` (its AddRoute, after the service is built).
 * Undefined when Traefik accepts the rule or this reading cannot tell.
 */
export function traefikTcpRuleError(rule: string): { parse: string } | { add: string } | undefined {
  try {
    const r = readRule(rule, TCP_MATCHERS);
    const invalid = `invalid rule: ${goQuote(rule)} , `;
    if ('goError' in r) return { parse: invalid + r.goError };
    if ('predicateError' in r) return { parse: invalid + r.predicateError };
    if ('notTree' in r) return { parse: `${invalid}error while parsing rule ${rule}` };
    const added = tcpAddRule(r.tree);
    return added === undefined ? undefined : { add: `error while adding rule ${rule}: ${added}` };
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}
