import {
  type MiddlewareConfigOf,
  type MiddlewareType,
  middlewareSchemas,
} from '../config/dynamic/middlewares.ts';
import { HeaderList } from '../core/headers.ts';
import { silentLogger } from '../core/logger.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';
import { Ticker } from '../core/ticker.ts';
import { type BuildContext, type Middleware, type RequestControl, SUSPEND } from './middleware.ts';
import { NO_CONTROL } from './pipeline.ts';
import { middlewareFactory } from './registry.ts';

export interface TestRequestOptions {
  readonly method?: string;
  /** Extra header fields, in order. A Host field is added from the URL unless one is given. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly clientIp?: string;
  readonly entryPoint?: string;
}

/**
 * Builds a RequestHead from an absolute URL, keeping the path's percent-encoding as written:
 * `makeRequest('https://Example.com:8443/a%20b?x=1', { method: 'POST' })`.
 */
export function makeRequest(url: string, opts: TestRequestOptions = {}): RequestHead {
  const m = /^(https?):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/.exec(url);
  if (m === null) throw new Error(`makeRequest: not an absolute http(s) URL: ${url}`);
  const scheme = m[1] as 'http' | 'https';
  const authority = m[2] ?? '';
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
  const host = (hp?.[1] ?? '').toLowerCase().replace(/\.$/, '');
  const headers = HeaderList.from(opts.headers ?? []);
  if (!headers.has('host') && authority !== '') headers.append('Host', authority);
  return {
    method: opts.method ?? 'GET',
    path: m[3] === '' || m[3] === undefined ? '/' : m[3],
    query: m[4] ?? '',
    host,
    hostPort: hp?.[2] ?? '',
    headers,
    clientIp: opts.clientIp ?? '192.0.2.10',
    scheme,
    entryPoint: opts.entryPoint ?? (scheme === 'https' ? 'websecure' : 'web'),
    omitForwardedFor: false,
  };
}

/** An upstream response head with the given header fields. */
export function makeResponse(
  status = 200,
  headers: ReadonlyArray<readonly [string, string]> = [],
): ResponseHead {
  return { status, reason: '', headers: HeaderList.from(headers) };
}

/** A BuildContext for tests; `resolve` knows the given middlewares by name. */
export function testContext(
  known: Readonly<Record<string, Middleware>> = {},
  name = 'test@file',
): BuildContext {
  const shared = new Map<string, object>();
  const get = <T extends object>(key: string, create: () => T): T => {
    let v = shared.get(key) as T | undefined;
    if (v === undefined) {
      v = create();
      shared.set(key, v);
    }
    return v;
  };
  return {
    name,
    logger: silentLogger,
    ticker: new Ticker(),
    shared: get,
    // One router: a context is one use of the middleware.
    routerState: (key, create) => get(`router|${key}`, create),
    resolve(names) {
      const out: Middleware[] = [];
      for (const n of names) {
        const m = known[n];
        if (m === undefined) return { error: `middleware "${n}" does not exist` };
        out.push(m);
      }
      return out;
    },
    service(n) {
      // Test services: any name ending in `-missing` does not exist.
      if (n.endsWith('-missing')) return { error: `unknown service ${n}` };
      return n.includes('@') ? n : `${n}${name.slice(name.lastIndexOf('@'))}`;
    },
  };
}

/** Validates `input` with the type's schema and builds it; throws on any error. */
export function build<K extends MiddlewareType>(
  type: K,
  input: unknown,
  ctx: BuildContext = testContext(),
): TestMiddleware {
  const config = middlewareSchemas[type].parse(input) as MiddlewareConfigOf<K>;
  const factory = middlewareFactory(type);
  const m = factory.create(config, ctx);
  if ('error' in m) throw new Error(m.error);
  return forTest(m);
}

/** A middleware whose request phase can be called with the request alone (no suspension). */
export interface TestMiddleware extends Middleware {
  readonly onRequest?: (req: RequestHead, ctl?: RequestControl) => DirectResponse | undefined;
  readonly inner: Middleware;
}

export function forTest(m: Middleware): TestMiddleware {
  const on = m.onRequest;
  const wrapped: TestMiddleware = {
    inner: m,
    ...(on === undefined
      ? {}
      : {
          onRequest: (req: RequestHead, ctl: RequestControl = NO_CONTROL) => {
            const r = on.call(m, req, ctl);
            if (r === SUSPEND) throw new Error('the middleware suspended the request');
            return r;
          },
        }),
    ...(m.onResponse === undefined ? {} : { onResponse: m.onResponse.bind(m) }),
  };
  return wrapped;
}
