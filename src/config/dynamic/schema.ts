import { z } from 'zod';
import { duration } from '../duration.ts';
import {
  nameList,
  nullAsEmpty,
  observabilitySection,
  routerPriority,
  ruleSyntax,
  spiffeSection,
  strictObject,
  type UnknownKeyParams,
} from '../schema-helpers.ts';
import { registerShape } from '../schema-walk.ts';
import { type MiddlewareConfigOf, type MiddlewareType, middlewareSchemas } from './middlewares.ts';
import { service, timeouts } from './services.ts';
import { tcpSectionSchema, udpSectionSchema } from './tcp.ts';
import { cipherSuite, routerTls, tlsSectionSchema } from './tls.ts';

/*
 * The dynamic configuration, in the shape of Traefik's file provider. Keys Traefik has and we do
 * not implement yet are listed per object so that they are reported by name.
 */

const router = strictObject({
  /** Absent = every entry point. */
  entryPoints: nameList.optional(),
  rule: z.string().refine((r) => r.trim() !== '', 'rule must not be empty'),
  /** 0 = Traefik's default: the length of the rule. */
  priority: routerPriority,
  middlewares: nameList.default([]),
  /** Absent: a parent router, whose children (routers naming it in `parentRefs`) pick the service. */
  service: z.string().min(1).optional(),
  /**
   * Traefik's multi-layer routing (v3.6): the routers this one is a child of. Its rule is matched
   * after the parent's middlewares ran, and it has no entry points, `tls` or `observability`.
   */
  parentRefs: nameList.optional(),
  /** Ours: per-router timeouts; they win over the service's. */
  timeouts: nullAsEmpty(timeouts).optional(),
  /** Present = the router serves HTTPS requests only (absent: plain HTTP only, as in Traefik). */
  tls: nullAsEmpty(routerTls).optional(),
  ruleSyntax,
  /** Access log, metrics and tracing for this router (unset keys: its entry point's, else on). */
  observability: observabilitySection,
});

/** Traefik's HTTP middleware names (v3.7 OSS); those we lack are reported as not supported yet. */
const TRAEFIK_MIDDLEWARES = [
  'addPrefix',
  'basicAuth',
  'buffering',
  'chain',
  'circuitBreaker',
  'compress',
  'contentType',
  'digestAuth',
  'encodedCharacters',
  'errors',
  'forwardAuth',
  'grpcWeb',
  'headers',
  'ipAllowList',
  'ipWhiteList',
  'inFlightReq',
  'passTLSClientCert',
  'plugin',
  'rateLimit',
  'redirectRegex',
  'redirectScheme',
  'replacePath',
  'replacePathRegex',
  'retry',
  'stripPrefix',
  'stripPrefixRegex',
];

/** A middleware, normalised from Traefik's `{ <type>: {…} }` to a tagged value. */
export type MiddlewareConfig = {
  [K in MiddlewareType]: { readonly type: K; readonly config: MiddlewareConfigOf<K> };
}[MiddlewareType];

function isMiddlewareType(key: string): key is MiddlewareType {
  return Object.hasOwn(middlewareSchemas, key);
}

const middleware = z.record(z.string(), z.unknown()).transform((entry, ctx): MiddlewareConfig => {
  const keys = Object.keys(entry);
  const expected = 'exactly one middleware type, e.g. stripPrefix: { prefixes: [/api] }';
  if (keys.length !== 1) {
    const message =
      keys.length === 0
        ? 'a middleware needs a type'
        : `a middleware has exactly one type, found ${keys.length}: ${keys.join(', ')}`;
    ctx.addIssue({ code: 'custom', message, params: { expected } });
    return z.NEVER;
  }
  const type = keys[0]!;
  if (!isMiddlewareType(type)) {
    const params: UnknownKeyParams = {
      unknownKey: true,
      known: Object.keys(middlewareSchemas),
      unsupported: TRAEFIK_MIDDLEWARES.filter((t) => !isMiddlewareType(t)),
      what: 'middleware type',
    };
    ctx.addIssue({ code: 'custom', message: 'unknown middleware type', path: [type], params });
    return z.NEVER;
  }
  const raw = entry[type];
  const r = middlewareSchemas[type].safeParse(raw === null ? {} : raw, { reportInput: true });
  if (!r.success) {
    for (const zi of r.error.issues) ctx.addIssue({ ...zi, path: [type, ...zi.path] });
    return z.NEVER;
  }
  return { type, config: r.data } as MiddlewareConfig;
});

