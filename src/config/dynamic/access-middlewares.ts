import { z } from 'zod';
import { isGoKnownStatus } from '../../core/status-text.ts';
import { duration } from '../duration.ts';
import { strictObject } from '../schema-helpers.ts';
import { clientTls } from './client-tls.ts';
import { ipOrCidr, ipStrategy } from './traffic-middlewares.ts';

/*
 * Middlewares that decide who may pass: ipAllowList, encodedCharacters, basicAuth, digestAuth,
 * forwardAuth and jwt (ours), with Traefik v3's keys (`pkg/config/dynamic/middlewares.go`) plus
 * ours, marked. Files named here (usersFile, TLS files) are read when the middleware is built, so
 * that a missing file is an error of that build, never of a request.
 */

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HeaderName = z.string().regex(TOKEN, 'must be a valid header field name (RFC 9110 token)');
const NoControl = z.string().refine((v) => !/[\r\n\0"\\]/.test(v), 'must not contain CR, LF, NUL, " or \\');
/**
 * basicAuth's and digestAuth's realm: Traefik's NewBasic and NewDigest (pkg/middlewares/auth) use
 * defaultRealm "traefik" unless the configured realm is non-empty, so an empty one is "traefik".
 */
const AuthRealm = NoControl.default('traefik').transform((r) => (r === '' ? 'traefik' : r));

export const IpAllowListSchema = strictObject({
  sourceRange: z.array(ipOrCidr).min(1, 'sourceRange must not be empty'),
  ipStrategy: ipStrategy.optional(),
  /**
   * Traefik: 0 or absent = 403; any other code must be one Go names (ipallowlist.New refuses a
   * code whose http.StatusText is empty, e.g. 499), since its reason phrase is the body.
   */
  rejectStatusCode: z
    .number()
    .int()
    .refine((s) => s === 0 || isGoKnownStatus(s), 'must be an HTTP status code Go knows (e.g. 403, 404, 451)')
    .default(0),
});

/**
 * Traefik v3's deprecated `ipWhiteList` (pkg/middlewares/ipwhitelist, dynamic.IPWhiteList): its
 * own type, with `sourceRange` and `ipStrategy` only (no `rejectStatusCode`: always 403), and its
 * own tracing name, `IPWhiteLister`.
 */
export const IpWhiteListSchema = strictObject({
  sourceRange: IpAllowListSchema.shape.sourceRange,
  ipStrategy: IpAllowListSchema.shape.ipStrategy,
});

/** Traefik v3.6's middleware: every escape is refused unless allowed (all false by default). */
export const EncodedCharactersSchema = strictObject({
  allowEncodedSlash: z.boolean().default(false),
  allowEncodedBackSlash: z.boolean().default(false),
  allowEncodedNullCharacter: z.boolean().default(false),
  allowEncodedSemicolon: z.boolean().default(false),
  allowEncodedPercent: z.boolean().default(false),
  allowEncodedQuestionMark: z.boolean().default(false),
  allowEncodedHash: z.boolean().default(false),
});

/** `name:hash`, one colon (Traefik's basicUserParser): the hash is htpasswd's. */
const basicUser = z
  .string()
  .refine((u) => u.split(':').length === 2, 'a user is name:hashed-password (one colon)');
/** `name:realm:hash` (htdigest's format). */
const digestUser = z
  .string()
  .refine((u) => u.split(':').length === 3, 'a user is name:realm:hash (two colons)');

export const BasicAuthSchema = strictObject({
  users: z.array(basicUser).default([]),
  /** Read when built and watched: a change reloads the users. Its lines come before `users`. */
  usersFile: z.string().min(1).optional(),
  realm: AuthRealm,
  removeHeader: z.boolean().default(false),
  /** Set on the forwarded request to the authenticated user's name. */
  headerField: HeaderName.optional(),
});

export const DigestAuthSchema = strictObject({
  users: z.array(digestUser).default([]),
  usersFile: z.string().min(1).optional(),
  realm: AuthRealm,
  removeHeader: z.boolean().default(false),
  headerField: HeaderName.optional(),
  /** Ours: how long a nonce we issued is accepted; later the client is asked again (stale=true). */
  nonceExpiry: duration.default(300_000),
});

export const ForwardAuthSchema = strictObject({
  address: z.url({ protocol: /^https?$/, error: 'address must be an http:// or https:// URL' }),
  tls: clientTls.optional(),
  /** Not set, false and true are three ways (Traefik PR #12994, auth-request.ts). */
  trustForwardHeader: z.boolean().optional(),
  authResponseHeaders: z.array(HeaderName).default([]),
  authResponseHeadersRegex: z.string().optional(),
  authRequestHeaders: z.array(HeaderName).default([]),
  addAuthCookiesToResponse: z.array(z.string().min(1)).default([]),
  /** The auth server's response field whose value the access log shows as the user. */
  headerField: HeaderName.optional(),
  forwardBody: z.boolean().default(false),
  /** With forwardBody: bodies over this size get 401; -1 = no limit (Traefik's default). */
  maxBodySize: z.number().int().min(-1).default(-1),
  preserveLocationHeader: z.boolean().default(false),
  preserveRequestMethod: z.boolean().default(false),
  /**
   * Traefik v3.6.12's: an auth server answer with a longer body is answered 401 (forward.go,
   * errResponseBodyTooLarge; our own 4 MiB limit, 500). -1 =
   * Traefik's "no limit", which we keep at 4 MiB (auth-call.ts): an auth answer is headers and
   * a redirect or a login page, and it is held in memory whole.
   */
  maxResponseBodySize: z.number().int().min(-1).default(-1),
  /**
   * Traefik's (PR #12293): where a 401 of the auth server sends the client instead (302, Go's
   * http.Redirect; a relative URL against the request's path).
   */
  authSigninURL: z.string().optional(),
  /** Ours: the whole auth request (connect, answer, body); Traefik's client has 30 s. */
  timeout: duration.default(30_000),
});

const stringList = z.union([
  z
    .string()
    .min(1)
    .transform((s) => [s]),
  z.array(z.string().min(1)),
]);

/**
 * Ours (Traefik has it only in its paid Hub, whose key names are followed where they exist): a JWT
 * in `Authorization: Bearer` checked against one key source, its claims checked, chosen claims
 * forwarded as request fields.
 */
export const JwtSchema = strictObject({
  /** JWKS served over HTTP(S): cached, fetched again for an unknown `kid`. */
  jwksUrl: z.url({ protocol: /^https?$/, error: 'jwksUrl must be an http:// or https:// URL' }).optional(),
  /** JWKS kept this long before it is fetched again. */
  jwksCacheDuration: duration.default(600_000),
  /** A token with an unknown `kid` fetches the JWKS again, but not sooner than this after the last fetch. */
  jwksCooldown: duration.default(30_000),
  /** A PEM public key (SPKI or certificate), or a file holding one. */
  publicKey: z.string().min(1).optional(),
  /** An HMAC secret (HS256/384/512). */
  signingSecret: z.string().min(1).optional(),
  /** Accepted `alg` values; absent = what the key allows. */
  algorithms: z
    .array(z.string().regex(/^(HS|RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/, 'unknown JWS algorithm'))
    .optional(),
  issuer: stringList.optional(),
  audience: stringList.optional(),
  /** Claims every token must carry. */
  requiredClaims: z.array(z.string().min(1)).default([]),
  /** Tolerated clock difference for exp, nbf and iat. */
  clockSkew: duration.default(0),
  /** Request field → claim: the claim's value (JSON for non-strings) is set; client-sent ones always go. */
  forwardHeaders: z.record(HeaderName, z.string().min(1)).default({}),
  /** Keep the Authorization field on the forwarded request. */
  forwardAuthorization: z.boolean().default(false),
  realm: NoControl.default('traefik'),
}).superRefine((v, ctx) => {
  const sources = [v.jwksUrl, v.publicKey, v.signingSecret].filter((x) => x !== undefined).length;
  if (sources !== 1)
    ctx.addIssue({ code: 'custom', message: 'set exactly one of jwksUrl, publicKey and signingSecret' });
});

export type { ClientTlsConfig } from './client-tls.ts';
export type JwtConfig = z.output<typeof JwtSchema>;
export type IpAllowListConfig = z.output<typeof IpAllowListSchema>;
export type IpWhiteListConfig = z.output<typeof IpWhiteListSchema>;
export type EncodedCharactersConfig = z.output<typeof EncodedCharactersSchema>;
export type BasicAuthConfig = z.output<typeof BasicAuthSchema>;
export type DigestAuthConfig = z.output<typeof DigestAuthSchema>;
export type ForwardAuthConfig = z.output<typeof ForwardAuthSchema>;
