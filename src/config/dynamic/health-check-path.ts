// Zod-free: the serving process (health/probe.ts) uses it (src/config-process/zod-free.test.ts).

/**
 * A health check `path` with a scheme or an authority (`http://…`, `//host/…`; `\\host`, which
 * WHATWG URL parsing reads as one): Traefik v3.6.8's newRequest refuses it at each check ("health
 * check path must be a relative URL", pkg/healthcheck/healthcheck.go), so the service is built and
 * its servers are found down. So here (health/probe.ts), never probing another host.
 */
export function healthCheckPathIsUrl(path: string): boolean {
  return /^[a-z][a-z0-9+.-]*:|^[/\\]{2}/i.test(path);
}
