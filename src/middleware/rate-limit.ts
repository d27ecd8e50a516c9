import type { RateLimitConfig } from '../config/dynamic/middlewares.ts';
import type { RequestHead } from '../core/request.ts';
import type { Ticker } from '../core/ticker.ts';
import { TokenBucketLimiter } from '../resilience/token-bucket.ts';
import { loadUpstreamTls, type UpstreamTls } from '../upstream/transport-tls.ts';
import {
  type BuildContext,
  type Middleware,
  type MiddlewareFactory,
  type RequestControl,
  type RequestPhaseValue,
  SUSPEND,
} from './middleware.ts';
import { delayRequest, tooManyRequests } from './rate-limit-answer.ts';
import { RedisLimiterState, RedisRateLimitMiddleware } from './redis/redis-rate-limit.ts';
import { type SourceKey, sourceKey } from './source-key.ts';

/**
 * Traefik's rateLimit: a token bucket per source (`average` per `period`, up to `burst` at once).
 * A request whose token comes within the limiter's `maxDelayMs` waits for it and passes
 * (Traefik's ratelimiter ServeHTTP sleeps the reservation's delay); a longer wait is answered
 * 429 with Retry-After and X-Retry-In (`tooManyRequests`).
 */
export class RateLimitMiddleware implements Middleware {
  readonly #limiter: TokenBucketLimiter;
  readonly #key: SourceKey;
  readonly #ticker: Ticker;
  /** Requests answered 429 (for metrics). */
  rejected = 0;

  constructor(limiter: TokenBucketLimiter, key: SourceKey, ticker: Ticker) {
    this.#limiter = limiter;
    this.#key = key;
    this.#ticker = ticker;
  }

  onRequest = (req: RequestHead, ctl: RequestControl): RequestPhaseValue => {
    // The precise clock, not the tick's: a delay of a few milliseconds is decided on it.
    const wait = this.#limiter.take(this.#key(req), this.#ticker.preciseNow());
    if (wait === 0) return undefined;
    if (wait <= this.#limiter.maxDelayMs) {
      delayRequest(ctl, wait);
      return SUSPEND;
    }
    this.rejected++;
    return tooManyRequests(wait);
  };
}

export const rateLimitFactory: MiddlewareFactory<RateLimitConfig> = {
  type: 'rateLimit',
  create(config, ctx) {
    if (config.redis !== undefined && config.average > 0)
      return createRedisRateLimit(config, config.redis, ctx);
    // A bucket set per router (Traefik's ratelimiter.New runs once per router chain); with
    // `redis` the buckets are the middleware's, as Traefik keys them by its name.
    const limiter = ctx.routerState(
      `rateLimit|${config.average}|${config.period}|${config.burst}`,
      () => new TokenBucketLimiter({ average: config.average, periodMs: config.period, burst: config.burst }),
    );
    return new RateLimitMiddleware(limiter, sourceKey(config.sourceCriterion), ctx.ticker);
  },
};

function createRedisRateLimit(
  config: RateLimitConfig,
  redis: NonNullable<RateLimitConfig['redis']>,
  ctx: BuildContext,
): Middleware | { error: string } {
  let tls: UpstreamTls | undefined;
  const t = redis.tls;
  if (t !== undefined) {
    const r = loadUpstreamTls({
      ...(t.ca === undefined ? {} : { rootCAs: [t.ca] }),
      ...(t.cert === undefined || t.key === undefined
        ? {}
        : { certificates: [{ certFile: t.cert, keyFile: t.key }] }),
      insecureSkipVerify: t.insecureSkipVerify,
    });
    if (!r.ok) return { error: `redis.tls: ${r.message}` };
    tls = r.tls;
  }
  const state = ctx.shared(
    `rateLimit.redis|${JSON.stringify([redis.endpoints, redis.username, redis.password, redis.db, redis.dialTimeout, redis.readTimeout, tls?.id])}`,
    () => new RedisLimiterState(redis, tls, ctx.ticker, ctx.logger),
  );
  return new RedisRateLimitMiddleware(state, sourceKey(config.sourceCriterion), config, ctx.name, ctx.logger);
}
