/**
 * Go RE2 syntax → JavaScript RegExp (always with the `u` flag, so that `.` and classes work on code
 * points and `(?i)` uses simple case folding, as Go's regexp does on runes).
 *
 * Everything that JS would read differently is translated or refused:
 * - `\s` is Go's ASCII [\t\n\f\r ] (JS's \s also matches \v and Unicode spaces);
 * - `.` is [^\n] (JS's `.` also stops at \r, \u2028, \u2029); `(?s)` makes it match everything;
 * - `(?m)` anchors only at \n (JS's multiline also breaks at \r and \u2028/9);
 * - `\A`, `\z`, `\Q…\E`, `\a`, octal `\012`, `\x{…}`, POSIX `[[:alpha:]]`, `\pL`/`\p{Greek}` map to JS forms;
 * - mid-pattern `(?i)` becomes a `(?i:…)` modifier group up to the end of the enclosing group;
 * - capture groups become non-capturing (captures are never read; Go has no backreferences);
 * - refused: `(?U)`, lookarounds and backreferences (not RE2), repeat counts over 1000 (RE2's limit).
 * JS regexps backtrack: unlike RE2 there is no linear-time guarantee (see the router docs).
 */

export type Re2Result = { ok: true; regexp: RegExp } | { ok: false; message: string; index: number };

const MAX_CP = 0x10ffff;
const MAX_REPEAT = 1000;

type Ranges = number[];

const DIGIT: Ranges = [0x30, 0x39];
const WORD: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
const SPACE: Ranges = [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20];

const POSIX: Readonly<Record<string, Ranges>> = {
  alnum: [0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a],
  alpha: [0x41, 0x5a, 0x61, 0x7a],
  ascii: [0x00, 0x7f],
  blank: [0x09, 0x09, 0x20, 0x20],
  cntrl: [0x00, 0x1f, 0x7f, 0x7f],
  digit: DIGIT,
  graph: [0x21, 0x7e],
  lower: [0x61, 0x7a],
  print: [0x20, 0x7e],
  punct: [0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e],
  space: [0x09, 0x0d, 0x20, 0x20],
  upper: [0x41, 0x5a],
  word: WORD,
  xdigit: [0x30, 0x39, 0x41, 0x46, 0x61, 0x66],
};

const GENERAL_CATEGORIES = new Set(
  'L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp C Cc Cf Co Cs Any'.split(
    ' ',
  ),
);

function complement(r: Ranges): Ranges {
  const out: Ranges = [];
  let next = 0;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i]! > next) out.push(next, r[i]! - 1);
    next = r[i + 1]! + 1;
  }
  if (next <= MAX_CP) out.push(next, MAX_CP);
  return out;
}

function cpEscape(cp: number): string {
  if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f) {
    return String.fromCharCode(cp);
  }
  return `\\u{${cp.toString(16)}}`;
}

function rangesToClassBody(r: Ranges): string {
  let s = '';
  for (let i = 0; i < r.length; i += 2) {
    s += r[i] === r[i + 1] ? cpEscape(r[i]!) : `${cpEscape(r[i]!)}-${cpEscape(r[i + 1]!)}`;
  }
  return s;
}

