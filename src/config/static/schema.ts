import { z } from 'zod';
import { duration } from '../duration.ts';
import { nullAsEmpty, strictObject } from '../schema-helpers.ts';
import { checkIpOrCidr, parseAddress } from './address.ts';

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

const logLevel = z.string().transform((value, ctx): LogLevelName => {
  const lower = value.toLowerCase();
  const found = LOG_LEVELS.find((l) => l === lower);
  if (found !== undefined) return found;
  ctx.addIssue({
    code: 'custom',
    message: `invalid log level "${value}"`,
    params: { expected: 'one of DEBUG, INFO, WARN, ERROR (any case)' },
  });
  return z.NEVER;
});

const logFormat = z.enum(['json', 'common']);

/** The listener has no "no limit" for these: 0 would close every connection at once. */
const positiveDuration = duration.refine((ms) => ms > 0, 'must be greater than 0');

const respondingTimeouts = strictObject(
  {
    /** Ours (Go's ReadHeaderTimeout): time allowed to receive a request's header block. */
    readHeaderTimeout: positiveDuration.default(10_000),
    /** Whole request, body included; 0 = none. */
    readTimeout: duration.default(60_000),
    /** Keep-alive connection idle between requests. */
    idleTimeout: positiveDuration.default(180_000),
  },
  ['writeTimeout'],
);

const lifeCycle = strictObject({ graceTimeOut: duration.default(10_000) }, ['requestAcceptGraceTimeout']);

const transport = strictObject(
  {
    respondingTimeouts: nullAsEmpty(respondingTimeouts).prefault({}),
    keepAliveMaxRequests: z.number().int().nonnegative().default(0),
    lifeCycle: nullAsEmpty(lifeCycle).prefault({}),
  },
  ['keepAliveMaxTime'],
);

const forwardedHeaders = strictObject(
  { trustedIPs: z.array(ipOrCidr).default([]), insecure: z.boolean().default(false) },
  ['connection'],
);

const entryPointHttp = strictObject(
  { maxHeaderBytes: z.number().int().min(1024).max(65_536).default(16_384) },
  ['redirections', 'middlewares', 'tls', 'encodeQuerySemicolons', 'sanitizePath', 'encodedCharacters'],
);

const entryPoint = strictObject(
  {
    address,
    transport: nullAsEmpty(transport).prefault({}),
    forwardedHeaders: nullAsEmpty(forwardedHeaders).prefault({}),
    http: nullAsEmpty(entryPointHttp).prefault({}),
  },
  ['http2', 'http3', 'proxyProtocol', 'udp', 'observability', 'allowACMEByPass', 'reusePort', 'asDefault'],
);

const fileProvider = strictObject(
  {
    filename: z.string().min(1).optional(),
    directory: z.string().min(1).optional(),
    watch: z.boolean().default(true),
  },
  ['debugLogGeneratedTemplate'],
).superRefine((value, ctx) => {
  if ((value.filename === undefined) === (value.directory === undefined)) {
    ctx.addIssue({
      code: 'custom',
      message:
        value.filename === undefined
          ? 'set either `filename` or `directory`'
          : '`filename` and `directory` cannot both be set',
      params: { expected: 'exactly one of filename, directory' },
    });
  }
});

const providers = strictObject({ file: nullAsEmpty(fileProvider).optional() }, [
  'providersThrottleDuration',
  'docker',
  'swarm',
  'kubernetesIngress',
  'kubernetesIngressNGINX',
  'kubernetesCRD',
  'kubernetesGateway',
  'rest',
  'consulCatalog',
  'nomad',
  'ecs',
  'consul',
  'etcd',
  'zooKeeper',
  'redis',
  'http',
  'plugin',
]);

const log = strictObject({ level: logLevel.default('info'), format: logFormat.default('json') }, [
  'filePath',
  'noColor',
  'maxSize',
  'maxAge',
  'maxBackups',
  'compress',
]);

// Traefik's access log defaults to Common Log Format (its application log to text too; ours is JSON).
const accessLog = strictObject({ filePath: z.string().default(''), format: logFormat.default('common') }, [
  'filters',
  'fields',
  'bufferingSize',
  'addInternals',
]);

export const staticConfigSchema = strictObject(
  {
    entryPoints: z.record(z.string(), nullAsEmpty(entryPoint)).default({}),
    providers: nullAsEmpty(providers).prefault({}),
    log: nullAsEmpty(log).prefault({}),
    /** Absent = no access log (as in Traefik: the section's presence turns it on). */
    accessLog: nullAsEmpty(accessLog).optional(),
  },
  [
    'global',
    'serversTransport',
    'tcpServersTransport',
    'api',
    'metrics',
    'ping',
    'tracing',
    'hostResolver',
    'certificatesResolvers',
    'experimental',
    'core',
    'spiffe',
    'ocsp',
    'otlp',
  ],
);

export type StaticConfig = z.output<typeof staticConfigSchema>;
export type StaticConfigInput = z.input<typeof staticConfigSchema>;
export type EntryPointConfig = StaticConfig['entryPoints'][string];
export type FileProviderConfig = NonNullable<StaticConfig['providers']['file']>;
export type LogLevel = StaticConfig['log']['level'];
