import { z } from 'zod';
import { strictObject, wireBytes } from '../schema-helpers.ts';
import {
  BasicAuthSchema,
  DigestAuthSchema,
  EncodedCharactersSchema,
  ForwardAuthSchema,
  IpAllowListSchema,
  IpWhiteListSchema,
  JwtSchema,
} from './access-middlewares.ts';
import { BufferingSchema, CompressSchema, ErrorsSchema } from './body-middlewares.ts';
import { ContentTypeSchema } from './content-type.ts';
import { HeaderModifierSchema, RequestRedirectSchema, UrlRewriteSchema } from './gateway-middlewares.ts';
import { compileGoRegexp } from './go-regexp.ts';
import { PluginSchema } from './plugin-middleware.ts';
import {
  CircuitBreakerSchema,
  InFlightReqSchema,
  RateLimitSchema,
  RetrySchema,
} from './traffic-middlewares.ts';

/*
 * Schemas of the built-in HTTP middlewares, with Traefik v3's YAML keys
 * (`pkg/config/dynamic/middlewares.go`). Objects are strict: a key we do not implement is an error,
 * never silently ignored. Regular expressions are Go RE2 syntax, translated to JS by
 * `compileGoRegexp` below (core/re2, the router's translator too) and checked at validation time.
 */

// RFC 9110 §5.1 field-name = token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// RFC 9110 §5.5: CR, LF and NUL in a field value would let a config smuggle extra header lines.
const FORBIDDEN_VALUE_CHAR = /[\r\n\0]/;

const HeaderName = z.string().regex(TOKEN, 'must be a valid header field name (RFC 9110 token)');

/** YAML gives numbers and booleans for unquoted scalars; Traefik's map[string]string takes them as text. */
const HeaderValue = z
  .union([z.string(), z.number(), z.boolean()])
  .transform(String)
  .refine((v) => !FORBIDDEN_VALUE_CHAR.test(v), 'header value must not contain CR, LF or NUL')
  .transform(wireBytes);

const HeaderMap = z.record(HeaderName, HeaderValue);

const PlainText = z.string().refine((v) => !FORBIDDEN_VALUE_CHAR.test(v), 'must not contain CR, LF or NUL');
/** A header value: its wire bytes (see wireBytes). */
const PlainValue = PlainText.transform(wireBytes);

/**
 * A value the headers middleware writes into the response head. Traefik loads one with line
 * breaks (a CSP written as a YAML block, `contentSecurityPolicy: |`): Go's server turns each CR,
 * LF and NUL into a space over HTTP/1.1 and drops the field over HTTP/2, and so do our writers
 * for any response field (core/field-values.ts settles it): nothing to refuse here.
 */
const ResponseValue = z.string().transform(wireBytes);
const ResponseHeaderMap = z.record(
  HeaderName,
  z.union([z.string(), z.number(), z.boolean()]).transform(String).pipe(ResponseValue),
);

/** A Go (RE2) regular expression that must translate and compile. */
const GoRegexp = z.string().superRefine((src, ctx) => {
  const r = compileGoRegexp(src);
  if ('error' in r) ctx.addIssue({ code: 'custom', message: r.error });
});

/** Traefik v2's header options that v3 still reads (unrolled/secure's SSL redirect, Feature-Policy). */
const DEPRECATED_HEADERS: Readonly<Record<string, string>> = {
  sslRedirect: 'use an entry point redirection or the redirectScheme middleware',
  sslTemporaryRedirect: 'use an entry point redirection or the redirectScheme middleware',
  sslHost: 'use the redirectRegex middleware',
  sslForceHost: 'use the redirectRegex middleware',
  featurePolicy: 'use permissionsPolicy',
};

