/**
 * An entry point redirection's default router priority, Traefik's math.MaxInt - 1
 * (RedirectEntryPoint.SetDefaults). Go's value cannot be a JS number: the largest safe integer
 * but one keeps the intent. Apart from entry-point-tls.ts so that the serving process (the API's
 * internal views) reads it without loading zod.
 */
export const REDIRECTION_PRIORITY = Number.MAX_SAFE_INTEGER - 1;
