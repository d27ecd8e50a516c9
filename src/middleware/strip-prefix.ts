import type { StripPrefixConfig } from '../config/dynamic/middlewares.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import type { BuildContext, Middleware, MiddlewareFactory } from './middleware.ts';
import { ensureLeadingSlash, rawIndexAfter, toByteString, unescapePath } from './path.ts';

export const FORWARDED_PREFIX = 'X-Forwarded-Prefix';

/**
 * Traefik's stripPrefix: the first prefix of the list (in list order, not the longest) that the
 * decoded path starts with is removed from the path, and appended as an X-Forwarded-Prefix field.
 * Matching is plain string prefix: `/api` also strips `/apiv2` to `/v2`, as in Traefik.
 */
class StripPrefix implements Middleware {
  /** Prefixes as UTF-8 byte strings, compared with the decoded path bytes. */
  readonly #prefixes: readonly string[];
  /** X-Forwarded-Prefix values (Traefik trims spaces for the header only). */
  readonly #headerValues: readonly string[];

  constructor(prefixes: readonly string[]) {
    this.#prefixes = prefixes.map(toByteString);
    this.#headerValues = prefixes.map((p) => toByteString(p.trim()));
  }

  onRequest(req: RequestHead): DirectResponse | undefined {
    const raw = req.path;
    const decoded = unescapePath(raw);
    if (decoded === undefined) return undefined;
    const prefixes = this.#prefixes;
    for (let i = 0; i < prefixes.length; i++) {
      const prefix = prefixes[i]!;
      if (!decoded.startsWith(prefix)) continue;
      const cut = decoded === raw ? prefix.length : rawIndexAfter(raw, prefix.length);
      req.path = ensureLeadingSlash(raw.slice(cut));
      req.headers.append(FORWARDED_PREFIX, this.#headerValues[i]!);
      return undefined;
    }
    return undefined;
  }
}

export const stripPrefixFactory: MiddlewareFactory<StripPrefixConfig> = {
  type: 'stripPrefix',
  create(config: StripPrefixConfig, ctx: BuildContext): Middleware | { error: string } {
    if (config.forceSlash === false) {
      ctx.logger.warn(
        'stripPrefix.forceSlash is deprecated and has no effect: stripped paths always start with /',
        {
          middleware: ctx.name,
        },
      );
    }
    return new StripPrefix(config.prefixes);
  },
};
