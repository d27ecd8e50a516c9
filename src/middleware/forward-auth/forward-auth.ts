import type { ForwardAuthConfig } from '../../config/dynamic/access-middlewares.ts';
import { compileGoRegexp } from '../../config/dynamic/go-regexp.ts';
import { serverUrlParseError } from '../../config/dynamic/server-url.ts';
import { goClientTimeout, goNetError, goUrlError, joinHostPort } from '../../core/go-net-error.ts';
import type { Logger } from '../../core/logger.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../../core/request.ts';
import type { Ticker } from '../../core/ticker.ts';
import { UpstreamPool } from '../../upstream/pool.ts';
import type { UpstreamResponse } from '../../upstream/stream.ts';
import { loadUpstreamTls, type UpstreamTls } from '../../upstream/transport-tls.ts';
import {
  type Middleware,
  type MiddlewareFactory,
  type RequestControl,
  type RequestPhaseValue,
  SUSPEND,
} from '../middleware.ts';
import { goHttpRedirect, goLocationPath } from '../redirect-response.ts';
import { AuthCall, type AuthFailureCause, type AuthVerdict, DEFAULT_MAX_AUTH_BODY } from './auth-call.ts';
import { AuthRequest, type AuthRequestOptions } from './auth-request.ts';

const FAILED: DirectResponse = { status: 500, body: '' };
/**
 * Traefik's forward.go: an auth answer past maxResponseBodySize (errResponseBodyTooLarge), and a
 * request body past maxBodySize with forwardBody (errBodyTooLarge): rw.WriteHeader(401), no body.
 */
const TOO_LARGE: DirectResponse = { status: 401, body: '' };
/** Traefik drops these from the auth server's refusal before relaying it (forward.go hopHeaders). */
const NOT_RELAYED = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Go's http.CanonicalHeaderKey: what Traefik's authResponseHeadersRegex is matched against. */
export function canonicalHeaderKey(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
}

/** The cookie name of a Set-Cookie line. */
function cookieName(line: string): string {
  const eq = line.indexOf('=');
  return (eq === -1 ? '' : line.slice(0, eq)).trim();
}

/** The auth server's pool: one per address and TLS settings, kept across reloads. */
export class ForwardAuthState {
  readonly pool: UpstreamPool;

  constructor(url: URL, tls: UpstreamTls | undefined, ticker: Ticker) {
    const https = url.protocol === 'https:';
    this.pool = new UpstreamPool(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port === '' ? (https ? 443 : 80) : Number(url.port),
        maxIdle: 100,
        maxConns: 0,
        idleTimeoutMs: 90_000,
        connectTimeoutMs: 30_000,
        // The call's own deadline covers the answer.
        responseHeaderTimeoutMs: 0,
        maxResponseHeaderBytes: 64 * 1024,
        // Go's read errors name both ends (core/go-net-error.ts goNetError).
        keepAddresses: true,
        ...(tls === undefined ? {} : { tls }),
      },
      ticker,
    );
  }

  close(): void {
    this.pool.close();
  }
}

/**
 * Traefik's forwardAuth (pkg/middlewares/auth/forward.go). Each request is suspended while the
 * auth server is asked (a GET to `address`, or the request's method with
 * `preserveRequestMethod`; the client's fields and X-Forwarded-*, see auth-request.ts) over a
 * pooled keep-alive connection. A 2xx answer lets the request on, with `authResponseHeaders` and
 * the fields matching `authResponseHeadersRegex` copied onto it (replacing its own), and the
 * auth cookies named in `addAuthCookiesToResponse` added to its response. Any other answer goes
 * to the client as it is: status, fields (hop-by-hop ones dropped), body; a relative Location is
 * made absolute against `address` unless `preserveLocationHeader`; a 401 becomes a 302 to
 * `authSigninURL` when there is one. No answer (refused, timeout) →
 * 500, as Traefik's client error.
 */
