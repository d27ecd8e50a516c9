import { isIP } from 'node:net';
import { z } from 'zod';
import { duration } from '../duration.ts';
import { serversTransportSchema } from '../dynamic/schema.ts';
import { signedDuration } from '../dynamic/tcp.ts';
import {
  nameList,
  nullAsEmpty,
  observabilitySection,
  spiffeSection,
  strictObject,
} from '../schema-helpers.ts';
import { suggest } from '../zod-issues.ts';
import { parseAcmeStorage } from './acme-storage.ts';
import { checkIpOrCidr, parseAddress } from './address.ts';
import { entryPointRedirections, entryPointTls, redirectionIssues } from './entry-point-tls.ts';
import { overloadSchema } from './overload.ts';
import {
  clientTls,
  consulCatalogProviderSchema,
  consulProviderSchema,
  dockerProviderSchema,
  ecsProviderSchema,
  etcdProviderSchema,
  httpProviderSchema,
  knativeProviderSchema,
  kubernetesCrdProviderSchema,
  kubernetesGatewayProviderSchema,
  kubernetesIngressNginxProviderSchema,
  kubernetesIngressProviderSchema,
  nomadProviderSchema,
  PROVIDER_THROTTLE_DEFAULT_MS,
  providerPrecedence,
  redisProviderSchema,
  restProviderSchema,
  swarmProviderSchema,
  zooKeeperProviderSchema,
} from './providers.ts';

/*
 * The static ("install") configuration, with Traefik v3's keys. Keys Traefik has and we do not
 * implement yet are listed per object so that they are reported by name.
 */

const address = z.string().superRefine((value, ctx) => {
  const r = parseAddress(value);
  if ('error' in r) {
    ctx.addIssue({
      code: 'custom',
      message: r.error,
      params: { expected: 'host:port, :port or [ipv6]:port' },
    });
  }
});

const ipOrCidr = z.string().superRefine((value, ctx) => {
  const error = checkIpOrCidr(value);
  if (error !== undefined) ctx.addIssue({ code: 'custom', message: error });
});

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * zerolog's other levels, which Traefik's getLogLevel (cmd/traefik/logger.go) takes and we have
 * not: the nearest of ours (trace logs as much as it can, the others as little), with a warning
 * (load.ts formatWarnings).
 */
export const OTHER_LOG_LEVELS: Readonly<Record<string, LogLevelName>> = {
  trace: 'debug',
  fatal: 'error',
  panic: 'error',
  disabled: 'error',
};

/**
 * A log level as Traefik's getLogLevel (cmd/traefik/logger.go) reads it with zerolog.ParseLevel:
 * a level name in any case, or zerolog's number (-1 trace, 0 debug … 3 error, 4 fatal and above);
 * `undefined` for what ParseLevel refuses, which Traefik logs ("Unspecified or invalid log
 * level, setting the level to default (ERROR)...") and runs at ERROR.
 */
export function readLogLevel(value: string): { level: LogLevelName; nearest: boolean } | undefined {
  const lower = value.toLowerCase();
  const ours = LOG_LEVELS.find((l) => l === lower);
  if (ours !== undefined) return { level: ours, nearest: false };
  const other = OTHER_LOG_LEVELS[lower];
  if (other !== undefined) return { level: other, nearest: true };
  // zerolog.ParseLevel's strconv.Atoi, then its bounds (-128..127).
  if (!/^[+-]?\d+$/.test(value)) return undefined;
  const n = Number(value);
  if (n < -128 || n > 127) return undefined;
  const level = n <= 0 ? 'debug' : n === 1 ? 'info' : n === 2 ? 'warn' : 'error';
  return { level, nearest: n < 0 || n > 3 };
}

/**
 * An invalid level loads as ERROR, as Traefik's getLogLevel falls back to it; load.ts
 * formatWarnings says so.
 */
const logLevel = z
  .union([z.string(), z.number().int().transform(String)])
  .transform((value): LogLevelName => readLogLevel(value)?.level ?? 'error');

/**
 * Traefik's getLogWriter (cmd/traefik/logger.go) writes JSON for exactly `json` and text for any
 * other value (`JSON`, `text`): loaded, with a warning (load.ts formatWarnings).
 */
const logFormat = z.string().transform((v): 'json' | 'common' => (v === 'json' ? 'json' : 'common'));
export const LOG_FORMATS = ['json', 'common'] as const;
export const ACCESS_LOG_FORMATS = ['json', 'common', 'genericCLF'] as const;

/** The listener has no "no limit" for these: 0 would close every connection at once. */
const positiveDuration = duration.refine((ms) => ms > 0, 'must be greater than 0');

const respondingTimeouts = strictObject({
  /** Ours (Go's ReadHeaderTimeout): time allowed to receive a request's header block. */
  readHeaderTimeout: positiveDuration.default(10_000),
  /** Whole request, body included; 0 = none. */
  readTimeout: duration.default(60_000),
  /**
   * Keep-alive connection idle between requests. 0 is Go's http.Server rule, which Traefik's
   * entry points take as they are (pkg/server/server_entrypoint_tcp.go createHTTPServer; x/net's
   * http2.ConfigureServer the same for HTTP/2): readTimeout's value, or no limit when that is 0
   * too (main.ts goIdleTimeout).
   */
  idleTimeout: duration.default(180_000),
  /**
   * Traefik's (Go's WriteTimeout): from a request's head to the last byte of its response;
   * exceeded, the HTTP/1.1 connection is closed and an HTTP/2 stream reset. 0 = none.
   */
  writeTimeout: duration.default(0),
  /**
   * Ours: how long the dispatcher waits for a silent client before a cleartext
   * ``HostSNI(`*`)`` TCP router serves it as a server-first protocol (a banner sent first),
   * when the entry point also has TLS routers. Traefik closes such a client instead.
   */
  serverFirstTimeout: positiveDuration.default(2_000),
});

const lifeCycle = strictObject({
  graceTimeOut: duration.default(10_000),
  /**
   * On SIGTERM, how long requests are still accepted and served as usual (and /ping answers
   * `ping.terminatingStatusCode`) before the graceful shutdown starts: time for a load balancer
   * to take the instance out. Traefik's; 0 = none.
   */
  requestAcceptGraceTimeout: duration.default(0),
});

const transport = strictObject({
  respondingTimeouts: nullAsEmpty(respondingTimeouts).prefault({}),
  keepAliveMaxRequests: z.number().int().nonnegative().default(0),
  /** A connection older than this closes after the request that finds it so; 0 = no limit. */
  keepAliveMaxTime: duration.default(0),
  lifeCycle: nullAsEmpty(lifeCycle).prefault({}),
  /** Ours: open connections on this entry point; more are closed at accept. 0 = no limit. */
  maxConnections: z.number().int().nonnegative().default(0),
  /** Ours: open connections per client IPv4 address or IPv6 /64; more are closed at accept. 0 = no limit. */
  maxConnectionsPerIP: z.number().int().nonnegative().default(0),
});

