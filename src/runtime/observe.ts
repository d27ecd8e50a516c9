import type { RouterObservability } from '../config/dynamic/entry-point-model.ts';
import type { Middleware } from '../middleware/middleware.ts';

/**
 * Whether a route's requests are access-logged, counted and traced, when the static
 * configuration turns each on (`accessLog`, `metrics`, `tracing`). Decided once per route when
 * the snapshot is built, as Traefik's ObservabilityMgr decides once per router handler
 * (pkg/server/middleware/observability.go shouldAccessLog, shouldMeter, shouldTrace): the
 * request path reads a flag.
 */
export interface Observe {
  readonly logged: boolean;
  /** Every request series (entry point, router, service), retries and tunnels. */
  readonly metered: boolean;
  readonly traced: boolean;
  /**
   * `traceVerbosity: detailed` (with `traced`): the router, its middlewares and its service get
   * spans of their own, as Traefik's shouldTrace(…, DetailedVerbosity) decides.
   */
  readonly detailed: boolean;
}

/** `addInternals` of `accessLog`, `metrics` and `tracing`: the proxy's own routers are observed. */
export interface AddInternals {
  readonly accessLog: boolean;
  readonly metrics: boolean;
  readonly tracing: boolean;
}

export const OBSERVE_ALL: Observe = { logged: true, metered: true, traced: true, detailed: false };

/**
 * A router's flags: a key its `observability` (merged with its entry point's by the entry-point
 * model) sets to false turns the signal off; a router whose service is internal (`<name>@internal`)
 * is observed only with the signal's `addInternals`.
 */
export function observeOf(
  o: RouterObservability | undefined,
  internal: boolean,
  internals: AddInternals,
): Observe {
  const logged = (!internal || internals.accessLog) && o?.accessLogs !== false;
  const metered = (!internal || internals.metrics) && o?.metrics !== false;
  const traced = (!internal || internals.tracing) && o?.tracing !== false;
  // Traefik's TracingVerbosity.Allows: only `detailed` allows the detailed spans.
  const detailed = traced && o?.traceVerbosity === 'detailed';
  return logged && metered && traced && !detailed ? OBSERVE_ALL : { logged, metered, traced, detailed };
}

/**
 * What a middleware's span is called at `traceVerbosity: detailed`: its type's name as Traefik's
 * middlewares return it from GetTracingInformation (the span's name), and its qualified name
 * (`traefik.middleware.name`). Set when the middleware is built, read when a route is built.
 */
export interface MiddlewareSpanName {
  readonly type: string;
  readonly name: string;
}

const spanNames = new WeakMap<Middleware, MiddlewareSpanName>();

/**
 * Traefik's typeName of each middleware type (the constant each pkg/middlewares/<type> package
 * returns from GetTracingInformation). A `chain` is spliced into the route (no span of its own);
 * `retry` makes one span per attempt itself (pkg/middlewares/retry/retry.go).
 */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  addPrefix: 'AddPrefix',
  basicAuth: 'BasicAuth',
  buffering: 'Buffer',
  circuitBreaker: 'CircuitBreaker',
  compress: 'Compress',
  contentType: 'ContentType',
  digestAuth: 'digestAuth',
  encodedCharacters: 'EncodedCharacters',
  errors: 'CustomError',
  forwardAuth: 'ForwardAuth',
  grpcWeb: 'GRPCWeb',
  headers: 'Headers',
  inFlightReq: 'InFlightReq',
  ipAllowList: 'IPAllowLister',
  ipWhiteList: 'IPWhiteLister',
  jwt: 'JWT',
  passTLSClientCert: 'PassClientTLSCert',
  plugin: 'Plugin',
  rateLimit: 'RateLimiter',
  redirectRegex: 'RedirectRegex',
  redirectScheme: 'RedirectScheme',
  replacePath: 'ReplacePath',
  replacePathRegex: 'ReplacePathRegex',
  requestHeaderModifier: 'RequestHeaderModifier',
  requestRedirect: 'RequestRedirect',
  responseHeaderModifier: 'ResponseHeaderModifier',
  stripPrefix: 'StripPrefix',
  stripPrefixRegex: 'StripPrefixRegex',
  urlRewrite: 'URLRewrite',
  snippet: 'Snippet',
  rewriteTarget: 'RewriteTarget',
  upstreamVhost: 'UpstreamVhost',
  authTLSPassCertificateToUpstream: 'AuthTLSPassCertificateToUpstream',
};

/** Names the built middleware `m` of type `type` (a YAML key) and qualified name `name`. */
export function nameMiddlewareSpan(m: Middleware, type: string, name: string): void {
  if (type === 'chain') return;
  spanNames.set(m, { type: TYPE_NAMES[type] ?? type, name });
}

export function middlewareSpanName(m: Middleware): MiddlewareSpanName | undefined {
  return spanNames.get(m);
}
