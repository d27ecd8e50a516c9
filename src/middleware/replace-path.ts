import type { ReplacePathConfig } from '../config/dynamic/middlewares.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';
import { canonicalRawPath, pathOf, setPath } from './path.ts';

export const REPLACED_PATH = 'X-Replaced-Path';

/**
 * Traefik's replacePath: the whole path is replaced; the original (encoded) path is appended as
 * X-Replaced-Path. The configured path is an encoded path, as in Traefik (`%2F` stays encoded);
 * characters that may not appear raw in a path are percent-encoded once at build time.
 */
class ReplacePath implements Middleware {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  onRequest(req: RequestHead): DirectResponse | undefined {
    req.headers.append(REPLACED_PATH, pathOf(req));
    setPath(req, this.#path);
    return undefined;
  }
}

export const replacePathFactory: MiddlewareFactory<ReplacePathConfig> = {
  type: 'replacePath',
  create(config: ReplacePathConfig): Middleware | { error: string } {
    const path = canonicalRawPath(config.path);
    if (path === undefined)
      return { error: `replacePath: invalid percent-encoding in path ${JSON.stringify(config.path)}` };
    return new ReplacePath(path);
  },
};
