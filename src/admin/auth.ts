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

/** Loopback peers: 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/**
 * A Host naming this machine's loopback. Without credentials the API trusts loopback peers; a
 * page on another site can reach them too, through DNS rebinding (its name resolving to
 * 127.0.0.1), but its requests then carry its own name in Host.
 */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  let name = host.toLowerCase();
  if (name.startsWith('[')) name = name.slice(1, name.indexOf(']'));
  else {
    const colon = name.lastIndexOf(':');
    if (colon !== -1) name = name.slice(0, colon);
  }
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name === 'localhost' || name.endsWith('.localhost') || isLoopback(name);
}
