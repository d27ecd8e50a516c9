import { z } from 'zod';
import { strictObject } from '../schema-helpers.ts';
import { parseStatusRange, type StatusRange, traefikStatusRanges } from './status-ranges.ts';

/*
 * Schemas of the middlewares that work on bodies (their body phase), with Traefik v3's keys.
 */

const ENCODINGS = ['gzip', 'br', 'zstd'] as const;
export type CompressEncoding = (typeof ENCODINGS)[number];

/**
 * A media type as Go's `mime.ParseMediaType` reads it (Traefik keeps only that part): tokens,
 * lowercased, the subtype optional (`text` loads there, though no response type equals it);
 * parameters ignored.
 */
const MediaType = z
  .string()
  .transform((v) => v.split(';')[0]!.trim().toLowerCase())
  .refine(
    (v) => /^[a-z0-9!#$%&'*+.^_`|~-]+(?:\/[a-z0-9!#$%&'*+.^_`|~-]+)?$/.test(v),
    'must be a media type such as text/html',
  );

/** `compress` (Traefik v3, pkg/middlewares/compress). */
export const CompressSchema = strictObject({
  excludedContentTypes: z.array(MediaType).default([]),
  includedContentTypes: z.array(MediaType).default([]),
  /**
   * Bodies of known length shorter than this are sent as they are; 0 or less means the default,
   * 1024, as in Traefik (`if conf.MinResponseBodyBytes > 0`).
   */
  minResponseBodyBytes: z
    .number()
    .int()
    .default(1024)
    .transform((n) => (n <= 0 ? 1024 : n)),
  /** Server preference among equally weighted codings, most preferred first. */
  encodings: z
    .array(z.enum(ENCODINGS))
    .min(1, 'at least one encoding must be specified')
    .default(['gzip', 'br', 'zstd']),
  /** Used when the request has no Accept-Encoding (or accepts `*`); '' = do not compress then. */
  defaultEncoding: z.union([z.enum(ENCODINGS), z.literal('')]).default(''),
  /** Ours: compression levels (gzip 1–9, br 0–11, zstd 1–19); defaults as Traefik's Go encoders. */
  levels: strictObject({
    gzip: z.number().int().min(1).max(9).default(6),
    br: z.number().int().min(0).max(11).default(6),
    zstd: z.number().int().min(1).max(19).default(3),
  }).prefault({}),
}).superRefine((c, ctx) => {
  if (c.excludedContentTypes.length > 0 && c.includedContentTypes.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: 'excludedContentTypes and includedContentTypes are mutually exclusive',
    });
  }
  if (c.defaultEncoding !== '' && !c.encodings.includes(c.defaultEncoding)) {
    ctx.addIssue({
      code: 'custom',
      path: ['defaultEncoding'],
      message: 'the default encoding must be one of `encodings`',
    });
  }
});

export type CompressConfig = z.output<typeof CompressSchema>;

/** A `statusRewrites` key: one status or a range, as in `status` ("418", "502-504"). */
const rewriteTarget = z
  .union([z.number(), z.string().regex(/^\s*\d{3}\s*$/, 'must be a status code such as 404')])
  .transform((v) => Number(v))
  .refine((n) => Number.isInteger(n) && n >= 100 && n <= 599, 'must be a status code between 100 and 599');

/**
 * `errors` (Traefik v3, pkg/middlewares/customerrors): a response whose status is in `status`
 * is replaced by the page `service` serves at `query`, with the original status (or the one
 * `statusRewrites` maps it to).
 */
export const ErrorsSchema = strictObject({
  status: traefikStatusRanges.default([]),
  /** Traefik v3.4: status (or range) → the status the client gets instead. */
  statusRewrites: z.record(z.string(), rewriteTarget).default({}),
  service: z.string().min(1, 'the service serving the error pages is required'),
  /** Path (and query) of the page; `{status}`, `{originalStatus}` and `{url}` are replaced. */
  query: z.string().default(''),
  /**
   * Traefik v3.6.15/v3.7 (CVE-2026-41181): the request's header fields the page request carries;
   * unset = all of them, `[]` = none.
   */
  errorRequestHeaders: z.array(z.string().trim().min(1)).optional(),
  /**
   * Traefik v3.7's ErrorPage.NginxHeaders (the Ingress NGINX provider's custom-http-errors): the
   * page request also carries these and ingress-nginx's X-Code, X-Format and X-Original-URI, and
   * the client gets the page's own status (#12738).
   */
  nginxHeaders: z.record(z.string(), z.string()).optional(),
}).transform((c, ctx) => {
  const rewrites: { from: StatusRange; to: number }[] = [];
  for (const [k, to] of Object.entries(c.statusRewrites)) {
    const from = parseStatusRange(k, false);
    if ('error' in from) {
      ctx.addIssue({ code: 'custom', path: ['statusRewrites', k], message: from.error });
      continue;
    }
    rewrites.push({ from, to });
  }
  const forward = c.errorRequestHeaders?.map((n) => n.toLowerCase()) ?? null;
  const nginx = c.nginxHeaders === undefined ? null : Object.entries(c.nginxHeaders);
  return { status: c.status, rewrites, service: c.service, query: c.query, forward, nginx };
});

export type ErrorsConfig = z.output<typeof ErrorsSchema>;

/**
 * `buffering` (Traefik v3, pkg/middlewares/buffering over oxy's buffer): the whole request is
 * read before it is sent (413 past `maxRequestBodyBytes`), the whole response before it is
 * relayed (500 past `maxResponseBodyBytes`); past the `mem…` sizes the bytes go to a temporary
 * file. `retryExpression` retries the request while it holds.
 */
export const BufferingSchema = strictObject({
  /** 0 = no limit (Traefik's default). */
  maxRequestBodyBytes: z.number().int().nonnegative().default(0),
  /** Traefik's default: 1 MiB. */
  memRequestBodyBytes: z.number().int().nonnegative().default(1048576),
  maxResponseBodyBytes: z.number().int().nonnegative().default(0),
  memResponseBodyBytes: z.number().int().nonnegative().default(1048576),
  retryExpression: z.string().default(''),
  /**
   * Traefik's DisableRequestBuffer / DisableResponseBuffer (oxy's options, which its Ingress
   * NGINX provider sets for nginx's proxy_request_buffering / proxy_buffering off): that side
   * goes through as it comes. Absent = false.
   */
  disableRequestBuffer: z.boolean().optional(),
  disableResponseBuffer: z.boolean().optional(),
});

export type BufferingConfig = z.output<typeof BufferingSchema>;