export class ForwardAuthMiddleware implements Middleware, AuthVerdict {
  readonly #state: ForwardAuthState;
  readonly #ticker: Ticker;
  readonly #logger: Logger;
  readonly #name: string;
  readonly #address: string;
  readonly #target: string;
  readonly #authority: string;
  readonly #options: AuthRequestOptions;
  /** `host:port` of `address`, as Go's errors name what they dialled. */
  readonly #remote: string;
  readonly #copy: readonly string[];
  /** `headerField`, lowercased: the auth answer's field the access log shows as the user. */
  readonly #userField: string | undefined;
  readonly #regex: RegExp | null;
  readonly #cookies: ReadonlySet<string>;
  readonly #preserveLocation: boolean;
  /** authSigninURL ('' = none): where a 401 of the auth server redirects the client. */
  readonly #signin: string;
  readonly #timeoutMs: number;
  /** The auth answer's body bytes at most (maxResponseBodySize; -1 is ours, 4 MiB). */
  readonly #maxAnswerBody: number;
  /** Whether maxResponseBodySize was set (its limit answers 401; our own 4 MiB one, 500). */
  readonly #answerLimitSet: boolean;
  /** forwardBody: the body's limit (-1 = none), else null (the auth server gets no body). */
  readonly #bodyLimit: number | null;
  /** The span error of a body over `maxBodySize` (forwardBody). */
  readonly #bodyTooLarge: string;
  /** Auth cookies to add to a request's response (only requests that got some). */
  readonly #pendingCookies = new WeakMap<RequestHead, string[]>();

