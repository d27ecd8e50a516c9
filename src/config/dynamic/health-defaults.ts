/**
 * Traefik's health-check defaults (pkg/config/dynamic/http_config.go SetDefaults): what an unset
 * interval or timeout, or one of 0 or less, means. In config, without zod, so that the schema,
 * the runtime and the prober read the same figures (health may import config, not the reverse).
 */
export const DEFAULT_HEALTH_CHECK_INTERVAL_MS = 30_000;
export const DEFAULT_HEALTH_CHECK_TIMEOUT_MS = 5_000;
