/**
 * Go RE2 syntax (Go's `regexp` package, as Traefik compiles rules and middleware patterns) →
 * JavaScript RegExp, always with the `u` flag, so that `.` and classes work on code points and
 * `(?i)` uses simple case folding, as Go's regexp does on runes. The one translator of the
 * project: router rules (HostRegexp, PathRegexp…) and middlewares (redirectRegex,
 * stripPrefixRegex, replacePathRegex, CORS origins) read a pattern the same way.
 *
 * Everything that JS would read differently is translated or refused:
 * - `\s` is Go's ASCII [\t\n\f\r ] (JS's \s also matches \v and Unicode spaces);
 * - `.` is [^\n] (JS's `.` also stops at \r, \u2028, \u2029); `(?s)` makes it match everything;
 * - `(?m)` anchors only at \n (JS's multiline also breaks at \r and \u2028/9);
 * - `(?U)` swaps greedy and lazy repeats (`a*` is lazy, `a*?` greedy), as in Go;
 * - `\A`, `\z`, `\Q…\E`, `\a`, octal `\012`, `\x{…}`, POSIX `[[:alpha:]]`, `\pL`/`\p{Greek}` map to JS forms;
 * - mid-pattern `(?i)` becomes a `(?i:…)` modifier group up to the end of the enclosing group;
 * - capture groups are kept only when asked (`captures`), numbered as Go numbers them, names
 *   returned beside the RegExp (Go allows names JS does not, such as `(?P<1st>…)`);
 * - refused: lookarounds and backreferences (not RE2), repeat counts over 1000 (RE2's limit).
 * JS regexps backtrack: unlike RE2 there is no linear-time guarantee (see the router docs).
 */
import { goRegexpError, goRegexpErrorText } from './go-errors.ts';
import { complement, cpEscape, POSIX, parseEscape, Re2Error, rangesToClassBody } from './syntax.ts';

export interface Re2Options {
  /** Keep capture groups (replacement templates read them); otherwise every group is `(?:…)`. */
  readonly captures?: boolean;
  /** Flags added to the translated ones (`g`, `y`). */
  readonly flags?: string;
}

export type Re2Result =
  | {
      ok: true;
      regexp: RegExp;
      /** Capture group names by group number (index 0, the whole match, is undefined). */
      groupNames: readonly (string | undefined)[];
    }
  | {
      ok: false;
      message: string;
      index: number;
      /** Go's regexp.Compile error text, when Go refuses the pattern too (go-errors.ts). */
      go?: string;
    };

const MAX_REPEAT = 1000;

interface Frame {
  /** Effective flags at this point of the group. */
  i: boolean;
  m: boolean;
  s: boolean;
  /** Ungreedy: repeats are lazy unless followed by `?`. */
  u: boolean;
  /** The case-insensitivity that the JS output has at the start of the group. */
  baseI: boolean;
  /** `(?i:` modifier groups opened by mid-group flags, closed at `|` and `)`. */
  wraps: number;
  openAt: number;
  /** Where the group starts in the output (its `(`), for a repeat of the group. */
  openOut: number;
}
class Translator {
  readonly #p: string;
  #i = 0;
  #out = '';
  #globalI = false;
  readonly #frames: Frame[] = [];
  readonly #captures: boolean;
  /** Where the last operand starts in the output (-1: none since a `(` or `|`), and whether a
   * repeat follows it: Go repeats a repeat across flag groups (`a*(?i)+` is `(?:a*)+`). */
  #atom = -1;
  #quantified = false;
  /** Capture group names by number, when captures are kept. */
  readonly groupNames: (string | undefined)[] = [undefined];

  constructor(pattern: string, captures: boolean) {
    this.#p = pattern;
    this.#captures = captures;
  }

