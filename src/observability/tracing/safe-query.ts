/**
 * `url.query` as Traefik's tracer records it (pkg/observability/tracing/tracing.go safeURL): the
 * query parsed as Go's url.ParseQuery does, every parameter not named in `tracing.safeQueryParams`
 * set to the single value `REDACTED`, and re-encoded as url.Values.Encode does (keys sorted
 * byte-wise, QueryEscape'd). Read only for a sampled span.
 */

const HEX = '0123456789ABCDEF';

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** A string whose chars are the bytes of `s` in UTF-8 (one char per byte). */
function bytes(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range test
  return /^[\x00-\x7f]*$/.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1');
}

/** Go's QueryUnescape to bytes: `+` is a space; a `%` without two hex digits fails (null). */
function queryUnescape(s: string): string | null {
  if (s.indexOf('%') === -1 && s.indexOf('+') === -1) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const h = i + 2 < s.length ? hexVal(s.charCodeAt(i + 1)) : -1;
      const l = h < 0 ? -1 : hexVal(s.charCodeAt(i + 2));
      if (l < 0) return null;
      out += String.fromCharCode(h * 16 + l);
      i += 2;
    } else out += c === 0x2b ? ' ' : s[i];
  }
  return out;
}

/** Go's QueryEscape of a byte string: unreserved bytes stay, space is `+`, the rest %XX. */
function queryEscape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      c === 0x2d ||
      c === 0x2e ||
      c === 0x5f ||
      c === 0x7e
    ) {
      out += s[i];
    } else if (c === 0x20) out += '+';
    else out += `%${HEX[c >> 4]}${HEX[c & 15]}`;
  }
  return out;
}

/** `safe`: the parameter names whose values are kept, as bytes (see `safeQueryNames`). */
export function safeQuery(rawQuery: string, safe: ReadonlySet<string>): string {
  if (rawQuery === '') return '';
  const params = new Map<string, string[]>();
  for (const part of bytes(rawQuery).split('&')) {
    // ParseQuery refuses (and skips) a pair with a semicolon, and an empty one.
    if (part === '' || part.indexOf(';') !== -1) continue;
    const eq = part.indexOf('=');
    const key = queryUnescape(eq === -1 ? part : part.slice(0, eq));
    if (key === null) continue;
    const value = queryUnescape(eq === -1 ? '' : part.slice(eq + 1));
    if (value === null) continue;
    const values = params.get(key);
    if (values === undefined) params.set(key, [value]);
    else values.push(value);
  }
  const keys = [...params.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: string[] = [];
  for (const key of keys) {
    const k = queryEscape(key);
    if (!safe.has(key)) {
      out.push(`${k}=REDACTED`);
      continue;
    }
    for (const v of params.get(key)!) out.push(`${k}=${queryEscape(v)}`);
  }
  return out.join('&');
}

/** The configured names as the byte strings `safeQuery` compares decoded keys with. */
export function safeQueryNames(names: readonly string[] | undefined): ReadonlySet<string> {
  return new Set((names ?? []).map(bytes));
}
