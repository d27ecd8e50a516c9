import { compileGoRegexp } from '../../config/dynamic/go-regexp.ts';
import type { HeadersConfig } from '../../config/dynamic/middlewares.ts';
import type { HeaderList } from '../../core/headers.ts';
import type { DirectResponse, RequestHead } from '../../core/request.ts';

/**
 * The CORS part of Traefik's headers middleware (pkg/middlewares/headers/header.go, with
 * Traefik's fixes of June 2026: PRs 13368 and 13371); everything is joined and compiled once.
 * With `accessControlAllowCredentials`, a `*` in the origin, method or header lists answers with
 * what the request asked for (a browser refuses `*` with credentials), and an exposed `*` is not
 * sent at all.
 */
export class CorsPolicy {
  readonly #origins: readonly string[];
  readonly #originRegexps: readonly RegExp[];
  readonly #credentials: boolean;
  readonly #exposeHeaders: string;
  readonly #addVary: boolean;
  readonly #allowHeaders: string;
  /** `*` among the allowed headers, with credentials: Access-Control-Request-Headers comes back. */
  readonly #echoHeaders: boolean;
  readonly #allowMethods: string;
  /** `*` among the allowed methods, with credentials: Access-Control-Request-Method comes back. */
  readonly #echoMethod: boolean;
  /** Access-Control-Max-Age, only when configured (`0` included): browsers otherwise keep their default. */
  readonly #maxAge: string | undefined;

  constructor(origins: readonly string[], originRegexps: readonly RegExp[], config: HeadersConfig) {
    this.#origins = origins;
    this.#originRegexps = originRegexps;
    const credentials = config.accessControlAllowCredentials === true;
    this.#credentials = credentials;
    const expose = config.accessControlExposeHeaders ?? [];
    this.#exposeHeaders = credentials && expose.includes('*') ? '' : expose.join(',');
    this.#addVary = config.addVaryHeader === true;
    const allowHeaders = config.accessControlAllowHeaders ?? [];
    this.#allowHeaders = allowHeaders.join(',');
    this.#echoHeaders = credentials && allowHeaders.includes('*');
    const allowMethods = config.accessControlAllowMethods ?? [];
    this.#allowMethods = allowMethods.join(',');
    this.#echoMethod = credentials && allowMethods.includes('*');
    this.#maxAge = config.accessControlMaxAge === undefined ? undefined : String(config.accessControlMaxAge);
  }

  /**
   * The value for Access-Control-Allow-Origin, or undefined. As in Traefik: the first list entry
   * equal to the origin or '*' wins ('*' is sent as '*', or as the origin itself with
   * credentials); else the origin itself when a regex matches anywhere in it (unanchored, as
   * documented by Traefik: anchor your regexes). With credentials and no Origin, Traefik sends
   * the field empty; we leave it out.
   */
  allowedOrigin(origin: string): string | undefined {
    const list = this.#origins;
    for (let i = 0; i < list.length; i++) {
      const item = list[i]!;
      if (item === origin) return item;
      if (item === '*') return !this.#credentials ? item : origin === '' ? undefined : origin;
    }
    const res = this.#originRegexps;
    for (let i = 0; i < res.length; i++) if (res[i]!.test(origin)) return origin;
    return undefined;
  }

  /** A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered here with 200. */
  preflight(req: RequestHead): DirectResponse | undefined {
    const origin = req.headers.get('origin');
    if (origin === undefined || origin === '') return undefined;
    const method = req.headers.get('access-control-request-method');
    if (method === undefined || method === '') return undefined;
    const headers: [string, string][] = [];
    if (this.#credentials) headers.push(['Access-Control-Allow-Credentials', 'true']);
    if (this.#echoHeaders) {
      const asked = req.headers.get('access-control-request-headers');
      if (asked !== undefined && asked !== '') headers.push(['Access-Control-Allow-Headers', asked]);
    } else if (this.#allowHeaders !== '') headers.push(['Access-Control-Allow-Headers', this.#allowHeaders]);
    if (this.#echoMethod) headers.push(['Access-Control-Allow-Methods', method]);
    else if (this.#allowMethods !== '') headers.push(['Access-Control-Allow-Methods', this.#allowMethods]);
    const allowed = this.allowedOrigin(origin);
    if (allowed !== undefined) headers.push(['Access-Control-Allow-Origin', allowed]);
    if (this.#maxAge !== undefined) headers.push(['Access-Control-Max-Age', this.#maxAge]);
    if (this.#exposeHeaders !== '') headers.push(['Access-Control-Expose-Headers', this.#exposeHeaders]);
    return { status: 200, headers };
  }

  applyResponse(req: RequestHead, headers: HeaderList): void {
    const allowed = this.allowedOrigin(req.headers.get('origin') ?? '');
    if (allowed !== undefined) headers.set('Access-Control-Allow-Origin', allowed);
    if (this.#credentials) headers.set('Access-Control-Allow-Credentials', 'true');
    if (this.#exposeHeaders !== '') headers.set('Access-Control-Expose-Headers', this.#exposeHeaders);
    if (this.#addVary) addVaryOrigin(headers);
  }
}

const ORIGIN_TOKEN = /(?:^|,)\s*(?:origin|\*)\s*(?:,|$)/i;

/**
 * Traefik appends ",Origin" to the first Vary field (or sets "Origin"). We do the same for a single
 * field, skip it when Origin or '*' is already listed, and append a separate field when there are
 * several (Traefik's Header.Set would drop all but the first, RFC 9110 §5.3 allows either).
 */
function addVaryOrigin(headers: HeaderList): void {
  const values = headers.getAll('vary');
  if (values.length === 0) {
    headers.set('Vary', 'Origin');
    return;
  }
  for (const v of values) if (ORIGIN_TOKEN.test(v)) return;
  if (values.length === 1) headers.set('Vary', `${values[0]},Origin`);
  else headers.append('Vary', 'Origin');
}

export function createCorsPolicy(config: HeadersConfig): CorsPolicy | { error: string } {
  const regexps: RegExp[] = [];
  for (const src of config.accessControlAllowOriginListRegex ?? []) {
    const r = compileGoRegexp(src);
    if ('error' in r) return { error: `accessControlAllowOriginListRegex: ${r.error}` };
    regexps.push(r.regexp);
  }
  return new CorsPolicy(config.accessControlAllowOriginList ?? [], regexps, config);
}
