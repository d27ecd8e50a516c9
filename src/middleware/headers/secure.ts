import { randomBytes } from 'node:crypto';
import type { HeadersConfig } from '../../config/dynamic/middlewares.ts';
import type { HeaderList } from '../../core/headers.ts';
import { type RequestHead, withQuery } from '../../core/request.ts';

type Field = readonly [string, string];

/**
 * The security-header part of Traefik's headers middleware (github.com/unrolled/secure): the
 * allowed-hosts check on the request and fixed response fields, which override the backend's.
 */
export class SecurePolicy {
  /** Lowercased; empty when the check is off (none configured, or isDevelopment). */
  readonly #allowedHosts: readonly string[];
  readonly #hostsProxyHeaders: readonly string[];
  readonly #sslProxyHeaders: readonly Field[];
  readonly #always: readonly Field[];
  /** Strict-Transport-Security: only over TLS (RFC 6797 §7.2) unless forced. */
  readonly #sts: string | undefined;
  readonly #forceSts: boolean;
  readonly #publicKeyPins: string | undefined;
  /** Content-Security-Policy(-Report-Only) holding `$NONCE`: a fresh nonce per response. */
  readonly #nonceFields: readonly Field[];
  /** Deprecated sslRedirect (off with isDevelopment). */
  readonly #redirectPlain: boolean;
  /** Deprecated sslForceHost: unrolled/secure checks it whatever sslRedirect and isDevelopment say. */
  readonly #forceHost: boolean;
  readonly #redirectStatus: 301 | 307;
  readonly #sslHost: string;

  constructor(config: HeadersConfig) {
    const dev = config.isDevelopment === true;
    this.#allowedHosts = dev ? [] : (config.allowedHosts ?? []).map((h) => h.toLowerCase());
    this.#hostsProxyHeaders = (config.hostsProxyHeaders ?? []).map((h) => h.toLowerCase());
    this.#sslProxyHeaders = Object.entries(config.sslProxyHeaders ?? {}).map(
      ([k, v]) => [k.toLowerCase(), v] as const,
    );
    const always: Field[] = [];
    const nonce: Field[] = [];
    const frame = config.customFrameOptionsValue || (config.frameDeny ? 'DENY' : '');
    if (frame !== '') always.push(['X-Frame-Options', frame]);
    if (config.contentTypeNosniff) always.push(['X-Content-Type-Options', 'nosniff']);
    const xss = config.customBrowserXSSValue || (config.browserXssFilter ? '1; mode=block' : '');
    if (xss !== '') always.push(['X-XSS-Protection', xss]);
    for (const [name, value] of [
      ['Content-Security-Policy', config.contentSecurityPolicy],
      ['Content-Security-Policy-Report-Only', config.contentSecurityPolicyReportOnly],
    ] as const) {
      if (value) (value.includes('$NONCE') ? nonce : always).push([name, value]);
    }
    if (config.referrerPolicy) always.push(['Referrer-Policy', config.referrerPolicy]);
    if (config.permissionsPolicy) always.push(['Permissions-Policy', config.permissionsPolicy]);
    if (config.featurePolicy) always.push(['Feature-Policy', config.featurePolicy]);
    this.#always = always;
    this.#nonceFields = nonce;
    const stsSeconds = config.stsSeconds ?? 0;
    this.#sts =
      stsSeconds !== 0 && !dev
        ? `max-age=${stsSeconds}${config.stsIncludeSubdomains ? '; includeSubDomains' : ''}${config.stsPreload ? '; preload' : ''}`
        : undefined;
    this.#forceSts = config.forceSTSHeader === true;
    this.#publicKeyPins = config.publicKey && !dev ? config.publicKey : undefined;
    this.#sslHost = config.sslHost ?? '';
    this.#redirectPlain = config.sslRedirect === true && !dev;
    this.#forceHost = config.sslForceHost === true && this.#sslHost !== '';
    this.#redirectStatus = config.sslTemporaryRedirect === true ? 307 : 301;
  }

  get redirects(): boolean {
    return this.#redirectPlain || this.#forceHost;
  }

  /**
   * Traefik v2's deprecated SSL redirect, as unrolled/secure does it: a plain HTTP request goes
   * to https on sslHost (or its own host, hostsProxyHeaders first); then, with sslForceHost, any
   * request for another host than sslHost goes there. Undefined when the request stays.
   */
  sslRedirectTo(req: RequestHead): { status: number; location: string } | undefined {
    const host = this.#host(req);
    const rest = withQuery(req.path, req.query);
    if (this.#redirectPlain && !this.isSsl(req)) {
      const to = this.#sslHost === '' ? host : this.#sslHost;
      return { status: this.#redirectStatus, location: `https://${to}${rest}` };
    }
    if (this.#forceHost && this.#sslHost !== host) {
      return { status: this.#redirectStatus, location: `https://${this.#sslHost}${rest}` };
    }
    return undefined;
  }

  /** unrolled/secure's host: the first non-empty hostsProxyHeaders field, else Host (port included). */
  #host(req: RequestHead): string {
    const proxied = this.#hostsProxyHeaders;
    for (let i = 0; i < proxied.length; i++) {
      const v = req.headers.get(proxied[i]!);
      if (v !== undefined && v !== '') return v;
    }
    return req.headers.get('host') ?? (req.hostPort === '' ? req.host : `${req.host}:${req.hostPort}`);
  }

  get checksHost(): boolean {
    return this.#allowedHosts.length > 0;
  }

  hostAllowed(req: RequestHead): boolean {
    return this.#allowedHosts.includes(this.#host(req).toLowerCase());
  }

  isSsl(req: RequestHead): boolean {
    if (req.scheme === 'https') return true;
    const ssl = this.#sslProxyHeaders;
    for (let i = 0; i < ssl.length; i++) {
      const [lname, value] = ssl[i]!;
      if (req.headers.get(lname) === value) return true;
    }
    return false;
  }

  apply(req: RequestHead, headers: HeaderList): void {
    const always = this.#always;
    for (let i = 0; i < always.length; i++) headers.set(always[i]![0], always[i]![1]);
    const nonced = this.#nonceFields;
    if (nonced.length > 0) {
      // unrolled/secure: one nonce per request, 16 random bytes, for both policies.
      const nonce = `'nonce-${randomBytes(16).toString('base64')}'`;
      for (let i = 0; i < nonced.length; i++)
        headers.set(nonced[i]![0], nonced[i]![1].replaceAll('$NONCE', nonce));
    }
    if (this.#sts === undefined && this.#publicKeyPins === undefined && this.#sslHost === '') return;
    const ssl = this.isSsl(req);
    if (this.#sts !== undefined && (ssl || this.#forceSts))
      headers.set('Strict-Transport-Security', this.#sts);
    if (this.#publicKeyPins !== undefined && ssl) headers.set('Public-Key-Pins', this.#publicKeyPins);
    if (ssl && this.#sslHost !== '') {
      // unrolled/secure's ModifyResponseHeaders: a backend's Location to http://sslHost becomes https.
      const location = headers.get('location');
      const plain = `http://${this.#sslHost}`;
      if (location !== undefined && (location === plain || location.startsWith(`${plain}/`)))
        headers.set('Location', `https:${location.slice(5)}`);
    }
  }
}
