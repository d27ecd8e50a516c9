import { createHash, timingSafeEqual } from 'node:crypto';

export interface AdminAuthConfig {
  readonly bearerTokens: readonly string[];
  /** `user:password` or `user:{SHA256}<hex of sha256(password)>`. */
  readonly basicAuth: readonly string[];
}

interface BasicUser {
  readonly user: Buffer;
  /** sha256 of the password; empty when the configured hash is malformed (never matches). */
  readonly password: Buffer;
}

function sha256(s: string | Buffer): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * Checks `Authorization` against the configured credentials. Secrets are compared as sha256
 * digests with timingSafeEqual, and every configured entry is compared (no early exit), so the
 * time taken tells neither how much of a token was right nor which entry came close.
 */
export class AdminAuth {
  readonly #tokens: readonly Buffer[];
  readonly #users: readonly BasicUser[];

  constructor(config: AdminAuthConfig) {
    this.#tokens = config.bearerTokens.map((t) => sha256(t));
    this.#users = config.basicAuth.map((entry) => {
      const colon = entry.indexOf(':');
      const user = entry.slice(0, colon);
      const secret = entry.slice(colon + 1);
      let password: Buffer;
      if (secret.startsWith('{SHA256}')) {
        const hex = secret.slice(8);
        password = /^[0-9a-fA-F]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : Buffer.alloc(0);
      } else password = sha256(secret);
      return { user: sha256(user), password };
    });
  }

  /** True when no credential is configured: then nobody could ever log in. */
  get empty(): boolean {
    return this.#tokens.length === 0 && this.#users.length === 0;
  }

  check(authorization: string | undefined): boolean {
    if (authorization === undefined) return false;
    const space = authorization.indexOf(' ');
    if (space === -1) return false;
    const scheme = authorization.slice(0, space).toLowerCase();
    const value = authorization.slice(space + 1).trim();
    if (scheme === 'bearer') return this.#checkToken(value);
    if (scheme === 'basic') return this.#checkBasic(value);
    return false;
  }

  #checkToken(token: string): boolean {
    const given = sha256(token);
    let ok = false;
    for (const t of this.#tokens) ok = timingSafeEqual(given, t) || ok;
    return ok;
  }

  #checkBasic(b64: string): boolean {
    const decoded = Buffer.from(b64, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return false;
    const user = sha256(decoded.slice(0, colon));
    const password = sha256(decoded.slice(colon + 1));
    let ok = false;
    for (const u of this.#users) {
      const userOk = timingSafeEqual(user, u.user);
      const passOk = u.password.length === 32 && timingSafeEqual(password, u.password);
      ok = (userOk && passOk) || ok;
    }
    return ok;
  }
}
