import { compileGoRegexp } from '../config/dynamic/go-regexp.ts';
import type { ReplacePathRegexConfig } from '../config/dynamic/middlewares.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import { replaceAllGo, rewriter, type TemplatePart } from './go-replace.ts';
import { badEscapeAnswer, goHttpError, unescapeSpanError } from './http-error.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';
import { canonicalRawPath, ensureLeadingSlash, isCleanPath, pathOf, setPath } from './path.ts';
import { REPLACED_PATH } from './replace-path.ts';

const BAD_REQUEST = goHttpError(400, 'Bad Request');

/**
 * Traefik's replacePathRegex: every match of the regex in the encoded path is replaced (Go
 * ReplaceAllString semantics, `$1`/`${name}` groups) and the original path is appended as
 * X-Replaced-Path. A result with a bad %-escape is a 500, as in Traefik; a result that is not a
 * clean path (`..`, `.`, `//`) is refused with 400, Traefik's fix for path traversal through
 * captured segments.
 */
class ReplacePathRegex implements Middleware {
  readonly #re: RegExp;
  readonly #parts: readonly TemplatePart[];

  /**
   * Traefik's replacePathRegex marks the span of a path it cannot unescape: the new path is
   * worked out again from the request (its path is left as it came) for a traced request only.
   */
  readonly #spanError = (req: RequestHead): string => unescapeSpanError(this.#replaced(req) ?? '');

  constructor(re: RegExp, parts: readonly TemplatePart[]) {
    this.#re = re;
    this.#parts = parts;
  }

  #replaced(req: RequestHead): string | undefined {
    return replaceAllGo(this.#re, pathOf(req), this.#parts);
  }

  onRequest(req: RequestHead): DirectResponse | undefined {
    const original = pathOf(req);
    const replaced = this.#replaced(req);
    if (replaced === undefined) return undefined;
    req.headers.append(REPLACED_PATH, original);
    const path = canonicalRawPath(replaced);
    if (path === undefined) return badEscapeAnswer(replaced, this.#spanError);
    // Traefik checks only a non-empty result; an empty one stays empty (sent as `/`).
    if (path !== '' && !isCleanPath(path)) return BAD_REQUEST;
    setPath(req, path === '' ? '' : ensureLeadingSlash(path));
    return undefined;
  }
}

export const replacePathRegexFactory: MiddlewareFactory<ReplacePathRegexConfig> = {
  type: 'replacePathRegex',
  create(config: ReplacePathRegexConfig): Middleware | { error: string } {
    const rx = compileGoRegexp(config.regex.trim(), 'g');
    if ('error' in rx) return { error: rx.error };
    const { re, parts } = rewriter(rx, config.replacement.trim());
    return new ReplacePathRegex(re, parts);
  },
};