export const HeadersSchema = strictObject(
  {
    customRequestHeaders: HeaderMap.optional(),
    customResponseHeaders: ResponseHeaderMap.optional(),
    accessControlAllowCredentials: z.boolean().optional(),
    // Traefik joins these lists with ',' as they are (header.go): an item may itself be a list
    // ("GET, POST"), so only NUL is refused; line breaks become spaces, as Go writes them.
    accessControlAllowHeaders: z.array(ResponseValue).optional(),
    accessControlAllowMethods: z.array(ResponseValue).optional(),
    accessControlAllowOriginList: z.array(PlainValue).optional(),
    accessControlAllowOriginListRegex: z.array(GoRegexp).optional(),
    accessControlExposeHeaders: z.array(ResponseValue).optional(),
    accessControlMaxAge: z.number().int().optional(),
    addVaryHeader: z.boolean().optional(),
    allowedHosts: z.array(PlainValue).optional(),
    hostsProxyHeaders: z.array(HeaderName).optional(),
    sslProxyHeaders: HeaderMap.optional(),
    stsSeconds: z.number().int().nonnegative().optional(),
    stsIncludeSubdomains: z.boolean().optional(),
    stsPreload: z.boolean().optional(),
    forceSTSHeader: z.boolean().optional(),
    frameDeny: z.boolean().optional(),
    customFrameOptionsValue: ResponseValue.optional(),
    contentTypeNosniff: z.boolean().optional(),
    browserXssFilter: z.boolean().optional(),
    customBrowserXSSValue: ResponseValue.optional(),
    contentSecurityPolicy: ResponseValue.optional(),
    contentSecurityPolicyReportOnly: ResponseValue.optional(),
    publicKey: ResponseValue.optional(),
    referrerPolicy: ResponseValue.optional(),
    permissionsPolicy: ResponseValue.optional(),
    isDevelopment: z.boolean().optional(),
    /** Deprecated: redirect plain HTTP requests to https (301; 307 with sslTemporaryRedirect). */
    sslRedirect: z.boolean().optional(),
    sslTemporaryRedirect: z.boolean().optional(),
    /** Deprecated: the host the SSL redirect goes to (default: the request's). */
    sslHost: PlainValue.optional(),
    /** Deprecated: also redirect HTTPS requests whose host is not sslHost. */
    sslForceHost: z.boolean().optional(),
    /** Deprecated: the Feature-Policy response header. */
    featurePolicy: ResponseValue.optional(),
  },
  [],
  { deprecated: DEPRECATED_HEADERS },
);

export const StripPrefixSchema = z.strictObject({
  prefixes: z.array(z.string()).default([]),
  /**
   * Deprecated in Traefik v3 (kept only for compatibility), and false when unset. It differs only
   * for a path that was the prefix itself: `true` leaves `/` to the next middlewares, unset or
   * `false` an empty path (both go upstream as `/`).
   */
  forceSlash: z.boolean().optional(),
});

export const StripPrefixRegexSchema = z.strictObject({
  regex: z.array(GoRegexp).default([]),
});

export const AddPrefixSchema = z.strictObject({
  prefix: z.string().min(1, 'prefix cannot be empty'),
});

export const ReplacePathSchema = z.strictObject({
  /**
   * Empty (or unset) loads in Traefik too: the path becomes empty, sent as `/`. A path that does
   * not start with '/' is refused: Traefik would send it as the request target (`GET foo`).
   */
  path: z
    .string()
    .refine((p) => p === '' || p.startsWith('/'), "path must start with '/'")
    .default(''),
});

export const ReplacePathRegexSchema = z.strictObject({
  regex: GoRegexp,
  /** Unset loads in Traefik: the matches are removed (`^/api` alone strips the prefix). */
  replacement: z.string().default(''),
});

const Port = z
  .union([z.string(), z.number()])
  .transform(String)
  .refine((p) => /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535, 'port must be 1-65535');

export const RedirectSchemeSchema = z.strictObject({
  scheme: z.string().regex(/^[A-Za-z][A-Za-z0-9+.-]*$/, 'scheme must be a URL scheme such as https'),
  port: Port.optional(),
  permanent: z.boolean().default(false),
  /**
   * Traefik's ForcePermanentRedirect (set by its Ingress NGINX provider for ssl-redirect): 308
   * whatever the method. Absent = false.
   */
  forcePermanentRedirect: z.boolean().optional(),
});

