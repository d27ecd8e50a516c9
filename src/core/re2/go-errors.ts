/**
 * Go's regexp/syntax errors, as `regexp.Compile` returns them (`error parsing regexp: <code>:
 * `<expr>``), for the patterns Go refuses. A port of the checks of Go's parser (src/regexp/syntax
 * parse.go: parse, repeat, repeatIsValid, parsePerlFlags, parseEscape, parseClass,
 * parseNamedClass, parseUnicodeClass, parseRightParen), with the same order and the same `expr`
 * each error quotes, and Go 1.22's `(?<name>…)` (named captures without `P`). It builds no tree:
 * only what decides an error is kept (what sits on the parse stack, the repeat counts below a
 * `{n,m}`). Left out: `expression nests too deeply` (1000 levels), `expression too large` and
 * invalid UTF-8 (a JS string has none). Used where Traefik's words are shown (the API's `error`),
 * never per request.
 */

import { goUnicodeProperty } from './go-unicode.ts';

/** Go's ErrorCode strings (regexp/syntax). */
export const GO_RE_ERR = {
  invalidCharClass: 'invalid character class',
  invalidCharRange: 'invalid character class range',
  invalidEscape: 'invalid escape sequence',
  invalidNamedCapture: 'invalid named capture',
  invalidPerlOp: 'invalid or unsupported Perl syntax',
  invalidRepeatOp: 'invalid nested repetition operator',
  invalidRepeatSize: 'invalid repeat count',
  missingBracket: 'missing closing ]',
  missingParen: 'missing closing )',
  missingRepeatArgument: 'missing argument to repetition operator',
  trailingBackslash: 'trailing backslash at end of expression',
  unexpectedParen: 'unexpected )',
} as const;

export interface GoRegexpError {
  readonly code: string;
  readonly expr: string;
}

/** Go's `(*syntax.Error).Error()`, which regexp.Compile returns as is. */
export function goRegexpErrorText(e: GoRegexpError): string {
  return `error parsing regexp: ${e.code}: \`${e.expr}\``;
}

class GoReError extends Error {
  readonly goError: GoRegexpError;
  constructor(code: string, expr: string) {
    super(code);
    this.goError = { code, expr };
  }
}

/** A parse stack entry: `(`, `|`, or an operand with the `{n,m}` repeats it holds. */
type Item = { kind: 'lparen' } | { kind: 'vbar' } | { kind: 'operand'; node: RepNode };

/** What repeatIsValid reads of a subtree: an OpRepeat's counts (`{min,max}`), its subexpressions. */
interface RepNode {
  readonly rep?: { readonly min: number; readonly max: number };
  readonly subs: readonly RepNode[];
}

const LEAF: RepNode = { subs: [] };

/** Go's repeatIsValid: no chain of nested `{n,m}` repeats multiplies to more than `n` copies. */
function repeatIsValid(re: RepNode, n: number): boolean {
  if (re.rep !== undefined) {
    let m = re.rep.max;
    if (m === 0) return true;
    if (m < 0) m = re.rep.min;
    if (m > n) return false;
    if (m > 0) n = Math.floor(n / m);
  }
  for (const s of re.subs) if (!repeatIsValid(s, n)) return false;
  return true;
}

const isAlnum = (c: string): boolean => /^[0-9A-Za-z]$/.test(c);
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9A-Fa-f]$/.test(c);

/** The code point at the start of `t`, as a string (one or two UTF-16 units). */
function firstRune(t: string): string {
  const cp = t.codePointAt(0)!;
  return String.fromCodePoint(cp);
}

/** Go's parseInt of a repeat count: digits, no leading zero; -1 when at or over 1e8. */
function parseInt10(s: string): { n: number; rest: string } | undefined {
  const m = /^\d+/.exec(s);
  if (m === null) return undefined;
  if (m[0].length >= 2 && m[0][0] === '0') return undefined;
  let n = 0;
  for (const d of m[0]) {
    if (n >= 1e8) {
      n = -1;
      break;
    }
    n = n * 10 + Number(d);
  }
  return { n, rest: s.slice(m[0].length) };
}