const forwardedHeaders = strictObject({
  trustedIPs: z.array(ipOrCidr).default([]),
  insecure: z.boolean().default(false),
  /**
   * Traefik v3.4's: fields a client names in Connection that still reach the routers and the
   * middlewares; they are removed before the request goes upstream (pkg/middlewares/
   * forwardedheaders/forwarded_header.go removeConnectionHeaders).
   */
  connection: z.array(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be a header name')).default([]),
  /**
   * Traefik v3.7's (pkg/config/static/entrypoints.go ForwardedHeaders): the peer's address is not
   * appended to X-Forwarded-For; a trusted peer's field goes on as it came (its lines joined), an
   * untrusted peer's is still dropped, so none is sent (Exchange.forwardedFor null: nothing
   * appended when the upstream heads are written, proxy/heads.ts and upstream/h2-fields.ts).
   */
  notAppendXForwardedFor: z.boolean().default(false),
  /**
   * Traefik v3.8's (PR #12914): X-Forwarded-Scheme and X-Scheme are set to the request's
   * X-Forwarded-Proto, as the ingress-nginx controller sends them (forwardedheaders rewrite).
   */
  addXForwardedSchemeHeaders: z.boolean().default(false),
});

const encodedCharacters = strictObject({
  allowEncodedSlash: z.boolean().default(true),
  allowEncodedBackSlash: z.boolean().default(false),
  allowEncodedNullCharacter: z.boolean().default(false),
  allowEncodedSemicolon: z.boolean().default(false),
  allowEncodedPercent: z.boolean().default(false),
  allowEncodedQuestionMark: z.boolean().default(false),
  allowEncodedHash: z.boolean().default(false),
});

const headerStrategy = z.enum(['keep', 'delete', 'reject']);

const entryPointHttp = strictObject(
  {
    // Up to Traefik's own default (Go's http.DefaultMaxHeaderBytes, 1 MiB), so that a Traefik file
    // that writes it out loads; ours stays 16 KiB unless set.
    maxHeaderBytes: z.number().int().min(1024).max(1_048_576).default(16_384),
    /** Present = the entry point terminates TLS (HTTPS, and HTTP/2 by ALPN). */
    tls: nullAsEmpty(entryPointTls).optional(),
    redirections: nullAsEmpty(entryPointRedirections).optional(),
    /** Dot segments and duplicate slashes resolved before routing (Traefik v3, default true). */
    sanitizePath: z.boolean().default(true),
    /** Escapes refused in the path; Traefik v3.6.7's defaults (only `%2F` allowed). */
    encodedCharacters: nullAsEmpty(encodedCharacters).prefault({}),
    /** Ours: TRACE is answered 405 unless allowed (a reflecting backend echoes cookies). */
    allowTrace: z.boolean().default(false),
    /** Prepended to the middlewares of every router on this entry point (Traefik's model). */
    middlewares: nameList.optional(),
    /** `;` in a query is kept in its value as `%3B` instead of separating pairs like `&`. */
    encodeQuerySemicolons: z.boolean().default(false),
    /**
     * Traefik v3.7.12: request fields whose name holds a character other than a letter, a digit
     * or `-` (an alias of a dash name for CGI-style backends) are kept, deleted, or refused (400)
     * before routing (http1/alias-headers.ts).
     */
    aliasHeadersStrategy: headerStrategy.optional(),
    /** Traefik v3.6.20/v3.7.6, deprecated for aliasHeadersStrategy: the same for `_` only. */
    underscoreHeadersStrategy: headerStrategy.optional(),
  },
  [],
  {
    deprecated: {
      underscoreHeadersStrategy:
        'use aliasHeadersStrategy (Traefik v3.7.12), which handles every aliasing character, not only `_`',
    },
  },
);

const entryPoint = strictObject(
  {
    /**
     * Traefik's EntryPoint.Address has no default: without one (or with an empty port) it listens
     * on a port the system chooses (Go's net.Listen), which load.ts warns about.
     */
    address: address.default(''),
    transport: nullAsEmpty(transport).prefault({}),
    forwardedHeaders: nullAsEmpty(forwardedHeaders).prefault({}),
    http: nullAsEmpty(entryPointHttp).prefault({}),
    /** HTTP/2 (h2 by ALPN on TLS, h2c with prior knowledge on cleartext). */
    http2: nullAsEmpty(
      strictObject({
        maxConcurrentStreams: z.number().int().min(1).max(10_000).default(250),
        /**
         * Traefik v3.6 (Go's http2.Server MaxDecoderHeaderTableSize): the HPACK dynamic table a
         * client may fill in our decoder, announced as SETTINGS_HEADER_TABLE_SIZE.
         */
        maxDecoderHeaderTableSize: z.number().int().min(0).max(1_048_576).default(4096),
        /**
         * Traefik v3.6 (MaxEncoderHeaderTableSize): the cap of our encoder's dynamic table. Ours
         * keeps none (every field is a literal or a static entry), so any value holds.
         */
        maxEncoderHeaderTableSize: z.number().int().min(0).max(1_048_576).default(4096),
      }),
    ).prefault({}),
    /** Routers that name no entry point use the asDefault ones (all of them when none is). */
    asDefault: z.boolean().default(false),
    /**
     * PROXY protocol headers (v1, v2; optional) read before anything else: from `trustedIPs`
     * (or anyone with `insecure`) the declared client is believed; a header from anyone else is
     * refused.
     */
    proxyProtocol: nullAsEmpty(
      strictObject({ trustedIPs: z.array(ipOrCidr).default([]), insecure: z.boolean().default(false) }),
    ).optional(),
    /** A UDP entry point (`address: ":53/udp"`): its sessions' idle timeout. */
    udp: nullAsEmpty(strictObject({ timeout: positiveDuration.default(3_000) })).prefault({}),
    /**
     * Traefik's: the listening socket gets SO_REUSEPORT (pkg/server/server_entrypoint_listenconfig_unix.go),
     * so that other processes (another proxy, during an upgrade) may listen on the same port too.
     */
    reusePort: z.boolean().default(false),
    /**
     * Traefik's: on this entry point the ACME challenges give way to the configuration's routers
     * (pkg/provider/traefik/internal.go acme(): the http-01 router without its top priority;
     * pkg/server/routerfactory.go EnableACMETLSPassthrough: `acme-tls/1` goes through the TCP
     * routers first).
     */
    allowACMEByPass: z.boolean().default(false),
    /** Defaults of its routers' `observability`, and what its unrouted requests get. */
    observability: observabilitySection,
  },
  ['http3'],
);

/**
 * Both set: `directory` is read and `filename` ignored; neither (an empty string is none): the
 * provider does not start, and the proxy runs without it. Traefik's file provider
 * (pkg/provider/file/file.go Provide, buildConfiguration); static/load.ts warns of both.
 */
const fileProvider = strictObject({
  filename: z.string().optional(),
  directory: z.string().optional(),
  watch: z.boolean().default(true),
  /** Traefik's: log each file's text and what its Go template rendered, at debug level. */
  debugLogGeneratedTemplate: z.boolean().default(false),
});

const providers = strictObject(
  {
    /** Per provider: after an update is applied, the next one waits this long (Traefik's default). */
    providersThrottleDuration: duration.default(PROVIDER_THROTTLE_DEFAULT_MS),
    /**
     * Traefik v3.7's routing precedence between providers: of two routers with the same
     * priority, the one whose provider comes first here is tried first (runtime/build-snapshot.ts).
     */
    precedence: providerPrecedence,
    file: nullAsEmpty(fileProvider).optional(),
    http: nullAsEmpty(httpProviderSchema).optional(),
    etcd: nullAsEmpty(etcdProviderSchema).optional(),
    redis: nullAsEmpty(redisProviderSchema).optional(),
    consul: nullAsEmpty(consulProviderSchema).optional(),
    docker: nullAsEmpty(dockerProviderSchema).optional(),
    kubernetesCRD: nullAsEmpty(kubernetesCrdProviderSchema).optional(),
    kubernetesIngress: nullAsEmpty(kubernetesIngressProviderSchema).optional(),
    kubernetesGateway: nullAsEmpty(kubernetesGatewayProviderSchema).optional(),
    kubernetesIngressNGINX: nullAsEmpty(kubernetesIngressNginxProviderSchema).optional(),
    /** Needs `experimental.knative` (checked on the whole configuration). */
    knative: nullAsEmpty(knativeProviderSchema).optional(),
    consulCatalog: nullAsEmpty(consulCatalogProviderSchema).optional(),
    swarm: nullAsEmpty(swarmProviderSchema).optional(),
    nomad: nullAsEmpty(nomadProviderSchema).optional(),
    ecs: nullAsEmpty(ecsProviderSchema).optional(),
    zooKeeper: nullAsEmpty(zooKeeperProviderSchema).optional(),
    rest: nullAsEmpty(restProviderSchema).optional(),
  },
  ['plugin'],
  {
    // Traefik v3 refuses to start with them (pkg/cli/deprecation.go providers.deprecationNotice).
    removed: {
      marathon: 'remove the provider (v2-to-v3 migration: Marathon provider)',
      rancher: 'remove the provider (v2-to-v3 migration: Rancher v1 provider)',
    },
  },
);

/**
 * Traefik's OTelHTTP (pkg/observability/types/otel.go): the collector's URL (default
 * https://localhost:4318; without a path, the signal's default path), headers, and `tls`
 * (types.ClientTLS), for metrics and traces alike.
 */
const otelHttp = strictObject({
  endpoint: z.string().url().default('https://localhost:4318'),
  headers: z.record(z.string(), z.string()).default({}),
  tls: nullAsEmpty(clientTls).optional(),
});

/**
 * Traefik's OTelGRPC (pkg/observability/types/otel.go): the collector's `host:port` (default
 * localhost:4317; checked with net.SplitHostPort when the exporter is set up, where Traefik
 * checks it: a bad one leaves that exporter off, logged), `insecure` (cleartext HTTP/2), `tls`
 * (types.ClientTLS) and headers (the calls' metadata). `tls` with `insecure` is refused, as
 * Traefik's static Configuration.ValidateConfiguration refuses it (for metrics and tracing:
 * "TLS and Insecure options are mutually exclusive").
 */
const otelGrpc = strictObject({
  endpoint: z.string().default('localhost:4317'),
  insecure: z.boolean().default(false),
  headers: z.record(z.string(), z.string()).default({}),
  tls: nullAsEmpty(clientTls).optional(),
}).superRefine((v, ctx) => {
  if (v.tls !== undefined && v.insecure)
    ctx.addIssue({
      code: 'custom',
      path: ['insecure'],
      message: 'OTLP gRPC: `tls` and `insecure` are mutually exclusive (Traefik refuses both)',
    });
});

/**
 * Traefik's OTelLog (pkg/observability/types/logs.go), `log.otlp`: the application log's records
 * sent to a collector as well, with their own resource (`serviceName`, default `traefik`, and
 * `resourceAttributes`) and transport (`http`, default https://localhost:4318 → /v1/logs, or
 * `grpc`). Needs `experimental.otlpLogs` (checked on the whole configuration).
 */
const otelLog = strictObject({
  serviceName: z.string().min(1).default('traefik'),
  resourceAttributes: z.record(z.string(), z.string()).default({}),
  http: nullAsEmpty(otelHttp).optional(),
  grpc: nullAsEmpty(otelGrpc).optional(),
});

const log = strictObject({
  // Traefik's default (pkg/types/logs.go TraefikLog.SetDefaults: Level "ERROR").
  level: logLevel.default('error'),
  format: logFormat.default('json'),
  /** The application log in this file instead of stderr, rotated as Traefik's (core/log-file.ts). */
  filePath: z.string().min(1).optional(),
  /** Megabytes before the file is rotated; 0 = 100, lumberjack's default. */
  maxSize: z.number().int().nonnegative().default(0),
  /** Rotated files kept; 0 = all. */
  maxBackups: z.number().int().nonnegative().default(0),
  /** Days a rotated file is kept; 0 = no limit. */
  maxAge: z.number().int().nonnegative().default(0),
  /** Accepted: rotated files are always gzipped, as Traefik's writer sets Compress whatever this says. */
  compress: z.boolean().optional(),
  /** Accepted: our text and JSON lines have no colours. */
  noColor: z.boolean().optional(),
  /** The records over OTLP too (Traefik's experimental OTLP logs). */
  otlp: nullAsEmpty(otelLog).optional(),
});

const fieldMode = z.enum(['keep', 'drop', 'redact']);

const accessLogFilters = strictObject({
  /**
   * Keep only requests whose status is in one of these ranges ("404", "500-599"), read as
   * Traefik's types.NewHTTPCodeRanges reads them: a list it cannot read is no status filter, with a
   * warning (accesslog NewHandler logs "Failed to create new HTTP code ranges" and goes on).
   */
  statusCodes: z.array(z.union([z.string(), z.number().int().transform(String)])).default([]),
  /** Keep requests that were retried (whatever their status). */
  retryAttempts: z.boolean().default(false),
  /** Keep requests that took longer than this (strictly, as Traefik). */
  minDuration: duration.default(0),
});

const accessLogFields = strictObject({
  /** What happens to the record's own fields (JSON format). */
  defaultMode: fieldMode.default('keep'),
  names: z.record(z.string(), fieldMode).default({}),
  headers: strictObject({
    /** Request headers in JSON records: Traefik's default is drop. */
    defaultMode: fieldMode.default('drop'),
    names: z.record(z.string(), fieldMode).default({}),
  }).prefault({}),
  /**
   * Traefik v3.7.3 (PR #13091): `drop` logs RequestPath without its query string (keep or drop
   * only, no per-parameter names).
   */
  queryParameters: strictObject({
    defaultMode: z.enum(['keep', 'drop']).default('keep'),
  }).prefault({}),
});

// Traefik's access log defaults to Common Log Format (its application log to text too; ours is JSON).
const accessLog = strictObject({
  filePath: z.string().default(''),
  // Traefik's access log formats (pkg/middlewares/accesslog/logger.go NewHandler): genericCLF is
  // the CLF without Traefik's four extra fields.
  // Any other value is the common format (NewHandler: "Unsupported access log format … defaulting
  // to common format instead"): loaded, with a warning (load.ts formatWarnings).
  format: z
    .string()
    .transform(
      (v): (typeof ACCESS_LOG_FORMATS)[number] => ACCESS_LOG_FORMATS.find((f) => f === v) ?? 'common',
    )
    .default('common'),
  filters: nullAsEmpty(accessLogFilters).optional(),
  fields: nullAsEmpty(accessLogFields).optional(),
  /** Lines held in memory before a write (Traefik's bufferingSize, in lines). */
  bufferingSize: z.number().int().nonnegative().default(0),
  /** Log the proxy's own routers too (`/ping`, `/metrics`, the API, redirections; Traefik's). */
  addInternals: z.boolean().default(false),
  /**
   * The records over OTLP (Traefik's experimental OTLP access logs, pkg/middlewares/accesslog
   * NewHandler): they then no longer go to the file or stdout, unless `dualOutput`.
   */
  otlp: nullAsEmpty(otelLog).optional(),
  /** With `otlp`: the file or stdout gets the lines too (Traefik v3.7's accessLog.dualOutput). */
  dualOutput: z.boolean().default(false),
});

/** A host name as written in Host (no port), or `*.` and a domain; compared lowercased. */
const adminHostName = z
  .string()
  .regex(
    /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/,
    'must be a host name (no port, no scheme), or `*.` and a domain',
  )
  .transform((h) => h.toLowerCase().replace(/\.$/, ''));

/** Ours: who may use the admin API when its entry point is reachable beyond loopback. */
const apiAuth = strictObject({
  /** `Authorization: Bearer <token>`. */
  bearerTokens: z.array(z.string().min(16, 'a token must have at least 16 characters')).default([]),
  /** `user:password` pairs (plain, or `user:{SHA256}hex`) for Basic authentication. */
  basicAuth: z.array(z.string().regex(/^[^:]+:.+$/, 'must be user:password')).default([]),
});

const api = strictObject({
  /** Entry point that serves the API and dashboard (Traefik's `traefik` entry point). */
  entryPoint: z.string().min(1).default('traefik'),
  dashboard: z.boolean().default(true),
  /**
   * Traefik: serve the API without auth beyond loopback. Ours: read-only, and only to a Host
   * that is an IP address, `localhost` or one of `allowedHosts` (Traefik has no such check).
   */
  insecure: z.boolean().default(false),
  /** Traefik's debug endpoints: `/debug/vars` is served (expvar's shape); pprof is not (Go's). */
  debug: z.boolean().default(false),
  auth: nullAsEmpty(apiAuth).optional(),
  /**
   * Ours: host names the API answers on without credentials besides IP addresses and
   * `localhost` (DNS rebinding: another site's name resolved to this machine carries its own
   * name in Host). `*.example.com` names every subdomain of example.com.
   */
  allowedHosts: z.array(adminHostName).default([]),
  /** Ours: write API changes to this file and load them on start ('' = kept in memory only). */
  persistFile: z.string().default(''),
  /** Ours: refuse every write through the API (405); reads and persisted changes still serve. */
  readOnly: z.boolean().default(false),
  /**
   * Traefik's: the API under `<basePath>/api/` and the dashboard under `<basePath>/dashboard/`
   * (pkg/api/handler.go createRouter, pkg/api/dashboard); an absolute path, as Traefik checks.
   */
  basePath: z
    .string()
    .regex(/^\/[\w.~!$&'()*+,;=:@%/-]*$/, 'must be an absolute URL path (`/` or `/traefik`)')
    .default('/'),
  /** Traefik's: hides its dashboard's ad. Ours has none: accepted, nothing to hide. */
  disableDashboardAd: z.boolean().default(false),
  /** Traefik v3.7's: a name that the dashboard's page titles carry ('' = none). */
  dashboardName: z.string().default(''),
});

const ping = strictObject({
  entryPoint: z.string().min(1).default('traefik'),
  /** What /ping answers once the proxy is shutting down (Traefik's default 503). */
  terminatingStatusCode: z.number().int().min(100).max(599).default(503),
  /** No own router for /ping: a router of the configuration names `ping@internal` (Traefik's). */
  manualRouting: z.boolean().default(false),
});

/** The labels of Traefik's request families, which a header label may not take. */
const PROMETHEUS_REQUEST_LABELS = ['code', 'method', 'protocol', 'entrypoint', 'router', 'service'];

const prometheus = strictObject({
  /** Histogram buckets in seconds (Traefik's defaults). */
  buckets: z.array(z.number().positive()).default([0.1, 0.3, 1.2, 5]),
  addEntryPointsLabels: z.boolean().default(true),
  addRoutersLabels: z.boolean().default(false),
  addServicesLabels: z.boolean().default(true),
  entryPoint: z.string().min(1).default('traefik'),
  /** No own router for /metrics: a router of the configuration names `prometheus@internal` (Traefik's). */
  manualRouting: z.boolean().default(false),
  /**
   * Traefik's: label name → request header, whose value labels the `*_requests_total`
   * families. A name Prometheus refuses, or one of the families' own labels, makes Traefik's
   * registry fail (no metrics at all): refused here instead.
   */
  headerLabels: z
    .record(z.string(), z.string())
    .default({})
    .superRefine((labels, ctx) => {
      for (const name of Object.keys(labels)) {
        const why = !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)
          ? 'is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)'
          : name.startsWith('__')
            ? 'starts with `__`, which Prometheus reserves'
            : PROMETHEUS_REQUEST_LABELS.includes(name)
              ? `is a label of the request families already (${PROMETHEUS_REQUEST_LABELS.join(', ')})`
              : null;
        if (why !== null) ctx.addIssue({ code: 'custom', path: [name], message: `label \`${name}\` ${why}` });
      }
    }),
});

/**
 * OpenTelemetry metrics pushed over OTLP/HTTP (protobuf bodies) or OTLP/gRPC (Traefik's
 * pkg/observability/types/metrics.go OTLP and otel.go OTelHTTP SetDefaults). With `grpc`, the
 * `http` section (present by default) is not used (metrics/otel.go newOpenTelemetryMeterProvider).
 */
const otlpMetrics = strictObject({
  /** A URL without a path posts to `/v1/metrics` (otlpmetrichttp's). */
  http: nullAsEmpty(otelHttp).prefault({}),
  grpc: nullAsEmpty(otelGrpc).optional(),
  addEntryPointsLabels: z.boolean().default(true),
  addRoutersLabels: z.boolean().default(false),
  addServicesLabels: z.boolean().default(true),
  /** Upper bounds of the request duration histograms, in seconds. */
  explicitBoundaries: z
    .array(z.number().positive())
    .default([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]),
  pushInterval: positiveDuration.default(10_000),
  serviceName: z.string().min(1).default('traefik'),
  resourceAttributes: z.record(z.string(), z.string()).default({}),
});

/**
 * Where a StatsD or DogStatsD client sends: `host:port` (UDP). Traefik dials it when the pusher
 * starts and, on a bad one, logs every push and sends nothing: refused here instead. `''` is
 * Traefik's `localhost:8125` (statsd.go initStatsdTicker, datadog.go parseDatadogAddress).
 */
function statsdAddress(datadog: boolean) {
  return z.string().superRefine((value, ctx) => {
    if (value === '') return;
    if (datadog && /^unix(?:gram|stream)?:\/\//.test(value)) {
      ctx.addIssue({
        code: 'custom',
        message: `Unix socket addresses (\`${value.slice(0, value.indexOf(':'))}://\`) are not supported yet: use \`host:port\` (UDP)`,
      });
      return;
    }
    const r = parseAddress(value);
    const error =
      'error' in r
        ? r.error
        : r.udp !== undefined || /\/[A-Za-z]+$/.test(value)
          ? `invalid address "${value}": no \`/protocol\` here (StatsD is UDP)`
          : r.port === 0
            ? `invalid address "${value}": port 0`
            : null;
    if (error !== null) ctx.addIssue({ code: 'custom', message: error, params: { expected: 'host:port' } });
  });
}

/** The keys StatsD and Datadog share (Traefik's pkg/observability/types/metrics.go Statsd, Datadog). */
const statsdShape = {
  pushInterval: positiveDuration.default(10_000),
  addEntryPointsLabels: z.boolean().default(true),
  addRoutersLabels: z.boolean().default(false),
  addServicesLabels: z.boolean().default(true),
  /** Metric names are `<prefix>.<name>`; '' is Traefik's `traefik` (RegisterStatsd, RegisterDatadog). */
  prefix: z.string().default('traefik'),
};

const statsd = strictObject({ address: statsdAddress(false).default('localhost:8125'), ...statsdShape });

/**
 * Traefik's Datadog.SetDefaults takes the address from DD_AGENT_HOST and DD_DOGSTATSD_PORT
 * (`localhost`, `8125` when unset): left out here, main.ts reads them when none is written.
 */
const datadog = strictObject({ address: statsdAddress(true).optional(), ...statsdShape });

/** Traefik's InfluxDB2 (types/metrics.go): the server's URL, token (or a file holding it), org and bucket. */
const influxDB2 = strictObject({
  address: z
    .string()
    .refine((v) => /^https?:\/\/[^/?#]+/i.test(v) && URL.canParse(v), {
      message: 'must be an http:// or https:// URL',
    })
    .default('http://localhost:8086'),
  /** The token, or the path of a file holding it (Traefik's FileOrContent). */
  token: z.string().default(''),
  org: z.string().default(''),
  bucket: z.string().default(''),
  pushInterval: positiveDuration.default(10_000),
  addEntryPointsLabels: z.boolean().default(true),
  addRoutersLabels: z.boolean().default(false),
  addServicesLabels: z.boolean().default(true),
  /** Tags on every point. */
  additionalLabels: z.record(z.string(), z.string()).default({}),
});

const metrics = strictObject({
  prometheus: nullAsEmpty(prometheus).optional(),
  otlp: nullAsEmpty(otlpMetrics).optional(),
  statsD: nullAsEmpty(statsd).optional(),
  datadog: nullAsEmpty(datadog).optional(),
  influxDB2: nullAsEmpty(influxDB2).optional(),
  /** Count the proxy's own routers' requests too (Traefik's). */
  addInternals: z.boolean().default(false),
});

const tracing = strictObject(
  {
    serviceName: z.string().min(1).default('traefik'),
    /** 0–1: the share of new traces recorded; a client's sampled flag is followed (Traefik's ParentBased(TraceIDRatioBased)). */
    sampleRate: z.number().min(0).max(1).default(1),
    /** The resource's attributes, after service.name and service.version (they may override both). */
    resourceAttributes: z.record(z.string(), z.string()).optional(),
    /** Traefik v3 deprecated it for resourceAttributes; used when that is absent (SetEffectiveConfiguration). */
    globalAttributes: z.record(z.string(), z.string()).optional(),
    capturedRequestHeaders: z.array(z.string()).default([]),
    capturedResponseHeaders: z.array(z.string()).default([]),
    /** Query parameters whose values `url.query` keeps; the others are REDACTED (Traefik's). */
    safeQueryParams: z.array(z.string()).default([]),
    otlp: strictObject({
      /** A URL without a path posts to `/v1/traces` (otlptracehttp's). */
      http: nullAsEmpty(otelHttp).optional(),
      /** Wins over `http` when both are set (types/tracing.go Setup). */
      grpc: nullAsEmpty(otelGrpc).optional(),
    }).optional(),
    /** Trace the proxy's own routers' requests too (Traefik's). */
    addInternals: z.boolean().default(false),
  },
  [],
  {
    // Traefik v3 refuses to start with them (pkg/cli/deprecation.go tracing.deprecationNotice).
    removed: {
      spanNameLimit: 'span names have a fixed length in v3',
      ...Object.fromEntries(
        ['jaeger', 'zipkin', 'datadog', 'instana', 'haystack', 'elastic'].map((b) => [
          b,
          'v3 exports traces with OpenTelemetry (tracing.otlp) instead of its v2 backends',
        ]),
      ),
    },
  },
);

/**
 * DNS providers we implement, by lego's names. `exec` and `httpreq` are lego's generic ones (any
 * DNS, through the user's program or HTTP service); the others talk to their DNS host's API. All
 * are configured by lego's environment variables, read when the proxy starts (see
 * tls/acme/dns01-providers.ts).
 */
export const DNS_CHALLENGE_PROVIDERS = [
  'acme-dns',
  'azuredns',
  'bunny',
  'challtestsrv',
  'cloudflare',
  'cloudns',
  'desec',
  'digitalocean',
  'dnsimple',
  'duckdns',
  'dynu',
  'exec',
  'gandi',
  'gandiv5',
  'gcloud',
  'godaddy',
  'hetzner',
  'httpreq',
  'hurricane',
  'infomaniak',
  'inwx',
  'ionos',
  'linode',
  'namecheap',
  'namesilo',
  'netcup',
  'njalla',
  'ovh',
  'pdns',
  'porkbun',
  'rfc2136',
  'route53',
  'scaleway',
  'transip',
  'vultr',
] as const;
export type DnsChallengeProviderName = (typeof DNS_CHALLENGE_PROVIDERS)[number];

const dnsChallengeProvider = z.string().transform((value, ctx): DnsChallengeProviderName | '' => {
  // Empty: no DNS-01 solver (getClient tests `DNSChallenge.Provider != ""`); see dnsChallenge.
  if (value === '') return '';
  const found = DNS_CHALLENGE_PROVIDERS.find((p) => p === value);
  if (found !== undefined) return found;
  ctx.addIssue({
    code: 'custom',
    // A typo of a supported name (`cloudfare`) is pointed at it.
    message: `\`${value}\` is not supported yet${suggest(value, DNS_CHALLENGE_PROVIDERS)} (supported: ${DNS_CHALLENGE_PROVIDERS.join(', ')})`,
  });
  return z.NEVER;
});

/**
 * A DNS server for the propagation check, as lego's ParseNameservers takes it: `ip:port`,
 * `[ip6]:port`, or an address alone for port 53. Returned as `ip:port` / `[ip6]:port`, the form
 * node:dns takes. Host names are refused: node:dns asks servers by address only.
 */
function dnsServer(text: string): string | { error: string } {
  const trimmed = text.trim();
  let host = trimmed;
  let port = '53';
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(trimmed);
  if (bracketed !== null) {
    host = bracketed[1]!;
    port = bracketed[2] ?? '53';
    if (isIP(host) !== 6) return { error: `"${text}": "${host}" is not an IPv6 address` };
  } else if (isIP(trimmed) === 0) {
    const colon = trimmed.lastIndexOf(':');
    if (colon !== -1 && /^\d{1,5}$/.test(trimmed.slice(colon + 1))) {
      host = trimmed.slice(0, colon);
      port = trimmed.slice(colon + 1);
    }
    if (isIP(host) !== 4) {
      return {
        error: `"${text}" is not an IP address with an optional port (host names are not supported: give the server's address)`,
      };
    }
  }
  const n = Number(port);
  if (n < 1 || n > 65535) return { error: `"${text}": port ${port} is out of range (1-65535)` };
  return isIP(host) === 6 ? `[${host}]:${n}` : `${host}:${n}`;
}

const dnsResolver = z.string().transform((value, ctx): string => {
  const r = dnsServer(value);
  if (typeof r === 'string') return r;
  ctx.addIssue({ code: 'custom', message: r.error, params: { expected: 'ip:port, [ipv6]:port or ip' } });
  return z.NEVER;
});

/** Traefik v3.3's `dnsChallenge.propagation`; unset keys take the provider's defaults. */
const dnsPropagation = strictObject({
  delayBeforeChecks: duration.optional(),
  disableChecks: z.boolean().optional(),
  requireAllRNS: z.boolean().optional(),
  disableANSChecks: z.boolean().optional(),
});

const dnsChallengeSection = strictObject({
  provider: dnsChallengeProvider.default(''),
  /** Ours, for `challtestsrv` only: its management URL. */
  managementUrl: z.string().url().optional(),
  /** Servers for the propagation check's recursive questions; default: the system's. */
  resolvers: z.array(dnsResolver).optional(),
  propagation: nullAsEmpty(dnsPropagation).optional(),
  /** Deprecated by Traefik v3.3 for `propagation.delayBeforeChecks` (see tls/acme/dns01-settings.ts). */
  delayBeforeCheck: duration.optional(),
  /** Deprecated by Traefik v3.3 for `propagation.disableChecks`. */
  disablePropagationCheck: z.boolean().optional(),
}).superRefine((v, ctx) => {
  if (v.provider === 'challtestsrv' && v.managementUrl === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'required key `managementUrl` is missing (the challtestsrv provider needs it)',
      path: ['managementUrl'],
    });
  } else if (v.provider !== 'challtestsrv' && v.managementUrl !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `\`managementUrl\` is for the challtestsrv provider only (\`${v.provider}\` is configured by environment variables)`,
      path: ['managementUrl'],
    });
  }
});

