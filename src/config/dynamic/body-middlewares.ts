import { z } from 'zod';
import { strictObject } from '../schema-helpers.ts';

/*
 * Schemas of the middlewares that work on bodies (their body phase), with Traefik v3's keys.
 */

const ENCODINGS = ['gzip', 'br', 'zstd'] as const;
export type CompressEncoding = (typeof ENCODINGS)[number];

/** A media type as `mime.ParseMediaType` reads it: `type/subtype`, parameters ignored. */
const MediaType = z
  .string()
  .transform((v) => v.split(';')[0]!.trim().toLowerCase())
  .refine(
    (v) => /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+*-]+$/.test(v),
    'must be a media type such as text/html',
  );

/** `compress` (Traefik v3, pkg/middlewares/compress). */
export const CompressSchema = strictObject({
  excludedContentTypes: z.array(MediaType).default([]),
  includedContentTypes: z.array(MediaType).default([]),
  /** Bodies shorter than this are sent as they are; 0 means the default, 1024, as in Traefik. */
  minResponseBodyBytes: z
    .number()
    .int()
    .nonnegative()
    .default(1024)
    .transform((n) => (n === 0 ? 1024 : n)),
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
