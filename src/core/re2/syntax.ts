/**
 * Pieces of Go RE2 syntax shared by the translator (translate.ts): code point ranges for Perl and
 * POSIX classes (ASCII, as in Go), and escape sequences with Go's meaning.
 */

import { goUnicodeProperty } from './go-unicode.ts';

export interface Cursor {
  readonly p: string;
  i: number;
}

export const MAX_CP = 0x10ffff;

export type Ranges = number[];

export const DIGIT: Ranges = [0x30, 0x39];
export const WORD: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
export const SPACE: Ranges = [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20];

export const POSIX: Readonly<Record<string, Ranges>> = {
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

export function complement(r: Ranges): Ranges {
  const out: Ranges = [];
  let next = 0;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i]! > next) out.push(next, r[i]! - 1);
    next = r[i + 1]! + 1;
  }
  if (next <= MAX_CP) out.push(next, MAX_CP);
  return out;
}

export function cpEscape(cp: number): string {
  if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f) {
    return String.fromCharCode(cp);
  }
  return `\\u{${cp.toString(16)}}`;
}

export function rangesToClassBody(r: Ranges): string {
  let s = '';
  for (let i = 0; i < r.length; i += 2) {
    s += r[i] === r[i + 1] ? cpEscape(r[i]!) : `${cpEscape(r[i]!)}-${cpEscape(r[i + 1]!)}`;
  }
  return s;
}

export function isAlnum(c: string): boolean {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

export class Re2Error extends Error {
  readonly index: number;
  constructor(message: string, index: number) {
    super(message);
    this.index = index;
  }
}

/** One escape's meaning: a single code point, a set of ranges, or ready-made JS (class body or atom). */
export type Escape =
  | { kind: 'char'; cp: number }
  | { kind: 'ranges'; ranges: Ranges }
  | { kind: 'property'; js: string }
  | { kind: 'assert'; js: string }
  | { kind: 'quote' };

/** Parses the escape at `cur.i` (a backslash) and moves `cur.i` past it. */
export function parseEscape(cur: Cursor, inClass: boolean): Escape {
  const p = cur.p;
  const at = cur.i;
  const c = p[at + 1];
  if (c === undefined) throw new Re2Error('trailing backslash at end of expression', at);
  cur.i = at + 2;
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
      return { kind: 'char', cp: hex(cur, at) };
    case 'p':
    case 'P':
      return property(cur, at, c === 'P');
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
    cur.i = k;
    return { kind: 'char', cp: v };
  }
  if (c.charCodeAt(0) < 0x80 && !isAlnum(c)) return { kind: 'char', cp: c.charCodeAt(0) };
  throw new Re2Error(`invalid escape sequence \\${c}`, at);
}

function hex(cur: Cursor, at: number): number {
  const p = cur.p;
  if (p[cur.i] === '{') {
    const end = p.indexOf('}', cur.i);
    const digits = end === -1 ? '' : p.slice(cur.i + 1, end);
    if (!/^[0-9a-fA-F]{1,8}$/.test(digits) || Number.parseInt(digits, 16) > MAX_CP) {
      throw new Re2Error('invalid escape sequence \\x{…}', at);
    }
    cur.i = end + 1;
    return Number.parseInt(digits, 16);
  }
  const digits = p.slice(cur.i, cur.i + 2);
  if (!/^[0-9a-fA-F]{2}$/.test(digits)) throw new Re2Error('invalid escape sequence \\x', at);
  cur.i += 2;
  return Number.parseInt(digits, 16);
}

function property(cur: Cursor, at: number, negated: boolean): Escape {
  const p = cur.p;
  let name: string;
  if (p[cur.i] === '{') {
    const end = p.indexOf('}', cur.i);
    if (end === -1) throw new Re2Error('invalid character class range \\p{', at);
    name = p.slice(cur.i + 1, end);
    cur.i = end + 1;
  } else {
    name = p[cur.i] ?? '';
    cur.i++;
  }
  if (name.startsWith('^')) {
    negated = !negated;
    name = name.slice(1);
  }
  // Go 1.25+'s lookup (go-unicode.ts): loose names (`\p{Letter}`, `\p{greek}`, `\pl`).
  const js = goUnicodeProperty(name);
  if (js === undefined) throw new Re2Error(`invalid Unicode class \\p{${name}}`, at);
  return { kind: 'property', js: `\\${negated ? 'P' : 'p'}{${js}}` };
}
