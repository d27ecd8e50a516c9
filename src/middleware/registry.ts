import type { MiddlewareConfigOf, MiddlewareType } from '../config/dynamic/middlewares.ts';
import { addPrefixFactory } from './add-prefix.ts';
import { basicAuthFactory } from './auth/basic-auth.ts';
import { digestAuthFactory } from './auth/digest-auth.ts';
import { bufferingFactory } from './buffering.ts';
import { chainFactory } from './chain.ts';
import { circuitBreakerFactory } from './circuit-breaker.ts';
import { compressFactory } from './compress.ts';
import { contentTypeFactory } from './content-type/content-type.ts';
import { encodedCharactersFactory } from './encoded-characters.ts';
import { errorsFactory } from './errors.ts';
import { forwardAuthFactory } from './forward-auth/forward-auth.ts';
import { grpcWebFactory } from './grpc-web.ts';
import { requestHeaderModifierFactory, responseHeaderModifierFactory } from './header-modifier.ts';
import { headersFactory } from './headers/index.ts';
import { inFlightReqFactory } from './in-flight-req.ts';
import { ipAllowListFactory } from './ip-allow-list.ts';
import { jwtFactory } from './jwt/jwt.ts';
import type { MiddlewareFactory } from './middleware.ts';
import { passTLSClientCertFactory } from './pass-tls-client-cert.ts';
import { pluginFactory } from './plugin.ts';
import { rateLimitFactory } from './rate-limit.ts';
import { redirectRegexFactory } from './redirect-regex.ts';
import { redirectSchemeFactory } from './redirect-scheme.ts';
import { replacePathFactory } from './replace-path.ts';
import { replacePathRegexFactory } from './replace-path-regex.ts';
import { requestRedirectFactory } from './request-redirect.ts';
import { retryFactory } from './retry.ts';
import { stripPrefixFactory } from './strip-prefix.ts';
import { stripPrefixRegexFactory } from './strip-prefix-regex.ts';
import { urlRewriteFactory } from './url-rewrite.ts';

/**
 * The one list of built-in HTTP middlewares, keyed by YAML key. Typed by the schema table, so a
 * schema without a factory (or a factory for the wrong config type) does not compile.
 */
export const middlewareFactories: {
  readonly [K in MiddlewareType]: MiddlewareFactory<MiddlewareConfigOf<K>>;
} = {
  headers: headersFactory,
  stripPrefix: stripPrefixFactory,
  stripPrefixRegex: stripPrefixRegexFactory,
  addPrefix: addPrefixFactory,
  replacePath: replacePathFactory,
  replacePathRegex: replacePathRegexFactory,
  redirectScheme: redirectSchemeFactory,
  redirectRegex: redirectRegexFactory,
  chain: chainFactory,
  circuitBreaker: circuitBreakerFactory,
  retry: retryFactory,
  rateLimit: rateLimitFactory,
  inFlightReq: inFlightReqFactory,
  passTLSClientCert: passTLSClientCertFactory,
  buffering: bufferingFactory,
  compress: compressFactory,
  errors: errorsFactory,
  grpcWeb: grpcWebFactory,
  ipAllowList: ipAllowListFactory,
  encodedCharacters: encodedCharactersFactory,
  basicAuth: basicAuthFactory,
  digestAuth: digestAuthFactory,
  forwardAuth: forwardAuthFactory,
  jwt: jwtFactory,
  contentType: contentTypeFactory,
  plugin: pluginFactory,
  requestHeaderModifier: requestHeaderModifierFactory,
  responseHeaderModifier: responseHeaderModifierFactory,
  requestRedirect: requestRedirectFactory,
  urlRewrite: urlRewriteFactory,
};