/**
 * `dnsChallenge: {}` (or without `provider`) loads, as Traefik's DNSChallenge is tagged allowEmpty
 * (pkg/provider/acme/provider.go Configuration), and sets no DNS-01 solver: Traefik's getClient
 * uses it only when `Provider != ""`. Read here as no dnsChallenge (load.ts warns).
 */
const dnsChallenge = dnsChallengeSection.transform((d) =>
  d.provider === '' ? undefined : { ...d, provider: d.provider },
);

/**
 * Traefik's `eab` (External Account Binding, RFC 8555 §7.3.4): the key identifier and MAC key a
 * CA such as ZeroSSL or Google gives with the customer account, sent when the ACME account is
 * registered. `hmacEncoded` is read as lego reads it (base64url, padded or not, eab.ts).
 */
const eab = strictObject({
  kid: z.string().min(1),
  /** One lego cannot decode loads, with a warning (load.ts), as Traefik: the resolver's orders fail. */
  hmacEncoded: z.string().min(1),
});

/**
 * Traefik's ACME key types (pkg/provider/acme/account.go GetKeyType). Any other value falls back
 * on RSA4096 there (logged); load.ts warns about it.
 */
export const ACME_KEY_TYPES = ['EC256', 'EC384', 'RSA2048', 'RSA4096', 'RSA8192'] as const;
export type AcmeKeyType = (typeof ACME_KEY_TYPES)[number];

