import type { EncodedCharactersConfig } from '../config/dynamic/access-middlewares.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import { pathPolicy } from '../http1/request-path.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';

/** Traefik answers a bare 400 (no body). */
const REFUSED: DirectResponse = { status: 400 };

/**
 * Traefik v3.6's encodedCharacters middleware: a path holding an escape of a character it does not
 * allow (`%2F`, `%5C`, `%00`, `%3B`, `%25`, `%3F`, `%23`; all refused by default) gets 400. The
 * same table as the entry point's `http.encodedCharacters` (http1/request-path.ts), checked on the
 * path as the entry point left it: escapes already upper-cased, those of unreserved characters
 * decoded, so one comparison per escape is enough.
 */
export class EncodedCharactersMiddleware implements Middleware {
  readonly #denied: Uint8Array;

  constructor(denied: Uint8Array) {
    this.#denied = denied;
  }

  onRequest = (req: RequestHead): DirectResponse | undefined => {
    const path = req.path;
    let i = path.indexOf('%');
    while (i !== -1) {
      const b = (hex(path.charCodeAt(i + 1)) << 4) | hex(path.charCodeAt(i + 2));
      // A malformed escape never gets here (the entry point refused it); refuse it all the same.
      if (b < 0 || this.#denied[b] === 1) return REFUSED;
      i = path.indexOf('%', i + 3);
    }
    return undefined;
  };
}

/** A hex digit's value, or -256 (which keeps the combined byte negative) for anything else. */
function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -256;
}

export const encodedCharactersFactory: MiddlewareFactory<EncodedCharactersConfig> = {
  type: 'encodedCharacters',
  create(config) {
    return new EncodedCharactersMiddleware(pathPolicy(true, config).deniedEscapes);
  },
};
