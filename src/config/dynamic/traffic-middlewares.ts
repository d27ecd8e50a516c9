import { z } from 'zod';
import { duration } from '../duration.ts';
import { strictObject } from '../schema-helpers.ts';
import { checkIpOrCidr } from '../static/address.ts';
import { clientTls } from './client-tls.ts';
import { traefikStatusRanges } from './status-ranges.ts';

/*
 * Middlewares that shape traffic and guard services: circuitBreaker, retry, rateLimit and
 * inFlightReq, with Traefik v3's keys (`pkg/config/dynamic/middlewares.go`) plus ours, marked.
 */

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const ipOrCidr = z.string().superRefine((value, ctx) => {
  const error = checkIpOrCidr(value);
  if (error !== undefined) ctx.addIssue({ code: 'custom', message: error });
});

export const ipStrategy = strictObject({
  /** Take the depth-th address from the right of X-Forwarded-For (0 = the peer address). */
  depth: z.number().int().nonnegative().default(0),
  /** Walk X-Forwarded-For from the right and take the first address not in these. */
  excludedIPs: z.array(ipOrCidr).default([]),
  /**
   * Group IPv6 clients by this prefix length (0 after parsing = whole address). Traefik's
   * IPStrategy.Get (pkg/config/dynamic/middlewares.go) checks a set value (`*int`) only where it is
   * used, with a depth or without excludedIPs: there 0, a negative value or one over 128 is its
   * error, which fails the middleware (its routers disabled); beside excludedIPs (PoolStrategy)
   * it is never read.
   */
  ipv6Subnet: z.number().int().optional(),
}).transform((s, ctx) => {
  const n = s.ipv6Subnet;
  const used = s.depth > 0 || s.excludedIPs.length === 0;
  if (n !== undefined && used && (n <= 0 || n > 128)) {
    ctx.addIssue({
      code: 'custom',
      path: ['ipv6Subnet'],
      message: `invalid IPv6 subnet ${n} value, should be greater to 0 and lower or equal to 128`,
    });
  }
  return { ...s, ipv6Subnet: n !== undefined && used ? n : 0 };
});

/**
 * Which requests share a limit. Traefik: at most one of the three; none = the peer address.
 * X-Forwarded-For is read after the entry point has overwritten it for untrusted peers, so a
 * client cannot choose its own key.
 */
const sourceCriterion = strictObject({
  ipStrategy: ipStrategy.optional(),
  // An empty one is not set, as Traefik's GetSourceExtractor tests `RequestHeaderName == ""`
  // (pkg/middlewares/middleware.go).
  requestHeaderName: z
    .string()
    .refine((s) => s === '' || TOKEN.test(s), 'must be a valid header field name')
    .transform((s) => (s === '' ? undefined : s))
    .optional(),
  requestHost: z.boolean().default(false),
}).superRefine((v, ctx) => {
  const set = [v.ipStrategy !== undefined, v.requestHeaderName !== undefined, v.requestHost].filter(Boolean);
  if (set.length > 1) {
    ctx.addIssue({
      code: 'custom',
      message: 'only one of ipStrategy, requestHeaderName and requestHost may be set',
    });
  }
});

export type SourceCriterionConfig = z.output<typeof sourceCriterion>;

export const CircuitBreakerSchema = z.strictObject({
  expression: z.string().min(1, 'expression must not be empty'),
  checkPeriod: duration.default(100),
  fallbackDuration: duration.default(10_000),
  recoveryDuration: duration.default(10_000),
  responseCode: z.number().int().min(100).max(599).default(503),
  /** Ours: one breaker per server; a tripped server is skipped instead of failing the route. */
  perServer: z.boolean().default(false),
});

