/**
 * The path that Traefik's path matchers see: the escaped path with percent-encodings of
 * unreserved characters decoded, so that PathPrefix(`/foo bar`) matches `/foo%20bar`, while
 * encoded reserved characters (RFC 3986 §2.2, plus '%') stay encoded, so that `%2F` can never
 * be taken for a path separator. Unlike Go (which only keeps the upper-case forms), the hex
 * digits are compared case-insensitively: `%2f` stays encoded too. A malformed escape is kept
 * as it is (the HTTP codec rejects such targets before routing).
 */
import { hexDigit } from './text.ts';

// Byte values of the reserved characters  : / ? # [ ] @ ! $ & ' ( ) * + , ; = %
const RESERVED = new Uint8Array(128);
for (const ch of ":/?#[]@!$&'()*+,;=%") RESERVED[ch.charCodeAt(0)] = 1;

export function decodeRoutingPath(path: string): string {
  let out = '';
  let last = 0;
  let i = path.indexOf('%');
  while (i !== -1) {
    const h = i + 2 < path.length ? hexDigit(path.charCodeAt(i + 1)) : -1;
    const l = h === -1 ? -1 : hexDigit(path.charCodeAt(i + 2));
    if (l !== -1) {
      const b = h * 16 + l;
      if (b >= 128 || RESERVED[b] === 0) {
        out += path.slice(last, i) + String.fromCharCode(b);
        last = i + 3;
      }
      i = path.indexOf('%', i + 3);
    } else {
      i = path.indexOf('%', i + 1);
    }
  }
  return last === 0 ? path : out + path.slice(last);
}

/**
 * One-entry memo shared by every path matcher of one router: a request's routing path is worked
 * out once, however many routes look at it. Usually `path` is the very string of the previous
 * call, and `===` is then a pointer compare.
 */
export class RoutingPathCache {
  #raw = '';
  #decoded = '';

  get(path: string): string {
    if (path === this.#raw) return this.#decoded;
    this.#raw = path;
    this.#decoded = path.indexOf('%') === -1 ? path : decodeRoutingPath(path);
    return this.#decoded;
  }
}
