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
 * a number, a character that a host or a userinfo may not hold.
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
    const error = goAuthorityError(rest.slice(2).split(/[/?#]/, 1)[0]!);
    if (error !== undefined) return `invalid URL "${text}": ${error}`;
  }
  return undefined;
}

/** Go's url validUserinfo: the characters a user:password part may hold. */
const USERINFO = /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/;
/**
 * The ASCII a host may carry raw (net/url unescape in encodeHost mode: shouldEscape is false for
 * letters, digits, `-._~` and `!$&'()*+,;=:[]<>"`); bytes past 0x7f (UTF-8) pass.
 */
const HOST_CHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"]/;

/**
 * Why Go's url.Parse refuses an authority (what follows `//`, up to the path), in its words, or
 * undefined. parseAuthority: the host first (parseHost: an IP literal's closing bracket followed by
 * nothing or a `:port`, else digits only after the last colon; then unescape in encodeHost mode:
 * a character shouldEscape would escape, or a `%` escape of an ASCII byte other than `%25`), then
 * the userinfo's characters and escapes. So a placeholder left in a server URL
 * (`http://app.${DOMAIN}`, which the file provider does not expand) fails Traefik's url.Parse.
 */
export function goAuthorityError(authority: string): string | undefined {
  const at = authority.lastIndexOf('@');
  const host = authority.slice(at + 1);
  let port = '';
  if (host.startsWith('[')) {
    const close = host.lastIndexOf(']');
    if (close === -1) return "missing ']' in host";
    port = host.slice(close + 1);
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) port = host.slice(colon);
  }
  if (port !== '' && !/^:[0-9]*$/.test(port)) return `invalid port ${JSON.stringify(port)} after host`;
  // The common host (letters, digits, dots, dashes, an IP literal) needs no closer look.
  if (!/^[A-Za-z0-9.\-:[\]]*$/.test(host)) {
    const e = goHostCharError(host);
    if (e !== undefined) return e;
  }
  if (at === -1) return undefined;
  const userinfo = authority.slice(0, at);
  if (!USERINFO.test(userinfo)) return 'net/url: invalid userinfo';
  const bad = /%(?![0-9A-Fa-f]{2})/.exec(userinfo);
  return bad === null
    ? undefined
    : `invalid URL escape ${JSON.stringify(userinfo.slice(bad.index, bad.index + 3))}`;
}

/** net/url unescape(host, encodeHost): the first character or escape it refuses, in its words. */
function goHostCharError(host: string): string | undefined {
  for (let i = 0; i < host.length; i++) {
    const c = host[i]!;
    if (c === '%') {
      const seq = host.slice(i, i + 3);
      if (!/^%[0-9A-Fa-f]{2}$/.test(seq) || (Number.parseInt(seq[1]!, 16) < 8 && seq !== '%25'))
        return `invalid URL escape ${JSON.stringify(seq)}`;
      i += 2;
    } else if (c.charCodeAt(0) < 0x80 && !HOST_CHAR.test(c)) {
      return `invalid character ${JSON.stringify(c)} in host name`;
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
