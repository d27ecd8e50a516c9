/**
 * Byte classes of RFC 9110 §5.6.2 / RFC 9112, as lookup tables indexed by char code.
 * A table lookup per byte is what keeps a strict parser as fast as a lax one.
 */
import { isResponseHop } from '../core/hop-fields.ts';

// The response's hop-by-hop fields live in core (the access log reads them too).
export { isResponseHop };

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0;
  return t;
}

const TCHAR_EXTRA = "!#$%&'*+-.^_`|~";
/** tchar: token characters (field names, methods, transfer codings). */
export const TCHAR: Uint8Array = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    TCHAR_EXTRA.includes(String.fromCharCode(c)),
);

/**
 * Bytes allowed inside a field value: VCHAR, obs-text, SP and HTAB. CR, LF, NUL and other
 * controls are not (RFC 9110 §5.5): they are how header injection and smuggling start.
 */
export const FIELD_VALUE: Uint8Array = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f));

/**
 * Bytes allowed in a request-target: visible ASCII only. '#' is excluded because a fragment is
 * never sent on the wire (RFC 9112 §3.2); non-ASCII must be percent-encoded (RFC 3986).
 */
export const TARGET_CHAR: Uint8Array = table((c) => c > 0x20 && c < 0x7f && c !== 0x23);

/** reg-name characters of a Host (RFC 3986 unreserved / pct-encoded / sub-delims). */
export const HOST_CHAR: Uint8Array = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    "-._~%!$&'()*+,;=".includes(String.fromCharCode(c)),
);

export const HEX_VALUE: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
})();

/** Methods llhttp (Node's parser) knows; anything else it rejects, and so do we (501). */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'TRACE',
  'CONNECT',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'SEARCH',
  'REPORT',
  'MKACTIVITY',
  'CHECKOUT',
  'MERGE',
  'M-SEARCH',
  'NOTIFY',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'PURGE',
  'MKCALENDAR',
  'LINK',
  'UNLINK',
  'SOURCE',
  'BIND',
  'REBIND',
  'UNBIND',
  'ACL',
  'QUERY',
]);

/** Methods whose replay cannot change state (RFC 9110 §9.2.2): retried on a dead pooled socket. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'PUT',
  'DELETE',
]);

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1) that never cross the proxy, plus the framing fields we
 * regenerate ourselves from the parsed form, and HTTP2-Settings: connection-specific (RFC 9113
 * §3.2.1 of the h2c upgrade we do not honour), never forwarded, as Traefik v3.7.13's
 * h2cUpgradeHandler (pkg/server/service) deletes it from every request.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'host',
  'http2-settings',
]);

/**
 * `HOP_BY_HOP.has(ln)` without a hash lookup (twice per field per request): by length, then
 * one or two comparisons, which for the common names (internalized, field-names.ts) compare
 * pointers. chars.test.ts holds it to the set.
 */
export function isHopByHop(ln: string): boolean {
  switch (ln.length) {
    case 4:
      return ln === 'host';
    case 14:
      return ln === 'content-length' || ln === 'http2-settings';
    case 19:
      return ln === 'proxy-authorization';
    default:
      return isResponseHop(ln);
  }
}
