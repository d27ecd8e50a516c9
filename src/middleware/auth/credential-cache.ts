import { hash, randomBytes } from 'node:crypto';

export interface CachedCredential {
  readonly user: string;
  /** The configured secret the credentials were checked against: a changed hash misses. */
  readonly secret: string;
}

/**
 * Credentials that passed a check, so that a client authenticated once does not pay bcrypt
 * (tens of milliseconds of CPU) on every request. Keyed by a SHA-256 of the Authorization value
 * under a per-process random prefix: the table never holds a password, nor a digest that could be
 * checked offline against guesses without that prefix. Bounded: past `max` entries the oldest
 * goes (insertion order; a hit does not reorder, which keeps a hit free of writes).
 */
export class CredentialCache {
  readonly #salt = randomBytes(16).toString('base64');
  readonly #max: number;
  readonly #map = new Map<string, CachedCredential>();

  constructor(max = 4096) {
    this.#max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  key(authorization: string): string {
    return hash('sha256', this.#salt + authorization, 'base64');
  }

  get(key: string): CachedCredential | undefined {
    return this.#map.get(key);
  }

  set(key: string, value: CachedCredential): void {
    if (this.#map.size >= this.#max && !this.#map.has(key)) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
    this.#map.set(key, value);
  }

  clear(): void {
    this.#map.clear();
  }
}