export const RetrySchema = z
  .strictObject({
    attempts: z.number().int().min(1, 'attempts must be at least 1'),
    /** None by default: the next try goes at once (Traefik's ZeroBackOff). */
    initialInterval: duration.default(0),
    /** Also retry responses with these statuses (Traefik v3.7+). Absent = network errors only. */
    status: traefikStatusRanges.optional(),
    disableRetryOnNetworkError: z.boolean().default(false),
    /** Retry POST, PATCH and LOCK too on a listed status (their side effect may repeat). */
    retryNonIdempotentMethod: z.boolean().default(false),
    /** How long retrying may go on: no new try once this has passed since the first (0 = none). */
    timeout: duration.default(0),
    /**
     * Request bodies up to this size are kept so that a retry can send them again; -1 = no limit.
     * Traefik's dynamic.RetryDefaultMaxRequestBodyBytes (2 MiB) by default.
     */
    maxRequestBodyBytes: z
      .number()
      .int()
      .min(-1)
      .default(2 * 1024 * 1024),
    /** Ours: at most this share of the requests in flight may be retries (Envoy's retry budget). */
    budget: strictObject({
      percent: z.number().min(0).max(100).default(20),
      minConcurrent: z.number().int().nonnegative().default(3),
    }).prefault({}),
  })
  .refine((r) => !(r.disableRetryOnNetworkError && (r.status === undefined || r.status.length === 0)), {
    // As Traefik's retry New refuses it.
    message: 'retry middleware requires at least HTTP status codes or retry on TCP',
    path: ['status'],
  });

/** `host:port`, as go-redis takes its addresses. */
const redisEndpoint = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+):\d{1,5}$/, 'must be host:port (an IPv6 address in brackets)');

/**
 * Traefik v3.4's rateLimit.redis: the buckets live in Redis and every proxy using it shares them.
 * Ours: one connection per middleware (commands pipelined), so the pool sizes are read and
 * ignored; several endpoints are tried in order (failover), not as a Redis Cluster.
 */
const redis = strictObject({
  endpoints: z.array(redisEndpoint).min(1).default(['localhost:6379']),
  tls: clientTls.optional(),
  username: z.string().min(1).optional(),
  password: z.string().optional(),
  db: z.number().int().nonnegative().default(0),
  poolSize: z.number().int().nonnegative().default(0),
  minIdleConns: z.number().int().nonnegative().default(0),
  maxActiveConns: z.number().int().nonnegative().default(0),
  /** A command without an answer for this long fails (writing included). */
  readTimeout: duration.default(3000),
  writeTimeout: duration.default(3000),
  dialTimeout: duration.default(5000),
  /** Ours: when Redis fails, let requests through (true) or answer 500 as Traefik does (false). */
  failOpen: z.boolean().default(false),
});

export const RateLimitSchema = strictObject({
  /** Requests per period on average; 0 = no limit. */
  average: z.number().nonnegative().default(0),
  /**
   * 0 means one second, as in Traefik's ratelimiter `New` (a negative duration is an error); made
   * so here, once, for the local and the Redis limiter.
   */
  period: duration.default(1000).transform((ms) => (ms === 0 ? 1000 : ms)),
  /** Below 1 (0 included) means 1, as in Traefik's ratelimiter `New`; made so here, once. */
  burst: z
    .number()
    .int()
    .default(1)
    .transform((n) => Math.max(n, 1)),
  sourceCriterion: sourceCriterion.optional(),
  redis: redis.optional(),
});

export const InFlightReqSchema = z.strictObject({
  /** 0 or less (0 when unset) lets no request in, as in Traefik (oxy's connlimit); validate.ts warns. */
  amount: z.number().int().default(0),
  sourceCriterion: sourceCriterion.optional(),
  /** Ours: requests over the limit wait in a bounded queue instead of being rejected at once. */
  queue: z
    .strictObject({
      size: z.number().int().nonnegative().default(0),
      timeout: duration.default(10_000),
    })
    .optional(),
});

export type CircuitBreakerConfig = z.output<typeof CircuitBreakerSchema>;
export type RetryConfig = z.output<typeof RetrySchema>;
export type RateLimitConfig = z.output<typeof RateLimitSchema>;
export type InFlightReqConfig = z.output<typeof InFlightReqSchema>;
