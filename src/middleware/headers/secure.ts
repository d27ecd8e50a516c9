import type { HeadersConfig } from '../../config/dynamic/middlewares.ts';
import type { HeaderList } from '../../core/headers.ts';
import type { RequestHead } from '../../core/request.ts';

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
  /** Deprecated sslRedirect: 301, or 307 with sslTemporaryRedirect; 0 = off. */
  readonly #sslRedirect: 0 | 301 | 307;
  readonly #sslHost: string;
  readonly #sslForceHost: boolean;
  readonly #redirectPlain: boolean;

  constructor(config: HeadersConfig) {
    const dev = config.isDevelopment === true;
    this.#allowedHosts = dev ? [] : (config.allowedHosts ?? []).map((h) => h.toLowerCase());
    this.#hostsProxyHeaders = (config.hostsProxyHeaders ?? []).map((h) => h.toLowerCase());
    this.#sslProxyHeaders = Object.entries(config.sslProxyHeaders ?? {}).map(
      ([k, v]) => [k.toLowerCase(), v] as const,
    );
    const always: Field[] = [];
    const frame = config.customFrameOptionsValue || (config.frameDeny ? 'DENY' : '');
    if (frame !== '') always.push(['X-Frame-Options', frame]);
    if (config.contentTypeNosniff) always.push(['X-Content-Type-Options', 'nosniff']);
    const xss = config.customBrowserXSSValue || (config.browserXssFilter ? '1; mode=block' : '');
    if (xss !== '') always.push(['X-XSS-Protection', xss]);
    if (config.contentSecurityPolicy) always.push(['Content-Security-Policy', config.contentSecurityPolicy]);
    if (config.contentSecurityPolicyReportOnly) {
      always.push(['Content-Security-Policy-Report-Only', config.contentSecurityPolicyReportOnly]);
    }
    if (config.referrerPolicy) always.push(['Referrer-Policy', config.referrerPolicy]);
    if (config.permissionsPolicy) always.push(['Permissions-Policy', config.permissionsPolicy]);
    if (config.featurePolicy) always.push(['Feature-Policy', config.featurePolicy]);
    this.#always = always;
    const stsSeconds = config.stsSeconds ?? 0;
    this.#sts =
      stsSeconds !== 0 && !dev
        ? `max-age=${stsSeconds}${config.stsIncludeSubdomains ? '; includeSubDomains' : ''}${config.stsPreload ? '; preload' : ''}`
        : undefined;
    this.#forceSts = config.forceSTSHeader === true;
    this.#publicKeyPins = config.publicKey && !dev ? config.publicKey : undefined;
    const redirects = config.sslRedirect === true || config.sslForceHost === true;
    this.#sslRedirect = dev || !redirects ? 0 : config.sslTemporaryRedirect === true ? 307 : 301;
    this.#sslHost = config.sslHost ?? '';
    this.#sslForceHost = config.sslForceHost === true;
    this.#redirectPlain = config.sslRedirect === true;
  }

  get redirects(): boolean {
    return this.#sslRedirect !== 0;
  }

  /**
   * Traefik v2's deprecated SSL redirect (unrolled/secure): a plain HTTP request goes to https on
   * sslHost (or its own host); with sslForceHost, an HTTPS request for another host than sslHost
   * goes there too. Undefined when the request stays.
   */
  sslRedirectTo(req: RequestHead): { status: number; location: string } | undefined {
    const host = req.headers.get('host') ?? (req.hostPort === '' ? req.host : `${req.host}:${req.hostPort}`);
    const query = req.query === '' ? '' : `?${req.query}`;
    if (!this.isSsl(req)) {
      if (!this.#redirectPlain) return undefined;
      const to = this.#sslHost === '' ? host : this.#sslHost;
      return { status: this.#sslRedirect, location: `https://${to}${req.path}${query}` };
    }
    if (this.#sslForceHost && this.#sslHost !== '' && this.#sslHost !== host) {
      return { status: this.#sslRedirect, location: `https://${this.#sslHost}${req.path}${query}` };
    }
    return undefined;
  }

  get checksHost(): boolean {
    return this.#allowedHosts.length > 0;
  }

  /** unrolled/secure: the first non-empty hostsProxyHeaders field, else the Host header (port included). */
  hostAllowed(req: RequestHead): boolean {
    let host: string | undefined;
    const proxied = this.#hostsProxyHeaders;
    for (let i = 0; i < proxied.length && host === undefined; i++) {
      const v = req.headers.get(proxied[i]!);
      if (v !== undefined && v !== '') host = v;
    }
    host ??= req.headers.get('host') ?? (req.hostPort === '' ? req.host : `${req.host}:${req.hostPort}`);
    return this.#allowedHosts.includes(host.toLowerCase());
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
    if (this.#sts === undefined && this.#publicKeyPins === undefined) return;
    const ssl = this.isSsl(req);
    if (this.#sts !== undefined && (ssl || this.#forceSts))
      headers.set('Strict-Transport-Security', this.#sts);
    if (this.#publicKeyPins !== undefined && ssl) headers.set('Public-Key-Pins', this.#publicKeyPins);
  }
}
