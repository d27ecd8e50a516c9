import type { HeaderList } from '../core/headers.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';

/*
 * What a plugin wrote is checked before the proxy serialises it: built-in middlewares get values
 * checked by their schemas, a plugin's come from its code (and often from the request). A CR or
 * LF in a header value, a space in the path, would let a client smuggle a second request or
 * response (RFC 9112 §2.2, §3.2). Each check returns what is wrong, or undefined.
 */

// RFC 9110 §5.1 field-name = token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// RFC 9110 §5.5: field values never hold CR, LF or NUL.
const BAD_VALUE = /[\r\n\0]/;
// RFC 9112 §3.2: the request target ends at the first space; controls never belong in it.
const BAD_TARGET = /[\0-\x20\x7f]/;
// A reason phrase (RFC 9112 §4): HTAB, SP, VCHAR, obs-text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the controls are what it looks for.
const BAD_REASON = /[\0-\x08\x0a-\x1f\x7f]/;

export function checkHeaders(h: HeaderList): string | undefined {
  const { names, values } = h;
  for (let i = 0; i < names.length; i++) {
    if (!TOKEN.test(names[i]!)) return `invalid header name ${JSON.stringify(names[i])}`;
    if (BAD_VALUE.test(values[i]!)) return `header ${names[i]} has a CR, LF or NUL in its value`;
  }
  return undefined;
}

export function checkRequest(req: RequestHead): string | undefined {
  const { path, query } = req;
  if (typeof path !== 'string' || (path[0] !== '/' && path !== '*') || BAD_TARGET.test(path)) {
    return `invalid path ${JSON.stringify(path)} (it must start with / and hold no space or control character)`;
  }
  if (typeof query !== 'string' || BAD_TARGET.test(query) || query.includes('#')) {
    return `invalid query ${JSON.stringify(query)} (no space, control character or #)`;
  }
  return checkHeaders(req.headers);
}

export function checkResponse(res: ResponseHead): string | undefined {
  if (!Number.isInteger(res.status) || res.status < 200 || res.status > 599) {
    return `invalid status ${String(res.status)} (200-599)`;
  }
  if (typeof res.reason !== 'string' || BAD_REASON.test(res.reason)) return 'invalid reason phrase';
  return checkHeaders(res.headers);
}

export function checkDirect(r: unknown): string | undefined {
  if (typeof r !== 'object' || r === null) return `returned ${typeof r}, not a response or undefined`;
  const { status, headers, body } = r as DirectResponse;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    return `returned a response with an invalid status ${String(status)} (200-599)`;
  }
  if (body !== undefined && typeof body !== 'string') return 'returned a response whose body is not a string';
  if (headers === undefined) return undefined;
  if (!Array.isArray(headers)) return 'returned a response whose headers are not a list of [name, value]';
  for (const f of headers) {
    if (!Array.isArray(f) || typeof f[0] !== 'string' || typeof f[1] !== 'string') {
      return 'returned a response whose headers are not a list of [name, value]';
    }
    if (!TOKEN.test(f[0])) return `returned an invalid header name ${JSON.stringify(f[0])}`;
    if (BAD_VALUE.test(f[1])) return `returned header ${f[0]} with a CR, LF or NUL in its value`;
  }
  return undefined;
}
