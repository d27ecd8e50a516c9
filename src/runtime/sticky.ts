import { createHash } from 'node:crypto';
import type { CookieConfig } from '../config/dynamic/schema.ts';

/**
 * Sticky sessions by cookie, kept as Traefik v3 keeps them (pkg/server/service/loadbalancer/
 * sticky.go, pkg/server/cookie/cookie.go), so that a client Traefik pinned stays pinned when ours
 * takes its place, and instances of either behind one load balancer agree:
 *
 * - The value is the first 16 hex digits of SHA-256 of the child's name as configured: a server's
 *   URL, a weighted child's service name (Traefik's `sha256Hash`). A client learns nothing of the
 *   backend's address, and a value keeps meaning the same child across reloads and restarts.
 * - Values older Traefik versions wrote still pin: the name itself (v2), its FNV-64 in hex, and
 *   the FNV-64 of that (Traefik's `compatibilityStickyMap`). The response then carries the
 *   current value in a new cookie, as Traefik rewrites it.
 * - Without a configured name, the cookie is named after the service (`defaultCookieName`).
 */
export class StickyCookie {
  readonly name: string;
  /**
   * Cookie value → child index × 2, plus 1 for a value of the older forms (the cookie is to be
   * written anew). `lookup` returns it as it is.
   */
  readonly #byValue: Map<string, number>;
  /** The full `Set-Cookie` field line per child, built once (without `expires`). */
  readonly #setCookie: readonly string[];
  /**
   * With `expires`: each line's text before and after its `Expires` attribute, which is written
   * per response (Traefik's WriteStickyCookie, #13496); its milliseconds, else 0.
   */
  readonly #expiresMs: number;
  readonly #heads: readonly string[] = [];
  readonly #tail: string = '';

  /** `ids`: each child's name as configured (a server's URL, a child service's name). */
  constructor(cfg: CookieConfig, serviceName: string, ids: readonly string[]) {
    // Traefik's cookie.GetName: an empty name counts as none.
    this.name = cfg.name ? sanitizeCookieName(cfg.name) : defaultCookieName(serviceName);
    const values = ids.map(stickyValue);
    this.#byValue = new Map();
    for (let i = 0; i < ids.length; i++) {
      const fnv = fnv64Hex(ids[i]!);
      for (const old of [ids[i]!, fnv, fnv64Hex(fnv)]) {
        if (!this.#byValue.has(old)) this.#byValue.set(old, i * 2 + 1);
      }
    }
    // Current values win over an older form that happens to spell the same string.
    for (let i = 0; i < values.length; i++) this.#byValue.set(values[i]!, i * 2);
    const attrs = cookieAttributes(cfg);
    this.#setCookie = values.map((v) => `Set-Cookie: ${this.name}=${v}${attrs}\r\n`);
    this.#expiresMs = cfg.expires > 0 ? cfg.expires * 1000 : 0;
    if (this.#expiresMs > 0) {
      // Go's Cookie.String: Path, Domain, then Expires, then Max-Age and the flags.
      const at = pathDomain(cfg).length;
      this.#heads = values.map((v) => `Set-Cookie: ${this.name}=${v}${attrs.slice(0, at)}; Expires=`);
      this.#tail = `${attrs.slice(at)}\r\n`;
    }
  }

  /**
   * The child the request's cookie names, or -1 (no cookie, or a value we do not know): the
   * child's index × 2, plus 1 when the value is of an older form and the cookie must be written
   * anew (`index = found >> 1`, `rewrite = (found & 1) === 1`).
   */
  lookup(cookieHeader: string | undefined): number {
    if (cookieHeader === undefined) return -1;
    const v = readCookie(cookieHeader, this.name);
    if (v === undefined) return -1;
    return this.#byValue.get(v) ?? -1;
  }

  /** `Set-Cookie: …\r\n` for a child. */
  setCookieLine(index: number): string {
    if (this.#expiresMs === 0) return this.#setCookie[index]!;
    return this.#heads[index]! + new Date(Date.now() + this.#expiresMs).toUTCString() + this.#tail;
  }
}

/** A child's cookie value: Traefik's `sha256Hash` (sticky.go) of its configured name. */
export function stickyValue(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 16);
}

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const U64 = (1n << 64n) - 1n;

/**
 * FNV-1 (not 1a), 64 bits, over the UTF-8 bytes, in lowercase hex without leading zeros: Go's
 * `fnv.New64` formatted by `strconv.FormatUint(…, 16)`, the form of Traefik's older sticky values.
 * Computed when a configuration is built, never per request.
 */
export function fnv64Hex(s: string): string {
  let h = FNV64_OFFSET;
  for (const b of Buffer.from(s, 'utf8')) h = ((h * FNV64_PRIME) & U64) ^ BigInt(b);
  return h.toString(16);
}

/**
 * The default cookie name, Traefik's `cookie.GenerateName`: `_` and the hex SHA-1 of
 * `_TRAEFIK_BACKEND_` + the qualified service name (`api@file`), cut to six characters in all.
 */
export function defaultCookieName(serviceName: string): string {
  return `_${createHash('sha1').update(`_TRAEFIK_BACKEND_${serviceName}`, 'utf8').digest('hex')}`.slice(0, 6);
}

/**
 * A configured cookie name as Traefik uses it (`cookie.sanitizeName`): every character that is
 * not a token character (RFC 9110 §5.6.2) becomes `_`, one per character, not per byte.
 */
export function sanitizeCookieName(name: string): string {
  let out = '';
  for (const ch of name) out += /^[!#$%&'*+.^_`|~0-9A-Za-z-]$/.test(ch) ? ch : '_';
  return out;
}

/** The `Path` and `Domain` attributes, the start of cookieAttributes. */
function pathDomain(cfg: CookieConfig): string {
  let s = `; Path=${cfg.path}`;
  // A leading dot is kept, as Traefik v3.7.13 writes it (traefik/traefik#13456, loadbalancer/
  // sticky.go WriteStickyCookie puts back the dot Go's http.SetCookie strips), so that a cookie
  // set by ingress-nginx (`Domain=.example.com`) is replaced by one of the same domain.
  if (cfg.domain !== undefined) s += `; Domain=${cfg.domain}`;
  return s;
}

function cookieAttributes(cfg: CookieConfig): string {
  let s = pathDomain(cfg);
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
