/**
 * Go's string literals, as Traefik's parsers read them (go/parser under vulcand/predicate for
 * rules; the circuit breaker's and buffering's expressions).
 */

export interface GoStringError {
  readonly message: string;
  readonly offset: number;
}

export type GoQuoted = { ok: true; value: string; end: number } | { ok: false; error: GoStringError };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function err(message: string, offset: number): { ok: false; error: GoStringError } {
  return { ok: false, error: { message, offset } };
}

/**
 * A Go interpreted string literal (strconv.Unquote's double-quoted form) starting at the opening
 * quote of `rule`: its value and the offset past its closing quote, or the error and where. `\x`
 * and octal escapes are bytes, decoded as UTF-8 together; `\u`, `\U` code points.
 */
export function readGoQuoted(rule: string, start: number): GoQuoted {
  let out = '';
  // \x and octal escapes produce bytes; they are collected and decoded as UTF-8 together.
  let bytes: number[] = [];
  const flush = (at: number): GoStringError | undefined => {
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

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/**
 * Go's strconv.Quote (`%q`): `"`, `\\`, C escapes, `\xNN` for other ASCII control bytes,
 * printable Unicode (unicode.IsPrint: letters, marks, numbers, punctuation, symbols) as is, any
 * other character as `\uNNNN` or `\UNNNNNNNN` (strconv's appendEscapedRune).
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp === 7) out += '\\a';
    else if (cp === 8) out += '\\b';
    else if (cp === 12) out += '\\f';
    else if (cp === 10) out += '\\n';
    else if (cp === 13) out += '\\r';
    else if (cp === 9) out += '\\t';
    else if (cp === 11) out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/**
 * Go's strconv.Atoi error text for `s`, or undefined when it reads (an int64): the status ranges
 * (types.NewHTTPCodeRanges) and vulcand/predicate's integer literals.
 */
export function goAtoiError(s: string): string | undefined {
  const q = goQuote(s);
  if (!/^[+-]?\d+$/.test(s)) return `strconv.Atoi: parsing ${q}: invalid syntax`;
  const n = BigInt(s);
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) return `strconv.Atoi: parsing ${q}: value out of range`;
  return undefined;
}
