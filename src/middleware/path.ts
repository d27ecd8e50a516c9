/*
 * Path helpers with Go net/url semantics, so that path rewrites give the bytes Traefik would send.
 * RequestHead.path is the raw (percent-encoded) path as received; its characters are bytes
 * (latin1). "Byte strings" below are strings whose char codes are bytes 0-255.
 */

import type { RequestHead } from '../core/request.ts';

const HEX = '0123456789ABCDEF';

function table(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
/** Go `shouldEscape(c, encodePath) == false`: unreserved plus `$&+,/:;=@`. */
const PATH_NO_ESCAPE = table(`${UNRESERVED}$&+,/:;=@`);
/** Go `validEncoded(s, encodePath)`: what may appear unescaped in a raw path that Go keeps as is. */
const PATH_VALID_ENCODED = table(`${UNRESERVED}$&+,/:;=@!'()*[]%`);

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** UTF-8 bytes of `s` as a byte string (identity for ASCII). */
export function toByteString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

/** Decodes a UTF-8 byte string (invalid sequences become U+FFFD). */
export function fromByteString(b: string): string {
  return Buffer.from(b, 'latin1').toString('utf8');
}

/** Percent-decodes a raw path into a byte string; undefined when an escape is malformed (Go rejects it). */
export function unescapePath(raw: string): string | undefined {
  let i = raw.indexOf('%');
  if (i === -1) return raw;
  let out = raw.slice(0, i);
  let last = i;
  while (i !== -1) {
    const h = hexVal(raw.charCodeAt(i + 1));
    const l = hexVal(raw.charCodeAt(i + 2));
    if (h < 0 || l < 0) return undefined;
    out += raw.slice(last, i) + String.fromCharCode(h * 16 + l);
    last = i + 3;
    i = raw.indexOf('%', last);
  }
  return out + raw.slice(last);
}

/**
 * The text of Go's url.EscapeError for the first bad `%` escape of `raw` (`%zz`, or what is left
 * of a cut-off one: `%a`), as `http.Error(rw, err.Error(), 500)` writes it; undefined when every
 * escape is valid.
 */
export function escapeErrorText(raw: string): string | undefined {
  for (let i = raw.indexOf('%'); i !== -1; i = raw.indexOf('%', i + 3)) {
    if (hexVal(raw.charCodeAt(i + 1)) < 0 || hexVal(raw.charCodeAt(i + 2)) < 0) {
      return `invalid URL escape ${JSON.stringify(raw.slice(i, i + 3))}`;
    }
  }
  return undefined;
}

/** Index in `raw` just after the first `bytes` decoded bytes (a %XX escape is one byte). */
export function rawIndexAfter(raw: string, bytes: number): number {
  let i = 0;
  for (let n = 0; n < bytes && i < raw.length; n++) i += raw.charCodeAt(i) === 37 /* % */ ? 3 : 1;
  return i;
}

/** Go `escape(s, encodePath)` over a byte string. */
export function escapePathBytes(b: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b.charCodeAt(i);
    if (c < 128 && PATH_NO_ESCAPE[c] === 1) continue;
    out += `${b.slice(last, i)}%${HEX[c >> 4]}${HEX[c & 15]}`;
    last = i + 1;
  }
  return last === 0 ? b : out + b.slice(last);
}

/** Go `escape(s, encodePath)` of a text (UTF-8 encoded first). */
export function escapePath(s: string): string {
  return escapePathBytes(toByteString(s));
}

function validEncoded(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 128 || PATH_VALID_ENCODED[c] !== 1) return false;
  }
  return true;
}

/**
 * Go's `URL.EscapedPath()` once a middleware set Path to `decoded` and RawPath to `raw` (byte
 * strings, each cut from the request's own): `raw` when it is a valid encoding that decodes to
 * `decoded`, else `decoded` escaped again. So a stripped remainder that began with `%2F` (a slash
 * is added to the raw form only) goes upstream decoded, `%2F`s included, and characters a path
 * may not carry raw (`"`, `|`, `^`…) are percent-encoded.
 */
