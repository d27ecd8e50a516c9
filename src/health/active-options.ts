import {
  DEFAULT_HEALTH_CHECK_INTERVAL_MS,
  DEFAULT_HEALTH_CHECK_TIMEOUT_MS,
} from '../config/dynamic/health-defaults.ts';
/**
 * Options of one load balancer's active health check: Traefik v3 `healthCheck` plus `mode: tcp`
 * and pass/fail thresholds. Durations are milliseconds; the config layer converts the YAML.
 */

/** An inclusive range of HTTP status codes. */
export interface ProbeStatusRange {
  readonly from: number;
  readonly to: number;
}

export interface ActiveCheckOptions {
  /** `http` sends a request; `grpc` a gRPC health `Check`; `tcp` only checks that a connection opens. */
  readonly mode: 'http' | 'grpc' | 'tcp';
  /**
   * The probed path (with an optional query), resolved against the server URL's path as Go's
   * URL.Parse does (Traefik's newRequest): `/health` replaces it, `health` is relative to its
   * last segment, and '' probes the server URL's own path and query.
   */
  readonly path: string;
  /** GET by default; HEAD is allowed. */
  readonly method: string;
  /** Host header; undefined = the server's authority (host:port, with `port` when that is set). */
  readonly hostname: string | undefined;
  /** Probe this port instead of the server's. */
  readonly port: number | undefined;
  /** Sent on every probe; a later entry with the same name wins (Go's Header.Set). */
  readonly headers: readonly (readonly [string, string])[];
  /** Accepted statuses of the final response; empty = Traefik's default, 200–399. */
  readonly status: readonly ProbeStatusRange[];
  /** Follow up to MAX_REDIRECTS redirects and judge the final response. */
  readonly followRedirects: boolean;
  readonly intervalMs: number;
  /** Probe interval while a server is down. */
  readonly unhealthyIntervalMs: number;
  /** Bound on the whole probe: connect, every redirect hop, until the final response head. */
  readonly timeoutMs: number;
  /** Consecutive successes that bring a down server back. */
  readonly passes: number;
  /** Consecutive failures that take an up server down. */
  readonly fails: number;
}

// Traefik's defaults (pkg/config/dynamic/http_config.go DefaultHealthCheckInterval/Timeout).
export { DEFAULT_HEALTH_CHECK_INTERVAL_MS, DEFAULT_HEALTH_CHECK_TIMEOUT_MS };

/** Go's http.Client stops after 10 redirects; Traefik's checker uses its default policy. */
export const MAX_REDIRECTS = 10;

/** Traefik accepts any 2xx or 3xx when no status is configured. */
export const DEFAULT_STATUS_RANGES: readonly ProbeStatusRange[] = [{ from: 200, to: 399 }];

/** Complete options from the ones given, with Traefik's defaults for the rest. */
export function activeCheckOptions(given: Partial<ActiveCheckOptions> = {}): ActiveCheckOptions {
  const intervalMs = given.intervalMs ?? DEFAULT_HEALTH_CHECK_INTERVAL_MS;
  return {
    mode: given.mode ?? 'http',
    path: given.path ?? '',
    method: given.method ?? 'GET',
    hostname: given.hostname,
    port: given.port,
    headers: given.headers ?? [],
    status: given.status ?? [],
    followRedirects: given.followRedirects ?? true,
    intervalMs,
    unhealthyIntervalMs: given.unhealthyIntervalMs ?? intervalMs,
    timeoutMs: given.timeoutMs ?? DEFAULT_HEALTH_CHECK_TIMEOUT_MS,
    passes: given.passes ?? 1,
    fails: given.fails ?? 1,
  };
}

/** Whether `status` passes the check; empty ranges mean 200–399. */
export function statusAccepted(ranges: readonly ProbeStatusRange[], status: number): boolean {
  const list = ranges.length === 0 ? DEFAULT_STATUS_RANGES : ranges;
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    if (status >= r.from && status <= r.to) return true;
  }
  return false;
}
