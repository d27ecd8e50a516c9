import { z } from 'zod';
import { duration, parseDuration } from '../duration.ts';
import {
  nameList,
  nullAsEmpty,
  routerPriority,
  ruleSyntax,
  spiffeSection,
  strictObject,
  type UnknownKeyParams,
} from '../schema-helpers.ts';
import { registerShape } from '../schema-walk.ts';
import { checkIpOrCidr } from '../static/address.ts';
import { optionalName, routerTlsDomain } from './tls.ts';

/*
 * The dynamic `tcp` and `udp` sections, with Traefik v3's keys (pkg/config/dynamic/tcp_config.go,
 * udp_config.go, tcp_middlewares.go). Keys Traefik has and we lack are reported by name.
 */

/*
 * A server's address is any string, as Traefik decodes it: one that does not split into host and
 * port leaves that server out of its service, with a warning (validate-l4.ts, server-address.ts).
 */
const serverAddress = z.string();

/** A Traefik duration where a negative value means "never" (read here as -1). */
export const signedDuration = z.unknown().transform((value, ctx): number => {
  if (typeof value === 'number' && value < 0) return -1;
  if (typeof value === 'string' && value.trim().startsWith('-')) {
    const r = parseDuration(value.trim().slice(1));
    if (typeof r === 'number') return r === 0 ? 0 : -1;
  }
  const r = parseDuration(value);
  if (typeof r === 'number') return r;
  ctx.addIssue({
    code: 'custom',
    message: r.error,
    params: { expected: 'a duration such as 100ms; negative = never' },
  });
  return z.NEVER;
});

const ipOrCidr = z.string().superRefine((value, ctx) => {
  const error = checkIpOrCidr(value);
  if (error !== undefined) ctx.addIssue({ code: 'custom', message: error });
});

// ---- TCP routers

const tcpRouterTls = strictObject({
  /** Forward the TLS stream as it comes (the backend terminates it). */
  passthrough: z.boolean().default(false),
  /** A name in `tls.options` (termination only); absent = `default`. */
  options: z.string().min(1).optional(),
  certResolver: optionalName,
  domains: z.array(routerTlsDomain).default([]),
});

const tcpRouter = strictObject(
  {
    /** Absent = the default entry points. */
    entryPoints: nameList.optional(),
    rule: z.string().refine((r) => r.trim() !== '', 'rule must not be empty'),
    /** 0 = Traefik's default: the rule's length (-1 for a bare HostSNI(`*`)). */
    priority: routerPriority,
    middlewares: nameList.default([]),
    service: z.string().min(1),
    /** Present = the router matches TLS connections only (terminated, or passed through). */
    tls: nullAsEmpty(tcpRouterTls).optional(),
    ruleSyntax,
  },
  // Traefik v3's TCPRouter (pkg/config/dynamic/tcp_config.go) has no `observability`: an unknown key.
  [],
);

// ---- TCP services

const healthCheck = strictObject({
  /** Probe this port instead of the server's; 0 = the server's, as in Traefik. */
  port: z.preprocess(
    (v) => (v === 0 || v === '0' ? undefined : v),
    z.number().int().min(1).max(65_535).optional(),
  ),
  /** Written once connected. */
  send: z.string().optional(),
  /** The first bytes read must be exactly these. */
  expect: z.string().optional(),
  /**
   * Zero or negative durations load, as in Traefik, which uses its defaults instead (30s, 5s) and
   * logs an error (pkg/healthcheck/healthcheck_tcp.go NewServiceTCPHealthChecker): a warning
   * here, the defaults applied by runtime/build-tcp.ts.
   */
  interval: signedDuration.default(30_000),
  /** Probe interval while a server is down; absent = `interval`, zero or negative = 30s. */
  unhealthyInterval: signedDuration.optional(),
  timeout: signedDuration.default(5_000),
});

const proxyProtocolOut = strictObject({
  /** 1 (text) or 2 (binary); an empty section means 2. */
  version: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 or 2' }).default(2),
});

const tcpServer = strictObject({
  address: serverAddress,
  /** Connect to this server over TLS (the serversTransport's `tls`). */
  tls: z.boolean().default(false),
});