/** Go's parseRepeat: `{min}`, `{min,}` (max -1), `{min,max}`; undefined when not of that form. */
function parseRepeat(s: string): { min: number; max: number; rest: string } | undefined {
  const a = parseInt10(s.slice(1));
  if (a === undefined || a.rest === '') return undefined;
  let min = a.n;
  let max: number;
  let t = a.rest;
  if (t[0] !== ',') {
    max = min;
  } else {
    t = t.slice(1);
    if (t === '') return undefined;
    if (t[0] === '}') {
      max = -1;
    } else {
      const b = parseInt10(t);
      if (b === undefined) return undefined;
      max = b.n;
      t = b.rest;
      if (max < 0) min = -1;
    }
  }
  if (t === '' || t[0] !== '}') return undefined;
  return { min, max, rest: t.slice(1) };
}

/** Go's parseUnicodeClass at `\p`/`\P`: the rest after it, or a thrown GoReError. */
function unicodeClass(s: string): string {
  const t = s.slice(2);
  if (t === '') throw new GoReError(GO_RE_ERR.invalidCharRange, s);
  let seq: string;
  let name: string;
  let rest: string;
  if (t[0] !== '{') {
    const c = firstRune(t);
    seq = s.slice(0, 2 + c.length);
    name = c;
    rest = t.slice(c.length);
  } else {
    const end = s.indexOf('}');
    if (end < 0) throw new GoReError(GO_RE_ERR.invalidCharRange, s);
    seq = s.slice(0, end + 1);
    name = s.slice(3, end);
    rest = s.slice(end + 1);
  }
  if (name.startsWith('^')) name = name.slice(1);
  if (goUnicodeProperty(name) === undefined) throw new GoReError(GO_RE_ERR.invalidCharRange, seq);
  return rest;
}

const PERL_CLASSES = new Set(['\\d', '\\D', '\\s', '\\S', '\\w', '\\W']);
const POSIX_NAMES = new Set(
  'alnum alpha ascii blank cntrl digit graph lower print punct space upper word xdigit'.split(' '),
);

/** Go's parseEscape at `\`: the escaped code point and the rest, or a thrown GoReError. */
function goEscape(s: string): { cp: number; rest: string } {
  let t = s.slice(1);
  if (t === '') throw new GoReError(GO_RE_ERR.trailingBackslash, '');
  const c = firstRune(t);
  t = t.slice(c.length);
  const bad = (): never => {
    throw new GoReError(GO_RE_ERR.invalidEscape, s.slice(0, s.length - t.length));
  };
  const simple: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };
  if (simple[c] !== undefined) return { cp: simple[c]!, rest: t };
  if (c >= '1' && c <= '7' && !(t[0]! >= '0' && t[0]! <= '7')) return bad();
  if (c >= '0' && c <= '7') {
    let v = c.charCodeAt(0) - 48;
    for (let i = 1; i < 3 && t !== '' && t[0]! >= '0' && t[0]! <= '7'; i++) {
      v = v * 8 + t.charCodeAt(0) - 48;
      t = t.slice(1);
    }
    return { cp: v, rest: t };
  }
  if (c === 'x') {
    if (t === '') return bad();
    const d = firstRune(t);
    t = t.slice(d.length);
    if (d === '{') {
      let n = 0;
      let v = 0;
      for (;;) {
        if (t === '') return bad();
        const h = firstRune(t);
        t = t.slice(h.length);
        if (h === '}') break;
        if (!isHex(h)) return bad();
        v = v * 16 + Number.parseInt(h, 16);
        if (v > 0x10ffff) return bad();
        n++;
      }
      if (n === 0) return bad();
      return { cp: v, rest: t };
    }
    if (t === '') return bad();
    const e = firstRune(t);
    t = t.slice(e.length);
    if (!isHex(d) || !isHex(e)) return bad();
    return { cp: Number.parseInt(d + e, 16), rest: t };
  }
  if (c.charCodeAt(0) < 0x80 && !isAlnum(c)) return { cp: c.charCodeAt(0), rest: t };
  return bad();
}

