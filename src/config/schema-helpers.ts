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
  /**
   * Traefik v2 keys that Traefik v3 refuses to start with (pkg/cli/deprecation.go: "… has been
   * removed in v3, please remove … for Traefik to start"), with what to do instead.
   */
  readonly removed?: Readonly<Record<string, string>>;
  /**
   * Of the `unsupported` keys, those a newer Traefik added, with where and since when, for the
   * message: `{ readTimeout: 'in forwardingTimeouts (Traefik v3.8)' }` → "`readTimeout` in
   * forwardingTimeouts (Traefik v3.8) is not supported yet".
   */
  readonly since?: Readonly<Record<string, string>>;
}

/** What a strict object knows beyond its shape, for the key normaliser (config/normalize.ts). */
export interface StrictObjectExtras {
  readonly deprecated?: Readonly<Record<string, string>>;
  readonly aliases?: Readonly<Record<string, string>>;
  readonly removed?: Readonly<Record<string, string>>;
  readonly since?: Readonly<Record<string, string>>;
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

/**
 * A router's `ruleSyntax`. Traefik v3 parses a rule with the parser of that syntax and falls back
 * to v3 for any value it has no parser for (pkg/muxer/http/parser.go, SyntaxParser.parse; the TCP
 * muxer alike): `v2` reads Traefik v2's matchers (router/rule/parser-v2.ts), `v3`, '' and
 * anything else read the rule as v3. Deprecated in Traefik (a warning), still honoured.
 */
export const ruleSyntax = z.string().optional();

/**
 * A router's `observability` and an entry point's (Traefik v3.1+: RouterObservabilityConfig in
 * pkg/config/dynamic/http_config.go, ObservabilityConfig in pkg/config/static/entrypoints.go).
 * An unset key is `true`; a router's set key wins over its entry point's (applyModel).
 * `traceVerbosity` is Traefik's TracingVerbosity (pkg/observability/types/tracing.go): `minimal`
 * (the default) traces the entry point and the call to the server, `detailed` adds the router,
 * middleware and service spans.
 */
export const observabilitySection = nullAsEmpty(
  strictObject({
    accessLogs: z.boolean().optional(),
    metrics: z.boolean().optional(),
    tracing: z.boolean().optional(),
    traceVerbosity: z.enum(['minimal', 'detailed']).optional(),
  }),
).optional();

/**
 * The highest priority a configured router may have: the ones above are the proxy's own routers'
 * (ACME http-01, entry point redirections). Traefik's maxUserPriority is math.MaxInt - 1000
 * (9223372036854774807), and an HTTP router above it is disabled with this error
 * (pkg/server/router/router.go buildEntryPointHandler); a JS number is exact only up to 2^53 - 1,
 * so ours is the same distance below that largest exact integer (the proxy's own routers sit
 * above it), and a priority between the two, which Traefik accepts, is refused here.
 */
export const MAX_USER_PRIORITY = Number.MAX_SAFE_INTEGER - 1000;

/** Traefik's words: `the router priority %d exceeds the max user-defined priority %d`. */
export function priorityTooHigh(priority: unknown): string {
  const n = typeof priority === 'number' && Number.isInteger(priority) ? BigInt(priority) : priority;
  return `the router priority ${String(n)} exceeds the max user-defined priority ${MAX_USER_PRIORITY}`;
}

/** A router's `priority`: 0 (Traefik's default) is the rule's length; negative values are kept. */
export const routerPriority = z
  .number()
  // Checked first, and alone: past 2^53 zod's int check would add its own words.
  .max(MAX_USER_PRIORITY, { error: (iss) => priorityTooHigh(iss.input), abort: true })
  .int()
  .default(0);

/** Names of a record (routers, services, …) chosen by the user. */
export const nameList = z.array(z.string().min(1, 'must not be empty'));

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * A value as the bytes that go on the wire. Fields are written one byte per character (latin1),
 * so a character past U+00FF would lose its high bits: U+010D U+010A became CR LF, a field
 * injected into the upstream request past the CR/LF/NUL check. Go (Traefik) writes a string's
 * UTF-8 bytes: so do we, and UTF-8 puts no byte below 0x80 but for ASCII.
 */
export function wireBytes(v: string): string {
  return NON_ASCII.test(v) ? Buffer.from(v, 'utf8').toString('latin1') : v;
}

/**
 * A servers transport's `spiffe` (Traefik's dynamic.Spiffe and static.Spiffe): the SPIFFE IDs the
 * server may have (they win), else its trust domain; neither = any SPIFFE ID of a trusted bundle.
 * Present (even empty) = TLS with the process's SPIFFE identity (static `spiffe.workloadAPIAddr`).
 */
export const spiffeSection = nullAsEmpty(
  strictObject({
    ids: z.array(z.string()).optional(),
    trustDomain: z.string().optional(),
  }),
);
