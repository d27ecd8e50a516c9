import { ProxyError } from '../core/errors.ts';

/**
 * The last check of a request header list (`name, value, …`, h2RequestFields' form) before our
 * own HTTP/2 client sends it, so that no request a middleware made malformed leaves us (RFC 9113
 * §8.2.1) and none exceeds the server's SETTINGS_MAX_HEADER_LIST_SIZE (§6.5.2, §10.5.1).
 * Connection-specific fields (§8.2.2) never get here: h2RequestFields drops them.
 *
 * - A name that is not a lowercase token, or a value with NUL, CR or LF (or a character our
 *   latin1 wire form cannot carry, which would become another byte, CR or LF among them): the
 *   request fails with INTERNAL (500, as Traefik answers when Go's transport refuses an invalid
 *   field), never sent.
 * - Leading or trailing SP/HTAB: trimmed in `raw`, as an HTTP/1.1 server strips it on receipt
 *   (RFC 9110 §5.5): the backend sees the value an HTTP/1.1 backend would.
 * - A list larger than the server's limit: HEADERS_TOO_LARGE (431), never sent (Go's transport
 *   refuses it too: errRequestHeaderListSize).
 *
 * Two regular-expression scans a field (name, value), on the own h2 upstream path only: about as
 * much as the server side's malformed-request check costs per request; nothing is allocated
 * unless a value is trimmed.
 */
export function checkRequestFields(raw: string[], maxListSize: number): ProxyError | null {
  let size = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    let value = raw[i + 1]!;
    if (name.charCodeAt(0) !== 0x3a && (name.length === 0 || BAD_NAME.test(name))) return invalid(name);
    if (BAD_VALUE.test(value)) return invalid(name);
    const n = value.length;
    if (n > 0 && (edge(value.charCodeAt(0)) || edge(value.charCodeAt(n - 1)))) {
      value = value.replace(EDGES, '');
      raw[i + 1] = value;
    }
    // §6.5.2: the uncompressed size of a field is its name and value lengths plus 32.
    size += name.length + value.length + 32;
  }
  if (size > maxListSize) {
    return new ProxyError(
      'HEADERS_TOO_LARGE',
      `request header list of ${size} bytes exceeds the upstream's SETTINGS_MAX_HEADER_LIST_SIZE of ${maxListSize}: not sent`,
    );
  }
  return null;
}

const EDGES = /^[ \t]+|[ \t]+$/g;
/** Not a lowercase token character (RFC 9110 §5.6.2, RFC 9113 §8.2.1). */
const BAD_NAME = /[^a-z0-9!#$%&'*+.^_`|~-]/;
/** NUL, LF, CR, or past latin1. Regular expressions: about twice as fast as a charCodeAt loop. */
const BAD_VALUE = /[\0\n\r\u0100-\uffff]/;

function edge(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function invalid(name: string): ProxyError {
  // The value stays out of the message: it may be a credential (as Go's transport words it).
  const shown = /^[\x21-\x7e]{1,64}$/.test(name) ? name : JSON.stringify(name.slice(0, 64));
  return new ProxyError('INTERNAL', `invalid HTTP/2 request field ${shown}: not sent to the upstream`);
}
