import type { MiddlewareConfigOf } from '../config/dynamic/middlewares.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';
import { GRPC_WEB, GRPC_WEB_TEXT, GrpcWebTransform } from './grpc-web-transform.ts';
import type { Middleware, MiddlewareFactory, RequestControl } from './middleware.ts';

type Config = MiddlewareConfigOf<'grpcWeb'>;

/** Methods rs/cors allows by default (Traefik's grpcWeb does not change them). */
const CORS_METHODS = new Set(['GET', 'POST', 'HEAD']);
/** Preflight answers are cached this long (the wrapper's default, 10 minutes). */
const MAX_AGE = '600';
const PREFLIGHT_VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';

/**
 * Traefik's grpcWeb (`pkg/middlewares/grpcweb`, which wraps improbable-eng's grpc-web handler with
 * CORS from rs/cors, credentials allowed, any request header allowed):
 * - a `POST` whose content type starts with `application/grpc-web` goes upstream as gRPC (the
 *   body transform does the bytes), and its response comes back as gRPC-Web with CORS fields;
 * - an `OPTIONS` preflight asking for `x-grpc-web` among its headers is answered here (204), with
 *   the CORS fields when its Origin is allowed (`allowOrigins`, `*` = any); without an
 *   `Access-Control-Request-Method` it is no preflight to rs/cors, and goes upstream as a gRPC
 *   call like a POST;
 * - everything else passes untouched.
 * Errors the proxy makes for such a request are answered in gRPC-Web form by the client side
 * (proxy/grpc-status.ts), with this middleware's CORS fields.
 */
export class GrpcWebMiddleware implements Middleware {
  readonly #any: boolean;
  readonly #origins: ReadonlySet<string>;

  constructor(config: Config) {
    this.#any = config.allowOrigins.includes('*');
    this.#origins = new Set(config.allowOrigins);
  }

  #allowed(origin: string | undefined): origin is string {
    return origin !== undefined && origin !== '' && (this.#any || this.#origins.has(origin));
  }

  readonly onRequest = (req: RequestHead, ctl: RequestControl): DirectResponse | undefined => {
    const h = req.headers;
    if (req.method === 'POST') {
      const ct = h.get('content-type');
      if (ct?.startsWith(GRPC_WEB)) ctl.transformBody(new GrpcWebTransform(ct.startsWith(GRPC_WEB_TEXT)));
      return undefined;
    }
    if (req.method !== 'OPTIONS') return undefined;
    const asked = h.get('access-control-request-headers') ?? '';
    if (!asked.toLowerCase().includes('x-grpc-web')) return undefined;
    const method = h.get('access-control-request-method');
    // The wrapper takes every OPTIONS naming x-grpc-web (IsAcceptableGrpcCorsRequest), but rs/cors
    // answers it as a preflight only with a non-empty Access-Control-Request-Method; without one
    // it is an actual request, which the wrapper makes a gRPC call (HandleGrpcWebRequest:
    // hackIntoNormalGrpcRequest sets its empty content type, the answer comes back as gRPC-Web).
    if (method === undefined || method === '') {
      ctl.transformBody(new GrpcWebTransform(false));
      return undefined;
    }
    return this.#preflight(h.get('origin'), method, asked);
  };

  /** The requests the wrapper turns into gRPC calls, whose answers get rs/cors' actual-request fields. */
  #isCall(req: RequestHead): boolean {
    const h = req.headers;
    if (req.method === 'POST') return h.get('content-type')?.startsWith(GRPC_WEB) ?? false;
    if (req.method !== 'OPTIONS') return false;
    if (!(h.get('access-control-request-headers') ?? '').toLowerCase().includes('x-grpc-web')) return false;
    const method = h.get('access-control-request-method');
    return method === undefined || method === '';
  }

  /** rs/cors' preflight: Vary always, the rest only for an allowed origin and method. */
  #preflight(origin: string | undefined, method: string, asked: string): DirectResponse {
    const headers: [string, string][] = [['Vary', PREFLIGHT_VARY]];
    const m = method.toUpperCase();
    if (this.#allowed(origin) && CORS_METHODS.has(m)) {
      headers.push(
        ['Access-Control-Allow-Origin', origin],
        ['Access-Control-Allow-Methods', m],
        ['Access-Control-Allow-Headers', asked],
        ['Access-Control-Allow-Credentials', 'true'],
        ['Access-Control-Max-Age', MAX_AGE],
      );
    }
    return { status: 204, headers };
  }

  /**
   * rs/cors on the actual request: Vary: Origin, and the origin echoed when allowed (its
   * isMethodAllowed always allows OPTIONS, and POST is among the defaults).
   */
  readonly onResponse = (req: RequestHead, res: ResponseHead): void => {
    if (!this.#isCall(req)) return;
    const h = res.headers;
    h.append('Vary', 'Origin');
    const origin = req.headers.get('origin');
    if (this.#allowed(origin)) {
      h.set('Access-Control-Allow-Origin', origin);
      h.set('Access-Control-Allow-Credentials', 'true');
    }
  };
}

export const grpcWebFactory: MiddlewareFactory<Config> = {
  type: 'grpcWeb',
  create: (config) => new GrpcWebMiddleware(config),
};
