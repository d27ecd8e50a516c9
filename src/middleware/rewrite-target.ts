import { compileGoRegexp } from '../config/dynamic/go-regexp.ts';
import type { RewriteTargetConfig } from '../config/dynamic/middlewares.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import { replaceAllGo, rewriter, type TemplatePart } from './go-replace.ts';
import { badEscapeAnswer, goHttpError, unescapeSpanError } from './http-error.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';
import { canonicalRawPath, ensureLeadingSlash, isCleanPath, pathOf, setPath } from './path.ts';
import { goHttpRedirect } from './redirect-response.ts';

const BAD_REQUEST = goHttpError(400, 'Bad Request');

/** A URL with a scheme, as Go's url.Parse finds one (a letter, then letters, digits, `+-.`, then `:`). */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

const SERVER_ERROR = goHttpError(500, 'Internal Server Error');

/**
 * Traefik v3.7's RewriteTarget (pkg/middlewares/ingressnginx/rewritetarget/rewrite_target.go, the
 * Ingress NGINX provider's `rewrite-target`). The regex is case-insensitive (`(?i)` added, as
 * ingress-nginx's locations). When it matches the encoded path (or always, without a regex), the
 * path becomes the replacement with the matches replaced (Go's ReplaceAllString, `$1`; without a
 * regex the `$n` are dropped); an empty result is a 500, as ingress-nginx. A replacement that is
 * itself an absolute URL (a scheme: #12977, a URL brought by a capture never redirects) is
 * answered with a 302 to the result (Go's http.Redirect), the request's query added when the
 * result has none (#13020); such a regex without groups matches the rest of the path too
 * (`.*` appended, #12931). With `xForwardedPrefix`, X-Forwarded-Prefix is set to it (its `$n`
 * from the same match). Unlike replacePathRegex no X-Replaced-Path is added. A bad %-escape in
 * the result is a 500, as there; a result that is not a clean path (`..`) is refused with 400,
 * as our replacePathRegex and the snippet's rewrite.
 */
class RewriteTarget implements Middleware {
  readonly #re: RegExp | null;
  readonly #replacement: string;
  readonly #parts: readonly TemplatePart[];
  readonly #prefix: string;
  readonly #prefixParts: readonly TemplatePart[] | null;
  readonly #redirect: boolean;

  constructor(
    re: RegExp | null,
    replacement: string,
    parts: readonly TemplatePart[],
    prefix: string,
    prefixParts: readonly TemplatePart[] | null,
  ) {
    this.#re = re;
    this.#replacement = replacement;
    this.#parts = parts;
    this.#prefix = prefix;
    this.#prefixParts = prefixParts;
    this.#redirect = SCHEME.test(replacement);
  }

  /** The new path (undefined: the regex does not match). */
  #target(current: string): string | undefined {
    return this.#re === null ? this.#replacement : replaceAllGo(this.#re, current, this.#parts);
  }

  /**
   * Traefik's rewriteTarget marks the span of a path it cannot unescape (as replacePathRegex):
   * the new path is worked out again from the request, for a traced request only.
   */
  readonly #spanError = (req: RequestHead): string => unescapeSpanError(this.#target(pathOf(req)) ?? '');

  onRequest(req: RequestHead): DirectResponse | undefined {
    const current = pathOf(req);
    const target = this.#target(current);
    if (target === undefined) return undefined;
    if (target === '') return SERVER_ERROR;
    if (this.#redirect) {
      const location = target.includes('?') || req.query === '' ? target : `${target}?${req.query}`;
      return goHttpRedirect(req.method, req.path, location, 302);
    }
    if (this.#prefix !== '') {
      const prefix =
        this.#re !== null && this.#prefixParts !== null
          ? (replaceAllGo(this.#re, current, this.#prefixParts) ?? this.#prefix)
          : this.#prefix;
      req.headers.set('X-Forwarded-Prefix', prefix);
    }
    const path = canonicalRawPath(target);
    if (path === undefined) return badEscapeAnswer(target, this.#spanError);
    if (!isCleanPath(path)) return BAD_REQUEST;
    setPath(req, ensureLeadingSlash(path));
    return undefined;
  }
}

export const rewriteTargetFactory: MiddlewareFactory<RewriteTargetConfig> = {
  type: 'rewriteTarget',
  create(config: RewriteTargetConfig): Middleware | { error: string } {
    if (config.replacement === '') return { error: 'replacement cannot be empty' };
    const replacement = config.replacement.trim();
    const regex = config.regex.trim();
    if (regex === '')
      return new RewriteTarget(null, replacement.replace(/\$[0-9]+/g, ''), [], config.xForwardedPrefix, null);
    let rx = compileGoRegexp(`(?i)${regex}`, 'g');
    if ('error' in rx) return { error: `compiling regular expression ${config.regex}: ${rx.error}` };
    if (SCHEME.test(replacement) && rx.groupNames.length === 1) {
      rx = compileGoRegexp(`(?i)${regex}.*`, 'g');
      if ('error' in rx)
        return { error: `compiling regular expression for absolute URL ${config.regex}: ${rx.error}` };
    }
    const { re, parts } = rewriter(rx, replacement);
    const prefixParts = config.xForwardedPrefix === '' ? null : rewriter(rx, config.xForwardedPrefix).parts;
    return new RewriteTarget(re, replacement, parts, config.xForwardedPrefix, prefixParts);
  },
};
