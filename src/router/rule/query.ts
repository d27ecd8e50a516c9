/**
 * Query matching as Go's url.ParseQuery reads a query: pairs split on '&', a pair holding ';' is
 * dropped, key and value are unescaped with '+' as space, a pair whose escapes are invalid is
 * dropped, a key without '=' has the empty value. The raw query is scanned on demand instead of
 * being parsed into a map: most rules never look at the query, and a scan that finds the key
 * without escapes allocates nothing.
 */
import { hexDigit } from './text.ts';

/** Go's QueryUnescape over a byte-string range; undefined when an escape is malformed. */
export function queryUnescape(s: string, from: number, to: number): string | undefined {
  let plain = true;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 || c === 43) {
      plain = false;
      break;
    }
  }
  if (plain) return s.slice(from, to);
  let out = '';
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 43) {
      out += ' ';
    } else if (c === 37) {
      const h = i + 2 < to ? hexDigit(s.charCodeAt(i + 1)) : -1;
      const l = h === -1 ? -1 : hexDigit(s.charCodeAt(i + 2));
      if (l === -1) return undefined;
      out += String.fromCharCode(h * 16 + l);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

function hasEscapes(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 || c === 43) return true;
  }
  return false;
}

/** Whether the range [from, to) of `s` unescapes to `key` (a byte string). */
function keyEquals(s: string, from: number, to: number, key: string): boolean {
  if (!hasEscapes(s, from, to)) return to - from === key.length && s.startsWith(key, from);
  return queryUnescape(s, from, to) === key;
}

/**
 * Calls `test` with each value of `key` until it returns true. `test` is created once per matcher,
 * never per request.
 */
export function someQueryValue(query: string, key: string, test: (value: string) => boolean): boolean {
  const n = query.length;
  let start = 0;
  while (start <= n) {
    let end = query.indexOf('&', start);
    if (end === -1) end = n;
    if (end > start) {
      let eq = -1;
      let semicolon = false;
      for (let i = start; i < end; i++) {
        const c = query.charCodeAt(i);
        if (c === 59) {
          semicolon = true;
          break;
        }
        if (c === 61 && eq === -1) eq = i;
      }
      if (!semicolon) {
        const keyEnd = eq === -1 ? end : eq;
        if (keyEquals(query, start, keyEnd, key)) {
          const value = eq === -1 ? '' : queryUnescape(query, eq + 1, end);
          // Go drops the whole pair when either side fails to unescape.
          if (value !== undefined && queryUnescape(query, start, keyEnd) !== undefined && test(value))
            return true;
        }
      }
    }
    start = end + 1;
  }
  return false;
}

/**
 * The value of the first pair whose key is `key`, as gorilla/mux's findFirstQueryKey reads the
 * raw query for Traefik v2's Query matcher: pairs split on `&` and `;`, empty ones skipped, the
 * key unescaped (a pair whose key does not unescape is skipped); undefined when the key is
 * absent or its value does not unescape (gorilla stops there).
 */
export function firstQueryValue(query: string, key: string): string | undefined {
  const n = query.length;
  let start = 0;
  while (start < n) {
    let end = start;
    while (end < n) {
      const c = query.charCodeAt(end);
      if (c === 38 || c === 59) break;
      end++;
    }
    if (end > start) {
      let eq = query.indexOf('=', start);
      if (eq === -1 || eq > end) eq = end;
      if (eq - start >= key.length && keyEquals(query, start, eq, key)) {
        return eq === end ? '' : queryUnescape(query, eq + 1, end);
      }
    }
    start = end + 1;
  }
  return undefined;
}