const tcpLoadBalancer = strictObject(
  {
    servers: z.array(nullAsEmpty(tcpServer)).default([]),
    serversTransport: z.string().min(1).optional(),
    healthCheck: nullAsEmpty(healthCheck).optional(),
    /** Deprecated (Traefik v3.5.2): use the serversTransport's. */
    proxyProtocol: nullAsEmpty(proxyProtocolOut).optional(),
    /** Deprecated (Traefik v3.5.2), whole milliseconds: use the serversTransport's. */
    terminationDelay: z.number().int().optional(),
  },
  [],
  {
    deprecated: {
      proxyProtocol: 'serversTransport (tcp.serversTransports.<name>.proxyProtocol)',
      terminationDelay: 'serversTransport (tcp.serversTransports.<name>.terminationDelay)',
    },
  },
);

const weightedService = strictObject({
  name: z.string().min(1),
  weight: z.number().int().nonnegative().default(1),
});

const tcpWeighted = strictObject({
  services: z.array(nullAsEmpty(weightedService)).min(1),
  /**
   * Traefik v3.5's TCPWeightedRoundRobin.HealthCheck (pkg/config/dynamic/tcp_config.go): with
   * `healthCheck: {}` the weighted service follows its children's health, skipping a child whose
   * servers are all down (pkg/tcp/wrr_load_balancer.go SetStatus); without it, every child gets
   * its share. Each child must then have a health check (validate-l4.ts serviceGraph).
   */
  healthCheck: nullAsEmpty(strictObject({})).optional(),
});

function oneOf<L extends z.ZodType, W extends z.ZodType>(lb: L, w: W) {
  return strictObject({
    loadBalancer: nullAsEmpty(lb).optional(),
    weighted: nullAsEmpty(w).optional(),
  }).transform((value, ctx) => {
    const lbv = value.loadBalancer as z.output<L> | undefined;
    const wv = value.weighted as z.output<W> | undefined;
    if ((lbv === undefined) === (wv === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message:
          lbv === undefined
            ? 'a service needs a type'
            : 'a service has exactly one type, found loadBalancer, weighted',
        params: { expected: 'one of loadBalancer, weighted' },
      });
      return z.NEVER;
    }
    return lbv !== undefined
      ? { kind: 'loadBalancer' as const, loadBalancer: lbv }
      : { kind: 'weighted' as const, weighted: wv! };
  });
}

const tcpService = oneOf(tcpLoadBalancer, tcpWeighted);

// ---- TCP middlewares: `{ <type>: {…} }`, normalised to a tagged value as HTTP ones are.

const tcpMiddlewareSchemas = {
  /** Connections from other addresses are closed at once. */
  ipAllowList: strictObject({ sourceRange: z.array(ipOrCidr).min(1, 'list at least one IP or CIDR') }),
  /**
   * At most `amount` open connections per client IP; more are closed at once. 0 or less (0 when
   * unset) lets none in, as Traefik's inflightconn does; validate.ts warns.
   */
  inFlightConn: strictObject({ amount: z.number().int().default(0) }),
} as const;

export type TcpMiddlewareType = keyof typeof tcpMiddlewareSchemas;
export type TcpMiddlewareConfig = {
  [K in TcpMiddlewareType]: { readonly type: K; readonly config: z.output<(typeof tcpMiddlewareSchemas)[K]> };
}[TcpMiddlewareType];

const tcpMiddleware = z.record(z.string(), z.unknown()).transform((entry, ctx): TcpMiddlewareConfig => {
  // Traefik's deprecated spelling reads as ipAllowList.
  const keys = Object.keys(entry).map((k) => (k === 'ipWhiteList' ? 'ipAllowList' : k));
  if (keys.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message:
        keys.length === 0
          ? 'a middleware needs a type'
          : `a middleware has exactly one type, found ${keys.length}`,
      params: { expected: 'exactly one of ipAllowList, inFlightConn' },
    });
    return z.NEVER;
  }
  const raw = Object.values(entry)[0];
  const type = keys[0]!;
  if (!Object.hasOwn(tcpMiddlewareSchemas, type)) {
    const params: UnknownKeyParams = {
      unknownKey: true,
      known: Object.keys(tcpMiddlewareSchemas),
      unsupported: [],
      what: 'TCP middleware type',
    };
    ctx.addIssue({
      code: 'custom',
      message: 'unknown TCP middleware type',
      path: [Object.keys(entry)[0]!],
      params,
    });
    return z.NEVER;
  }
  const t = type as TcpMiddlewareType;
  const r = tcpMiddlewareSchemas[t].safeParse(raw === null ? {} : raw, { reportInput: true });
  if (!r.success) {
    for (const zi of r.error.issues) ctx.addIssue({ ...zi, path: [Object.keys(entry)[0]!, ...zi.path] });
    return z.NEVER;
  }
  return { type: t, config: r.data } as TcpMiddlewareConfig;
});

