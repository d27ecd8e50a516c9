import { z } from 'zod';
import { duration, signedDuration } from '../duration.ts';
import { nullAsEmpty, strictObject } from '../schema-helpers.ts';
import { DEFAULT_HEALTH_CHECK_INTERVAL_MS, DEFAULT_HEALTH_CHECK_TIMEOUT_MS } from './health-defaults.ts';
import { SERVICE_KINDS } from './sections.ts';
import { serverUrlParseError, unusableServerUrl } from './server-url.ts';
import { statusRanges, traefikStatusRanges } from './status-ranges.ts';

/*
 * HTTP services in the shape of Traefik v3's (`pkg/config/dynamic/http_config.go`): a service is
 * exactly one of loadBalancer, weighted, mirroring, failover or highestRandomWeight. Keys Traefik
 * lacks and we add (pass/fail thresholds, slow start, hashing keys, timeouts, compare mode) are
 * marked "ours" and documented in docs/configuration.md.
 */

// RFC 9110 §5.1 field-name = token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headerName = z.string().regex(TOKEN, 'must be a valid header field name (RFC 9110 token)');
const headerValue = z
  .union([z.string(), z.number(), z.boolean()])
  .transform(String)
  .refine((v) => !/[\r\n\0]/.test(v), 'header value must not contain CR, LF or NUL');

const serverUrl = z.string().superRefine((text, ctx) => {
  const error = checkServerUrl(text);
  if (error !== undefined) {
    ctx.addIssue({ code: 'custom', message: error, params: { expected: 'http://host:port' } });
  }
});

/**
 * Only what Go's url.Parse refuses is an error, as in Traefik (pkg/server/service/service.go); a
 * URL it takes but cannot send to loads with a warning (validate.ts) and its server fails every
 * request with 500, as Traefik's does (server-url.ts).
 */
function checkServerUrl(text: string): string | undefined {
  const error = serverUrlParseError(text);
  if (error !== undefined) return error;
  if (unusableServerUrl(text) !== undefined) return undefined;
  const url = new URL(text);
  // Traefik's proxy never sends them (it takes the scheme and host alone); refused rather than
  // dropped without a word, and kept out of logs and metrics labels.
  if (url.username !== '' || url.password !== '') return 'credentials in a server URL are not supported';
  // https: TLS to the server, set up by the service's serversTransport (HTTP/2 when the server
  // picks it by ALPN); h2c: cleartext HTTP/2 with prior knowledge. A path, query or fragment
  // loads, as in Traefik: the path is used with `preservePath` only (validate.ts warns
  // otherwise), the query and fragment never (Traefik's proxy director).
  return undefined;
}

const server = strictObject({
  url: serverUrl,
  weight: z.number().int().nonnegative().default(1),
  /** Traefik v3.3's: the URL's path goes before the request's (runtime/types.ts joinTargetPath). */
  preservePath: z.boolean().default(false),
});

const STRATEGIES = ['wrr', 'p2c', 'roundRobin', 'leastConn', 'random', 'hrw', 'leasttime'] as const;

const strategy = z.string().transform((value, ctx): (typeof STRATEGIES)[number] => {
  const found = STRATEGIES.find((s) => s === value);
  if (found !== undefined) return found;
  ctx.addIssue({
    code: 'custom',
    message: `unknown strategy "${value}"`,
    params: { expected: `one of ${STRATEGIES.join(', ')}` },
  });
  return z.NEVER;
});

/** Ours: what `hrw` hashes. Traefik's hrw hashes the client IP, which stays the default. */
const hashOn = strictObject({
  type: z.enum(['clientIP', 'header', 'cookie', 'query']).default('clientIP'),
  name: z.string().min(1).optional(),
}).superRefine((v, ctx) => {
  if (v.type !== 'clientIP' && v.name === undefined) {
    ctx.addIssue({ code: 'custom', message: `hashing on a ${v.type} needs its \`name\``, path: ['name'] });
  }
});