export const LE_PRODUCTION_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

/**
 * As Traefik's getSafeACMECAServer (pkg/config/static/static_config.go initACMEProvider, v3): an
 * empty caServer is Let's Encrypt's production directory, and Let's Encrypt's retired ACME v1
 * URLs are read as their v2 counterparts (Traefik logs a warning; load.ts too).
 */
export function safeAcmeCaServer(v: string): string {
  if (v === '') return LE_PRODUCTION_DIRECTORY;
  if (v.startsWith('https://acme-v01.api.letsencrypt.org')) return v.replace('v01', 'v02');
  const staging = 'https://acme-staging.api.letsencrypt.org';
  if (v.startsWith(staging)) return `https://acme-staging-v02.api.letsencrypt.org${v.slice(staging.length)}`;
  return v;
}

const acme = strictObject({
  /** Traefik: optional; without one the ACME account has no contact address. */
  email: z.string().default(''),
  /** Rewritten as Traefik's getSafeACMECAServer (safeAcmeCaServer; load.ts warns); not a URL: a warning (eab.ts acmeCaServerProblem). */
  caServer: z.string().default(LE_PRODUCTION_DIRECTORY).transform(safeAcmeCaServer),
  /** A file (mode 0600), or a store shared by several instances (acme-storage.ts). */
  storage: z
    .string()
    .min(1)
    .default('acme.json')
    .superRefine((v, ctx) => {
      try {
        parseAcmeStorage(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
      }
    }),
  /**
   * Key of the issued certificates. As Traefik's pkg/provider/acme/account.go GetKeyType (lego's
   * certcrypto key types), default RSA4096 as Traefik's (documented) default.
   */
  keyType: z
    .string()
    .transform((v): AcmeKeyType => ACME_KEY_TYPES.find((k) => k === v) ?? 'RSA4096')
    .default('RSA4096'),
  /** PEM files trusted for the ACME server's own certificate (a private CA such as Pebble). */
  caCertificates: z.array(z.string().min(1)).default([]),
  /**
   * Traefik's `caSystemCertPool`: with caCertificates or caServerName, trust the system's roots
   * too (else only caCertificates, as lego's CreateCertPool).
   */
  caSystemCertPool: z.boolean().default(false),
  /** Traefik's `caServerName`: the CA's TLS server name (SNI and certificate check). */
  caServerName: z.string().optional(),
  eab: eab.optional(),
  /**
   * Traefik's `preferredChain`: of the chains the CA offers (the default and its
   * `Link: rel="alternate"` ones), the one whose top issuer has this common name; else the
   * default (lego's Certifier.checkResponse).
   */
  preferredChain: z.string().optional(),
  /**
   * Traefik's `profile`: the certificate profile asked for in each order (the ACME profiles
   * draft: one of the names of the CA's directory `meta.profiles`, e.g. Let's Encrypt's
   * `classic`, `tlsserver`, `shortlived`). Sent as given; a CA that does not offer it refuses
   * the order.
   */
  profile: z.string().optional(),
  /**
   * Traefik's `emailAddresses` ("CSR email addresses to use"): lego's CSROptions.EmailAddresses,
   * rfc822Name entries of the certificate request's subjectAltName (not account contacts:
   * that is `email`). Most public CAs refuse such a request; private ACME CAs may sign them.
   */
  // One that is not ASCII loads with a warning (load.ts): Go refuses the CSR, every order fails.
  emailAddresses: z.array(z.string().min(1)).default([]),
  /**
   * Traefik v3.6's `disableCommonName`: CSRs without a subject common name (lego's
   * CSROptions/ObtainRequest; the names are in the subjectAltName either way).
   */
  disableCommonName: z.boolean().default(false),
  /**
   * Traefik's `certificatesDuration` (hours; Traefik's default 2160, refused below 1 as its
   * Provider.Init): picks the renew period from Traefik's table (tls/acme/retry.ts
   * certificateRenewDurations).
   */
  certificatesDuration: z.number().int().positive().optional(),
  /**
   * Timeouts of the HTTP client talking to the CA (Traefik v3's, pkg/provider/acme/provider.go
   * createHTTPClient): one request whole, and the wait for its response head. 0 = no limit.
   */
  clientTimeout: duration.default(120_000),
  clientResponseHeaderTimeout: duration.default(30_000),
  /**
   * `delay` (Traefik's HTTPChallenge.Delay / TLSChallenge.Delay → lego's http01 / tlsalpn01
   * SetDelay): how long to wait, once the answer is served, before telling the CA to look.
   */
  // `httpChallenge: {}` loads (allowEmpty in Traefik's Configuration) and sets no HTTP-01 solver:
  // getClient uses it only when `EntryPoint != ""`. Read as no httpChallenge (load.ts warns).
  httpChallenge: nullAsEmpty(strictObject({ entryPoint: z.string().default(''), delay: duration.default(0) }))
    .optional()
    .transform((h) => (h === undefined || h.entryPoint === '' ? undefined : h)),
  tlsChallenge: nullAsEmpty(strictObject({ delay: duration.default(0) })).optional(),
  dnsChallenge: nullAsEmpty(dnsChallenge).optional(),
  // Traefik's Provider.Init refuses a clientTimeout below clientResponseHeaderTimeout (0 included),
  // and cmd/traefik/traefik.go then skips the resolver: load.ts does the same, with a warning.
  // Several challenges are each given a lego solver, one chosen per authorization
  // (tls/acme/obtain-certificate.ts chooseChallenge). None: Traefik starts, and its getClient fails
  // every order ("ACME challenge not specified"): load.ts warns, the manager fails its orders.
});

/**
 * Traefik's static `ocsp` section (pkg/tls/ocsp.go): present = staple OCSP responses for every served
 * certificate that names a responder.
 */
const ocsp = strictObject({
  /** A responder URL as a certificate names it → the URL to ask instead (a local cache, a proxy). */
  responderOverrides: z
    .record(
      z.string().min(1),
      z
        .string()
        .url()
        .refine((v) => /^https?:\/\//i.test(v), 'must be an http:// or https:// URL'),
    )
    .default({}),
});

/**
 * A resolver is ACME's or Tailscale's (Traefik's CertificateResolver: `acme`, `tailscale`; one of
 * them, as Traefik's initACMEProvider/initTailscaleProviders refuse both).
 */
const certificatesResolver = strictObject({
  acme: nullAsEmpty(acme).optional(),
  /** Traefik's Tailscale resolver (pkg/provider/tailscale): certificates from the local tailscaled. */
  tailscale: nullAsEmpty(strictObject({})).optional(),
}).superRefine((v, ctx) => {
  if ((v.acme === undefined) === (v.tailscale === undefined)) {
    ctx.addIssue({
      code: 'custom',
      message:
        v.acme === undefined
          ? 'a certificate resolver needs `acme` or `tailscale`'
          : 'a certificate resolver is `acme` or `tailscale`, not both',
    });
  }
});

/**
 * A local plugin (Traefik's `experimental.localPlugins.<name>`): a TypeScript or JavaScript module
 * exporting a middleware factory (docs/plugins.md). Traefik looks for its local plugins in
 * `./plugins-local/src/<moduleName>` under the working directory (pkg/plugins: `localGoPath`);
 * so do we, unless `path` (ours) names the module's file or folder.
 */
const moduleName = z
  .string()
  .min(1, 'must not be empty')
  .refine((m) => !m.startsWith('/') && !m.endsWith('/'), 'must not start or end with a /')
  .refine((m) => !m.split('/').includes('..'), 'must not contain a `..` segment');

/**
 * Traefik's plugin settings (pkg/plugins/types.go Settings): `envs`, and `mounts`, each
 * `host[:guest][:ro]` (checked as each middleware is built, as middlewarewasm.go does).
 */
const pluginSettings = nullAsEmpty(
  strictObject({
    envs: z.array(z.string().min(1, 'must not be empty')).optional(),
    mounts: z.array(z.string().min(1, 'must not be empty')).optional(),
    /**
     * Traefik v3.5: lets a Go (Yaegi) plugin import `unsafe` and `syscall`. Accepted; it changes
     * nothing here, where Go plugins do not run.
     */
    useUnsafe: z.boolean().optional(),
  }),
).optional();

const localPlugin = strictObject({
  moduleName: moduleName.optional(),
  /** Ours: the module's file or folder, relative to the static file's folder. */
  path: z.string().min(1, 'must not be empty').optional(),
  /**
   * Traefik's plugin settings (pkg/plugins/types.go Settings), for WebAssembly plugins:
   * `envs`, the environment variables the guest sees (their values when a middleware is
   * built), and `mounts`, the directories it sees (WASI preopens, src/plugins/wasi-fs.ts).
   */
  settings: pluginSettings,
}).superRefine((v, ctx) => {
  if (v.moduleName === undefined && v.path === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'a local plugin needs a moduleName (or a path)',
      params: { expected: 'moduleName: example.com/my-plugin' },
    });
  }
});

