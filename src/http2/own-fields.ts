/**
 * The RFC 9113 §8.2 and §8.3 rules whose breach makes a message malformed, checked on the
 * decoded header list of our own HTTP/2 connection. A malformed request is a stream error of
 * type PROTOCOL_ERROR (RST_STREAM), never an answer: nghttp2 (the node engine) ignores some of
 * these fields silently (a value with CR, LF or NUL never reaches us there); here none passes.
 * What HTTP/1.1 would refuse with a status (a bad :path, a bad :authority) stays with
 * `parseH2Request`, which answers 400.
 */

/** §8.2.2: connection-specific fields (`te` apart: only `trailers`). */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** §8.2.1: a name is lowercase visible ASCII without ':' (past a pseudo-header's first byte). */
function badName(name: string, from: number): boolean {
  if (name.length <= from) return true;
  for (let i = from; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || (c >= 0x41 && c <= 0x5a) || c >= 0x7f || c === 0x3a) return true;
  }
  return false;
}

/** §8.2.1: no NUL, CR or LF anywhere, no leading or trailing SP or HTAB. */
function badValue(v: string): boolean {
  const n = v.length;
  if (n === 0) return false;
  let c = v.charCodeAt(0);
  if (c === 0x20 || c === 0x09) return true;
  c = v.charCodeAt(n - 1);
  if (c === 0x20 || c === 0x09) return true;
  for (let i = 0; i < n; i++) {
    c = v.charCodeAt(i);
    if (c === 0x00 || c === 0x0a || c === 0x0d) return true;
  }
  return false;
}

/** Checks a request's header list (`name, value, …`); returns why it is malformed, or null. */
export function malformedRequest(raw: readonly string[]): string | null {
  let regular = false;
  let seen = 0;
  let connect = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (badValue(value)) return `invalid value of field ${name}`;
    if (name.charCodeAt(0) === 0x3a) {
      // §8.3: pseudo-header fields first, once each, only the request ones (RFC 8441 adds :protocol).
      if (regular) return 'pseudo-header field after a regular field';
      const bit = PSEUDO.get(name);
      if (bit === undefined) return `unknown pseudo-header field ${name}`;
      if (seen & bit) return `duplicate ${name}`;
      seen |= bit;
      if (bit === M_METHOD) connect = value === 'CONNECT';
      continue;
    }
    regular = true;
    if (badName(name, 0)) return 'invalid field name';
    if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
    if (name === 'te' && value !== 'trailers') return 'te other than trailers';
  }
  // §8.3.1: :method, and but for CONNECT :scheme and :path (parseH2Request checks them).
  if ((seen & M_METHOD) === 0) return 'missing :method';
  // §8.5: a plain CONNECT carries :authority and neither :scheme nor :path; Go's server (which
  // Traefik v3.7.12 tunnels such a request through) resets the stream otherwise.
  if (connect && (seen & M_PROTOCOL) === 0 && (seen & (M_SCHEME | M_PATH | M_AUTHORITY)) !== M_AUTHORITY) {
    return 'CONNECT with :scheme or :path, or without :authority';
  }
  return null;
}

/** Checks trailer fields: no pseudo-header field (§8.1), names and values as in a head. */
export function malformedTrailers(raw: readonly string[]): string | null {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 0x3a) return 'pseudo-header field in trailers';
    if (badName(name, 0) || badValue(raw[i + 1]!)) return 'invalid trailer field';
    if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
  }
  return null;
}

/**
 * Checks a response's header list (an HTTP/2 client's side, as nghttp2 holds node's client to):
 * `:status` once, three digits, and no other pseudo-header field, all before the regular ones;
 * regular fields as in a request; Content-Length digits only, and once. Returns why it is
 * malformed, or null.
 */
export function malformedResponse(raw: readonly string[]): string | null {
  let regular = false;
  let status = false;
  let length = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (badValue(value)) return `invalid value of field ${name}`;
    if (name.charCodeAt(0) === 0x3a) {
      if (regular) return 'pseudo-header field after a regular field';
      if (name !== ':status') return `pseudo-header field ${name} in a response`;
      if (status) return 'duplicate :status';
      if (!THREE_DIGITS.test(value)) return 'invalid :status';
      status = true;
      continue;
    }
    regular = true;
    if (badName(name, 0)) return 'invalid field name';
    if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
    if (name === 'content-length') {
      if (length) return 'duplicate content-length';
      if (!DIGITS.test(value)) return 'invalid content-length';
      length = true;
    }
  }
  return status ? null : 'missing :status';
}

const THREE_DIGITS = /^[1-9][0-9][0-9]$/;
const DIGITS = /^[0-9]{1,15}$/;

const M_METHOD = 1;
const M_SCHEME = 2;
const M_AUTHORITY = 4;
const M_PATH = 8;
const M_PROTOCOL = 16;
const PSEUDO: ReadonlyMap<string, number> = new Map([
  [':method', M_METHOD],
  [':scheme', M_SCHEME],
  [':authority', M_AUTHORITY],
  [':path', M_PATH],
  [':protocol', M_PROTOCOL],
]);