  translate(): { source: string; flags: string } {
    const p = this.#p;
    this.#frames.push({
      i: false,
      m: false,
      s: false,
      u: false,
      baseI: false,
      wraps: 0,
      openAt: 0,
      openOut: 0,
    });
    while (this.#i < p.length) {
      const c = p[this.#i]!;
      const frame = this.#frames[this.#frames.length - 1]!;
      const before = this.#out.length;
      const operand = (): void => {
        this.#atom = before;
        this.#quantified = false;
      };
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
          this.#atom = frame.openOut;
          this.#quantified = false;
          break;
        case '|':
          this.#closeWraps(frame);
          this.#out += '|';
          if (frame.i !== frame.baseI) this.#openWrap(frame);
          this.#i++;
          this.#atom = -1;
          this.#quantified = false;
          break;
        case '[':
          operand();
          this.#out += this.#class();
          break;
        case '\\':
          // `\Q…\E` is one operand per character (none when empty).
          if (p[this.#i + 1] !== 'Q') operand();
          this.#escapeOutside();
          break;
        case '.':
          operand();
          this.#out += frame.s ? '[\\s\\S]' : '[^\\n]';
          this.#i++;
          break;
        case '^':
          operand();
          this.#i++;
          this.#assertion(frame.m ? '(?<![^\\n])' : '^');
          break;
        case '$':
          operand();
          this.#i++;
          this.#assertion(frame.m ? '(?![^\\n])' : '$');
          break;
        case '*':
        case '+':
        case '?':
          this.#repeat(frame);
          break;
        case '{':
          this.#brace(frame);
          break;
        default: {
          operand();
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

  /**
   * An empty-width assertion. Go repeats one (`^*`, `\\b+`: an operand like any other); JS refuses
   * a quantifier on it, but not on a group holding it, so a repeated one is put in `(?:…)`.
   */
  #assertion(js: string): void {
    this.#out += this.#repeatFollows(true) ? `(?:${js})` : js;
  }

  /**
   * Whether a repeat operator comes next (`*`, `+`, `?`, a valid `{n,m}`); with `pastFlags`, after
   * any flag groups (`(?i)`), which Go's parser puts nothing on its stack for: `a(?i)+` repeats `a`.
   */
  #repeatFollows(pastFlags: boolean): boolean {
    let rest = this.#p.slice(this.#i);
    if (pastFlags) rest = rest.replace(/^(?:\(\?[imsU]*(?:-[imsU]+)?\))*/, '');
    const next = rest[0];
    return next === '*' || next === '+' || next === '?' || (next === '{' && /^\{\d+(,\d*)?\}/.test(rest));
  }

  /** The repeat operator at the cursor, with its laziness under the frame's flags. */
  #repeat(frame: Frame): void {
    if (this.#p[this.#i] === '{') {
      this.#brace(frame);
      return;
    }
    this.#out += this.#p[this.#i];
    this.#i++;
    this.#lazy(frame);
    this.#quantified = true;
  }

  #literal(cp: number): string {
    // Syntax characters that are literal here in Go must be escaped for JS's u-mode.
    if ('$()*+./?[\\]^{|}'.includes(String.fromCharCode(cp)) && cp < 0x80)
      return `\\${String.fromCharCode(cp)}`;
    if (cp >= 0x20 && cp < 0x7f) return String.fromCharCode(cp);
    return `\\u{${cp.toString(16)}}`;
  }

  /** After a repeat: a `?` makes it lazy, or greedy again under `(?U)` (Go's parser). */
  #lazy(frame: Frame): void {
    const marked = this.#p[this.#i] === '?';
    if (marked) this.#i++;
    if (marked !== frame.u) this.#out += '?';
  }

  #openWrap(frame: Frame): void {
    this.#out += frame.i ? '(?i:' : '(?-i:';
    frame.wraps++;
  }

  #closeWraps(frame: Frame): void {
    this.#out += ')'.repeat(frame.wraps);
    frame.wraps = 0;
  }

  #brace(frame: Frame): void {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.#p.slice(this.#i));
    if (!m) {
      // Go reads a `{` that does not start a valid repeat as a literal.
      this.#atom = this.#out.length;
      this.#quantified = false;
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
    this.#lazy(frame);
    this.#quantified = true;
  }

  #group(frame: Frame): void {
    const p = this.#p;
    const at = this.#i;
    const inherit = (): Frame => {
      this.#atom = -1;
      this.#quantified = false;
      return { ...frame, baseI: frame.i, wraps: 0, openAt: at, openOut: this.#out.length };
    };
    if (p[at + 1] !== '?') {
      this.#frames.push(inherit());
      this.#out += this.#capture(undefined);
      this.#i++;
      return;
    }
    const rest = p.slice(at + 2);
    if (rest.startsWith(':')) {
      this.#frames.push(inherit());
      this.#out += '(?:';
      this.#i = at + 3;
      return;
    }
    const named = /^P?<([^>]*)>/.exec(rest);
    if (named && !rest.startsWith('<=') && !rest.startsWith('<!')) {
      const name = named[1]!;
      if (!/^\w+$/.test(name)) throw new Re2Error(`invalid capture group name ${JSON.stringify(name)}`, at);
      // Go accepts a name twice (its templates read the first group of that name).
      this.#frames.push(inherit());
      this.#out += this.#capture(name);
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
      (flags[1] === '' && flags[2] === undefined && flags[3] !== ')')
    ) {
      throw new Re2Error('invalid or unsupported Perl syntax after "(?"', at);
    }
    const on = flags[1]!;
    const off = flags[2] ?? '';
    const flag = (f: string, was: boolean): boolean =>
      off.includes(f) ? false : on.includes(f) ? true : was;
    const next = {
      i: flag('i', frame.i),
      m: flag('m', frame.m),
      s: flag('s', frame.s),
      u: flag('U', frame.u),
    };
    this.#i = at + 2 + flags[0].length;
    if (flags[3] === ':') {
      this.#frames.push({ ...next, baseI: next.i, wraps: 0, openAt: at, openOut: this.#out.length });
      this.#out += next.i === frame.i ? '(?:' : next.i ? '(?i:' : '(?-i:';
      this.#atom = -1;
      return;
    }
    // `(?flags)` changes the flags up to the end of the enclosing group; flag groups in a row
    // act as one.
    const wasI = frame.i;
    frame.i = next.i;
    frame.m = next.m;
    frame.s = next.s;
    frame.u = next.u;
    for (;;) {
      const more = /^\(\?([imsU]*)(?:-([imsU]+))?\)/.exec(p.slice(this.#i));
      if (more === null) break;
      const set = (f: string, was: boolean): boolean =>
        (more[2] ?? '').includes(f) ? false : more[1]!.includes(f) ? true : was;
      frame.i = set('i', frame.i);
      frame.m = set('m', frame.m);
      frame.s = set('s', frame.s);
      frame.u = set('U', frame.u);
      this.#i += more[0].length;
    }
    // A repeat right after them repeats what came before (Go pushes nothing for flags), under
    // the new flags (`(?U)`); it goes before the new case-folding group opens.
    if (this.#repeatFollows(false) && this.#out !== '') {
      // A repeat of a repeat: JS wants the first in a group.
      if (this.#quantified && this.#atom >= 0) {
        this.#out = `${this.#out.slice(0, this.#atom)}(?:${this.#out.slice(this.#atom)})`;
      }
      this.#repeat(frame);
    }
    if (frame.i === wasI) return;
    if (this.#out === '' && this.#frames.length === 1) {
      this.#globalI = frame.i;
      frame.baseI = frame.i;
      return;
    }
    this.#openWrap(frame);
  }

  /** A group Go numbers: a JS capture when captures are kept (names are returned, not written). */
  #capture(name: string | undefined): string {
    if (!this.#captures) return '(?:';
    this.groupNames.push(name);
    return '(';
  }

  #escapeOutside(): void {
    const cur = { p: this.#p, i: this.#i };
    const e = parseEscape(cur, false);
    this.#i = cur.i;
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
        this.#assertion(e.js);
        return;
      case 'quote': {
        const end = this.#p.indexOf('\\E', this.#i);
        const text = end === -1 ? this.#p.slice(this.#i) : this.#p.slice(this.#i, end);
        for (const ch of text) {
          this.#atom = this.#out.length;
          this.#quantified = false;
          this.#out += this.#literal(ch.codePointAt(0)!);
        }
        this.#i = end === -1 ? this.#p.length : end + 2;
        return;
      }
    }
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
      const cur = { p: this.#p, i: this.#i };
      const e = parseEscape(cur, true);
      this.#i = cur.i;
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

/**
 * Translates and compiles a Go RE2 pattern. What Go's parser refuses is refused (go-errors.ts),
 * with Go's error text in `go`, even where JS would read it (`(x{2}){501}`); the message is ours
 * when the translator has one.
 */
export function compileRe2(pattern: string, opts: Re2Options = {}): Re2Result {
  let translated: { source: string; flags: string };
  const goError = goRegexpError(pattern);
  const go = goError === undefined ? {} : { go: goRegexpErrorText(goError) };
  const t = new Translator(pattern, opts.captures ?? false);
  try {
    translated = t.translate();
  } catch (e) {
    if (e instanceof Re2Error) return { ok: false, message: e.message, index: e.index, ...go };
    throw e;
  }
  if (go.go !== undefined) return { ok: false, message: go.go, index: 0, ...go };
  try {
    const regexp = new RegExp(translated.source, translated.flags + (opts.flags ?? ''));
    return { ok: true, regexp, groupNames: t.groupNames };
  } catch (e) {
    const detail =
      e instanceof Error ? e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '') : '';
    return { ok: false, message: go.go ?? `invalid regular expression: ${detail}`, index: 0, ...go };
  }
}

/**
 * Go's regexp.Compile text after ours, when they differ (` (Go: error parsing regexp: …)`), for a
 * refusal's message; empty when ours is Go's or Go has none.
 */
export function goErrorSuffix(r: { readonly message: string; readonly go?: string }): string {
  return r.go === undefined || r.go === r.message ? '' : ` (Go: ${r.go})`;
}