export const RedirectRegexSchema = z.strictObject({
  regex: GoRegexp,
  // A URL template: the redirect percent-encodes what is not ASCII itself.
  replacement: PlainText,
  permanent: z.boolean().default(false),
  /**
   * Traefik's StatusCode (set by its Ingress NGINX provider: permanent-redirect-code…): this
   * status whatever the method, instead of `permanent`'s. Absent = by `permanent`.
   */
  statusCode: z.number().int().min(300).max(308).optional(),
});

export const ChainSchema = z.strictObject({
  /** Traefik builds a chain without members too (`chain: {}`): it passes the request on. */
  middlewares: z.array(z.string().min(1)).default([]),
});

const Flag = z.boolean().default(false);

/** Traefik's passTLSClientCert (`TLSClientCertificate*DNInfo`): the issuer has no organizationalUnit. */
export const PassTLSClientCertSchema = z.strictObject({
  pem: Flag,
  info: z
    .strictObject({
      notAfter: Flag,
      notBefore: Flag,
      sans: Flag,
      serialNumber: Flag,
      subject: z
        .strictObject({
          country: Flag,
          province: Flag,
          locality: Flag,
          organization: Flag,
          organizationalUnit: Flag,
          commonName: Flag,
          serialNumber: Flag,
          domainComponent: Flag,
        })
        .optional(),
      issuer: z
        .strictObject({
          country: Flag,
          province: Flag,
          locality: Flag,
          organization: Flag,
          commonName: Flag,
          serialNumber: Flag,
          domainComponent: Flag,
        })
        .optional(),
    })
    .optional(),
});

/**
 * Traefik's grpcWeb: gRPC-Web requests (and their CORS preflights) become gRPC to the backend.
 * `allowOrigins` lists the origins whose browsers may call; `*` allows any.
 */
export const GrpcWebSchema = z.strictObject({
  allowOrigins: z.array(PlainValue).default([]),
});

/**
 * Traefik's Snippet (pkg/config/dynamic, run by pkg/middlewares/ingressnginx/snippet): the nginx
 * directives of an Ingress's `server-snippet` and `configuration-snippet`, which the
 * kubernetesIngressNGINX provider hands over when `allowSnippetAnnotations` is on. Traefik keeps
 * it out of file configurations; here a file may use it too.
 */
export const SnippetSchema = z.strictObject({
  serverSnippet: z.string().default(''),
  configurationSnippet: z.string().default(''),
  /**
   * Traefik v3.7's Snippet.Auth (buildSnippetAuth): the request asked of `address` (auth-url,
   * nginx variables replaced at each request) after the snippets' access phase; `snippet` is the
   * auth-snippet, run on that request.
   */
  auth: z
    .strictObject({
      address: z.string(),
      authSigninURL: z.string().default(''),
      method: z.string().default(''),
      snippet: z.string().default(''),
      authResponseHeaders: z.array(z.string()).default([]),
    })
    .optional(),
});
export type SnippetConfig = z.output<typeof SnippetSchema>;

/**
 * Traefik v3.7's RewriteTarget (pkg/config/dynamic, run by pkg/middlewares/ingressnginx/
 * rewritetarget): the Ingress NGINX provider's `rewrite-target`. As the snippet, Traefik keeps it
 * out of file configurations; here a file may use it too.
 */
export const RewriteTargetSchema = z.strictObject({
  /** Empty: the whole path becomes the replacement. */
  regex: z.string().default(''),
  replacement: z.string(),
  xForwardedPrefix: z.string().default(''),
});
export type RewriteTargetConfig = z.output<typeof RewriteTargetSchema>;

/**
 * Traefik v3.7's UpstreamVhost (pkg/middlewares/ingressnginx/upstreamvhost): the Ingress NGINX
 * provider's `upstream-vhost`, the request's Host from `vhost` with its nginx variables replaced
 * at each request (`vars`: the location's own, `$namespace`…). As the snippet, usable from a file.
 */
export const UpstreamVhostSchema = z.strictObject({
  vhost: z.string().min(1, 'vhost cannot be empty'),
  vars: z.record(z.string(), z.string()).default({}),
});
export type UpstreamVhostConfig = z.output<typeof UpstreamVhostSchema>;

