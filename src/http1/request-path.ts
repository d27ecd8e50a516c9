/**
 * The request path as routing and the backend see it, made canonical before routing so that both
 * read it the same way (edge-rules §0.5: the path used for policy must be the path forwarded).
 * Traefik v3's entry-point handlers, in its order (pkg/server/server_entrypoint_tcp.go):
 *
 * 1. every `%` starts a valid escape (Go's URL parser refuses the request otherwise: 400);
 * 2. encoded characters the entry point denies are refused (`http.encodedCharacters`, checked on
 *    the escaped path, as its `denyEncodedPathCharacters`);
 * 3. `normalizePath`, always: escapes of unreserved characters (RFC 3986 §2.3) are decoded, the
 *    other escapes upper-cased (§6.2.2.1), so `/a%64min` is `/admin`;
 * 4. `sanitizePath` (`http.sanitizePath`, default true): `.` and `..` segments and empty segments
 *    removed as Go's `path.Clean` does (`..` never climbs above the root), a trailing slash kept.
 *
 * 5. the characters a path may not carry raw (RFC 3986 §3.3) and that the request-target still
 *    lets through, `"` `<` `>` `\` `^` `` ` `` `{` `|` `}`, are percent-encoded: Traefik's proxy
 *    writes the path with Go's `URL.EscapedPath()`, which does so (`/a"b` goes upstream as
 *    `/a%22b`). Go builds that escaped path again from the decoded one when such a character is
 *    present, `%2F` turned into `/` included; ours encodes those characters alone and keeps every
 *    other escape as it was, so an encoded slash stays one.
 *
 * Ours beyond Traefik: a segment that would be a dot segment once `%2F`, `%5C` or a raw `\` is read
 * as a separator (`..%2F`, `.%5C`, `..\`) is refused (400) instead of forwarded: Traefik forwards
 * `/p/..%2Fadmin` as it is, past a `PathPrefix(/p/admin)` router, to a backend that may decode
 * it into `/p/../admin`. Such a path cannot be normalised without guessing how the backend reads
 * `%2F`, so it is not forwarded at all. A dot segment carrying path parameters (`..;x`, `.;`)
 * is refused too, as Traefik v3.7.18 stopped routing it unresolved (CVE-2026-137481).
 */
import { ParseError } from './parse-error.ts';

export interface PathPolicy {
  /** `entryPoints.<n>.http.sanitizePath`. */
  readonly sanitize: boolean;
  /** Byte values whose escape (`%XX`) is refused in the path: 1 = refused. */
  readonly deniedEscapes: Uint8Array;
  /** `entryPoints.<n>.http.encodeQuerySemicolons`: `;` in the query becomes `%3B`, not `&`. */
  readonly encodeQuerySemicolons: boolean;
}

/** `entryPoints.<n>.http.encodedCharacters`, Traefik v3.6.7's keys. */
export interface EncodedCharacters {
  readonly allowEncodedSlash: boolean;
  readonly allowEncodedBackSlash: boolean;
  readonly allowEncodedNullCharacter: boolean;
  readonly allowEncodedSemicolon: boolean;
  readonly allowEncodedPercent: boolean;
  readonly allowEncodedQuestionMark: boolean;
  readonly allowEncodedHash: boolean;
}

/**
 * The defaults of `entryPoints.<n>.http` (config/static/schema.ts, which a test holds to these):
 * sanitizePath on, and only `%2F` allowed among the escapes Traefik v3.6.7 can refuse.
 */
export const DEFAULT_ENCODED_CHARACTERS: EncodedCharacters = {
  allowEncodedSlash: true,
  allowEncodedBackSlash: false,
  allowEncodedNullCharacter: false,
  allowEncodedSemicolon: false,
  allowEncodedPercent: false,
  allowEncodedQuestionMark: false,
  allowEncodedHash: false,
};

export function pathPolicy(
  sanitize: boolean,
  enc: EncodedCharacters,
  encodeQuerySemicolons = false,
): PathPolicy {
  const denied = new Uint8Array(256);
  if (!enc.allowEncodedSlash) denied[0x2f] = 1;
  if (!enc.allowEncodedBackSlash) denied[0x5c] = 1;
  if (!enc.allowEncodedNullCharacter) denied[0x00] = 1;
  if (!enc.allowEncodedSemicolon) denied[0x3b] = 1;
  if (!enc.allowEncodedPercent) denied[0x25] = 1;
  if (!enc.allowEncodedQuestionMark) denied[0x3f] = 1;
  if (!enc.allowEncodedHash) denied[0x23] = 1;
  return { sanitize, deniedEscapes: denied, encodeQuerySemicolons };
}

/**
 * The query as routing and the backend see it, Traefik's entry-point rule
 * (pkg/server/server_entrypoint_tcp.go): an unescaped `;` is a separator like `&` (Go's
 * `http.AllowQuerySemicolons`, and its proxy director does the same to what it forwards), or,
 * with `encodeQuerySemicolons`, a character of the value it is in, forwarded as `%3B`. Go's
 * query parser would otherwise drop every pair holding one. Returns `query` itself when it has
 * none.
 */
export function canonicalQuery(query: string, policy: PathPolicy): string {
  if (query.indexOf(';') === -1) return query;
  return query.replaceAll(';', policy.encodeQuerySemicolons ? '%3B' : '&');
}