/**
 * A plugin of Traefik's catalog (`experimental.plugins.<name>`, pkg/plugins/types.go Descriptor),
 * downloaded at start from plugins.traefik.io as Traefik does (src/plugins/remote.ts). Its
 * checks are Traefik's checkRemotePluginsConfiguration.
 */
const remotePlugin = strictObject({
  moduleName,
  version: z.string().min(1, 'must not be empty'),
  /**
   * Traefik's Descriptor.Hash: the archive's SHA-256 (hex) it must have; then the catalog's
   * integrity check is not asked (pkg/plugins/manager.go InstallPlugin).
   */
  hash: z.string().min(1, 'must not be empty').optional(),
  settings: pluginSettings,
});

/** Traefik's `experimental`: local plugins are TypeScript/JavaScript modules here (docs/plugins.md). */
const experimental = strictObject(
  {
    plugins: z.record(z.string().min(1), remotePlugin).default({}),
    localPlugins: z.record(z.string().min(1), nullAsEmpty(localPlugin)).default({}),
    /** Traefik v3.3: refuse to start when a plugin cannot be loaded (default: start without it). */
    abortOnPluginFailure: z.boolean().default(false),
    /**
     * Ours: the HTTP/2 engine of both sides (the server for clients, the client to HTTP/2
     * servers). `own` (the default) is our own framing, HPACK and flow control on the raw socket
     * (src/http2/own-*.ts, src/upstream/own-h2-*.ts): the only one that resets a stream whose
     * field value holds CR, LF or NUL (node:http2 drops such fields silently), at a fraction of
     * node:http2's CPU per request. `node` is node:http2 (nghttp2), kept as a fallback.
     */
    http2Engine: z.enum(['node', 'own']).default('own'),
    /** Traefik's gate for `log.otlp` and `accessLog.otlp`. */
    otlpLogs: z.boolean().optional(),
    /**
     * Traefik v3.5 required it for providers.kubernetesIngressNGINX; deprecated since v3.6.2, when
     * the provider left the experimental features: accepted, and nothing depends on it.
     */
    kubernetesIngressNGINX: z.boolean().optional(),
    /** Traefik's gate for `providers.knative`. */
    knative: z.boolean().optional(),
    /**
     * Traefik v3.1 made the Gateway API provider stable: the key is deprecated, and Traefik logs
     * an error naming it and starts (pkg/config/static experimental deprecationNotice). Accepted,
     * with a warning; nothing depends on it.
     */
    kubernetesGateway: z.boolean().optional(),
    /**
     * Traefik's FastProxy, its alternative HTTP/1.1 client to servers (pkg/proxy/fast), with the
     * same behaviour seen from outside. Ours is always the pooled raw-socket client
     * (docs/architecture.md): accepted, and it changes nothing (`debug` neither).
     */
    fastProxy: nullAsEmpty(strictObject({ debug: z.boolean().optional() })).optional(),
  },
  [],
  {
    // Traefik's deprecationNotice of `experimental` (pkg/config/static): logged, and it starts.
    deprecated: {
      kubernetesGateway: 'the Gateway API provider is not experimental since Traefik v3.1; remove the key',
      kubernetesIngressNGINX:
        'the Ingress NGINX provider is not experimental since Traefik v3.6.2; remove the key',
    },
    // Traefik v3 refuses to start with it (pkg/cli/deprecation.go experimental.deprecationNotice).
    removed: {
      http3: 'HTTP/3 is not experimental in v3: enable it per entry point (entryPoints.<name>.http3)',
    },
  },
).superRefine((v, ctx) => {
  // Traefik's checkUniquePluginNames: a name is a remote or a local plugin, not both.
  for (const name of Object.keys(v.localPlugins)) {
    if (name in v.plugins) {
      ctx.addIssue({
        code: 'custom',
        message: `the plugin's name ${JSON.stringify(name)} must be unique: it is also in experimental.plugins`,
        path: ['localPlugins', name],
      });
    }
  }
  // Traefik's checkRemotePluginsConfiguration: only one version of a plugin.
  const versions = new Map<string, string>();
  for (const [name, p] of Object.entries(v.plugins)) {
    const first = versions.get(p.moduleName);
    if (first === undefined) versions.set(p.moduleName, name);
    else {
      ctx.addIssue({
        code: 'custom',
        message: `only one version of a plugin is allowed: ${p.moduleName} is already declared by plugin \`${first}\``,
        path: ['plugins', name, 'moduleName'],
      });
    }
  }
  // Traefik (SetupLocalPlugins): one declaration per module.
  const seen = new Map<string, string>();
  for (const [name, p] of Object.entries(v.localPlugins)) {
    if (p.moduleName === undefined || p.path !== undefined) continue;
    const first = seen.get(p.moduleName);
    if (first === undefined) seen.set(p.moduleName, name);
    else {
      ctx.addIssue({
        code: 'custom',
        message: `module ${p.moduleName} is already declared by local plugin \`${first}\``,
        path: ['localPlugins', name, 'moduleName'],
      });
    }
  }
});