// For the key normaliser (config/normalize.ts): a middleware entry is an object whose one key is
// its type, each type with its own schema.
registerShape(middleware, {
  kind: 'object',
  shape: middlewareSchemas,
  unsupported: TRAEFIK_MIDDLEWARES.filter((t) => !isMiddlewareType(t)),
  // Traefik v3 builds ipWhiteList with its own package (pkg/server/middleware/middlewares.go:
  // "Middleware %q of type IPWhiteList is deprecated, please use IPAllowList instead.").
  deprecated: { ipWhiteList: 'please use `ipAllowList` instead' },
  aliases: {},
  removed: {},
});

const forwardingTimeouts = strictObject({
  dialTimeout: duration.default(30_000),
  /** 0 = wait as long as it takes. */
  responseHeaderTimeout: duration.default(0),
  idleConnTimeout: duration.default(90_000),
  /**
   * Ours: a WebSocket (any upgraded connection) through which nothing passed for this long is
   * closed; 0 = never (Traefik has no such timeout). The request timeouts do not apply to it.
   */
  tunnelIdleTimeout: duration.default(3_600_000),
  /**
   * HTTP/2 sessions: a PING after this long without a frame from the server (0 = never). Absent
   * = 0, as in Traefik; optional so that transports without it read as before.
   */
  readIdleTimeout: duration.optional(),
  /** HTTP/2 sessions: no PING answer within this long closes the session. Absent = 15s (Traefik). */
  pingTimeout: duration.optional(),
  /**
   * Traefik v3.8 (traefik/traefik#12716, as #13747 arms it: pkg/proxy/fast/connpool.go
   * timeoutReader): once the request is written and until its response ended, each read from
   * the server must bring a byte within this long (a deadline reset by every read, not counted
   * while the client is slow to take the response, nor on an idle or upgraded connection);
   * 0 = none. Optional: transports without it read as before.
   */
  readTimeout: duration.optional(),
  /**
   * Traefik v3.8 (same PR; connpool.go conn.Write): each write to the server must complete
   * within this long (the deadline is re-armed by every write that makes progress); 0 = none.
   */
  writeTimeout: duration.optional(),
});

/** Traefik's names for TLS protocol versions. */
export const TLS_VERSIONS = ['VersionTLS10', 'VersionTLS11', 'VersionTLS12', 'VersionTLS13'] as const;
export type TlsVersionName = (typeof TLS_VERSIONS)[number];
const tlsVersion = z.enum(TLS_VERSIONS, { error: `must be one of ${TLS_VERSIONS.join(', ')}` });

/** A client certificate presented to `https://` servers that ask for one (mTLS). */
const transportCertificate = strictObject({
  /** A file path, or the PEM text itself. */
  certFile: z.string().min(1),
  /** A file path, or the PEM text itself. */
  keyFile: z.string().min(1),
});