/** Traefik's ints where 0 means "not set" (its `port` and `status` of the health check). */
const zeroAsUnset = (v: unknown): unknown => (v === 0 || v === '0' ? undefined : v);

const healthCheck = strictObject({
  /** `grpc`: gRPC Health v1 `Check` (as Traefik); ours: `tcp` checks that a connection opens. */
  mode: z.enum(['http', 'grpc', 'tcp'], { error: 'mode must be http, grpc or tcp' }).default('http'),
  /**
   * Replaces the server URL's scheme for the check (Traefik's newRequest); absent = the server's.
   * `https` speaks TLS with the service's serversTransport, `h2c` HTTP/2 with prior knowledge.
   * In any case (`HTTP`): Traefik's newRequest sets it on the URL and parses the URL's text again
   * (http.NewRequest), which lowercases the scheme (net/url).
   */
  scheme: z.preprocess(
    (v) => (typeof v === 'string' ? v.toLowerCase() : v),
    z.enum(['http', 'https', 'h2c'], { error: 'scheme must be http, https or h2c' }).optional(),
  ),
  /**
   * Resolved against the server URL as Traefik's newRequest does (`target.Parse(path)`): `/health`
   * replaces the URL's path, `health` is relative to it, absent probes the URL itself. One with a
   * scheme or an authority (which would probe another host) loads, and its check fails
   * (healthCheckPathIsUrl).
   */
  path: z.string().optional(),
  /** Any method token, sent as written (Go's http.NewRequest); empty = GET. */
  method: z
    .string()
    .transform((m) => (m === '' ? 'GET' : m))
    .pipe(z.string().regex(TOKEN, 'must be an HTTP method such as GET or HEAD'))
    .default('GET'),
  /** Traefik takes one code; ours also takes `2xx`, `200-299` or a list. Absent (or 0) = 200–399. */
  status: z.preprocess(zeroAsUnset, statusRanges.optional()),
  /** 0 = the server's port, as in Traefik. */
  port: z.preprocess(zeroAsUnset, z.number().int().min(1).max(65535).optional()),
  hostname: z.string().min(1).optional(),
  headers: z.record(headerName, headerValue).default({}),
  followRedirects: z.boolean().default(true),
  /**
   * Zero or negative durations load, as in Traefik, which then uses its default (30s, or 5s for
   * the timeout) and logs an error (pkg/healthcheck/healthcheck.go NewServiceHealthChecker); a
   * warning here, the default applied by runtime/server-health.ts.
   */
  interval: signedDuration.default(DEFAULT_HEALTH_CHECK_INTERVAL_MS),
  /** Absent = `interval`; zero or negative = 30s (Traefik's default interval, not `interval`). */
  unhealthyInterval: signedDuration.optional(),
  timeout: signedDuration.default(DEFAULT_HEALTH_CHECK_TIMEOUT_MS),
  /** Ours: consecutive successes before a down server is back. */
  passes: z.number().int().min(1).default(1),
  /** Ours: consecutive failures before an up server is down. */
  fails: z.number().int().min(1).default(1),
});

const passiveHealthCheck = strictObject({
  failureWindow: duration.default(10_000),
  maxFailedAttempts: z.number().int().min(1).default(1),
  /** Ours: eject when failures / requests in the window reach this share (0 = off). */
  failureRatio: z.number().min(0).max(1).default(0),
  /** Ours: requests in the window before failureRatio applies. */
  minRequests: z.number().int().min(1).default(5),
  /** Ours: responses with these statuses count as failures (network errors and timeouts always do). */
  statusCodes: statusRanges.default([{ from: 500, to: 599 }]),
  /** Ours: a response head slower than this counts as a failure (0 = off). */
  maxLatency: duration.default(0),
  /** Ours: first ejection; each ejection in a row adds as much again. Default: failureWindow. */
  ejectionTime: duration.optional(),
  maxEjectionTime: duration.default(300_000),
  maxEjectionPercent: z.number().min(0).max(100).default(50),
});

