/**
 * Pending http-01 challenges (RFC 8555 §8.3): token → key authorization. The entry point that
 * serves ACME answers `GET /.well-known/acme-challenge/<token>` from here, for any Host, before
 * routing (the validator connects to port 80 of the name being validated).
 */

export const HTTP01_PATH_PREFIX = '/.well-known/acme-challenge/';

export class Http01Store {
  readonly #tokens = new Map<string, string>();
  /** Copies each change elsewhere (the workers of `workers: N`); resolves once it is there. */
  readonly #replicate: ((token: string, keyAuthorization: string | null) => Promise<void>) | null;
  #published: Promise<void> = Promise.resolve();

  constructor(replicate?: (token: string, keyAuthorization: string | null) => Promise<void>) {
    this.#replicate = replicate ?? null;
  }

  set(token: string, keyAuthorization: string): void {
    this.#tokens.set(token, keyAuthorization);
    if (this.#replicate !== null) this.#published = this.#replicate(token, keyAuthorization);
  }

  delete(token: string): void {
    this.#tokens.delete(token);
    if (this.#replicate !== null) this.#published = this.#replicate(token, null);
  }

  /** Resolves once the last change is answered wherever requests are answered (never rejects). */
  published(): Promise<void> {
    return this.#published;
  }

  /** Every token and its key authorization (a worker that starts gets them all). */
  entries(): [string, string][] {
    return [...this.#tokens];
  }

  /** The key authorization to answer with (as `text/plain`, status 200), or undefined. */
  lookup(token: string): string | undefined {
    return this.#tokens.get(token);
  }

  /**
   * The answer for a request path (query already removed), or undefined when the path is not a
   * challenge path or the token is unknown (then the request is routed as usual).
   */
  lookupPath(path: string): string | undefined {
    if (this.#tokens.size === 0 || !path.startsWith(HTTP01_PATH_PREFIX)) return undefined;
    return this.#tokens.get(path.slice(HTTP01_PATH_PREFIX.length));
  }

  get size(): number {
    return this.#tokens.size;
  }
}
