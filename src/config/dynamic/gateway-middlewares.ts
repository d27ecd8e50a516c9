import { z } from 'zod';
import { strictObject, wireBytes } from '../schema-helpers.ts';

/*
 * The middlewares Traefik's Kubernetes Gateway provider builds from HTTPRoute filters
 * (pkg/config/dynamic/middlewares.go: RequestHeaderModifier, ResponseHeaderModifier,
 * RequestRedirect, URLRewrite; run by pkg/middlewares/gatewayapi). Traefik keeps them out of file
 * configurations (`file:"-"`); here a file may use them too, with these keys.
 */

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HeaderName = z.string().regex(TOKEN, 'must be a valid header field name (RFC 9110 token)');
const HeaderValue = z
  .union([z.string(), z.number(), z.boolean()])
  .transform(String)
  .refine((v) => !/[\r\n\0]/.test(v), 'header value must not contain CR, LF or NUL')
  .transform(wireBytes);
const HeaderMap = z.record(HeaderName, HeaderValue);
const Hostname = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?)$/, 'must be a hostname');
/** A path as Gateway API writes it: '/…', or '' (ReplacePrefixMatch may drop the prefix). */
const PathValue = z
  .string()
  .refine((v) => v === '' || v.startsWith('/'), "path must start with '/'")
  .refine((v) => !/[\s?#\0]/.test(v), 'path must not contain spaces, ? or #');

/** Gateway API HTTPHeaderFilter: set (replace), add (append) and remove, in that order. */
export const HeaderModifierSchema = strictObject({
  set: HeaderMap.default({}),
  add: HeaderMap.default({}),
  remove: z.array(HeaderName).default([]),
});

/**
 * Gateway API HTTPRequestRedirectFilter. `port` '' means "no port" (the scheme's default),
 * absent means "the request's". `pathPrefix` (the route's matched prefix) makes `path` replace
 * that prefix only (ReplacePrefixMatch); without it `path` replaces the whole path.
 */
export const RequestRedirectSchema = strictObject({
  scheme: z.enum(['http', 'https'], { error: 'scheme must be http or https' }).optional(),
  hostname: Hostname.optional(),
  port: z
    .union([z.string(), z.number()])
    .transform(String)
    .refine(
      (p) => p === '' || (/^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535),
      'port must be 1-65535',
    )
    .optional(),
  path: PathValue.optional(),
  pathPrefix: PathValue.optional(),
  // Traefik's NewRequestRedirect (pkg/middlewares/gatewayapi/redirect, since traefik/traefik#13360
  // for the Gateway API v1.5 enum): 301, 302, 303, 307 or 308.
  statusCode: z
    .union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)], {
      error: 'statusCode must be 301, 302, 303, 307 or 308',
    })
    .default(302),
});

/** Gateway API HTTPURLRewriteFilter: the Host sent upstream and the path (whole, or its prefix). */
export const UrlRewriteSchema = strictObject({
  hostname: Hostname.optional(),
  path: PathValue.optional(),
  pathPrefix: PathValue.optional(),
}).superRefine((v, ctx) => {
  if (v.hostname === undefined && v.path === undefined)
    ctx.addIssue({ code: 'custom', message: 'urlRewrite needs a hostname or a path' });
});

export type HeaderModifierConfig = z.output<typeof HeaderModifierSchema>;
export type RequestRedirectConfig = z.output<typeof RequestRedirectSchema>;
export type UrlRewriteConfig = z.output<typeof UrlRewriteSchema>;
