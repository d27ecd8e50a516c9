import type { ErrorsConfig } from '../config/dynamic/body-middlewares.ts';
import { inRanges } from '../config/dynamic/status-range.ts';
import type { HeaderList } from '../core/headers.ts';
import { type RequestHead, withQuery } from '../core/request.ts';
import type { ErrorPageSpec, MiddlewareFactory } from './middleware.ts';
import { canonicalRawPath, pathOf, toByteString } from './path.ts';

/**
 * `errors` (Traefik v3): declares an error page; the exchange serves it (see ErrorPageSpec and
 * the exchange's `catchError`). Traefik's rules, from pkg/middlewares/customerrors:
 *
 * - the page is fetched with GET at `query` (a leading `/` added), with the original request's
 *   header fields, from the `service`; the client gets the caught status (or its rewrite), never
 *   the page's own;
 * - in `query`, `{status}` is the status the client gets (after `statusRewrites`),
 *   `{originalStatus}` the one the upstream (or the proxy) answered, `{url}` the request's full
 *   URL (scheme from X-Forwarded-Proto, the client's Host, path and query) escaped as Go's
 *   url.QueryEscape does;
 * - `errorRequestHeaders` (Traefik v3.6.15, v3.7) narrows the fields copied to the page request
 *   to those named (case-insensitive; `[]`: none). Host is not among Go's header fields there:
 *   the page request keeps the client's Host whatever the list says (see `pageRequestFields`);
 * - the first `statusRewrites` entry whose range holds the status applies (Traefik reads a map:
 *   the order of overlapping ranges is not defined there; ours is the file's order).
 */
export const errorsFactory: MiddlewareFactory<ErrorsConfig> = {
  type: 'errors',
  create(config, ctx) {
    const service = ctx.service(config.service);
    if (typeof service !== 'string') return service;
    const spec: ErrorPageSpec = {
      status: config.status,
      rewrites: config.rewrites,
      service,
      query: config.query === '' ? '/' : `/${config.query.replace(/^\/+/, '')}`,
      forward: config.forward,
      nginx: config.nginx,
    };
    return { errorPage: spec };
  },
};

/**
 * The request fields the page request carries: all of them, or Host and those `spec.forward`
 * names (Traefik copies only the listed ones; Go keeps Host outside the header map, so it stays);
 * never Expect.
 */
export function pageRequestFields(spec: ErrorPageSpec, headers: HeaderList): HeaderList {
  const keep = spec.forward;
  // Traefik copies Expect too; the page GET has no content, and RFC 9110 §10.1.1 says such a
  // request carries no 100-continue expectation (edge rules win: a server would answer it).
  if (keep === null && !headers.has('expect')) return headers;
  const out = headers.clone();
  out.deleteWhere((ln) => ln === 'expect' || (keep !== null && ln !== 'host' && !keep.includes(ln)));
  return out;
}

/**
 * The page request's fields for ingress-nginx's error pages (Traefik's customerrors with
 * NginxHeaders, #12738): the request's, then X-Code (the caught status), X-Format (the client's
 * Accept), X-Original-URI (the request's target) and the provider's fields (X-Namespaces, as
 * Traefik's translator spells it, X-Ingress-Name, X-Service-Name, X-Service-Port).
 */
export function nginxPageFields(
  spec: ErrorPageSpec,
  fields: HeaderList,
  req: RequestHead,
  status: number,
): HeaderList {
  const out = fields === req.headers ? fields.clone() : fields;
  out.set('X-Code', String(status));
  out.set('X-Format', req.headers.get('accept') ?? '');
  out.set('X-Original-URI', withQuery(req.path, req.query));
  for (const [k, v] of spec.nginx!) out.set(k, v);
  return out;
}

/** The status the client gets for a caught `status`. */
export function rewrittenStatus(spec: ErrorPageSpec, status: number): number {
  for (const r of spec.rewrites) if (inRanges([r.from], status)) return r.to;
  return status;
}

/** The page's request target for a caught response. */
export function errorPageTarget(
  spec: ErrorPageSpec,
  req: RequestHead,
  status: number,
  original: number,
): string {
  let q = spec.query;
  if (q.includes('{')) {
    q = q.replaceAll('{status}', String(status)).replaceAll('{originalStatus}', String(original));
    if (q.includes('{url}')) q = q.replaceAll('{url}', goQueryEscape(requestUrl(req)));
  }
  return goRequestTarget(q);
}

/**
 * The page's target as Traefik sends it: customerrors' newRequest parses `http://host` + query
 * with Go's url.Parse and asks for URL.RequestURI(), so the path is EscapedPath() (a space, a
 * quote, non-ASCII… percent-encoded; a valid encoding kept) and the query stays as written.
 * A path with a bad `%` escape, which Go refuses (Traefik then answers the status text), goes
 * as written.
 */
function goRequestTarget(q: string): string {
  const end = q.search(/[?#]/);
  const path = end === -1 ? q : q.slice(0, end);
  let rest = end === -1 ? '' : q.slice(end);
  if (rest.charCodeAt(0) === 35 /* # */)
    rest = ''; // the fragment is not part of RequestURI()
  else if (rest.includes('#')) rest = rest.slice(0, rest.indexOf('#'));
  const escaped = canonicalRawPath(toByteString(path)) ?? path;
  return (escaped === '' ? '/' : escaped) + rest;
}

/**
 * The request's full URL, as Traefik v3.7.13's customerrors fills `{url}` (#11876 put the
 * scheme and the client's Host before Go's req.URL, #13320 took the scheme from
 * X-Forwarded-Proto, which the entry point has set by then, else from the connection): the
 * path as middlewares left it, '' when a path middleware removed all of it (Go's URL.String()
 * of an empty path).
 */
function requestUrl(req: RequestHead): string {
  const proto = req.headers.get('x-forwarded-proto');
  const scheme = proto !== undefined && proto !== '' ? proto : req.scheme;
  const host = req.headers.get('host') ?? (req.hostPort === '' ? req.host : `${req.host}:${req.hostPort}`);
  return `${scheme}://${host}${withQuery(pathOf(req), req.query)}`;
}

/** Go's url.QueryEscape: unreserved bytes kept, space as `+`, everything else %XX (upper case). */
export function goQueryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (
      (b >= 0x30 && b <= 0x39) ||
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      b === 0x2d ||
      b === 0x2e ||
      b === 0x5f ||
      b === 0x7e
    ) {
      out += String.fromCharCode(b);
    } else if (b === 0x20) out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
