import { compileGoRegexp } from '../../config/dynamic/go-regexp.ts';
import type { HeadersConfig } from '../../config/dynamic/middlewares.ts';
import type { HeaderList } from '../../core/headers.ts';
import type { DirectResponse, RequestHead } from '../../core/request.ts';

/** The CORS part of Traefik's headers middleware; everything is joined and compiled once. */
export class CorsPolicy {
  readonly #origins: readonly string[];
  readonly #originRegexps: readonly RegExp[];
  readonly #credentials: boolean;
  readonly #exposeHeaders: string;
  readonly #addVary: boolean;
  /** Preflight fields that do not depend on the request. */
  readonly #preflightFields: ReadonlyArray<readonly [string, string]>;

  constructor(origins: readonly string[], originRegexps: readonly RegExp[], config: HeadersConfig) {
    this.#origins = origins;
    this.#originRegexps = originRegexps;
    this.#credentials = config.accessControlAllowCredentials === true;
    this.#exposeHeaders = (config.accessControlExposeHeaders ?? []).join(',');
    this.#addVary = config.addVaryHeader === true;
    const fields: [string, string][] = [];
    if (this.#credentials) fields.push(['Access-Control-Allow-Credentials', 'true']);
    const allowHeaders = (config.accessControlAllowHeaders ?? []).join(',');
    if (allowHeaders !== '') fields.push(['Access-Control-Allow-Headers', allowHeaders]);
    const allowMethods = (config.accessControlAllowMethods ?? []).join(',');
    if (allowMethods !== '') fields.push(['Access-Control-Allow-Methods', allowMethods]);
    // Traefik always sends Max-Age on a preflight, "0" included.
    fields.push(['Access-Control-Max-Age', String(config.accessControlMaxAge ?? 0)]);
    this.#preflightFields = fields;
  }

  /**
   * The value for Access-Control-Allow-Origin, or undefined. As in Traefik: the first list entry
   * equal to the origin or '*' wins ('*' is sent as '*'); else the origin itself when a regex
   * matches anywhere in it (unanchored, as documented by Traefik: anchor your regexes).
   */
  allowedOrigin(origin: string): string | undefined {
    const list = this.#origins;
    for (let i = 0; i < list.length; i++) {
      const item = list[i]!;
      if (item === '*' || item === origin) return item;
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
    const headers = this.#preflightFields.slice();
    const allowed = this.allowedOrigin(origin);
    if (allowed !== undefined) headers.push(['Access-Control-Allow-Origin', allowed]);
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