const sameSite = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(['', 'none', 'lax', 'strict'], { error: 'sameSite must be none, lax or strict' }));

const cookie = strictObject({
  /**
   * Absent or empty = a name derived from the service name; a character a cookie name cannot
   * hold becomes `_` (runtime/sticky.ts), as Traefik's cookie.GetName does, rather than an error.
   */
  name: z.string().optional(),
  secure: z.boolean().default(false),
  httpOnly: z.boolean().default(false),
  sameSite: sameSite.default(''),
  /** Seconds; 0 = session cookie; negative = expire now (as Traefik). */
  maxAge: z.number().int().default(0),
  /**
   * Seconds: an `Expires` attribute that far past each response (Traefik v3.7's Cookie.Expires,
   * the Ingress NGINX provider's `session-cookie-expires`; computed per response since v3.7.13,
   * #13496); 0 or less = none.
   */
  expires: z.number().int().default(0),
  path: z
    .string()
    .startsWith('/', "path must start with '/'")
    .refine((v) => !/[;\s]/.test(v), 'must not contain ; or whitespace')
    .default('/'),
  domain: z
    .string()
    .regex(/^\.?[A-Za-z0-9.-]+$/, 'must be a domain name')
    .optional(),
});

/**
 * Sticky sessions only with a `cookie`: `sticky: {}` (the label `…loadbalancer.sticky=true`, an
 * empty allowEmpty Sticky) turns nothing on, as Traefik's balancers check `sticky.Cookie != nil`
 * (pkg/server/service/loadbalancer/wrr/wrr.go New, getLoadBalancerServiceHandler).
 */
const sticky = strictObject({ cookie: nullAsEmpty(cookie).optional() });

/** Ours: per-service timeouts. Routers take the same keys and win over the service's. */

export const timeouts = strictObject({
  /** From the start of the request until the response head, across every try (0 = none). */
  total: duration.default(0),
  /** Each try, from the moment the request is sent until the response head (0 = none). */
  perTry: duration.default(0),
});

const loadBalancer = strictObject({
  servers: z.array(nullAsEmpty(server)).default([]),
  strategy: strategy.default('wrr'),
  /** Ours: the key `hrw` hashes. */
  hashOn: nullAsEmpty(hashOn).optional(),
  passHostHeader: z.boolean().default(true),
  /** Absent = the default transport. */
  serversTransport: z.string().min(1).optional(),
  healthCheck: nullAsEmpty(healthCheck).optional(),
  passiveHealthCheck: nullAsEmpty(passiveHealthCheck).optional(),
  sticky: nullAsEmpty(sticky).optional(),
  /** Ours: a new or recovered server's weight ramps up over this window (0 = off). */
  slowStart: duration.default(0),
  timeouts: nullAsEmpty(timeouts).optional(),
  /** Ours: requests in flight to the whole service at most (0 = no limit), HAProxy's maxconn. */
  maxInFlight: z.number().int().nonnegative().default(0),
  /** Ours: requests over maxInFlight wait here instead of being rejected at once. */
  queue: strictObject({
    size: z.number().int().nonnegative().default(0),
    timeout: duration.default(10_000),
  }).optional(),
  /**
   * Traefik's `flushInterval` (default 100ms; negative = after every write; `text/event-stream`
   * always after every write). We never hold response bytes past the event-loop turn they
   * arrived in, which meets every value; it is validated and kept for the API.
   */
  responseForwarding: nullAsEmpty(strictObject({ flushInterval: signedDuration.default(100) })).optional(),
});

/**
 * Middleware names on a service or on a reference to one (Traefik v3.7): run when that service
 * is chosen, after the router's; names without `@` are the referring service's provider's.
 */
