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
 *   rawdata fixtures show them (integration/testdata/rawdata-*.json: `"flushInterval": "100ms"`)
 *   as a live Traefik v3's /api/rawdata writes them (published captures of it, 2025), and as
 *   /api/entrypoints does here (entry-point-views.ts). The stored copy of paerser's
 *   Duration.MarshalJSON would write quoted nanoseconds (`"100000000ns"`): not what is seen on
 *   the wire; both forms parse back to the same duration (paerser UnmarshalJSON);
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
const MAP_KEYS = new Set([
  'headers',
  'customRequestHeaders',
  'customResponseHeaders',
  'sslProxyHeaders',
  'statusRewrites',
  'nginxHeaders',
]);

/** Pointer fields whose json tag has no omitempty: written whatever their value. */
const ALWAYS_KEYS = new Set(['passHostHeader', 'followRedirects', 'mirrorBody', 'maxBodySize']);

/**
 * A weighted (or highestRandomWeight) child, Traefik's WRRService (dynamic/http_config.go): its
 * `weight` is an `*int` with omitempty, so a weight of 0 is written (`"weight": 0`, the Gateway
 * API provider's backendRefs of weight 0); its `status` (the Gateway API provider's refused
 * backends) is `json:"-"`, never written.
 */
const CHILD_KEEP_ZERO = new Set(['weight']);
const CHILD_HIDDEN = new Set(['status']);

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
  retry: ['budget'],
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

function isRange(v: unknown): v is { from: number; to: number } {
  if (typeof v !== 'object' || v === null) return false;
  const keys = Object.keys(v);
  return (
    keys.length === 2 && typeof (v as Json)['from'] === 'number' && typeof (v as Json)['to'] === 'number'
  );
}

/** A status range of ours as Traefik's text (`404`, `500-599`). */
const rangeText = (r: { from: number; to: number }): string =>
  r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`;

/**
 * A header value as given: our schema keeps a value's UTF-8 bytes as latin1 characters (the wire
 * bytes, config/schema-helpers.ts wireBytes); Traefik shows the string it read.
 */
function asGiven(v: unknown): unknown {
  return typeof v === 'string' && /[\u0080-\u00ff]/.test(v) && !/[\u0100-\uffff]/.test(v)
    ? Buffer.from(v, 'latin1').toString('utf8')
    : v;
}

/** Middlewares whose resolved configuration is not Traefik's shape: back to Traefik's fields. */
const ADAPT: Readonly<Record<string, (c: Json) => Json>> = {
  // Traefik's PluginConf: the plugin's options as written (map[string]any, no omitempty inside).
  plugin: (c) => ({ [String(c['name'])]: c['options'] }),
  // Its values as given (ours are wire bytes, see asGiven).
  headers: (c) =>
    goJson(
      'headers',
      Object.fromEntries(
        Object.entries(c).map(([k, v]) => [k, Array.isArray(v) ? v.map(asGiven) : asGiven(v)]),
      ),
      true,
    ) as Json,
  // Traefik's ErrorPage (status as strings, statusRewrites a map, nginxHeaders a map).
  errors: (c) => {
    const status = (c['status'] as { from: number; to: number }[]).map(rangeText);
    const rewrites = c['rewrites'] as { from: { from: number; to: number }; to: number }[];
    const nginx = c['nginx'] as [string, string][] | null;
    const forward = c['forward'] as string[] | null;
    return goJson(
      'errors',
      {
        status,
        statusRewrites: Object.fromEntries(rewrites.map((r) => [rangeText(r.from), r.to])),
        service: c['service'],
        query: c['query'],
        ...(forward === null ? {} : { errorRequestHeaders: forward }),
        ...(nginx === null ? {} : { nginxHeaders: Object.fromEntries(nginx) }),
      },
      true,
    ) as Json;
  },
};

/** `value` (the object under Traefik key `key`) as Go's encoding/json writes it. */
function goJson(key: string, value: unknown, top = false): unknown {
  // A Go map: every entry written, none left out (omitempty is about the field, not the entries).
  // `top`: the object's own configuration (the `headers` middleware is a struct, not a map).
  if (!top && MAP_KEYS.has(key) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) out[k] = asGiven(v);
    return out;
  }
  // Our status ranges (retry's, failover's `status`): Traefik's strings (`404`, `500-599`).
  if (Array.isArray(value) && value.length > 0 && value.every(isRange)) return value.map(rangeText);
  if (Array.isArray(value))
    return value.map((item) => goJson(key === 'servers' ? 'server' : `${key}[]`, item));
  if (typeof value !== 'object' || value === null) return value;
  const ours = OURS[key] ?? [];
  const defaults = BUILD_DEFAULTS[key] ?? {};
  const out: Json = {};
  const child = key === 'services[]';
  for (const [k, v] of Object.entries(value as Json)) {
    if (ours.includes(k) || (child && CHILD_HIDDEN.has(k))) continue;
    if (k in defaults && defaults[k] === v) continue;
    let w: unknown = v;
    if (DURATION_KEYS.has(k) && typeof v === 'number') w = v === 0 ? 0 : goDuration(v);
    else if (key === 'healthCheck' && k === 'status') w = statusValue(v);
    else w = goJson(k, v);
    if (!ALWAYS_KEYS.has(k) && !(child && CHILD_KEEP_ZERO.has(k) && w === 0) && isEmpty(k, w)) continue;
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
  const adapt = ADAPT[type];
  const out = {
    [type]: adapt !== undefined && cacheable ? adapt(config as Json) : goJson(type, config ?? {}, true),
  };
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
  const body = goJson(cfg.kind, own, true) as Json;
  if (cfg.kind === 'loadBalancer' && body['responseForwarding'] === undefined)
    body['responseForwarding'] = { flushInterval: goDuration(100) };
  const out = { [cfg.kind]: body };
  serviceCache.set(cfg, out);
  return out;
}

/**
 * Traefik's `type` of a service or middleware: `strings.ToLower(extractType(…))`
 * (pkg/api/handler_http.go, handler_tcp.go, handler_udp.go): the Go field name of its kind,
 * lowercased (`loadbalancer`, `ratelimit`, `ipallowlist`), a plugin's own name for a plugin
 * (extractType's PluginConf map), none when it has no kind (`omitempty`). `key` is our key of the
 * kind (`rateLimit`, `plugin`); `config` its configuration (a plugin's `{ name, options }`).
 */
export function traefikType(key: string | undefined, config?: unknown): { readonly type?: string } {
  if (key === undefined || key === '' || key === 'unknown') return {};
  if (key === 'plugin') {
    const name = (config as { name?: unknown } | null | undefined)?.name;
    return typeof name === 'string' && name !== '' ? { type: name.toLowerCase() } : {};
  }
  return { type: key.toLowerCase() };
}