export function goEscapedPath(decoded: string, raw: string): string {
  if (validEncoded(raw) && (raw === decoded || unescapePath(raw) === decoded)) return raw;
  return escapePathBytes(decoded);
}

/**
 * What Go sends for a URL whose RawPath was set to `raw` (`URL.EscapedPath()`): `raw` itself when it
 * is a valid encoding, else the decoded path escaped again. Undefined when `raw` has a bad escape.
 */
export function canonicalRawPath(raw: string): string | undefined {
  const decoded = unescapePath(raw);
  if (decoded === undefined) return undefined;
  return validEncoded(raw) ? raw : escapePathBytes(decoded);
}

export function ensureLeadingSlash(p: string): string {
  return p.charCodeAt(0) === 47 ? p : `/${p}`;
}

/**
 * Requests whose whole path a path middleware removed. Traefik leaves Go's URL.Path empty then
 * (stripprefix, stripprefixregex: `ensureLeadingSlash("")` is ""; replacepathregex when the
 * replacement is empty): the request still goes upstream as `/` (URL.RequestURI()), but the
 * middlewares after it see "": addPrefix `/v2` makes `/v2`, not `/v2/`. Our RequestHead.path is
 * never empty (every writer of a request target relies on it), so the path stays `/` and this
 * set remembers the difference for the path middlewares; `pathOf` reads it. Heads are never
 * reused across requests, and an entry whose path someone else changed since is ignored.
 */
const EMPTIED = new WeakSet<RequestHead>();

/** Sets `path` (raw); '' empties it as Traefik does (sent as `/`, seen as '' by `pathOf`). */
export function setPath(req: RequestHead, path: string): void {
  if (path === '') {
    req.path = '/';
    EMPTIED.add(req);
    return;
  }
  if (path === '/') EMPTIED.delete(req);
  req.path = path;
}

/** The raw path as Traefik's next middleware sees it: '' once a middleware removed all of it. */
export function pathOf(req: RequestHead): string {
  const p = req.path;
  return p === '/' && EMPTIED.has(req) ? '' : p;
}

function isDotSegment(raw: string, start: number, end: number): boolean {
  let dots = 0;
  let i = start;
  while (i < end) {
    if (raw.charCodeAt(i) === 46) i++;
    else if (raw.charCodeAt(i) === 37 && raw.charCodeAt(i + 1) === 50 && (raw.charCodeAt(i + 2) | 32) === 101)
      i += 3; // %2e / %2E
    else return false;
    dots++;
  }
  return dots === 1 || dots === 2;
}

/**
 * True when path cleaning (Go `URL.JoinPath()`: no `//`, no `.`/`..` segments; a trailing slash is
 * kept) would leave the path unchanged. Traefik rejects rewritten paths that are not clean (the
 * ReplacePathRegex path traversal fix); unlike Go we also treat `%2e` as a dot, since backends
 * that decode before resolving would otherwise still traverse.
 */
export function isCleanPath(raw: string): boolean {
  const n = raw.length;
  let start = raw.charCodeAt(0) === 47 ? 1 : 0;
  while (start <= n) {
    let end = raw.indexOf('/', start);
    if (end === -1) end = n;
    if (end === start) {
      if (end !== n) return false; // empty segment in the middle: `//`
    } else if (isDotSegment(raw, start, end)) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

/**
 * Go `path.Join`: the non-empty elements joined by `/`, then cleaned (no `//`, no `.`, `..`
 * resolved, never above the root); '' when every element is empty.
 */
export function joinPath(...elems: readonly string[]): string {
  const p = elems.filter((e) => e !== '').join('/');
  if (p === '') return '';
  const rooted = p.charCodeAt(0) === 47;
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else out.push(seg);
  }
  const joined = (rooted ? '/' : '') + out.join('/');
  return joined === '' ? (rooted ? '/' : '.') : joined;
}