/** Go's parseClass at `[`: the rest after the class, or a thrown GoReError. */
function charClass(s: string): string {
  let t = s.slice(1);
  if (t.startsWith('^')) t = t.slice(1);
  let first = true;
  while (t === '' || t[0] !== ']' || first) {
    first = false;
    if (t.length > 2 && t[0] === '[' && t[1] === ':') {
      const i = t.indexOf(':]', 2);
      if (i >= 0) {
        const name = t.slice(0, i + 2);
        const bare = name.slice(2, -2);
        if (!POSIX_NAMES.has(bare.startsWith('^') ? bare.slice(1) : bare)) {
          throw new GoReError(GO_RE_ERR.invalidCharRange, name);
        }
        t = t.slice(i + 2);
        continue;
      }
    }
    if (t.length >= 2 && t[0] === '\\' && (t[1] === 'p' || t[1] === 'P')) {
      t = unicodeClass(t);
      continue;
    }
    if (PERL_CLASSES.has(t.slice(0, 2))) {
      t = t.slice(2);
      continue;
    }
    const rng = t;
    const lo = classChar(t, s);
    t = lo.rest;
    if (t.length >= 2 && t[0] === '-' && t[1] !== ']') {
      t = t.slice(1);
      const hi = classChar(t, s);
      t = hi.rest;
      if (hi.cp < lo.cp) throw new GoReError(GO_RE_ERR.invalidCharRange, rng.slice(0, rng.length - t.length));
    }
  }
  return t.slice(1);
}

function classChar(t: string, whole: string): { cp: number; rest: string } {
  if (t === '') throw new GoReError(GO_RE_ERR.missingBracket, whole);
  if (t[0] === '\\') return goEscape(t);
  const c = firstRune(t);
  return { cp: c.codePointAt(0)!, rest: t.slice(c.length) };
}

/** Go's parsePerlFlags at `(?`: whether it opens a group, and the rest; or a thrown GoReError. */
function perlFlags(s: string): { group: boolean; rest: string } {
  const startsWithP = s.length > 4 && s[2] === 'P' && s[3] === '<';
  const startsWithName = s.length > 3 && s[2] === '<';
  if (startsWithP || startsWithName) {
    const exprStart = startsWithP ? 4 : 3;
    const end = s.indexOf('>');
    if (end < 0) throw new GoReError(GO_RE_ERR.invalidNamedCapture, s);
    const name = s.slice(exprStart, end);
    if (!/^[0-9A-Za-z_]+$/.test(name))
      throw new GoReError(GO_RE_ERR.invalidNamedCapture, s.slice(0, end + 1));
    return { group: true, rest: s.slice(end + 1) };
  }
  let t = s.slice(2);
  let negative = false;
  let sawFlag = false;
  while (t !== '') {
    const c = firstRune(t);
    t = t.slice(c.length);
    if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
      sawFlag = true;
      continue;
    }
    if (c === '-') {
      if (negative) break;
      negative = true;
      sawFlag = false;
      continue;
    }
    if (c === ':' || c === ')') {
      if (negative && !sawFlag) break;
      return { group: c === ':', rest: t };
    }
    break;
  }
  throw new GoReError(GO_RE_ERR.invalidPerlOp, s.slice(0, s.length - t.length));
}

/**
 * Go's error for `pattern` under regexp.Compile's flags (syntax.Perl), or undefined when Go's
 * parser accepts it.
 */
export function goRegexpError(pattern: string): GoRegexpError | undefined {
  try {
    check(pattern);
    return undefined;
  } catch (e) {
    if (e instanceof GoReError) return e.goError;
    throw e;
  }
}

