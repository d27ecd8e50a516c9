import { createHash } from 'node:crypto';
import type { CookieConfig } from '../config/dynamic/schema.ts';

/**
 * Sticky sessions by cookie. The value is a digest of the service and server names, so a client
 * learns nothing of the backend's address, a value keeps meaning the same server across reloads
 * and proxy restarts, and several proxies behind one load balancer agree on it.
 */
export class StickyCookie {
  readonly name: string;
  /** Cookie value → child index (server or service). */
  readonly #byValue: Map<string, number>;
  /** The full `Set-Cookie` field line per child, built once. */
  readonly #setCookie: readonly string[];

  constructor(cfg: CookieConfig, serviceName: string, ids: readonly string[]) {
    this.name = cfg.name ?? defaultCookieName(serviceName);
    const values = ids.map((id) => stickyValue(serviceName, id));
    this.#byValue = new Map(values.map((v, i) => [v, i]));
    const attrs = cookieAttributes(cfg);
    this.#setCookie = values.map((v) => `Set-Cookie: ${this.name}=${v}${attrs}\r\n`);
  }

  /** The child the request's cookie names, or -1 (no cookie, or a value we do not know). */
  lookup(cookieHeader: string | undefined): number {
    if (cookieHeader === undefined) return -1;
    const v = readCookie(cookieHeader, this.name);
    if (v === undefined) return -1;
    return this.#byValue.get(v) ?? -1;
  }

  /** `Set-Cookie: …\r\n` for a child. */
  setCookieLine(index: number): string {
    return this.#setCookie[index]!;
  }
}

export function stickyValue(serviceName: string, id: string): string {
  return createHash('sha256').update(`${serviceName}\n${id}`).digest('hex').slice(0, 16);
}

/** Traefik derives a default name from the service name: `_` + the start of a digest. */
export function defaultCookieName(serviceName: string): string {
  return `_${createHash('sha1').update(serviceName).digest('hex').slice(0, 6)}`;
}

function cookieAttributes(cfg: CookieConfig): string {
  let s = `; Path=${cfg.path}`;
  if (cfg.domain !== undefined) s += `; Domain=${cfg.domain}`;
  if (cfg.maxAge > 0) s += `; Max-Age=${cfg.maxAge}`;
  else if (cfg.maxAge < 0) s += '; Max-Age=0';
  if (cfg.httpOnly) s += '; HttpOnly';
  // RFC 6265bis: SameSite=None is only honoured on a Secure cookie; browsers reject it otherwise.
  if (cfg.secure || cfg.sameSite === 'none') s += '; Secure';
  if (cfg.sameSite === 'none') s += '; SameSite=None';
  else if (cfg.sameSite === 'lax') s += '; SameSite=Lax';
  else if (cfg.sameSite === 'strict') s += '; SameSite=Strict';
  return s;
}

/** The value of cookie `name` in a Cookie header (RFC 6265 §5.4: `a=1; b=2`), or undefined. */
export function readCookie(header: string, name: string): string | undefined {
  let i = 0;
  const n = header.length;
  while (i < n) {
    while (i < n && (header.charCodeAt(i) === 0x20 || header.charCodeAt(i) === 0x3b)) i++;
    const eq = header.indexOf('=', i);
    if (eq === -1) return undefined;
    let end = header.indexOf(';', eq);
    if (end === -1) end = n;
    if (eq - i === name.length && header.startsWith(name, i)) {
      let v = header.slice(eq + 1, end).trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      return v;
    }
    i = end + 1;
  }
  return undefined;
}
