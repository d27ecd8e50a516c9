import { goAuthorityError } from '../config/dynamic/server-url.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import { canonicalRawPath, joinPath, toByteString } from './path.ts';

const TEXT = [
  [301, 'Moved Permanently'],
  [302, 'Found'],
  [307, 'Temporary Redirect'],
  [308, 'Permanent Redirect'],
  // Go's http.StatusText of the other codes a fixed statusCode may name.
  [300, 'Multiple Choices'],
  [303, 'See Other'],
  [304, 'Not Modified'],
  [305, 'Use Proxy'],
] as const;
const BODY = new Map<number, string>(TEXT);

/**
 * Traefik's redirect status: 302 (or 301 when permanent) for GET, and 307 (or 308) for every other
 * method, HEAD included, so that clients replay the method and body (RFC 9110 §15.4.8-9).
 */
export function redirectStatus(method: string, permanent: boolean): number {
  if (method === 'GET') return permanent ? 301 : 302;
  return permanent ? 308 : 307;
}

/**
 * `fixed`: a status whatever the method (Traefik's RedirectRegex.StatusCode and
 * RedirectScheme.ForcePermanentRedirect, which its Ingress NGINX provider sets); 0 = by method.
 */
export function redirectResponse(
  method: string,
  location: string,
  permanent: boolean,
  fixed = 0,
): DirectResponse {
  const status = fixed !== 0 ? fixed : redirectStatus(method, permanent);
  return {
    status,
    // Location alone, as Traefik's moveHandler sets it (pkg/middlewares/redirect/redirect.go):
    // the wire's Content-Type is the one Go's server sniffs from the body, which the head
    // writers add (proxy/heads.ts, http2/response-fields.ts) and the access log's downstream_
    // fields do not show, as Traefik's (its handler's header map has none).
    headers: [['Location', location]],
    body: BODY.get(status) ?? '',
  };
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&#34;',
  "'": '&#39;',
};

/** The status texts Go's http.Redirect writes in its link (http.StatusText). */
const REDIRECT_TEXT = new Map<number, string>([...TEXT, [303, 'See Other']]);

/**
 * Go's http.Redirect (net/http server.go): a URL without scheme and host is made absolute against
 * the request's path (a relative one against its directory), cleaned as path.Clean does, its
 * trailing slash and query kept; Location gets it with non-ASCII bytes percent-encoded
 * (hexEscapeNonASCII); GET and HEAD get `Content-Type: text/html; charset=utf-8`, and GET an HTML
 * link to it (htmlReplacer) as its body.
 */
export function goHttpRedirect(
  method: string,
  requestPath: string,
  url: string,
  status: number,
): DirectResponse {
  let target = url;
  const m = SCHEME_AUTHORITY.exec(url)!;
  if (m[1] === undefined && m[2] === undefined) {
    if (url === '' || url.charCodeAt(0) !== 47) {
      const old = requestPath === '' ? '/' : requestPath;
      target = old.slice(0, old.lastIndexOf('/') + 1) + url;
    }
    const q = target.indexOf('?');
    const query = q === -1 ? '' : target.slice(q);
    const p = q === -1 ? target : target.slice(0, q);
    let clean = joinPath(p);
    if (p.endsWith('/') && !clean.endsWith('/')) clean += '/';
    target = clean + query;
  }
  const headers: [string, string][] = [['Location', hexEscapeNonAscii(target)]];
  if (method !== 'GET' && method !== 'HEAD') return { status, headers };
  headers.push(['Content-Type', 'text/html; charset=utf-8']);
  if (method === 'HEAD') return { status, headers };
  const link = target.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
  return { status, headers, body: `<a href="${link}">${REDIRECT_TEXT.get(status) ?? ''}</a>.\n\n` };
}

/** Go's hexEscapeNonASCII: each byte of a non-ASCII character as `%XX`. */
function hexEscapeNonAscii(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII is the range kept
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8'))
    out += b < 0x80 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** The port as it appears in a URL after the host: '' for none or the scheme's default port. */
export function portSuffix(scheme: string, port: string): string {
  if (port === '' || (scheme === 'http' && port === '80') || (scheme === 'https' && port === '443'))
    return '';
  return `:${port}`;
}

/** Host as it goes into a URL: IPv6 literals need their brackets back. */
export function urlHost(host: string): string {
  return host.includes(':') && host.charCodeAt(0) !== 91 /* [ */ ? `[${host}]` : host;
}

/**
 * Go's req.Host as Traefik's redirects write it into the URL they match and rebuild
 * (pkg/middlewares/redirect redirect_regex.go rawURL, redirect_scheme.go clientRequestURL): the
 * Host field as the client sent it (or as a headers middleware set it, which Traefik's
 * modifyCustomRequestHeaders does to req.Host), its case and a trailing dot kept. `req.host` is
 * the routing form (lowercased, no trailing dot); it and `hostPort` stand in only for a request
 * without a Host field. An IPv6 literal keeps our bracketed form (see `redirectHostPort`).
 */
export function redirectHost(req: RequestHead): string {
  const raw = req.headers.get('host');
  if (raw !== undefined && raw !== '' && raw.charCodeAt(0) !== 91 /* [ */) return raw;
  return urlHost(req.host) + (req.hostPort === '' ? '' : `:${req.hostPort}`);
}

/**
 * `redirectHost` split as net.SplitHostPort splits it in redirectScheme's clientRequestURL: the
 * host before the last colon and the port after it ('' when there is none).
 */
export function redirectHostPort(req: RequestHead): readonly [host: string, port: string] {
  const raw = req.headers.get('host');
  if (raw === undefined || raw === '' || raw.charCodeAt(0) === 91 /* [ */)
    return [urlHost(req.host), req.hostPort];
  const colon = raw.lastIndexOf(':');
  // Two colons without brackets: SplitHostPort fails and Traefik keeps the whole value as host.
  if (colon === -1 || raw.lastIndexOf(':', colon - 1) !== -1) return [raw, ''];
  return [raw.slice(0, colon), raw.slice(colon + 1)];
}

const SCHEME_AUTHORITY = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(\/\/[^/]*)?/;

/**
 * A redirect target as Traefik writes it in Location: it parses the URL (Go `url.Parse`) and
 * writes it back (`URL.String()`, pkg/middlewares/redirect, moveHandler), so the scheme is
 * lowercased and the path is Go's `EscapedPath()`: kept as written when it is a valid encoding,
 * else decoded and escaped again (`"`, `|`, `^`, `{`, a space, non-ASCII… become `%XX`). The query
 * and fragment are left to the caller. Undefined when the path has a bad `%` escape, which
 * url.Parse refuses (Traefik then answers 500).
 */
export function goLocationPath(target: string): string | undefined {
  const m = SCHEME_AUTHORITY.exec(target)!;
  const scheme = m[1] === undefined ? '' : `${m[1].toLowerCase()}:`;
  const authority = m[2] ?? '';
  if (authority.length > 2 && goAuthorityError(authority.slice(2)) !== undefined) return undefined;
  const path = canonicalRawPath(toByteString(target.slice(m[0].length)));
  return path === undefined ? undefined : scheme + authority + path;
}
