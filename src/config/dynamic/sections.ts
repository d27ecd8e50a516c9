import type { DynamicConfig } from './schema.ts';

/*
 * Names and shapes of the dynamic configuration that the serving process needs without its
 * schemas: a proxy fed by the file provider never loads `zod` (docs/performance.md, "Memory at
 * rest"). schema.ts and tcp.ts re-export them.
 */

/** Top-level keys of a dynamic configuration (accepted in the static file too). */
export const DYNAMIC_SECTIONS = ['http', 'tcp', 'udp', 'tls'] as const;

/** The sections of `http` that hold named objects. */
export const HTTP_SECTIONS = ['routers', 'services', 'middlewares', 'serversTransports'] as const;
export type HttpSection = (typeof HTTP_SECTIONS)[number];

/** A section's object in a message: `router \`name\``. */
export const SINGULAR: Readonly<Record<HttpSection, string>> = {
  routers: 'router',
  services: 'service',
  middlewares: 'middleware',
  serversTransports: 'serversTransport',
};

export const TCP_SECTIONS = ['routers', 'services', 'middlewares', 'serversTransports'] as const;
export const UDP_SECTIONS = ['routers', 'services'] as const;

/** The kinds of HTTP service: each service has exactly one of these keys. */
export const SERVICE_KINDS = [
  'loadBalancer',
  'weighted',
  'mirroring',
  'failover',
  'highestRandomWeight',
] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

/** The TLS options set and store every router gets when it names none. */
export const DEFAULT_TLS_NAME = 'default';

export function emptyDynamicConfig(): DynamicConfig {
  return {
    http: { routers: {}, services: {}, middlewares: {}, serversTransports: {} },
    tls: { certificates: [], options: {}, stores: {} },
  };
}