function check(whole: string): void {
  const stack: Item[] = [];
  let depth = 0;
  /** concat(): the operands above the last `(`/`|` become one (an empty match when none). */
  const concat = (): void => {
    let i = stack.length;
    while (i > 0 && stack[i - 1]!.kind === 'operand') i--;
    const subs = stack.splice(i).map((x) => (x as { node: RepNode }).node);
    stack.push({ kind: 'operand', node: subs.length === 1 ? subs[0]! : { subs } });
  };
  /** The alternation above the last `(`: operands and bars folded into one operand. */
  const alternate = (): void => {
    let i = stack.length;
    while (i > 0 && stack[i - 1]!.kind !== 'lparen') i--;
    const subs: RepNode[] = [];
    for (const x of stack.splice(i)) if (x.kind === 'operand') subs.push(x.node);
    stack.push({ kind: 'operand', node: subs.length === 1 ? subs[0]! : { subs } });
  };
  const operand = (node: RepNode = LEAF): void => {
    stack.push({ kind: 'operand', node });
  };
  let t = whole;
  let lastRepeat = '';
  while (t !== '') {
    let repeat = '';
    const c = t[0]!;
    switch (c) {
      case '(':
        if (t.length >= 2 && t[1] === '?') {
          const f = perlFlags(t);
          if (f.group) {
            stack.push({ kind: 'lparen' });
            depth++;
          }
          t = f.rest;
          break;
        }
        stack.push({ kind: 'lparen' });
        depth++;
        t = t.slice(1);
        break;
      case '|':
        concat();
        stack.push({ kind: 'vbar' });
        t = t.slice(1);
        break;
      case ')': {
        if (depth === 0) throw new GoReError(GO_RE_ERR.unexpectedParen, whole);
        concat();
        alternate();
        const inner = stack.pop() as { node: RepNode };
        stack.pop();
        depth--;
        operand({ subs: [inner.node] });
        t = t.slice(1);
        break;
      }
      case '[':
        t = charClass(t);
        operand();
        break;
      case '*':
      case '+':
      case '?': {
        const before = t;
        t = applyRepeat(stack, undefined, before, t.slice(1), lastRepeat);
        repeat = before;
        break;
      }
      case '{': {
        const before = t;
        const r = parseRepeat(t);
        if (r === undefined) {
          operand();
          t = t.slice(1);
          break;
        }
        const { min, max } = r;
        if (min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max)) {
          throw new GoReError(GO_RE_ERR.invalidRepeatSize, before.slice(0, before.length - r.rest.length));
        }
        t = applyRepeat(stack, { min, max }, before, r.rest, lastRepeat);
        repeat = before;
        break;
      }
      case '\\': {
        const e = t[1];
        if (e === 'A' || e === 'b' || e === 'B' || e === 'z') {
          operand();
          t = t.slice(2);
          break;
        }
        if (e === 'C') throw new GoReError(GO_RE_ERR.invalidEscape, t.slice(0, 2));
        if (e === 'Q') {
          const end = t.indexOf('\\E', 2);
          const lit = end < 0 ? t.slice(2) : t.slice(2, end);
          if (lit !== '') operand();
          t = end < 0 ? '' : t.slice(end + 2);
          break;
        }
        if (e === 'p' || e === 'P') {
          t = unicodeClass(t);
          operand();
          break;
        }
        if (PERL_CLASSES.has(t.slice(0, 2))) {
          t = t.slice(2);
          operand();
          break;
        }
        t = goEscape(t).rest;
        operand();
        break;
      }
      default:
        t = t.slice(firstRune(t).length);
        operand();
    }
    lastRepeat = repeat;
  }
  if (depth > 0) throw new GoReError(GO_RE_ERR.missingParen, whole);
}

/**
 * Go's parser.repeat: a `?` after the operator is its own (non-greedy); a repeat right after a
 * repeat is `invalid nested repetition operator`; no operand (or a `(`/`|` on top) is a missing
 * argument; a `{n,m}` (`rep`) over the nested repeats' 1000 copies is `invalid repeat count`.
 */
function applyRepeat(
  stack: Item[],
  rep: { min: number; max: number } | undefined,
  before: string,
  after: string,
  lastRepeat: string,
): string {
  if (after.startsWith('?')) after = after.slice(1);
  if (lastRepeat !== '') {
    throw new GoReError(GO_RE_ERR.invalidRepeatOp, lastRepeat.slice(0, lastRepeat.length - after.length));
  }
  const top = stack[stack.length - 1];
  if (top === undefined || top.kind !== 'operand') {
    throw new GoReError(GO_RE_ERR.missingRepeatArgument, before.slice(0, before.length - after.length));
  }
  const node: RepNode = rep === undefined ? { subs: [top.node] } : { rep, subs: [top.node] };
  stack[stack.length - 1] = { kind: 'operand', node };
  if (rep !== undefined && (rep.min >= 2 || rep.max >= 2) && !repeatIsValid(node, 1000)) {
    throw new GoReError(GO_RE_ERR.invalidRepeatSize, before.slice(0, before.length - after.length));
  }
  return after;
}
