import type { MiddlewareConfigOf, MiddlewareType } from '../config/dynamic/middlewares.ts';
import { loadModule } from '../core/lazy-module.ts';
import type { MiddlewareFactory } from './middleware.ts';

const load = <T>(path: string): T => loadModule<T>(import.meta.url, path);

/**
 * The one list of built-in HTTP middlewares, keyed by YAML key. Typed by the schema table, so a
 * schema without a factory (or a factory for the wrong config type) does not compile. Each
 * factory's module is loaded the first time a configuration uses its type, while the
 * configuration is built: a proxy without JWT middlewares never loads `jose`, one without
 * `compress` never loads `zlib`'s encoders (see core/lazy-module.ts).
 */
const loaders: {
  readonly [K in MiddlewareType]: () => MiddlewareFactory<MiddlewareConfigOf<K>>;
} = {
  headers: () => load<typeof import('./headers/index.ts')>('./headers/index.ts').headersFactory,
  stripPrefix: () => load<typeof import('./strip-prefix.ts')>('./strip-prefix.ts').stripPrefixFactory,
  stripPrefixRegex: () =>
    load<typeof import('./strip-prefix-regex.ts')>('./strip-prefix-regex.ts').stripPrefixRegexFactory,
  addPrefix: () => load<typeof import('./add-prefix.ts')>('./add-prefix.ts').addPrefixFactory,
  replacePath: () => load<typeof import('./replace-path.ts')>('./replace-path.ts').replacePathFactory,
  replacePathRegex: () =>
    load<typeof import('./replace-path-regex.ts')>('./replace-path-regex.ts').replacePathRegexFactory,
  redirectScheme: () =>
    load<typeof import('./redirect-scheme.ts')>('./redirect-scheme.ts').redirectSchemeFactory,
  redirectRegex: () => load<typeof import('./redirect-regex.ts')>('./redirect-regex.ts').redirectRegexFactory,
  chain: () => load<typeof import('./chain.ts')>('./chain.ts').chainFactory,
  circuitBreaker: () =>
    load<typeof import('./circuit-breaker.ts')>('./circuit-breaker.ts').circuitBreakerFactory,
  retry: () => load<typeof import('./retry.ts')>('./retry.ts').retryFactory,
  rateLimit: () => load<typeof import('./rate-limit.ts')>('./rate-limit.ts').rateLimitFactory,
  inFlightReq: () => load<typeof import('./in-flight-req.ts')>('./in-flight-req.ts').inFlightReqFactory,
  passTLSClientCert: () =>
    load<typeof import('./pass-tls-client-cert.ts')>('./pass-tls-client-cert.ts').passTLSClientCertFactory,
  buffering: () => load<typeof import('./buffering.ts')>('./buffering.ts').bufferingFactory,
  compress: () => load<typeof import('./compress.ts')>('./compress.ts').compressFactory,
  errors: () => load<typeof import('./errors.ts')>('./errors.ts').errorsFactory,
  grpcWeb: () => load<typeof import('./grpc-web.ts')>('./grpc-web.ts').grpcWebFactory,
  ipAllowList: () => load<typeof import('./ip-allow-list.ts')>('./ip-allow-list.ts').ipAllowListFactory,
  ipWhiteList: () => load<typeof import('./ip-allow-list.ts')>('./ip-allow-list.ts').ipWhiteListFactory,
  encodedCharacters: () =>
    load<typeof import('./encoded-characters.ts')>('./encoded-characters.ts').encodedCharactersFactory,
  basicAuth: () => load<typeof import('./auth/basic-auth.ts')>('./auth/basic-auth.ts').basicAuthFactory,
  digestAuth: () => load<typeof import('./auth/digest-auth.ts')>('./auth/digest-auth.ts').digestAuthFactory,
  forwardAuth: () =>
    load<typeof import('./forward-auth/forward-auth.ts')>('./forward-auth/forward-auth.ts')
      .forwardAuthFactory,
  jwt: () => load<typeof import('./jwt/jwt.ts')>('./jwt/jwt.ts').jwtFactory,
  contentType: () =>
    load<typeof import('./content-type/content-type.ts')>('./content-type/content-type.ts')
      .contentTypeFactory,
  plugin: () => load<typeof import('./plugin.ts')>('./plugin.ts').pluginFactory,
  requestHeaderModifier: () =>
    load<typeof import('./header-modifier.ts')>('./header-modifier.ts').requestHeaderModifierFactory,
  responseHeaderModifier: () =>
    load<typeof import('./header-modifier.ts')>('./header-modifier.ts').responseHeaderModifierFactory,
  requestRedirect: () =>
    load<typeof import('./request-redirect.ts')>('./request-redirect.ts').requestRedirectFactory,
  urlRewrite: () => load<typeof import('./url-rewrite.ts')>('./url-rewrite.ts').urlRewriteFactory,
  snippet: () => load<typeof import('./snippet/snippet.ts')>('./snippet/snippet.ts').snippetFactory,
  authTLSPassCertificateToUpstream: () =>
    load<typeof import('./auth-tls-pass-certificate.ts')>('./auth-tls-pass-certificate.ts')
      .authTlsPassCertificateFactory,
  upstreamVhost: () =>
    load<typeof import('./snippet/upstream-vhost.ts')>('./snippet/upstream-vhost.ts').upstreamVhostFactory,
  rewriteTarget: () => load<typeof import('./rewrite-target.ts')>('./rewrite-target.ts').rewriteTargetFactory,
};

/** Every built-in middleware type (the YAML keys), without loading any of them. */
export const middlewareTypes = Object.keys(loaders) as readonly MiddlewareType[];

const loaded = new Map<MiddlewareType, MiddlewareFactory<never>>();

/** The factory of `type`, its module loaded on first use (at build time, never per request). */
export function middlewareFactory<K extends MiddlewareType>(
  type: K,
): MiddlewareFactory<MiddlewareConfigOf<K>> {
  let f = loaded.get(type);
  if (f === undefined) {
    f = loaders[type]();
    loaded.set(type, f);
  }
  return f as MiddlewareFactory<MiddlewareConfigOf<K>>;
}
