import { ProxyError } from '../core/errors.ts';

/**
 * The last check of a request header list (`name, value, …`, h2RequestFields' form) before our
 * own HTTP/2 client sends it, so that no malformed request leaves us (RFC 9113 §8.2.1) and none
 * exceeds the server's SETTINGS_MAX_HEADER_LIST_SIZE (§6.5.2, §10.5.1). Connection-specific
 * fields (§8.2.2) never get here: h2RequestFields drops them.
 *
 * Regular fields came out of a parser (HPACK decoder, HTTP/1.1 parser: valid by construction) or
 * were settled by core/field-values.ts when a middleware made one that needed it (a value past
 * latin1 as its UTF-8 bytes, edges trimmed, NUL/CR/LF or a bad name refused): the caller settles
 * an unsettled list first, so only `:authority` and `:path` (which may come from a middleware) are
 * scanned here, and every field counts towards the size.
 *
 * - An `:authority` or `:path` with NUL, CR or LF or a character latin1 cannot carry: the request
 *   fails with INTERNAL (500, as Traefik answers when Go's transport refuses a field), unsent.
 * - A list larger than the server's limit: HEADERS_TOO_LARGE (431), never sent (Go's transport
 *   refuses it too: errRequestHeaderListSize).
 *
 * Trailers get the same check (`trailers`: they have no pseudo-header field, so every value is
 * scanned: they are rare, and a middleware may hand them over unchecked).
 */
export function checkRequestFields(raw: string[], maxListSize: number, trailers = false): ProxyError | null {
  if (!trailers) {
    // h2RequestFields' layout: `:authority` at 4, `:path` at 6 (`:method` is the parser's,
    // `:scheme` ours); a plain CONNECT's: `:authority` at 2, nothing else.
    if (raw[2] === ':authority') {
      if (BAD_CHAR.test(raw[3]!)) return invalid(':authority', false);
    } else {
      if (BAD_CHAR.test(raw[5]!)) return invalid(':authority', false);
      if (BAD_CHAR.test(raw[7]!)) return invalid(':path', false);
    }
  }
  let size = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (trailers && (name.length === 0 || BAD_NAME.test(name) || BAD_VALUE.test(value))) {
      return invalid(name, trailers);
    }
    // §6.5.2: the uncompressed size of a field is its name and value lengths plus 32.
    size += name.length + value.length + 32;
  }
  if (size > maxListSize) {
    const what = trailers ? 'trailer' : 'header';
    return new ProxyError(
      'HEADERS_TOO_LARGE',
      `request ${what} list of ${size} bytes exceeds the upstream's SETTINGS_MAX_HEADER_LIST_SIZE of ${maxListSize}: not sent`,
    );
  }
  return null;
}

/** Not a lowercase token character (RFC 9110 §5.6.2, RFC 9113 §8.2.1). */
const BAD_NAME = /[^a-z0-9!#$%&'*+.^_`|~-]/;
/** NUL, LF, CR, past latin1. Regular expressions: about twice as fast as a charCodeAt loop. */
const BAD_CHAR = /[\0\n\r\u0100-\uffff]/;
/** The same, or SP/HTAB at an edge (a pseudo-header value never has them: a parser's or a path). */
const BAD_VALUE = /[\0\n\r\u0100-\uffff]|^[ \t]|[ \t]$/;

function invalid(name: string, trailers: boolean): ProxyError {
  // The value stays out of the message: it may be a credential (as Go's transport words it).
  const shown = /^[\x21-\x7e]{1,64}$/.test(name) ? name : JSON.stringify(name.slice(0, 64));
  const what = trailers ? 'trailer field' : 'field';
  return new ProxyError('INTERNAL', `invalid HTTP/2 request ${what} ${shown}: not sent to the upstream`);
}
