import { compileGoRegexp } from '../config/dynamic/go-regexp.ts';
import type { StripPrefixRegexConfig } from '../config/dynamic/middlewares.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';
import {
  ensureLeadingSlash,
  fromByteString,
  goEscapedPath,
  isCleanPath,
  pathOf,
  rawIndexAfter,
  setPath,
  toByteString,
  unescapePath,
} from './path.ts';
import { FORWARDED_PREFIX, STRIPPED_NOT_CLEAN } from './strip-prefix.ts';

const NON_ASCII = /[^\0-\x7f]/;

/**
 * Traefik's stripPrefixRegex: for each regex in order, the leftmost match in the decoded path is
 * stripped when it is non-empty and the path starts with it (the regex need not be anchored);
 * the matched text is appended as X-Forwarded-Prefix. A match that is the whole path leaves it
 * empty, as in Traefik (sent as `/`; see `setPath`).
 */
class StripPrefixRegex implements Middleware {
  readonly #regexps: readonly RegExp[];

  constructor(regexps: readonly RegExp[]) {
    this.#regexps = regexps;
  }

  onRequest(req: RequestHead): DirectResponse | undefined {
    const raw = pathOf(req);
    const bytes = unescapePath(raw);
    if (bytes === undefined) return undefined;
    // Regexes see text (UTF-8 decoded), as Go's do; offsets go back through the byte string.
    const text = NON_ASCII.test(bytes) ? fromByteString(bytes) : bytes;
    const regexps = this.#regexps;
    for (let i = 0; i < regexps.length; i++) {
      const m = regexps[i]!.exec(text);
      if (m === null) continue;
      const prefix = m[0];
      if (prefix === '' || !text.startsWith(prefix)) continue;
      const prefixBytes = text === bytes ? prefix : toByteString(prefix);
      if (!bytes.startsWith(prefixBytes)) continue; // invalid UTF-8 in the path: no safe offset
      const cut = bytes === raw ? prefixBytes.length : rawIndexAfter(raw, prefixBytes.length);
      const rest = raw.slice(cut);
      // Traefik v3.6.19/v3.7.3: a stripped path that normalisation would change is a 400.
      if (rest !== '' && !isCleanPath(ensureLeadingSlash(rest))) return STRIPPED_NOT_CLEAN;
      req.headers.append(FORWARDED_PREFIX, prefixBytes);
      // Go's EscapedPath() of the cut Path and RawPath, as in stripPrefix.
      const decodedRest = bytes === raw ? rest : bytes.slice(prefixBytes.length);
      setPath(
        req,
        rest === '' ? '' : goEscapedPath(ensureLeadingSlash(decodedRest), ensureLeadingSlash(rest)),
      );
      return undefined;
    }
    return undefined;
  }
}

export const stripPrefixRegexFactory: MiddlewareFactory<StripPrefixRegexConfig> = {
  type: 'stripPrefixRegex',
  create(config: StripPrefixRegexConfig): Middleware | { error: string } {
    const regexps: RegExp[] = [];
    for (const src of config.regex) {
      const r = compileGoRegexp(src.trim());
      if ('error' in r) return { error: r.error };
      regexps.push(r.regexp);
    }
    return new StripPrefixRegex(regexps);
  },
};