/**
 * Traefik's root `tcpServersTransport` (pkg/config/static/static_config.go TCPServersTransport):
 * the `default@internal` TCP servers transport (pkg/provider/traefik/internal.go
 * serverTransportTCP), for TCP services that name none. Its defaults are the dynamic ones.
 */
const tcpServersTransport = strictObject({
  /** 0 = no limit. */
  dialTimeout: duration.default(30_000),
  /** TCP keep-alive probes on server connections; 0 = 15s, negative = off. */
  dialKeepAlive: signedDuration.default(15_000),
  /** After one side's FIN, how long the other may keep sending; negative = as long as it wants. */
  terminationDelay: signedDuration.default(100),
  tls: nullAsEmpty(
    strictObject({
      insecureSkipVerify: z.boolean().default(false),
      /** CA certificates (paths or PEM) that replace node's bundled list. */
      rootCAs: z.array(z.string().min(1)).default([]),
      /**
       * Traefik's TLSClientConfig.Spiffe. Its internal provider copies the static
       * serversTransport's `spiffe` here instead (pkg/provider/traefik/internal.go
       * serverTransportTCP, a slip that fails when that one has none): we use this one's.
       */
      spiffe: spiffeSection.optional(),
    }),
  ).optional(),
});

/**
 * Traefik's `spiffe` (pkg/config/static/static_config.go SpiffeClientConfig): the SPIFFE
 * Workload API the proxy fetches its X.509 SVIDs and bundles from (upstream/spiffe.ts), for
 * serversTransports with `spiffe`. Empty = none (as Traefik, which then sets up no source).
 */
