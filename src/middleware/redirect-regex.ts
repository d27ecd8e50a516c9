import { compileGoRegexp } from '../config/dynamic/go-regexp.ts';
import type { RedirectRegexConfig } from '../config/dynamic/middlewares.ts';
import { type DirectResponse, type RequestHead, withQuery } from '../core/request.ts';
import { replaceAllGo, rewriter, type TemplatePart } from './go-replace.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';
import { goLocationPath, redirectHost, redirectResponse } from './redirect-response.ts';

const NEEDS_ESCAPE = /[ \x80-\u{10ffff}]/gu;

/**
 * Traefik's answer when url.Parse refuses the new URL: oxy's utils.DefaultHandler with the
 * *url.Error, which is a net.Error (it has Timeout and Temporary) that did not time out, so 502
 * with its status text (pkg/middlewares/redirect/redirect.go ServeHTTP; redirect_regex_test.go
 * "invalid rewritten URL" expects http.StatusBadGateway): WriteHeader and the text, no field of
 * its own (the wire's Content-Type is the sniffed one the head writers add, the access log shows
 * none).
 */
const BAD_LOCATION: DirectResponse = {
  status: 502,
  body: 'Bad Gateway',
};

function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Spaces and non-ASCII in a Location are percent-encoded (UTF-8), as Go's url.URL.String() does. */
function escapeChar(ch: string): string {
  let out = '';
  for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/**
 * Traefik's redirectRegex: the regex is matched against `scheme://host[:port]/path?query` (scheme
 * from the connection, host and port as written in the Host header, path and query as received); every
 * match is replaced (Go ReplaceAllString) and the client is redirected to the result, unless the
 * result is the same URL.
 */
class RedirectRegex implements Middleware {
  readonly #re: RegExp;
  readonly #parts: readonly TemplatePart[];
  readonly #permanent: boolean;
  /** statusCode: the status whatever the method; 0 = by method. */
  readonly #fixed: number;

  constructor(re: RegExp, parts: readonly TemplatePart[], permanent: boolean, fixed: number) {
    this.#re = re;
    this.#parts = parts;
    this.#permanent = permanent;
    this.#fixed = fixed;
  }

  onRequest(req: RequestHead): DirectResponse | undefined {
    // Traefik's rawURL: the Host as the client wrote it (case and a trailing dot kept).
    const url = `${req.scheme}://${redirectHost(req)}${withQuery(req.path, req.query)}`;
    const target = replaceAllGo(this.#re, url, this.#parts);
    if (target === undefined || target === url) return undefined;
    // A control character would let the URL split the response head; Go's url.Parse refuses it.
    if (hasControlChar(target)) return BAD_LOCATION;
    // Go's url.Parse + String(): the path as EscapedPath() gives it (see goLocationPath); the
    // query and fragment as written, spaces and non-ASCII percent-encoded (ours: Go writes them
    // raw, which a header cannot carry as text).
    const q = target.search(/[?#]/);
    const path = goLocationPath(q === -1 ? target : target.slice(0, q));
    if (path === undefined) return BAD_LOCATION;
    const rest = q === -1 ? '' : target.slice(q).replace(NEEDS_ESCAPE, escapeChar);
    return redirectResponse(req.method, path + rest, this.#permanent, this.#fixed);
  }
}

export const redirectRegexFactory: MiddlewareFactory<RedirectRegexConfig> = {
  type: 'redirectRegex',
  create(config: RedirectRegexConfig): Middleware | { error: string } {
    const rx = compileGoRegexp(config.regex, 'g');
    if ('error' in rx) return { error: rx.error };
    const { re, parts } = rewriter(rx, config.replacement);
    return new RedirectRegex(re, parts, config.permanent, config.statusCode ?? 0);
  },
};
