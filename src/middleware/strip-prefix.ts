import type { StripPrefixConfig } from '../config/dynamic/middlewares.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import { goHttpError } from './http-error.ts';
import type { BuildContext, Middleware, MiddlewareFactory } from './middleware.ts';
import {
  ensureLeadingSlash,
  goEscapedPath,
  isCleanPath,
  pathOf,
  rawIndexAfter,
  setPath,
  toByteString,
  unescapePath,
} from './path.ts';

export const FORWARDED_PREFIX = 'X-Forwarded-Prefix';

/** A prefix stripped into a path that is not clean: 400, as Go's http.Error writes it. */
export const STRIPPED_NOT_CLEAN = goHttpError(400, 'Bad Request');

/**
 * Traefik's stripPrefix: the first prefix of the list (in list order, not the longest) that the
 * decoded path starts with is removed from the path, and appended as an X-Forwarded-Prefix field.
 * Matching is plain string prefix: `/api` also strips `/apiv2` to `/v2`, as in Traefik. A path
 * that was the prefix itself (`/api`, or `/api/` for the prefix `/api/`) is left empty, as
 * Traefik's getPathStripped leaves it (sent as `/`; see `setPath`), unless the deprecated
 * `forceSlash: true` asks for `/`, as it does in Traefik.
 */
class StripPrefix implements Middleware {
  /** Prefixes as UTF-8 byte strings, compared with the decoded path bytes. */
  readonly #prefixes: readonly string[];
  /** X-Forwarded-Prefix values (Traefik trims spaces for the header only). */
  readonly #headerValues: readonly string[];

  readonly #forceSlash: boolean;

  constructor(prefixes: readonly string[], forceSlash: boolean) {
    this.#prefixes = prefixes.map(toByteString);
    this.#headerValues = prefixes.map((p) => toByteString(p.trim()));
    this.#forceSlash = forceSlash;
  }

  onRequest(req: RequestHead): DirectResponse | undefined {
    const raw = pathOf(req);
    const decoded = unescapePath(raw);
    if (decoded === undefined) return undefined;
    const prefixes = this.#prefixes;
    for (let i = 0; i < prefixes.length; i++) {
      const prefix = prefixes[i]!;
      if (!decoded.startsWith(prefix)) continue;
      // Traefik cuts both Go's Path and RawPath (stripprefix getPathStripped, getRawPathStripped:
      // encodedPrefixLen is our rawIndexAfter); what goes upstream is their EscapedPath().
      const rest = decoded === raw ? raw.slice(prefix.length) : raw.slice(rawIndexAfter(raw, prefix.length));
      // Traefik v3.6.19/v3.7.3 (CVE-2026-48020): a stripped path that normalisation would change
      // (`/api../admin` → `/../admin`) is a 400, else the backend would resolve it to a path
      // another router guards.
      if (rest !== '' && !isCleanPath(ensureLeadingSlash(rest))) return STRIPPED_NOT_CLEAN;
      if (rest === '' && !this.#forceSlash) setPath(req, '');
      else {
        const decodedRest = decoded === raw ? rest : decoded.slice(prefix.length);
        setPath(req, goEscapedPath(ensureLeadingSlash(decodedRest), ensureLeadingSlash(rest)));
      }
      req.headers.append(FORWARDED_PREFIX, this.#headerValues[i]!);
      return undefined;
    }
    return undefined;
  }
}

export const stripPrefixFactory: MiddlewareFactory<StripPrefixConfig> = {
  type: 'stripPrefix',
  create(config: StripPrefixConfig, ctx: BuildContext): Middleware | { error: string } {
    // Traefik's stripprefix.New warns whenever the key is set, whatever its value.
    if (config.forceSlash !== undefined) {
      ctx.logger.warn('stripPrefix.forceSlash is deprecated, remove it', { middleware: ctx.name });
    }
    return new StripPrefix(config.prefixes, config.forceSlash === true);
  },
};
