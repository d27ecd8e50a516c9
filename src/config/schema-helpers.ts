import { z } from 'zod';

/** Carried by the issue a strict object raises for each key it does not know. */
export interface UnknownKeyParams {
  readonly unknownKey: true;
  readonly known: readonly string[];
  /** Traefik keys we recognise but do not implement yet: reported by name, never ignored. */
  readonly unsupported: readonly string[];
  /** What the keys name, for messages: 'middleware type' → "unknown middleware type `x`". */
  readonly what?: string;
  /** Keys Traefik still accepts but has deprecated, with what to use instead (a warning each). */
  readonly deprecated?: Readonly<Record<string, string>>;
  /** Deprecated spellings read as another key of the shape (`ipWhiteList` → `ipAllowList`). */
  readonly aliases?: Readonly<Record<string, string>>;
}

/** What a strict object knows beyond its shape, for the key normaliser (config/normalize.ts). */
export interface StrictObjectExtras {
  readonly deprecated?: Readonly<Record<string, string>>;
  readonly aliases?: Readonly<Record<string, string>>;
}

export function isUnknownKeyParams(p: unknown): p is UnknownKeyParams {
  return typeof p === 'object' && p !== null && (p as { unknownKey?: unknown }).unknownKey === true;
}

/**
 * A strict object whose unknown keys each raise their own issue (path ending in the key), so the
 * issue can point at the key in the file and say whether Traefik has it but we do not.
 * The catchall never accepts anything, so the parsed type is exactly the shape's.
 */
export function strictObject<S extends z.core.$ZodLooseShape>(
  shape: S,
  unsupported: readonly string[] = [],
  extras: StrictObjectExtras = {},
): z.ZodObject<S, z.core.$strict> {
  // Carried by the catchall, which every clone (`.superRefine`, `.optional` …) shares.
  const params: UnknownKeyParams = { unknownKey: true, known: Object.keys(shape), unsupported, ...extras };
  const reject = z.custom<never>(() => false, { params, error: 'unknown key' });
  return z.object(shape).catchall(reject) as unknown as z.ZodObject<S, z.core.$strict>;
}

/** YAML `key:` with no value is null; Traefik treats such a section as present with defaults. */
export function nullAsEmpty<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === null ? {} : v), schema);
}

/** Names of a record (routers, services, …) chosen by the user. */
export const nameList = z.array(z.string().min(1, 'must not be empty'));

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
