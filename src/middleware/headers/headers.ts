import type { HeadersConfig } from '../../config/dynamic/middlewares.ts';
import { HeaderList } from '../../core/headers.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../../core/request.ts';
import { goHttpError } from '../http-error.ts';
import type { Middleware, MiddlewareFactory } from '../middleware.ts';
import { goHttpRedirect } from '../redirect-response.ts';
import { type CorsPolicy, createCorsPolicy } from './cors.ts';
import { SecurePolicy } from './secure.ts';

/** [name as configured, lowercased name, value]; an empty value removes the field. */
type HeaderEdit = readonly [string, string, string];

const BAD_HOST = goHttpError(500, 'Bad Host');

function applyEdits(headers: HeaderList, edits: readonly HeaderEdit[]): void {
  for (let i = 0; i < edits.length; i++) {
    const e = edits[i]!;
    if (e[2] === '') headers.delete(e[1]);
    else headers.set(e[0], e[2]);
  }
}

/**
 * customRequestHeaders. X-Forwarded-For is the one field Traefik's proxy still changes after the
 * middlewares: it appends the peer's address to whatever the field holds when it writes the
 * request upstream (pkg/proxy/httputil/proxy.go rewriteRequestBuilder), as ours does
 * (OutgoingRequest.forwardedFor). So a value set here reaches the backend with the peer after
 * it, and one removed under another spelling (`x-forwarded-for: ""`, Header.Del) comes back as
 * the peer alone; an empty value under exactly the name `X-Forwarded-For` is Go's nil field
 * (pkg/middlewares/headers/header.go modifyCustomRequestHeaders), which Go's ReverseProxy leaves
 * out, the peer with it (`omitForwardedFor`). Any later edit of the field undoes that, as a Set
 * or Del does in Go.
 */
function applyRequestEdits(req: RequestHead, edits: readonly HeaderEdit[]): void {
  const headers = req.headers;
  for (let i = 0; i < edits.length; i++) {
    const [name, lname, value] = edits[i]!;
    if (lname === 'x-forwarded-for') req.omitForwardedFor = value === '' && name === 'X-Forwarded-For';
    if (value === '') headers.delete(lname);
    else headers.set(name, value);
  }
}

function edits(map: Readonly<Record<string, string>> | undefined): readonly HeaderEdit[] {
  return Object.entries(map ?? {}).map(([name, value]) => [name, name.toLowerCase(), value] as const);
}

/**
 * Traefik's headers middleware. Request: a CORS preflight is answered at once; otherwise custom
 * request headers are applied, then the allowed-hosts check runs. Response: security headers,
 * then custom response headers (which may override or remove them), then CORS headers, the same
 * order as Traefik's nested handlers.
 */
class Headers implements Middleware {
  readonly #requestEdits: readonly HeaderEdit[];
  readonly #responseEdits: readonly HeaderEdit[];
  readonly #cors: CorsPolicy | undefined;
  readonly #secure: SecurePolicy | undefined;
  readonly #checkHost: boolean;
  /** Deprecated sslRedirect / sslForceHost (Traefik v2 header options v3 still reads). */
  readonly #redirects: boolean;

  constructor(
    requestEdits: readonly HeaderEdit[],
    responseEdits: readonly HeaderEdit[],
    cors: CorsPolicy | undefined,
    secure: SecurePolicy | undefined,
  ) {
    this.#requestEdits = requestEdits;
    this.#responseEdits = responseEdits;
    this.#cors = cors;
    this.#secure = secure;
    this.#checkHost = secure?.checksHost === true;
    this.#redirects = secure?.redirects === true;
  }

  onRequest(req: RequestHead): DirectResponse | undefined {
    if (this.#cors !== undefined && req.method === 'OPTIONS') {
      const preflight = this.#cors.preflight(req);
      if (preflight !== undefined) return preflight;
    }
    applyRequestEdits(req, this.#requestEdits);
    if (this.#checkHost && !this.#secure!.hostAllowed(req)) return this.#own(req, BAD_HOST);
    if (this.#redirects) {
      const to = this.#secure!.sslRedirectTo(req);
      if (to !== undefined)
        return this.#own(req, goHttpRedirect(req.method, req.path, to.location, to.status));
    }
    return undefined;
  }

  onResponse(req: RequestHead, res: ResponseHead): void {
    this.#secure?.apply(req, res.headers);
    applyEdits(res.headers, this.#responseEdits);
    this.#cors?.applyResponse(req, res.headers);
  }

  /**
   * An answer of the secure part (Bad Host, a redirect): in Traefik it is written through the
   * custom-headers handler's response modifier, so the custom response headers and the CORS
   * fields apply to it; the security headers do not.
   */
  #own(req: RequestHead, res: DirectResponse): DirectResponse {
    if (this.#responseEdits.length === 0 && this.#cors === undefined) return res;
    const h = HeaderList.from(res.headers ?? []);
    applyEdits(h, this.#responseEdits);
    this.#cors?.applyResponse(req, h);
    return { ...res, headers: [...h.entries()] };
  }
}

function nonEmpty(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object' && v !== null) return Object.keys(v).length > 0;
  return v !== undefined && v !== false && v !== '' && v !== 0;
}

const CORS_KEYS = [
  'accessControlAllowCredentials',
  'accessControlAllowHeaders',
  'accessControlAllowMethods',
  'accessControlAllowOriginList',
  'accessControlAllowOriginListRegex',
  'accessControlExposeHeaders',
  'accessControlMaxAge',
  'addVaryHeader',
] as const satisfies readonly (keyof HeadersConfig)[];

const CUSTOM_KEYS = [
  'customRequestHeaders',
  'customResponseHeaders',
] as const satisfies readonly (keyof HeadersConfig)[];

export const headersFactory: MiddlewareFactory<HeadersConfig> = {
  type: 'headers',
  create(config: HeadersConfig): Middleware | { error: string } {
    // Traefik's AccessControlMaxAge is a pointer: set, even to 0, it counts (and is sent).
    const hasCors = CORS_KEYS.some((k) =>
      k === 'accessControlMaxAge' ? config[k] !== undefined : nonEmpty(config[k]),
    );
    const hasCustom = CUSTOM_KEYS.some((k) => nonEmpty(config[k]));
    const hasSecure = Object.entries(config).some(
      ([k, v]) =>
        !(CORS_KEYS as readonly string[]).includes(k) &&
        !(CUSTOM_KEYS as readonly string[]).includes(k) &&
        nonEmpty(v),
    );
    // Traefik refuses a headers middleware that would do nothing ("headers configuration not valid").
    if (!hasCors && !hasCustom && !hasSecure) return { error: 'headers: no header option is set' };
    let cors: CorsPolicy | undefined;
    if (hasCors) {
      const c = createCorsPolicy(config);
      if ('error' in c) return c;
      cors = c;
    }
    return new Headers(
      edits(config.customRequestHeaders),
      edits(config.customResponseHeaders),
      cors,
      hasSecure ? new SecurePolicy(config) : undefined,
    );
  },
};
