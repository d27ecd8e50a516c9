import type { AddPrefixConfig } from '../config/dynamic/middlewares.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';
import { ensureLeadingSlash, escapePath, pathOf, setPath } from './path.ts';

/**
 * Traefik's addPrefix: the prefix is prepended to the path (a missing leading '/' is added).
 * The prefix is a decoded path, as in Traefik, so it is percent-encoded once here. After a
 * stripPrefix that removed the whole path, the result is the prefix alone (`/v2`, not `/v2/`).
 */
class AddPrefix implements Middleware {
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  onRequest(req: RequestHead): DirectResponse | undefined {
    setPath(req, ensureLeadingSlash(this.#prefix + pathOf(req)));
    return undefined;
  }
}

export const addPrefixFactory: MiddlewareFactory<AddPrefixConfig> = {
  type: 'addPrefix',
  create(config: AddPrefixConfig): Middleware | { error: string } {
    return new AddPrefix(escapePath(config.prefix));
  },
};
