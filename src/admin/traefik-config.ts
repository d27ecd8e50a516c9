/**
 * An object's configuration as Traefik's API writes it inline (pkg/api/handler_http.go: the
 * representations embed runtime.RouterInfo/ServiceInfo/MiddlewareInfo, which embed the dynamic
 * configuration structs of pkg/config/dynamic/http_config.go and middlewares.go): the middleware's
 * or service's kind as the key (`rateLimit`, `loadBalancer`…), its fields under Traefik's json
 * tags, as Go's encoding/json writes them:
 * - `omitempty` leaves out false, 0, '', empty lists and empty maps; a set pointer to a struct is
 *   kept even when empty (`healthCheck: {}`, `sticky: {cookie: {}}`), as are the pointer fields
 *   without omitempty (`passHostHeader`, `followRedirects`, `mirrorBody`);
 * - durations (ptypes.Duration) in Go's Duration String form (`100ms`, `1m0s`), as Traefik's
 *   rawdata fixtures show them (integration/testdata/rawdata-*.json: `"flushInterval": "100ms"`);
 * - the defaults Traefik's SetDefaults fill in are present (a load balancer's `strategy: wrr`,
 *   `passHostHeader: true`, `responseForwarding.flushInterval: 100ms`, a health check's
 *   `mode` http, `interval`, `timeout`, `followRedirects`, a WRR child's `weight`, a cookie's `path`,
 *   mirroring's `mirrorBody` and `maxBodySize`, compress's `encodings`, rateLimit's `period` and
 *   `burst`), the ones Traefik applies only when it builds the handler are not (compress's
 *   `minResponseBodyBytes` 1024, a health check's method GET, an auth realm `traefik`, a server's
 *   weight 1);
 * - our own keys (docs/configuration.md "ours") are left out: they stay in our `config`, our
 *   `http` section of /api/rawdata and our service view.
 * Built from our resolved configuration, once per configuration object (WeakMap), so once per
 * configuration generation: never per request.
 */

import type { ServiceConfig } from '../config/dynamic/services.ts';
import { goDuration } from './entry-point-views.ts';

type Json = Record<string, unknown>;

/** Our keys that hold durations in milliseconds; Traefik's ptypes.Duration fields of the same name. */
const DURATION_KEYS = new Set([
  'period',
  'checkPeriod',
  'fallbackDuration',
  'recoveryDuration',
  'initialInterval',
  'timeout',
  'readTimeout',
  'writeTimeout',
  'dialTimeout',
  'interval',
  'unhealthyInterval',
  'flushInterval',
  'failureWindow',
  'nonceExpiry',
]);

/** Go maps (omitempty leaves an empty one out); any other empty object is a set struct pointer. */
const MAP_KEYS = new Set(['headers', 'customRequestHeaders', 'customResponseHeaders', 'sslProxyHeaders']);

/** Pointer fields whose json tag has no omitempty: written whatever their value. */
const ALWAYS_KEYS = new Set(['passHostHeader', 'followRedirects', 'mirrorBody', 'maxBodySize']);

/** Keys that are ours alone, by the Traefik key of the object they are in (left out). */
const OURS: Readonly<Record<string, readonly string[]>> = {
  loadBalancer: ['hashOn', 'slowStart', 'timeouts', 'maxInFlight', 'queue'],
  healthCheck: ['passes', 'fails'],
  passiveHealthCheck: [
    'failureRatio',
    'minRequests',
    'statusCodes',
    'maxLatency',
    'ejectionTime',
    'maxEjectionTime',
    'maxEjectionPercent',
  ],
  mirroring: ['compare'],
  failover: ['statusCodes'],
  compress: ['levels'],
  redis: ['failOpen'],
  queue: [],
};

/** Defaults we fill in that Traefik applies only when it builds the handler (left out when equal). */
const BUILD_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  compress: { minResponseBodyBytes: 1024 },
  basicAuth: { realm: 'traefik' },
  digestAuth: { realm: 'traefik' },
  healthCheck: { method: 'GET' },
  server: { weight: 1 },
};

/** A health check's status: Traefik's is one code (our ranges of one code are written so). */
function statusValue(v: unknown): unknown {
  if (!Array.isArray(v) || v.length !== 1) return v;
  const r = v[0] as { from?: unknown; to?: unknown };
  return r.from === r.to && typeof r.from === 'number' ? r.from : v;
}

/** `value` (the object under Traefik key `key`) as Go's encoding/json writes it. */
function goJson(key: string, value: unknown): unknown {
  if (Array.isArray(value))
    return value.map((item) => goJson(key === 'servers' ? 'server' : `${key}[]`, item));
  if (typeof value !== 'object' || value === null) return value;
  const ours = OURS[key] ?? [];
  const defaults = BUILD_DEFAULTS[key] ?? {};
  const out: Json = {};
  for (const [k, v] of Object.entries(value as Json)) {
    if (ours.includes(k)) continue;
    if (k in defaults && defaults[k] === v) continue;
    let w: unknown = v;
    if (DURATION_KEYS.has(k) && typeof v === 'number') w = v === 0 ? 0 : goDuration(v);
    else if (key === 'healthCheck' && k === 'status') w = statusValue(v);
    else w = goJson(k, v);
    if (!ALWAYS_KEYS.has(k) && isEmpty(k, w)) continue;
    out[k] = w;
  }
  return out;
}

function isEmpty(key: string, v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return MAP_KEYS.has(key) && typeof v === 'object' && Object.keys(v).length === 0;
}

const inlineCache = new WeakMap<object, Json>();
const serviceCache = new WeakMap<object, Json>();

/**
 * A middleware's Traefik keys, or a TCP or UDP service's: `{<type>: <its configuration>}`
 * (Traefik's Middleware, TCPService, UDPService structs, one pointer field set). `config` is our
 * resolved configuration of that type.
 */
export function traefikInlineConfig(type: string, config: unknown): Json {
  const cacheable = typeof config === 'object' && config !== null;
  const hit = cacheable ? inlineCache.get(config) : undefined;
  if (hit !== undefined) return hit;
  const out = { [type]: goJson(type, config ?? {}) };
  if (cacheable) inlineCache.set(config, out);
  return out;
}

/**
 * A service's Traefik keys: `{<kind>: <its configuration>}` (Traefik's Service struct), with the
 * load balancer's SetDefaults (`responseForwarding.flushInterval` 100ms when not given).
 */
export function traefikServiceConfig(cfg: ServiceConfig): Json {
  const hit = serviceCache.get(cfg);
  if (hit !== undefined) return hit;
  const own = (cfg as unknown as Json)[cfg.kind];
  const body = goJson(cfg.kind, own) as Json;
  if (cfg.kind === 'loadBalancer' && body['responseForwarding'] === undefined)
    body['responseForwarding'] = { flushInterval: goDuration(100) };
  const out = { [cfg.kind]: body };
  serviceCache.set(cfg, out);
  return out;
}