registerShape(tcpMiddleware, {
  kind: 'object',
  shape: tcpMiddlewareSchemas,
  unsupported: [],
  deprecated: {},
  aliases: { ipWhiteList: 'ipAllowList' },
  removed: {},
});

// ---- TCP serversTransports

const transportCertificate = strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) });

const tcpTransportTls = strictObject(
  {
    /** SNI and the name the certificate must match; absent = the server's host (no SNI for an IP). */
    serverName: z.string().min(1).optional(),
    insecureSkipVerify: z.boolean().default(false),
    /** CA certificates (paths or PEM) that replace node's bundled list. */
    rootCAs: z.array(z.string().min(1)).default([]),
    certificates: z.array(nullAsEmpty(transportCertificate)).default([]),
    /**
     * The URI SAN the server's certificate must carry (Traefik's TLSClientConfig.PeerCertURI,
     * checked by pkg/tls VerifyPeerCertificate as for HTTP serversTransports).
     */
    peerCertURI: z
      .string()
      .min(1)
      .refine((v) => URL.canParse(v), { error: 'must be an absolute URI such as spiffe://domain/path' })
      .optional(),
    /** Traefik's `tls.spiffe` (pkg/tcp/dialer.go DialerManager.Build), as for HTTP transports. */
    spiffe: spiffeSection.optional(),
  },
  // Traefik's TLSClientConfig has no `peerCertSANs`: an unknown key.
  [],
);

export const tcpServersTransportSchema = strictObject(
  {
    /** 0 = no limit. */
    dialTimeout: duration.default(30_000),
    /** TCP keep-alive probes on backend connections; 0 = Go's default 15s, negative = off. */
    dialKeepAlive: signedDuration.default(15_000),
    /** After one side's FIN, how long the other may keep sending; negative = as long as it wants. */
    terminationDelay: signedDuration.default(100),
    proxyProtocol: nullAsEmpty(proxyProtocolOut).optional(),
    tls: nullAsEmpty(tcpTransportTls).optional(),
    /**
     * Ours: close a connection through which nothing passed for this long (a stalled pipe too);
     * 0 = never, as Traefik. One hour by default, as WebSocket tunnels: a client that vanished
     * behind a backend that stopped reading would otherwise hold both sockets for ever.
     */
    idleTimeout: duration.default(3_600_000),
  },
  [],
);

export const tcpSectionSchema = strictObject({
  routers: z.record(z.string(), nullAsEmpty(tcpRouter)).default({}),
  services: z.record(z.string(), nullAsEmpty(tcpService)).default({}),
  middlewares: z.record(z.string(), tcpMiddleware).default({}),
  serversTransports: z.record(z.string(), nullAsEmpty(tcpServersTransportSchema)).default({}),
});

// ---- UDP

const udpServer = strictObject({ address: serverAddress });
const udpLoadBalancer = strictObject({ servers: z.array(nullAsEmpty(udpServer)).default([]) });
const udpWeighted = strictObject({ services: z.array(nullAsEmpty(weightedService)).min(1) });

const udpRouter = strictObject({
  /** Absent = every UDP entry point. */
  entryPoints: nameList.optional(),
  service: z.string().min(1),
});

export const udpSectionSchema = strictObject({
  routers: z.record(z.string(), nullAsEmpty(udpRouter)).default({}),
  services: z.record(z.string(), nullAsEmpty(oneOf(udpLoadBalancer, udpWeighted))).default({}),
});

export { TCP_SECTIONS, UDP_SECTIONS } from './sections.ts';

export type TcpSectionConfig = z.output<typeof tcpSectionSchema>;
export type UdpSectionConfig = z.output<typeof udpSectionSchema>;
export type TcpRouterConfig = TcpSectionConfig['routers'][string];
export type TcpServiceConfig = TcpSectionConfig['services'][string];
export type TcpLoadBalancerConfig = z.output<typeof tcpLoadBalancer>;
export type TcpServersTransportConfig = z.output<typeof tcpServersTransportSchema>;
export type TcpHealthCheckConfig = z.output<typeof healthCheck>;
export type UdpRouterConfig = UdpSectionConfig['routers'][string];
export type UdpServiceConfig = UdpSectionConfig['services'][string];