const spiffe = strictObject({
  workloadAPIAddr: z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      if (v === undefined || v === '') return;
      if (!/^(unix:|tcp:\/\/)/.test(v))
        ctx.addIssue({
          code: 'custom',
          message: 'workload endpoint socket URI must have a "tcp" or "unix" scheme',
          params: { expected: 'unix:///run/spire/agent.sock' },
        });
    }),
});

/**
 * Traefik's `core` (pkg/config/static/static_config.go Core, ValidateConfiguration): the rule
 * syntax of routers that give no `ruleSyntax` (`v3` or `v2`; another value is an error, as in
 * Traefik). Applied to every HTTP and TCP router by the entry point model
 * (config/dynamic/entry-point-model.ts, Traefik's applyModel). `strictTLSOptions` (Traefik v3.8,
 * traefik/traefik#13639): routers of one entry point asking different TLS options for one host
 * are disabled with an error instead of that host falling back to the `default` options
 * (runtime/build-tls.ts, tls/sni.ts).
 */
const core = strictObject({
  strictTLSOptions: z.boolean().default(false),
  defaultRuleSyntax: z
    .string()
    .default('v3')
    .superRefine((v, ctx) => {
      if (v === 'v3' || v === 'v2') return;
      ctx.addIssue({
        code: 'custom',
        message: `unsupported default rule syntax "${v}"`,
        params: { expected: 'v3 or v2' },
      });
    }),
});

