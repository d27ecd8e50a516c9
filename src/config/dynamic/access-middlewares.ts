import { z } from 'zod';
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

export const IpAllowListSchema = strictObject({
  sourceRange: z.array(ipOrCidr).min(1, 'sourceRange must not be empty'),
  ipStrategy: ipStrategy.optional(),
  /** Traefik: 0 or absent = 403. */
  rejectStatusCode: z
    .number()
    .int()
    .refine((s) => s === 0 || (s >= 100 && s <= 599), 'must be an HTTP status code')
    .default(0),
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
  realm: NoControl.default('traefik'),
  removeHeader: z.boolean().default(false),
  /** Set on the forwarded request to the authenticated user's name. */
  headerField: HeaderName.optional(),
});

export const DigestAuthSchema = strictObject({
  users: z.array(digestUser).default([]),
  usersFile: z.string().min(1).optional(),
  realm: NoControl.default('traefik'),
  removeHeader: z.boolean().default(false),
  headerField: HeaderName.optional(),
  /** Ours: how long a nonce we issued is accepted; later the client is asked again (stale=true). */
  nonceExpiry: duration.default(300_000),
});

export const ForwardAuthSchema = strictObject(
  {
    address: z.url({ protocol: /^https?$/, error: 'address must be an http:// or https:// URL' }),
    tls: clientTls.optional(),
    trustForwardHeader: z.boolean().default(false),
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
    /** Ours: the whole auth request (connect, answer, body); Traefik's client has 30 s. */
    timeout: duration.default(30_000),
  },
  ['maxResponseBodySize', 'authSigninURL'],
);

export type { ClientTlsConfig } from './client-tls.ts';
export type IpAllowListConfig = z.output<typeof IpAllowListSchema>;
export type EncodedCharactersConfig = z.output<typeof EncodedCharactersSchema>;
export type BasicAuthConfig = z.output<typeof BasicAuthSchema>;
export type DigestAuthConfig = z.output<typeof DigestAuthSchema>;
export type ForwardAuthConfig = z.output<typeof ForwardAuthSchema>;