const UNRESERVED = new Uint8Array(256);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-._~]/.test(ch)) UNRESERVED[c] = 1;
}

const HEX = '0123456789ABCDEF';

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * The canonical form of an origin-form `path` (query excluded), or the ParseError that refuses
 * the request. Returns `path` itself (no allocation) when there is nothing to change, which is
 * the case of almost every request: the scan looks for `%`, the characters of step 5 (`\` among
 * them) and a `/` followed by `/` or `.`. The request-target's codec has let only visible ASCII
 * through.
 */
export function canonicalPath(path: string, policy: PathPolicy): string | ParseError {
  const n = path.length;
  let plain = true;
  for (let i = 0; i < n; i++) {
    const c = path.charCodeAt(i);
    const k = PATH_SCAN[c];
    if (k === 0) continue;
    if (k === SLOW) {
      plain = false;
      break;
    }
    // A slash: the start of an empty or a dot segment?
    if (i + 1 < n) {
      const d = path.charCodeAt(i + 1);
      if (d === 0x2f || d === 0x2e /* . */) {
        plain = false;
        break;
      }
    }
  }
  if (plain || path === '*') return path;
  const decoded = decodeEscapes(path, policy.deniedEscapes);
  if (decoded instanceof ParseError) return decoded;
  const clean = policy.sanitize ? removeDotSegments(decoded) : decoded;
  return clean instanceof ParseError ? clean : escapeRaw(clean);
}

const SLOW = 1;
const SLASH = 2;
/** Characters a path may not carry raw, which Go's `URL.EscapedPath()` percent-encodes. */
const RAW_ESCAPED = '"<>\\^`{|}';
/** Per byte: 0 nothing to do, SLOW the slow path (`%`, step 5), SLASH a `/` to look past. */
const PATH_SCAN = new Uint8Array(256);
PATH_SCAN[0x25] = SLOW;
PATH_SCAN[0x2f] = SLASH;
const ESCAPE_RAW = new Uint8Array(128);
for (const ch of RAW_ESCAPED) {
  PATH_SCAN[ch.charCodeAt(0)] = SLOW;
  ESCAPE_RAW[ch.charCodeAt(0)] = 1;
}

/** Step 5: the characters of RAW_ESCAPED percent-encoded, every other byte as it is. */
function escapeRaw(path: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (ESCAPE_RAW[c] !== 1) continue;
    out += `${path.slice(last, i)}%${HEX[c >> 4]}${HEX[c & 15]}`;
    last = i + 1;
  }
  return last === 0 ? path : out + path.slice(last);
}

/** Steps 1–3: escapes checked, denied ones refused, unreserved ones decoded, the rest upper-cased. */
function decodeEscapes(path: string, denied: Uint8Array): string | ParseError {
  let i = path.indexOf('%');
  if (i === -1) return path;
  let out = '';
  let last = 0;
  while (i !== -1) {
    const h = i + 2 < path.length ? hexValue(path.charCodeAt(i + 1)) : -1;
    const l = h === -1 ? -1 : hexValue(path.charCodeAt(i + 2));
    if (l === -1) return new ParseError(400, 'invalid percent-encoding in the path');
    const b = h * 16 + l;
    if (denied[b] === 1) {
      return new ParseError(400, `encoded character %${HEX[h]}${HEX[l]} in the path is not allowed`);
    }
    out += path.slice(last, i);
    out += UNRESERVED[b] === 1 ? String.fromCharCode(b) : `%${HEX[h]}${HEX[l]}`;
    last = i + 3;
    i = path.indexOf('%', last);
  }
  return out + path.slice(last);
}

/**
 * A segment hiding a dot segment behind an encoded slash or backslash or a raw backslash, or a
 * dot segment carrying path parameters (`..;x`, `.;`): Traefik v3.7.18 / v3.8.0-rc.1
 * (CVE-2026-137481) stopped leaving those unresolved for routing, since a backend that strips
 * parameters (Tomcat, Jetty, Spring) reads `/public/..;x/admin` as `/admin`.
 */
const HIDDEN_DOT_SEGMENT = /(?:^|%2F|%5C|\\)\.\.?(?:$|%2F|%5C|\\|;)/;

/** Step 4 (Go's path.Clean, as URL.JoinPath applies it), plus the hidden dot segments refused. */
function removeDotSegments(path: string): string | ParseError {
  const segs = path.split('/');
  const out: string[] = [];
  // segs[0] is '' (the path starts with '/').
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    if (s === '' || s === '.') continue;
    if (s === '..') {
      out.pop();
      continue;
    }
    // Refused rather than resolved: how `%2F` or `;x` read is the backend's choice.
    if (HIDDEN_DOT_SEGMENT.test(s)) {
      return new ParseError(400, 'a dot segment behind an encoded slash, a backslash or path parameters');
    }
    out.push(s);
  }
  if (out.length === 0) return '/';
  const clean = `/${out.join('/')}`;
  // JoinPath keeps one trailing slash when the path had one.
  return path.charCodeAt(path.length - 1) === 0x2f ? `${clean}/` : clean;
}

export const DEFAULT_PATH_POLICY: PathPolicy = pathPolicy(true, DEFAULT_ENCODED_CHARACTERS);