/**
 * Traefik's `hostResolver` (pkg/types/host_resolver.go HostResolverConfig). Only
 * `cnameFlattening: true` does anything in Traefik (pkg/middlewares/requestdecorator
 * request_decorator.go ServeHTTP: the Host is resolved through its CNAME chain and the routers'
 * Host matchers and the SNI check also match the flattened name); `resolvConfig` and `resolvDepth`
 * are read only then (proxy/cname-flattening.ts).
 */
const hostResolver = strictObject({
  cnameFlattening: z.boolean().default(false),
  resolvConfig: z.string().default('/etc/resolv.conf'),
  resolvDepth: z.number().int().default(5),
});

/**
 * `workers: 4` or `workers: auto`. A flag or env value arrives as text: digits are read as a
 * number, so `--workers=4` and `TRAFFIC_WORKERS=4` mean what the file's `4` means.
 */
const workers = z.preprocess(
  (v) => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : v),
  z.union([z.literal('auto'), z.number().int().min(1).max(1024)], {
    error: 'must be a number of workers (1 to 1024) or `auto`',
  }),
);

/** Traefik's `global`: accepted; traffic never checks for new versions nor sends usage data. */
const global = strictObject({
  checkNewVersion: z.boolean().default(true),
  sendAnonymousUsage: z.boolean().default(false),
  /**
   * Traefik v3.7's `global.notAppendXForwardedFor` (PR #12374's first form): Traefik reads it and
   * nothing uses it (traefik/traefik#13185; the entry point's forwardedHeaders key is the one
   * that works). Accepted, and static/load.ts warns that it does nothing.
   */
  notAppendXForwardedFor: z.boolean().default(false),
});

export const staticConfigSchema = strictObject(
  {
    entryPoints: z.record(z.string(), nullAsEmpty(entryPoint)).default({}),
    providers: nullAsEmpty(providers).prefault({}),
    log: nullAsEmpty(log).prefault({}),
    /** Absent = no access log (as in Traefik: the section's presence turns it on). */
    accessLog: nullAsEmpty(accessLog).optional(),
    /** Absent = no API and no dashboard. */
    api: nullAsEmpty(api).optional(),
    ping: nullAsEmpty(ping).optional(),
    metrics: nullAsEmpty(metrics).optional(),
    tracing: nullAsEmpty(tracing).optional(),
    certificatesResolvers: z.record(z.string(), nullAsEmpty(certificatesResolver)).optional(),
    /** Absent = no OCSP stapling (as in Traefik: the section's presence turns it on). */
    ocsp: nullAsEmpty(ocsp).optional(),
    global: nullAsEmpty(global).optional(),
    /** Defaults for every HTTP service that names no serversTransport of its own. */
    serversTransport: nullAsEmpty(serversTransportSchema).optional(),
    /** Defaults for every TCP service that names no serversTransport of its own. */
    tcpServersTransport: nullAsEmpty(tcpServersTransport).optional(),
    core: nullAsEmpty(core).optional(),
    /** CNAME flattening before routing (Traefik's requestdecorator), off by default. */
    hostResolver: nullAsEmpty(hostResolver).optional(),
    spiffe: nullAsEmpty(spiffe).optional(),
    /** Ours: load shedding and the request-body memory budget (config/static/overload.ts). */
    overload: nullAsEmpty(overloadSchema).prefault({}),
    /** Traefik's experimental section: plugins (local and from its catalog), gates. */
    experimental: nullAsEmpty(experimental).optional(),
    /**
     * Ours (Traefik has no such key: Go uses every core in one process): N data-plane worker
     * processes, or `auto` for one per available core; absent = one process (docs/performance.md).
     */
    workers: workers.optional(),
  },
  [],
  // Traefik v3 refuses to start with it (pkg/cli/deprecation.go configuration.deprecationNotice).
  { removed: { pilot: 'remove the Pilot section (v2-to-v3 migration: Pilot)' } },
).superRefine((v, ctx) => {
  // Traefik's Configuration.ValidateConfiguration: OTLP logs are behind their experimental gate.
  if (v.log.otlp !== undefined && v.experimental?.otlpLogs !== true)
    ctx.addIssue({
      code: 'custom',
      path: ['log', 'otlp'],
      message:
        'the experimental OTLPLogs feature must be enabled to use OTLP logging (experimental.otlpLogs: true)',
    });
  if (v.accessLog?.otlp !== undefined && v.experimental?.otlpLogs !== true)
    ctx.addIssue({
      code: 'custom',
      path: ['accessLog', 'otlp'],
      message:
        'the experimental OTLPLogs feature must be enabled to use OTLP access logging (experimental.otlpLogs: true)',
    });
  // Traefik's validateKubernetesProviders: the Knative provider is behind its experimental gate.
  if (v.providers.knative !== undefined && v.experimental?.knative !== true)
    ctx.addIssue({
      code: 'custom',
      path: ['providers', 'knative'],
      message:
        'the experimental Knative feature must be enabled to use the Knative provider (experimental.knative: true)',
    });
  const eps = Object.fromEntries(
    Object.entries(v.entryPoints).map(([n, e]) => [
      n,
      { http: e.http.redirections === undefined ? {} : { redirections: e.http.redirections } },
    ]),
  );
  for (const i of redirectionIssues(eps)) {
    ctx.addIssue({ code: 'custom', message: i.message, path: [...i.path] });
  }
  for (const [name, r] of Object.entries(v.certificatesResolvers ?? {})) {
    const ep = r.acme?.httpChallenge?.entryPoint;
    if (ep !== undefined && !Object.hasOwn(v.entryPoints, ep)) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown entry point \`${ep}\``,
        path: ['certificatesResolvers', name, 'acme', 'httpChallenge', 'entryPoint'],
      });
    }
  }
});

/** One entry point (config/schema-defaults.ts computes its defaults). */
export const entryPointSchema = entryPoint;

export type StaticConfig = z.output<typeof staticConfigSchema>;
export type StaticConfigInput = z.input<typeof staticConfigSchema>;
export type EntryPointConfig = StaticConfig['entryPoints'][string];
export type FileProviderConfig = NonNullable<StaticConfig['providers']['file']>;
export type LogLevel = StaticConfig['log']['level'];
export type AccessLogConfig = NonNullable<StaticConfig['accessLog']>;
export type ApiConfig = NonNullable<StaticConfig['api']>;
export type MetricsConfig = NonNullable<StaticConfig['metrics']>;
export type ExperimentalConfig = NonNullable<StaticConfig['experimental']>;
export type LocalPluginConfig = ExperimentalConfig['localPlugins'][string];
export type RemotePluginConfig = ExperimentalConfig['plugins'][string];
export type PrometheusConfig = NonNullable<MetricsConfig['prometheus']>;
export type TracingConfig = NonNullable<StaticConfig['tracing']>;
export type CertificatesResolverConfig = NonNullable<StaticConfig['certificatesResolvers']>[string];
export type OcspConfig = NonNullable<StaticConfig['ocsp']>;
export type AcmeResolverConfig = NonNullable<CertificatesResolverConfig['acme']>;
export type DnsChallengeConfig = NonNullable<AcmeResolverConfig['dnsChallenge']>;

/** `providers.file` alone: `traffic validate` reads it even when the rest of the file has errors. */
export const fileProviderSchema = fileProvider;
