/** The entry points `web` and `traefik` on free loopback ports, as most e2e configurations open them. */
export const WEB_AND_TRAEFIK = `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
`;

/**
 * The head of a provider e2e test's proxy configuration: `entryPoints` (WEB_AND_TRAEFIK unless
 * given; `traefik` serves the API and Prometheus metrics), INFO logs, then `providers:` with the
 * throttle given; the test's provider block follows, indented under `providers:`.
 */
export function providersHead(throttle: string, entryPoints = WEB_AND_TRAEFIK): string {
  return `${entryPoints}log: { level: INFO }
api: { insecure: true }
metrics: { prometheus: {} }
providers:
  providersThrottleDuration: ${throttle}
`;
}