  constructor(
    state: ForwardAuthState,
    config: ForwardAuthConfig,
    url: URL,
    regex: RegExp | null,
    ticker: Ticker,
    logger: Logger,
    name: string,
  ) {
    this.#state = state;
    this.#ticker = ticker;
    this.#logger = logger;
    this.#name = name;
    this.#address = config.address;
    this.#target = `${url.pathname}${url.search}`;
    this.#authority = url.host;
    // The address Go's dialer names (its errors'), default port added: `127.0.0.1:80`, `[::1]:443`.
    this.#remote = joinHostPort(
      url.hostname.replace(/^\[(.*)\]$/, '$1'),
      url.port !== '' ? url.port : url.protocol === 'https:' ? 443 : 80,
    );
    this.#options = {
      method: config.preserveRequestMethod ? null : 'GET',
      allowed: config.authRequestHeaders.map((n) => n.toLowerCase()),
      trust: config.trustForwardHeader,
    };
    this.#copy = config.authResponseHeaders.map((n) => n.toLowerCase());
    this.#userField = config.headerField?.toLowerCase();
    this.#regex = regex;
    this.#cookies = new Set(config.addAuthCookiesToResponse);
    this.#preserveLocation = config.preserveLocationHeader;
    this.#signin = config.authSigninURL ?? '';
    this.#timeoutMs = config.timeout;
    this.#maxAnswerBody = config.maxResponseBodySize < 0 ? DEFAULT_MAX_AUTH_BODY : config.maxResponseBodySize;
    this.#answerLimitSet = config.maxResponseBodySize >= 0;
    this.#bodyLimit = config.forwardBody ? config.maxBodySize : null;
    // forward.go: observability.SetStatusErrorf(ctx, "Request body is too large, maxBodySize:
    // %d", maxBodySize) before its 401.
    this.#bodyTooLarge = `Request body is too large, maxBodySize: ${config.maxBodySize}`;
  }

  onRequest = (req: RequestHead, ctl: RequestControl): RequestPhaseValue => {
    if (this.#bodyLimit !== null && ctl.readBody !== undefined) {
      // Traefik's forwardBody: the body is read whole first (which ends streaming, as its docs
      // say); one over maxBodySize gets 401 (forward.go: errBodyTooLarge → StatusUnauthorized).
      ctl.readBody(this.#bodyLimit, TOO_LARGE, (body) => this.#ask(req, ctl, body, true), this.#bodyTooLarge);
      return SUSPEND;
    }
    return this.#ask(req, ctl, null, false);
  };

  #ask(req: RequestHead, ctl: RequestControl, body: Buffer | null, suspended: boolean): RequestPhaseValue {
    const out = new AuthRequest(req, this.#target, this.#options, body);
    // Traefik's forward.go: an `AuthRequest` CLIENT span when the request is traced, its context
    // sent to the auth server.
    const trace = ctl.traceCall?.('AuthRequest', out.method, this.#address, out.headers) ?? null;
    const call = new AuthCall(
      req,
      ctl,
      this.#state.pool,
      this.#ticker,
      out,
      this.#authority,
      this,
      this.#maxAnswerBody,
      trace,
    );
    call.start(this.#timeoutMs);
    const r = call.phase();
    if (suspended && r !== SUSPEND) ctl.resume(r);
    return r;
  }

  failed(call: AuthCall, reason: string, tooLarge: boolean, inBody: boolean, cause?: AuthFailureCause): void {
    // Traefik's forwardAuth.ServeHTTP (pkg/middlewares/auth/forward.go): when the call fails,
    // `logger.Debug().Err(forwardErr).Msgf("Error calling %s", fa.address)` and the span marked
    // "Error calling %s. Cause: %s" (observability.SetStatusErrorf); when reading the answer's
    // body fails, "Error reading body %s" likewise. The error is Go's client's, in its words
    // (core/go-net-error.ts): `Get "<address>": dial tcp …: connect: connection refused`; the
    // body's read error is not wrapped in a url.Error.
    const what = inBody ? 'Error reading body' : 'Error calling';
    const error = cause === undefined ? reason : this.#goError(cause, inBody, call.req.method);
    this.#logger.debug(`${what} ${this.#address}`, { middleware: this.#name, error });
    if (tooLarge && this.#answerLimitSet) call.resolve(TOO_LARGE);
    else if (!call.traced) call.resolve(FAILED);
    else call.resolve({ ...FAILED, spanError: `${what} ${this.#address}. Cause: ${error}` });
  }

  #goError(cause: AuthFailureCause, inBody: boolean, clientMethod: string): string {
    const err =
      cause.kind === 'timeout'
        ? goClientTimeout(inBody)
        : goNetError(cause.error, inBody ? 'body' : cause.phase, this.#remote);
    return inBody ? err : goUrlError(this.#options.method ?? clientMethod, this.#address, err);
  }

  answered(call: AuthCall, res: UpstreamResponse, body: Buffer): void {
    // Traefik's forwardAuth: the first value of `headerField` in the auth server's answer, whatever
    // its status, is the access log's ClientUsername.
    if (this.#userField !== undefined) {
      const user = res.headers.get(this.#userField);
      if (user !== undefined) call.ctl.setClientUsername?.(user);
    }
    if (res.status === 401 && this.#signin !== '') {
      // As Traefik's forward.go ServeHTTP: http.Redirect(rw, req, authSigninURL, StatusFound).
      call.resolve(goHttpRedirect(call.req.method, call.req.path, this.#signin, 302));
      return;
    }
    if (res.status < 200 || res.status >= 300) {
      call.resolve(this.#refusal(res, body, call.traced));
      return;
    }
    const req = call.req;
    const h = req.headers;
    const from = res.headers;
    // Go's Del (and set) of X-Forwarded-For undoes a headers middleware's nil field before it
    // (forward.go ServeHTTP): Traefik's proxy then appends the peer to it again.
    for (const ln of this.#copy) {
      if (ln === 'x-forwarded-for') req.omitForwardedFor = false;
      h.delete(ln);
      for (let i = 0; i < from.lnames.length; i++)
        if (from.lnames[i] === ln) h.append(from.names[i]!, from.values[i]!);
    }
    const re = this.#regex;
    if (re !== null) {
      if (req.omitForwardedFor && re.test('X-Forwarded-For')) req.omitForwardedFor = false;
      h.deleteWhere((ln) => re.test(canonicalHeaderKey(ln)));
      for (let i = 0; i < from.names.length; i++) {
        if (re.test(canonicalHeaderKey(from.lnames[i]!))) h.append(from.names[i]!, from.values[i]!);
      }
    }
    if (this.#cookies.size > 0) {
      const add = from.getAll('set-cookie').filter((c) => this.#cookies.has(cookieName(c)));
      if (add.length > 0) this.#pendingCookies.set(req, add);
    }
    call.resolve();
  }

  #refusal(res: UpstreamResponse, body: Buffer, traced: boolean): DirectResponse {
    const r = authRefusal(res, body, NOT_RELAYED, this.#preserveLocation ? null : this.#address);
    if (r !== FAILED || !traced) return r;
    // Traefik's forwardAuth: observability.SetStatusErrorf(ctx, "Error reading response location
    // header %s. Cause: %s", address, err) (the cause in our words).
    const location = JSON.stringify(res.headers.get('location') ?? '');
    return {
      ...FAILED,
      spanError: `Error reading response location header ${this.#address}. Cause: parse ${location}: invalid URL`,
    };
  }

  /** Traefik's cookie modifier: the auth server's cookies replace the backend's of the same names. */
  addCookies(req: RequestHead, res: ResponseHead): void {
    const add = this.#pendingCookies.get(req);
    if (add === undefined) return;
    this.#pendingCookies.delete(req);
    const kept = res.headers.getAll('set-cookie').filter((c) => !this.#cookies.has(cookieName(c)));
    res.headers.delete('set-cookie');
    for (const c of kept) res.headers.append('Set-Cookie', c);
    for (const c of add) res.headers.append('Set-Cookie', c);
  }
}

/** With addAuthCookiesToResponse: the same, plus a response phase (others have none to run). */
export class ForwardAuthCookieMiddleware extends ForwardAuthMiddleware {
  onResponse = (req: RequestHead, res: ResponseHead): void => this.addCookies(req, res);
}

export const forwardAuthFactory: MiddlewareFactory<ForwardAuthConfig> = {
  type: 'forwardAuth',
  create(config, ctx) {
    const url = new URL(config.address);
    // Traefik v3.6.14 deprecates trustForwardHeader (trust the entry point's
    // forwardedHeaders.trustedIPs and set it true) and warns when it is not set: the fields the
    // auth server gets are then half sanitized (X-Forwarded-For, -Proto… set, others as sent).
    if (config.trustForwardHeader === undefined) {
      ctx.logger.warn(
        'forwardAuth.trustForwardHeader is not set: set it to true (with the entry point forwardedHeaders.trustedIPs) or false',
        { middleware: ctx.name },
      );
    }
    let regex: RegExp | null = null;
    if (config.authResponseHeadersRegex !== undefined) {
      const r = compileGoRegexp(config.authResponseHeadersRegex);
      if ('error' in r) return { error: `authResponseHeadersRegex: ${r.error}` };
      regex = r.regexp;
    }
    let tls: UpstreamTls | undefined;
    if (url.protocol === 'https:') {
      const t = config.tls;
      const r = loadUpstreamTls({
        ...(t?.ca === undefined ? {} : { rootCAs: [t.ca] }),
        ...(t?.cert === undefined || t.key === undefined
          ? {}
          : { certificates: [{ certFile: t.cert, keyFile: t.key }] }),
        insecureSkipVerify: t?.insecureSkipVerify ?? false,
      });
      if (!r.ok) return { error: `tls: ${r.message}` };
      tls = r.tls;
    }
    const state = ctx.shared(
      `forwardAuth|${url.protocol}//${url.host}|${tls?.id ?? ''}`,
      () => new ForwardAuthState(url, tls, ctx.ticker),
    );
    const Kind =
      config.addAuthCookiesToResponse.length > 0 ? ForwardAuthCookieMiddleware : ForwardAuthMiddleware;
    return new Kind(state, config, url, regex, ctx.ticker, ctx.logger, ctx.name);
  },
};

const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * Go's Response.Location(): `location` parsed with url.Parse against the auth request's URL
 * `base` (URL.Parse → ResolveReference), as its String() writes it; undefined when url.Parse
 * refuses it (forward.go then answers 500). What Go refuses is Go's rule (serverUrlParseError:
 * control characters, bad escapes, a bad port or host character…); what it accepts and WHATWG's
 * parser refuses too (a port over 65535, a `<` in a host) is written as Go writes an absolute
 * URL (goLocationPath: the scheme lowercased, the path escaped as EscapedPath), a
 * scheme-relative one taking the base's scheme.
 */
function goResolvedLocation(location: string, base: string): string | undefined {
  if (serverUrlParseError(location) !== undefined) return undefined;
  const url = URL.parse(location, base);
  if (url !== null) return url.href;
  let abs = location;
  if (location.startsWith('//')) abs = `${base.slice(0, base.indexOf(':') + 1)}${location}`;
  else if (!HAS_SCHEME.test(location)) return location;
  const rest = abs.search(/[?#]/);
  const head = rest === -1 ? abs : abs.slice(0, rest);
  const written = goLocationPath(head);
  return written === undefined ? undefined : written + (rest === -1 ? '' : abs.slice(rest));
}

/**
 * An auth server's refusal as the client gets it, as Traefik's forwardAuth and the ingress-nginx
 * snippet's auth part relay it: its fields but `notRelayed` and those its Connection names, its
 * body, and its first Location made absolute against the auth request's URL `base` (Go's
 * Response.Location(), goResolvedLocation), or kept as it came when `base` is null
 * (preserveLocationHeader); a Location Go's url.Parse refuses is a 500.
 */
export function authRefusal(
  res: UpstreamResponse,
  body: Buffer,
  notRelayed: ReadonlySet<string>,
  base: string | null,
): DirectResponse {
  const headers: [string, string][] = [];
  const { names, lnames, values } = res.headers;
  let location: string | undefined;
  for (let i = 0; i < names.length; i++) {
    const ln = lnames[i]!;
    if (notRelayed.has(ln) || res.connectionTokens?.includes(ln)) continue;
    if (ln === 'location') {
      location ??= values[i]!;
      continue;
    }
    headers.push([names[i]!, values[i]!]);
  }
  if (location !== undefined && location !== '') {
    if (base === null) headers.push(['Location', location]);
    else {
      const abs = goResolvedLocation(location, base);
      if (abs === undefined) return FAILED;
      headers.push(['Location', abs]);
    }
  }
  return { status: res.status, headers, body: body.toString('utf8') };
}
