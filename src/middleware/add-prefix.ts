import type { AddPrefixConfig } from '../config/dynamic/middlewares.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';
import { ensureLeadingSlash, escapePath } from './path.ts';

/**
 * Traefik's addPrefix: the prefix is prepended to the path (a missing leading '/' is added).
 * The prefix is a decoded path, as in Traefik, so it is percent-encoded once here.
 */
class AddPrefix implements Middleware {
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  onRequest(req: RequestHead): DirectResponse | undefined {
    req.path = ensureLeadingSlash(this.#prefix + req.path);
    return undefined;
  }
}

export const addPrefixFactory: MiddlewareFactory<AddPrefixConfig> = {
  type: 'addPrefix',
  create(config: AddPrefixConfig): Middleware | { error: string } {
    return new AddPrefix(escapePath(config.prefix));
  },
};