export const serversTransportSchema = strictObject(
  {
    /**
     * Idle connections kept per server. As Traefik hands it to Go's http.Transport: 0 = the
     * default, negative = none kept (no upstream keep-alive); runtime/build-snapshot.ts
     * idleConnsPerHost. The default is 200, Traefik's default transport's (its named transports
     * fall to Go's 2, which reopens connections under any concurrency).
     */
    maxIdleConnsPerHost: z.number().int().default(200),
    /** Ours: 0 = unlimited. */
    maxConnsPerHost: z.number().int().nonnegative().default(0),
    forwardingTimeouts: nullAsEmpty(forwardingTimeouts).prefault({}),
    /*
     * TLS to `https://` servers (ignored for `http://` ones). Absent keys keep the output free of
     * TLS fields, so a transport without them reads exactly as before.
     */
    /** SNI and the name the certificate must match; absent = the URL's host (no SNI for an IP). */
    serverName: z.string().min(1).optional(),
    /** CA certificates (file paths or PEM text) that replace Node's bundled list. */
    rootCAs: z.array(z.string().min(1)).optional(),
    certificates: z.array(nullAsEmpty(transportCertificate)).optional(),
    /**
     * Absent = false. Logged as a warning once per transport when on (unless peerCertURI is set:
     * the chain is then still verified, only the hostname check is skipped, as in Traefik).
     */
    insecureSkipVerify: z.boolean().optional(),
    /**
     * The URI SAN the server's certificate must carry (Traefik's key; its Consul Connect
     * transports set the service's SPIFFE ID). Compared ignoring case and the authority.
     */
    peerCertURI: z
      .string()
      .min(1)
      .refine((v) => URL.canParse(v), { error: 'must be an absolute URI such as spiffe://domain/path' })
      .optional(),
    /**
     * The subject alternative names one of which the server's certificate must carry instead of
     * the host name (its chain still verified): URIs (with `://`) among its URI SANs, host names
     * among its DNS SANs, wildcards as Go's. Traefik's, which its Gateway provider sets from a
     * BackendTLSPolicy's `validation.subjectAltNames` (traefik/traefik#13249).
     */
    peerCertSANs: z.array(z.string().min(1)).min(1).optional(),
    /** Traefik's (pkg/server/service/transport.go createTLSConfig). Absent = Node's defaults: TLS 1.2 to 1.3. */
    minVersion: tlsVersion.optional(),
    maxVersion: tlsVersion.optional(),
    /**
     * Go cipher suite names offered to servers (Traefik's createTLSConfig; the names of
     * tls.options). Absent = Node's defaults. TLS 1.3 suites stay all offered unless some are listed.
     */
    cipherSuites: z.array(cipherSuite).optional(),
    /** `https://` servers: offer HTTP/1.1 only in ALPN (absent = false: h2 when the server picks it). */
    disableHTTP2: z.boolean().optional(),
    /**
     * Ours (Traefik sends it to TCP servers only, traefik#10608): a PROXY protocol header naming
     * the client first on each connection to the servers; an empty section means version 2.
     * Such connections are not kept idle for other clients.
     */
    proxyProtocol: nullAsEmpty(
      strictObject({
        version: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 or 2' }).default(2),
      }),
    ).optional(),
    /**
     * Traefik's `spiffe` (pkg/server/service/transport.go createTLSConfig): TLS to `https://`
     * servers with the process's SPIFFE identity (upstream/spiffe.ts); no other TLS key with it.
     */
    spiffe: spiffeSection.optional(),
  },
  [],
).superRefine((t, ctx) => {
  if (
    t.minVersion !== undefined &&
    t.maxVersion !== undefined &&
    TLS_VERSIONS.indexOf(t.minVersion) > TLS_VERSIONS.indexOf(t.maxVersion)
  ) {
    ctx.addIssue({ code: 'custom', message: 'maxVersion is below minVersion', path: ['maxVersion'] });
  }
});

const http = strictObject({
  routers: z.record(z.string(), nullAsEmpty(router)).default({}),
  services: z.record(z.string(), nullAsEmpty(service)).default({}),
  middlewares: z.record(z.string(), middleware).default({}),
  serversTransports: z.record(z.string(), nullAsEmpty(serversTransportSchema)).default({}),
});

export const dynamicConfigSchema = strictObject({
  http: nullAsEmpty(http).prefault({}),
  /** Absent when the configuration has none (most have none: HTTP-only code never looks). */
  tcp: nullAsEmpty(tcpSectionSchema).optional(),
  udp: nullAsEmpty(udpSectionSchema).optional(),
  tls: nullAsEmpty(tlsSectionSchema).prefault({}),
});

export { DYNAMIC_SECTIONS, emptyDynamicConfig, HTTP_SECTIONS, type HttpSection } from './sections.ts';

export type DynamicConfig = z.output<typeof dynamicConfigSchema>;
export type DynamicConfigInput = z.input<typeof dynamicConfigSchema>;
export type RouterConfig = DynamicConfig['http']['routers'][string];
export type {
  CookieConfig,
  FailoverConfig,
  HashOnConfig,
  HealthCheckConfig,
  HighestRandomWeightConfig,
  LoadBalancerConfig,
  LoadBalancerStrategy,
  MirroringConfig,
  PassiveHealthCheckConfig,
  ServerConfig,
  ServiceConfig,
  StickyConfig,
  TimeoutsConfig,
  WeightedConfig,
} from './services.ts';
export type ServersTransportConfig = DynamicConfig['http']['serversTransports'][string];
export type TransportCertificateConfig = z.output<typeof transportCertificate>;
