import { type HeaderList, needsSettling } from '../core/headers.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';

/*
 * What a plugin wrote is checked before the proxy serialises it: built-in middlewares get values
 * checked by their schemas, a plugin's come from its code (and often from the request). A CR or
 * LF in a header value, a space in the path, would let a client smuggle a second request or
 * response (RFC 9112 §2.2, §3.2). Each check returns what is wrong, or undefined.
 *
 * Only what the plugin's call changed is checked, against a `Before` taken just before it: the
 * rest came from the parser or from checked configuration. A character past U+00FF is no error:
 * the list is marked unsettled (a plugin may write into the arrays, past `set`), and
 * core/field-values.ts writes such a value as its UTF-8 bytes, as Go writes a string. Scanning every field with these
 * expressions cost ~2 µs per request; copying two short arrays and comparing them costs a tenth.
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

/** A head's header fields as they were before a plugin's call (copies of the two arrays). */
export class Before {
  readonly names: readonly string[];
  readonly values: readonly string[];
  /** The request's path and query, or the response's status and reason. */
  readonly a: string | number;
  readonly b: string;

  constructor(h: HeaderList, a: string | number, b: string) {
    this.names = h.names.slice();
    this.values = h.values.slice();
    this.a = a;
    this.b = b;
  }

  static request(req: RequestHead): Before {
    return new Before(req.headers, req.path, req.query);
  }

  static response(res: ResponseHead): Before {
    return new Before(res.headers, res.status, res.reason);
  }
}

/** The fields that differ from `before` at their index (an insertion or removal shifts the rest). */
function checkChangedFields(h: HeaderList, before: Before): string | undefined {
  const { names, values } = h;
  const n0 = before.names;
  const v0 = before.values;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const value = values[i]!;
    if (name === n0[i] && value === v0[i]) continue;
    if (typeof name !== 'string' || !TOKEN.test(name)) return `invalid header name ${JSON.stringify(name)}`;
    if (typeof value !== 'string' || BAD_VALUE.test(value)) {
      return `header ${name} has a CR, LF or NUL in its value`;
    }
    if (needsSettling(name, value)) h.unsettled = true;
  }
  return undefined;
}

export function checkRequest(req: RequestHead, before: Before): string | undefined {
  const { path, query } = req;
  if (
    path !== before.a &&
    (typeof path !== 'string' || (path[0] !== '/' && path !== '*') || BAD_TARGET.test(path))
  ) {
    return `invalid path ${JSON.stringify(path)} (it must start with / and hold no space or control character)`;
  }
  if (query !== before.b && (typeof query !== 'string' || BAD_TARGET.test(query) || query.includes('#'))) {
    return `invalid query ${JSON.stringify(query)} (no space, control character or #)`;
  }
  return checkChangedFields(req.headers, before);
}

export function checkResponse(res: ResponseHead, before: Before): string | undefined {
  if (res.status !== before.a && (!Number.isInteger(res.status) || res.status < 200 || res.status > 599)) {
    return `invalid status ${String(res.status)} (200-599)`;
  }
  if (res.reason !== before.b && (typeof res.reason !== 'string' || BAD_REASON.test(res.reason))) {
    return 'invalid reason phrase';
  }
  return checkChangedFields(res.headers, before);
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