/**
 * Traefik v3.7's AuthTLSPassCertificateToUpstream (pkg/middlewares/ingressnginx/
 * authtlspasscertificatetoupstream): the Ingress NGINX provider's
 * `auth-tls-pass-certificate-to-upstream`, on its HTTPS routers. As the snippet, usable from a
 * file here.
 */
export const AuthTLSPassCertificateToUpstreamSchema = z.strictObject({
  /** The TLS options' client auth type (RequestClientCert: the middleware verifies itself). */
  clientAuthType: z.string().default(''),
  /** PEM CAs, with RequestClientCert (auth-tls-verify-client: optional_no_ca). */
  caFiles: z.array(z.string()).default([]),
});
export type AuthTLSPassCertificateToUpstreamConfig = z.output<typeof AuthTLSPassCertificateToUpstreamSchema>;

export const middlewareSchemas = {
  headers: HeadersSchema,
  stripPrefix: StripPrefixSchema,
  stripPrefixRegex: StripPrefixRegexSchema,
  addPrefix: AddPrefixSchema,
  replacePath: ReplacePathSchema,
  replacePathRegex: ReplacePathRegexSchema,
  redirectScheme: RedirectSchemeSchema,
  redirectRegex: RedirectRegexSchema,
  chain: ChainSchema,
  circuitBreaker: CircuitBreakerSchema,
  retry: RetrySchema,
  rateLimit: RateLimitSchema,
  inFlightReq: InFlightReqSchema,
  passTLSClientCert: PassTLSClientCertSchema,
  buffering: BufferingSchema,
  compress: CompressSchema,
  errors: ErrorsSchema,
  grpcWeb: GrpcWebSchema,
  ipAllowList: IpAllowListSchema,
  ipWhiteList: IpWhiteListSchema,
  encodedCharacters: EncodedCharactersSchema,
  basicAuth: BasicAuthSchema,
  digestAuth: DigestAuthSchema,
  forwardAuth: ForwardAuthSchema,
  jwt: JwtSchema,
  contentType: ContentTypeSchema,
  plugin: PluginSchema,
  // From the Kubernetes Gateway provider's HTTPRoute filters (gateway-middlewares.ts).
  requestHeaderModifier: HeaderModifierSchema,
  responseHeaderModifier: HeaderModifierSchema,
  requestRedirect: RequestRedirectSchema,
  urlRewrite: UrlRewriteSchema,
  // From the Kubernetes Ingress NGINX provider's snippet annotations (middleware/snippet).
  snippet: SnippetSchema,
  rewriteTarget: RewriteTargetSchema,
  upstreamVhost: UpstreamVhostSchema,
  authTLSPassCertificateToUpstream: AuthTLSPassCertificateToUpstreamSchema,
} satisfies Record<string, z.ZodType>;

export type MiddlewareType = keyof typeof middlewareSchemas;
export type MiddlewareConfigOf<K extends MiddlewareType> = z.output<(typeof middlewareSchemas)[K]>;

export type HeadersConfig = z.output<typeof HeadersSchema>;
export type StripPrefixConfig = z.output<typeof StripPrefixSchema>;
export type StripPrefixRegexConfig = z.output<typeof StripPrefixRegexSchema>;
export type AddPrefixConfig = z.output<typeof AddPrefixSchema>;
export type ReplacePathConfig = z.output<typeof ReplacePathSchema>;
export type ReplacePathRegexConfig = z.output<typeof ReplacePathRegexSchema>;
export type RedirectSchemeConfig = z.output<typeof RedirectSchemeSchema>;
export type RedirectRegexConfig = z.output<typeof RedirectRegexSchema>;
export type ChainConfig = z.output<typeof ChainSchema>;
export type {
  BasicAuthConfig,
  ClientTlsConfig,
  DigestAuthConfig,
  EncodedCharactersConfig,
  ForwardAuthConfig,
  IpAllowListConfig,
  JwtConfig,
} from './access-middlewares.ts';
export { compileGoRegexp, type GoRegexp } from './go-regexp.ts';
export type {
  CircuitBreakerConfig,
  InFlightReqConfig,
  RateLimitConfig,
  RetryConfig,
  SourceCriterionConfig,
} from './traffic-middlewares.ts';