function isAlnum(c: string): boolean {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

class Re2Error extends Error {
  readonly index: number;
  constructor(message: string, index: number) {
    super(message);
    this.index = index;
  }
}

/** One escape's meaning: a single code point, a set of ranges, or ready-made JS (class body or atom). */
type Escape =
  | { kind: 'char'; cp: number }
  | { kind: 'ranges'; ranges: Ranges }
  | { kind: 'property'; js: string }
  | { kind: 'assert'; js: string }
  | { kind: 'quote' };

interface Frame {
  /** Effective flags at this point of the group. */
  i: boolean;
  m: boolean;
  s: boolean;
  /** The case-insensitivity that the JS output has at the start of the group. */
  baseI: boolean;
  /** `(?i:` modifier groups opened by mid-group flags, closed at `|` and `)`. */
  wraps: number;
  openAt: number;
}

class Translator {
  readonly #p: string;
  #i = 0;
  #out = '';
  #globalI = false;
  readonly #frames: Frame[] = [];
  readonly #names = new Set<string>();

  constructor(pattern: string) {
    this.#p = pattern;
  }

  translate(): { source: string; flags: string } {
    const p = this.#p;
    this.#frames.push({ i: false, m: false, s: false, baseI: false, wraps: 0, openAt: 0 });
    while (this.#i < p.length) {
      const c = p[this.#i]!;
      const frame = this.#frames[this.#frames.length - 1]!;
      switch (c) {
        case '(':
          this.#group(frame);
          break;
        case ')':
          if (this.#frames.length === 1) throw new Re2Error('unexpected ")"', this.#i);
          this.#closeWraps(frame);
          this.#out += ')';
          this.#frames.pop();
          this.#i++;
          break;
        case '|':
          this.#closeWraps(frame);
          this.#out += '|';
          if (frame.i !== frame.baseI) this.#openWrap(frame);
          this.#i++;
          break;
        case '[':
          this.#out += this.#class();
          break;
        case '\\':
          this.#escapeOutside();
          break;
        case '.':
          this.#out += frame.s ? '[\\s\\S]' : '[^\\n]';
          this.#i++;
          break;
        case '^':
          this.#out += frame.m ? '(?<![^\\n])' : '^';
          this.#i++;
          break;
        case '$':
          this.#out += frame.m ? '(?![^\\n])' : '$';
          this.#i++;
          break;
        case '*':
        case '+':
        case '?':
          this.#out += c;
          this.#i++;
          this.#lazy();
          break;
        case '{':
          this.#brace();
          break;
        default: {
          const cp = p.codePointAt(this.#i)!;
          this.#out += this.#literal(cp);
          this.#i += cp > 0xffff ? 2 : 1;
        }
      }
    }
    const open = this.#frames[this.#frames.length - 1]!;
    if (this.#frames.length > 1) throw new Re2Error('missing closing ")"', open.openAt);
    this.#closeWraps(open);
    return { source: this.#out, flags: this.#globalI ? 'iu' : 'u' };
  }

  #literal(cp: number): string {
    // Syntax characters that are literal here in Go must be escaped for JS's u-mode.
    if ('$()*+./?[\\]^{|}'.includes(String.fromCharCode(cp)) && cp < 0x80)
      return `\\${String.fromCharCode(cp)}`;
    if (cp >= 0x20 && cp < 0x7f) return String.fromCharCode(cp);
    return `\\u{${cp.toString(16)}}`;
  }

  #lazy(): void {
    if (this.#p[this.#i] === '?') {
      this.#out += '?';
      this.#i++;
    }
  }

  #openWrap(frame: Frame): void {
    this.#out += frame.i ? '(?i:' : '(?-i:';
    frame.wraps++;
  }

  #closeWraps(frame: Frame): void {
    this.#out += ')'.repeat(frame.wraps);
    frame.wraps = 0;
  }

  #brace(): void {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.#p.slice(this.#i));
    if (!m) {
      // Go reads a `{` that does not start a valid repeat as a literal.
      this.#out += '\\{';
      this.#i++;
      return;
    }
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max !== -1 && max < min)) {
      throw new Re2Error(`invalid repeat count ${m[0]} (RE2 allows at most ${MAX_REPEAT})`, this.#i);
    }
    this.#out += m[0];
    this.#i += m[0].length;
    this.#lazy();
  }

  #group(frame: Frame): void {
    const p = this.#p;
    const at = this.#i;
    if (p[at + 1] !== '?') {
      this.#frames.push({ i: frame.i, m: frame.m, s: frame.s, baseI: frame.i, wraps: 0, openAt: at });
      this.#out += '(?:';
      this.#i++;
      return;
    }
    const rest = p.slice(at + 2);
    if (rest.startsWith(':')) {
      this.#frames.push({ i: frame.i, m: frame.m, s: frame.s, baseI: frame.i, wraps: 0, openAt: at });
      this.#out += '(?:';
      this.#i = at + 3;
      return;
    }
    const named = /^P?<([^>]*)>/.exec(rest);
    if (named && !rest.startsWith('<=') && !rest.startsWith('<!')) {
      const name = named[1]!;
      if (!/^\w+$/.test(name)) throw new Re2Error(`invalid capture group name ${JSON.stringify(name)}`, at);
      if (this.#names.has(name))
        throw new Re2Error(`duplicate capture group name ${JSON.stringify(name)}`, at);
      this.#names.add(name);
      this.#frames.push({ i: frame.i, m: frame.m, s: frame.s, baseI: frame.i, wraps: 0, openAt: at });
      this.#out += '(?:';
      this.#i = at + 2 + named[0].length;
      return;
    }
    if (/^(=|!|<=|<!)/.test(rest)) {
      throw new Re2Error('lookahead and lookbehind are not supported by RE2 (Traefik rejects them too)', at);
    }
    if (rest.startsWith('P=') || rest.startsWith('P>')) {
      throw new Re2Error('backreferences are not supported by RE2', at);
    }
    const flags = /^([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
    if (
      !flags ||
      (flags[2] !== undefined && flags[2] === '') ||
      (flags[1] === '' && flags[2] === undefined)
    ) {
      throw new Re2Error('invalid or unsupported Perl syntax after "(?"', at);
    }
    const on = flags[1]!;
    const off = flags[2] ?? '';
    if (on.includes('U') || off.includes('U')) {
      throw new Re2Error('the ungreedy flag (?U) is not supported; use lazy quantifiers such as *?', at);
    }
    const next = {
      i: off.includes('i') ? false : on.includes('i') ? true : frame.i,
      m: off.includes('m') ? false : on.includes('m') ? true : frame.m,
      s: off.includes('s') ? false : on.includes('s') ? true : frame.s,
    };
    this.#i = at + 2 + flags[0].length;
    if (flags[3] === ':') {
      this.#out += next.i === frame.i ? '(?:' : next.i ? '(?i:' : '(?-i:';
      this.#frames.push({ ...next, baseI: next.i, wraps: 0, openAt: at });
      return;
    }
    // `(?flags)` changes the flags up to the end of the enclosing group.
    const changedI = next.i !== frame.i;
    frame.i = next.i;
    frame.m = next.m;
    frame.s = next.s;
    if (!changedI) return;
    if (this.#out === '' && this.#frames.length === 1) {
      this.#globalI = next.i;
      frame.baseI = next.i;
      return;
    }
    this.#openWrap(frame);
  }

  #escapeOutside(): void {
    const e = this.#escape(false);
    switch (e.kind) {
      case 'char':
        this.#out += this.#literal(e.cp);
        return;
      case 'ranges':
        this.#out += `[${rangesToClassBody(e.ranges)}]`;
        return;
      case 'property':
        this.#out += e.js;
        return;
      case 'assert':
        this.#out += e.js;
        return;
      case 'quote': {
        const end = this.#p.indexOf('\\E', this.#i);
        const text = end === -1 ? this.#p.slice(this.#i) : this.#p.slice(this.#i, end);
        for (const ch of text) this.#out += this.#literal(ch.codePointAt(0)!);
        this.#i = end === -1 ? this.#p.length : end + 2;
        return;
      }
    }
  }

  /** Parses the escape at `\`; leaves #i after it. */
  #escape(inClass: boolean): Escape {
    const p = this.#p;
    const at = this.#i;
    const c = p[at + 1];
    if (c === undefined) throw new Re2Error('trailing backslash at end of expression', at);
    this.#i = at + 2;
    switch (c) {
      case 'a':
        return { kind: 'char', cp: 7 };
      case 'f':
        return { kind: 'char', cp: 12 };
      case 't':
        return { kind: 'char', cp: 9 };
      case 'n':
        return { kind: 'char', cp: 10 };
      case 'r':
        return { kind: 'char', cp: 13 };
      case 'v':
        return { kind: 'char', cp: 11 };
      case 'd':
        return { kind: 'ranges', ranges: DIGIT };
      case 'D':
        return { kind: 'ranges', ranges: complement(DIGIT) };
      case 'w':
        return { kind: 'ranges', ranges: WORD };
      case 'W':
        return { kind: 'ranges', ranges: complement(WORD) };
      case 's':
        return { kind: 'ranges', ranges: SPACE };
      case 'S':
        return { kind: 'ranges', ranges: complement(SPACE) };
      case 'x':
        return { kind: 'char', cp: this.#hex(at) };
      case 'p':
      case 'P':
        return this.#property(at, c === 'P');
    }
    if (!inClass) {
      switch (c) {
        case 'A':
          return { kind: 'assert', js: '(?<![\\s\\S])' };
        case 'z':
          return { kind: 'assert', js: '(?![\\s\\S])' };
        case 'b':
          return { kind: 'assert', js: '\\b' };
        case 'B':
          return { kind: 'assert', js: '\\B' };
        case 'Q':
          return { kind: 'quote' };
      }
    }
    if (c >= '0' && c <= '7') {
      // Go: \0 and \1-\7 followed by an octal digit are octal (up to 3 digits); a lone \1-\7 is a
      // backreference, which RE2 does not support.
      if (c !== '0' && !(p[at + 2]! >= '0' && p[at + 2]! <= '7')) {
        throw new Re2Error('backreferences are not supported by RE2', at);
      }
      let v = c.charCodeAt(0) - 48;
      let k = at + 2;
      for (let n = 1; n < 3 && p[k]! >= '0' && p[k]! <= '7'; n++, k++) v = v * 8 + (p.charCodeAt(k) - 48);
      this.#i = k;
      return { kind: 'char', cp: v };
    }
    if (c.charCodeAt(0) < 0x80 && !isAlnum(c)) return { kind: 'char', cp: c.charCodeAt(0) };
    throw new Re2Error(`invalid escape sequence \\${c}`, at);
  }

  #hex(at: number): number {
    const p = this.#p;
    if (p[this.#i] === '{') {
      const end = p.indexOf('}', this.#i);
      const digits = end === -1 ? '' : p.slice(this.#i + 1, end);
      if (!/^[0-9a-fA-F]{1,8}$/.test(digits) || Number.parseInt(digits, 16) > MAX_CP) {
        throw new Re2Error('invalid escape sequence \\x{…}', at);
      }
      this.#i = end + 1;
      return Number.parseInt(digits, 16);
    }
    const digits = p.slice(this.#i, this.#i + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(digits)) throw new Re2Error('invalid escape sequence \\x', at);
    this.#i += 2;
    return Number.parseInt(digits, 16);
  }

  #property(at: number, negated: boolean): Escape {
    const p = this.#p;
    let name: string;
    if (p[this.#i] === '{') {
      const end = p.indexOf('}', this.#i);
      if (end === -1) throw new Re2Error('invalid character class range \\p{', at);
      name = p.slice(this.#i + 1, end);
      this.#i = end + 1;
    } else {
      name = p[this.#i] ?? '';
      this.#i++;
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    if (!/^[A-Za-z_]+$/.test(name)) throw new Re2Error(`invalid Unicode class \\p{${name}}`, at);
    const js = GENERAL_CATEGORIES.has(name) ? name : `Script=${name}`;
    return { kind: 'property', js: `\\${negated ? 'P' : 'p'}{${js}}` };
  }

  /** A bracket expression starting at `[`; returns the JS class. */
  #class(): string {
    const p = this.#p;
    const open = this.#i;
    this.#i++;
    let negated = false;
    if (p[this.#i] === '^') {
      negated = true;
      this.#i++;
    }
    let body = '';
    let first = true;
    for (;;) {
      if (this.#i >= p.length) throw new Re2Error('missing closing "]"', open);
      const c = p[this.#i]!;
      // Go: a `]` right after `[` or `[^` is a literal.
      if (c === ']' && !first) {
        this.#i++;
        break;
      }
      first = false;
      if (c === '[' && p[this.#i + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(this.#i));
        const ranges = m ? POSIX[m[2]!] : undefined;
        if (m && ranges) {
          body += rangesToClassBody(m[1] ? complement(ranges) : ranges);
          this.#i += m[0].length;
          continue;
        }
        if (m) throw new Re2Error(`invalid character class range ${m[0]}`, this.#i);
      }
      const startAt = this.#i;
      const lo = this.#classAtom();
      if (typeof lo !== 'number') {
        body += lo;
        continue;
      }
      if (p[this.#i] === '-' && p[this.#i + 1] !== ']' && this.#i + 1 < p.length) {
        this.#i++;
        const hi = this.#classAtom();
        if (typeof hi !== 'number' || hi < lo) {
          throw new Re2Error(`invalid character class range ${p.slice(startAt, this.#i)}`, startAt);
        }
        body += `${cpEscape(lo)}-${cpEscape(hi)}`;
        continue;
      }
      body += cpEscape(lo);
    }
    return `[${negated ? '^' : ''}${body}]`;
  }

  /** One class member: a code point, or a ready JS class body fragment. */
  #classAtom(): number | string {
    const p = this.#p;
    if (p[this.#i] === '\\') {
      const e = this.#escape(true);
      switch (e.kind) {
        case 'char':
          return e.cp;
        case 'ranges':
          return rangesToClassBody(e.ranges);
        case 'property':
          return e.js;
        default:
          throw new Re2Error('invalid escape in character class', this.#i);
      }
    }
    const cp = p.codePointAt(this.#i)!;
    this.#i += cp > 0xffff ? 2 : 1;
    return cp;
  }
}

/** Translates and compiles a Go RE2 pattern. */
export function compileRe2(pattern: string): Re2Result {
  let translated: { source: string; flags: string };
  try {
    translated = new Translator(pattern).translate();
  } catch (e) {
    if (e instanceof Re2Error) return { ok: false, message: e.message, index: e.index };
    throw e;
  }
  try {
    return { ok: true, regexp: new RegExp(translated.source, translated.flags) };
  } catch (e) {
    const detail =
      e instanceof Error ? e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '') : '';
    return { ok: false, message: `invalid regular expression: ${detail}`, index: 0 };
  }
}