const serviceMiddlewares = z.array(z.string().min(1));

const weightedRef = strictObject({
  name: z.string().min(1),
  weight: z.number().int().nonnegative().default(1),
  /** Traefik v3.7's WRRService/HRWService.Middlewares: run when this child is chosen. */
  middlewares: serviceMiddlewares.optional(),
});

/**
 * `healthCheck: {}`: a weighted or highestRandomWeight parent follows its children's health, and
 * every child must report it (validate-services.ts, as Traefik's RegisterStatusUpdater).
 */
const parentHealthCheck = strictObject({});

/**
 * A child of a weighted service. `headers` (Traefik's WRRService.Headers, which its Knative
 * provider sets from a split's appendHeaders) are set on the request when this child is picked.
 */
const weightedChild = strictObject({
  ...weightedRef.shape,
  headers: z.record(z.string().min(1), z.string()).optional(),
  /**
   * Traefik's WRRService.Status (which its Gateway provider gives a refused backendRef): this
   * child is no service but answers this status, with no body; `name` is only its name then.
   */
  status: z.number().int().min(100).max(599).optional(),
});

const weighted = strictObject({
  // None is a service that answers 503 `no available server`, as Traefik's wrr.Balancer without
  // children (nextServer: errNoAvailableServer).
  services: z.array(nullAsEmpty(weightedChild)).default([]),
  sticky: nullAsEmpty(sticky).optional(),
  healthCheck: nullAsEmpty(parentHealthCheck).optional(),
});

const highestRandomWeight = strictObject({
  // None: 503 `no available server`, as Traefik's hrw.Balancer without children.
  services: z.array(nullAsEmpty(weightedRef)).default([]),
  healthCheck: nullAsEmpty(parentHealthCheck).optional(),
});

const mirrorRef = strictObject({
  name: z.string().min(1),
  percent: z.number().min(0).max(100).default(0),
  /** Traefik v3.7's MirrorService.Middlewares: run on this mirror's copies, before its service's own. */
  middlewares: serviceMiddlewares.optional(),
});

const compare = strictObject({
  /** Response header names compared between the primary and each mirror. */
  headers: z.array(headerName).default([]),
  /** Compare SHA-256 digests of the response bodies. */
  body: z.boolean().default(true),
  /** Mismatches logged with details per mirror; later ones are only counted. */
  maxExamples: z.number().int().nonnegative().default(10),
});

const mirroring = strictObject({
  service: z.string().min(1),
  /** Traefik v3.7's Mirroring.Middlewares: run on the main service's requests (not the copies). */
  middlewares: serviceMiddlewares.optional(),
  mirrorBody: z.boolean().default(true),
  /** Bytes; -1 = no limit. A request whose body is larger is not mirrored. */
  maxBodySize: z.number().int().min(-1).default(-1),
  mirrors: z.array(nullAsEmpty(mirrorRef)).default([]),
  healthCheck: nullAsEmpty(parentHealthCheck).optional(),
  /** Ours: compare each mirror's response with the primary's. */
  compare: nullAsEmpty(compare).optional(),
});

/**
 * Traefik v3.7's Failover.Errors (pkg/config/dynamic/http_config.go FailoverError, PR #12596):
 * a main response whose status is in `status` is dropped and the request sent to the fallback.
 * `maxRequestBodyBytes` bounds the request body read whole first (FailoverErrorsDefault-
 * MaxRequestBodyBytes: -1, no limit; past it 413). No `status` = no failover on statuses.
 */
const failoverErrors = strictObject({
  status: traefikStatusRanges.optional(),
  maxRequestBodyBytes: z.number().int().default(-1),
});

