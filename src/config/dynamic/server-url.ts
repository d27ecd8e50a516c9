/**
 * Server URLs as Traefik reads them, in a module without zod: the serving process builds its
 * snapshot with it (runtime/build-snapshot.ts) and never loads the schemas
 * (config-process/zod-free.test.ts).
 *
 * Traefik parses a server URL with Go's `url.Parse` (pkg/server/service/service.go): only what
 * that refuses is a configuration error. A URL it accepts but cannot send a request to
 * (`localhost`, `ftp://h`, `http://`) loads, and every request that reaches that server fails in
 * Go's transport (`unsupported protocol scheme ""`, `http: no Host in request URL`), which
 * Traefik answers 500. Such URLs are still written in real files, as placeholders behind a
 * redirect: ours loads them too, warns, and keeps the server as one that always fails the same
 * way (runtime/build-snapshot.ts).
 */

/** A server URL's path that matters (not `/`; a URL of a scheme WHATWG does not know, h2c, has ''). */
export function serverUrlPath(text: string): string {
  if (unusableServerUrl(text) !== undefined) return '';
  const path = new URL(text).pathname;
  return path === '/' ? '' : path;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * Why Go's `url.Parse` refuses `text` (a configuration error, as in Traefik), or undefined. Its
 * checks that a server URL can meet: control characters, a `%` that starts no escape, a missing
 * scheme before a `:`, a colon in the first segment of a URL without a scheme, a port that is not
 * a number.
 */
export function serverUrlParseError(text: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Go refuses exactly these
  if (/[\x00-\x1f\x7f]/.test(text)) return `invalid URL "${text}": invalid control character in URL`;
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) return `invalid URL "${text}": invalid URL escape`;
  if (text.startsWith(':')) return `invalid URL "${text}": missing protocol scheme`;
  const scheme = SCHEME.exec(text);
  if (scheme === null) {
    const first = text.split(/[/?#]/, 1)[0]!;
    if (first.includes(':')) return `invalid URL "${text}": first path segment in URL cannot contain colon`;
    return undefined;
  }
  const rest = text.slice(scheme[0].length);
  if (rest.startsWith('//')) {
    const authority = rest.slice(2).split(/[/?#]/, 1)[0]!;
    const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
    const colon = hostPort.lastIndexOf(':');
    if (colon !== -1 && !hostPort.endsWith(']')) {
      const port = hostPort.slice(colon + 1);
      if (!/^[0-9]*$/.test(port)) return `invalid URL "${text}": invalid port ":${port}" after host`;
    }
  }
  return undefined;
}

/**
 * Why a server URL that loads (serverUrlParseError said nothing) cannot carry a request, in the
 * words of Go's transport, or undefined for a usable `http`, `https` or `h2c` URL with a host.
 */
export function unusableServerUrl(text: string): string | undefined {
  const scheme = SCHEME.exec(text)?.[1]?.toLowerCase() ?? '';
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 'h2c')
    return `unsupported protocol scheme "${scheme}"`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'http: no Host in request URL';
  }
  return url.hostname === '' || !text.slice(scheme.length + 1).startsWith('//')
    ? 'http: no Host in request URL'
    : undefined;
}
