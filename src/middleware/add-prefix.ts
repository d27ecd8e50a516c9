import type { AddPrefixConfig } from '../config/dynamic/middlewares.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';
import { ensureLeadingSlash, goEscapedPath, pathOf, setPath, toByteString, unescapePath } from './path.ts';

/**
 * Traefik's addPrefix: the prefix is prepended to Go's Path and, when set, RawPath alike (a
 * missing leading '/' is added), and what goes upstream is their EscapedPath(): the raw path
 * behind the prefix as sent while it still encodes the decoded one (a prefix needing escapes,
 * such as `/a b`, or holding `%`, makes Go escape the whole decoded path again). After a
 * stripPrefix that removed the whole path, the result is the prefix alone (`/v2`, not `/v2/`).
 */
class AddPrefix implements Middleware {
  /** The prefix as UTF-8 bytes. */
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  onRequest(req: RequestHead): DirectResponse | undefined {
    const raw = pathOf(req);
    const decoded = unescapePath(raw) ?? raw;
    const p = this.#prefix;
    setPath(req, goEscapedPath(ensureLeadingSlash(p + decoded), ensureLeadingSlash(p + raw)));
    return undefined;
  }
}

export const addPrefixFactory: MiddlewareFactory<AddPrefixConfig> = {
  type: 'addPrefix',
  create(config: AddPrefixConfig): Middleware | { error: string } {
    return new AddPrefix(toByteString(config.prefix));
  },
};