const failover = strictObject({
  service: z.string().min(1),
  /** Traefik v3.7's Failover.Middlewares: run when the main service takes the request. */
  middlewares: serviceMiddlewares.optional(),
  fallback: z.string().min(1),
  /** Traefik v3.7's Failover.FallbackMiddlewares: run when the fallback takes it. */
  fallbackMiddlewares: serviceMiddlewares.optional(),
  healthCheck: nullAsEmpty(parentHealthCheck).optional(),
  /**
   * Ours: a response from the main service with one of these statuses is replaced by the
   * fallback's, when the request can be replayed (no body, idempotent method).
   */
  statusCodes: statusRanges.optional(),
  errors: nullAsEmpty(failoverErrors).optional(),
}).superRefine((f, ctx) => {
  if (f.statusCodes !== undefined && f.errors !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['statusCodes'],
      message: 'a failover has either `errors` (Traefik v3.7) or `statusCodes` (ours), not both',
    });
});

export { SERVICE_KINDS, type ServiceKind } from './sections.ts';

export const service = strictObject({
  loadBalancer: nullAsEmpty(loadBalancer).optional(),
  weighted: nullAsEmpty(weighted).optional(),
  mirroring: nullAsEmpty(mirroring).optional(),
  failover: nullAsEmpty(failover).optional(),
  highestRandomWeight: nullAsEmpty(highestRandomWeight).optional(),
  /**
   * Traefik v3.7's service middlewares (pkg/config/dynamic/http_config.go Service.Middlewares):
   * they wrap this service's handler, so they run after the router's and after the services
   * above chose this one (pkg/server/service/service.go BuildHTTP, wrapMiddlewares).
   */
  middlewares: serviceMiddlewares.optional(),
}).transform((value, ctx) => {
  const present = SERVICE_KINDS.filter((k) => value[k] !== undefined);
  if (present.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message:
        present.length === 0
          ? 'a service needs a type'
          : `a service has exactly one type, found ${present.join(', ')}`,
      params: { expected: 'one of loadBalancer, weighted, mirroring, failover, highestRandomWeight' },
    });
    return z.NEVER;
  }
  // Kept only when some are named, so that services without them stay as they were.
  const middlewares =
    value.middlewares !== undefined && value.middlewares.length > 0 ? value.middlewares : undefined;
  if (value.loadBalancer !== undefined)
    return {
      kind: 'loadBalancer' as const,
      loadBalancer: value.loadBalancer,
      ...(middlewares && { middlewares }),
    };
  if (value.weighted !== undefined)
    return { kind: 'weighted' as const, weighted: value.weighted, ...(middlewares && { middlewares }) };
  if (value.mirroring !== undefined)
    return { kind: 'mirroring' as const, mirroring: value.mirroring, ...(middlewares && { middlewares }) };
  if (value.failover !== undefined)
    return { kind: 'failover' as const, failover: value.failover, ...(middlewares && { middlewares }) };
  return {
    kind: 'highestRandomWeight' as const,
    highestRandomWeight: value.highestRandomWeight!,
    ...(middlewares && { middlewares }),
  };
});

export type ServiceConfig = z.output<typeof service>;
export type LoadBalancerConfig = z.output<typeof loadBalancer>;
export type ServerConfig = LoadBalancerConfig['servers'][number];
export type LoadBalancerStrategy = LoadBalancerConfig['strategy'];
export type HealthCheckConfig = z.output<typeof healthCheck>;
export type PassiveHealthCheckConfig = z.output<typeof passiveHealthCheck>;
export type StickyConfig = z.output<typeof sticky>;
export type CookieConfig = z.output<typeof cookie>;
export type TimeoutsConfig = z.output<typeof timeouts>;
export type WeightedConfig = z.output<typeof weighted>;
export type MirroringConfig = z.output<typeof mirroring>;
export type FailoverConfig = z.output<typeof failover>;
export type FailoverErrorsConfig = z.output<typeof failoverErrors>;
export type HighestRandomWeightConfig = z.output<typeof highestRandomWeight>;
export type HashOnConfig = z.output<typeof hashOn>;

export { serviceReferences } from './service-references.ts';
