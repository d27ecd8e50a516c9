import type { RateLimitConfig } from '../../config/dynamic/middlewares.ts';
import type { Logger } from '../../core/logger.ts';
import type { DirectResponse, RequestHead } from '../../core/request.ts';
import type { Ticker } from '../../core/ticker.ts';
import { traefikTimings } from '../../resilience/token-bucket.ts';
import type { UpstreamTls } from '../../upstream/transport-tls.ts';
import { goHttpError } from '../http-error.ts';
import { type Middleware, type RequestControl, type RequestPhaseValue, SUSPEND } from '../middleware.ts';
import { delayRequest, tooManyRequests } from '../rate-limit-answer.ts';
import type { SourceKey } from '../source-key.ts';
import { RedisClient, type ReplyHandler, Script, ScriptCall } from './redis-client.ts';
import { RedisError, type RedisReply } from './resp.ts';

/**
 * The token bucket of one key, kept in a Redis hash and updated in one round trip: refill by the
 * time elapsed since the last update (Redis's own clock, so proxies whose clocks differ share one
 * bucket fairly), then take a token if there is one. Same semantics as the local limiter
 * (resilience/token-bucket.ts) and Traefik's script (pkg/middlewares/ratelimiter/lua.go): a new
 * key starts full, the bucket holds `burst` at most, a wait up to the max delay reserves the token
 * (the bucket goes below zero), a longer one takes nothing, and the key expires `ttl` after its
 * last request. Replies {1, µs} when admitted (after that wait, 0 = now), {0, µs} when refused.
 */
export const TOKEN_BUCKET = new Script(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_delay = tonumber(ARGV[4])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens = tonumber(s[1])
local last = tonumber(s[2])
if tokens == nil or last == nil then
  tokens = burst
  last = now
end
if now > last then
  tokens = math.min(burst, tokens + (now - last) * rate)
  last = now
end
local wait = 0
if tokens >= 1 - 1e-9 then
  if tokens > 1 then tokens = tokens - 1 else tokens = 0 end
else
  wait = (1 - tokens) / rate
  if wait <= max_delay then tokens = tokens - 1 end
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'last', string.format('%.17g', last))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local us = math.ceil(wait * 1000)
if wait <= max_delay then return {1, us} end
return {0, us}
`);

/** The shared part: one Redis connection per middleware configuration, kept across reloads. */
export class RedisLimiterState {
  readonly client: RedisClient;
  constructor(
    config: NonNullable<RateLimitConfig['redis']>,
    tls: UpstreamTls | undefined,
    ticker: Ticker,
    logger: Logger,
  ) {
    this.client = new RedisClient(
      {
        endpoints: config.endpoints,
        tls,
        username: config.username,
        password: config.password,
        db: config.db,
        dialTimeoutMs: config.dialTimeout,
        readTimeoutMs: config.readTimeout,
      },
      ticker,
      logger,
    );
  }

  close(): void {
    this.client.close();
  }
}

/**
 * One request waiting for its bucket's answer. The answer may come before onRequest returns (a
 * client that knows Redis is down fails at once): it is then returned instead of suspending,
 * since resuming a request that has not suspended yet does nothing.
 */
class Check implements ReplyHandler {
  readonly #mw: RedisRateLimitMiddleware;
  readonly #ctl: RequestControl;
  suspended = false;
  settled = false;
  result: DirectResponse | undefined = undefined;

  constructor(mw: RedisRateLimitMiddleware, ctl: RequestControl) {
    this.#mw = mw;
    this.#ctl = ctl;
  }

  #settle(r: DirectResponse | undefined): void {
    if (this.suspended) this.#ctl.resume(r);
    else {
      this.settled = true;
      this.result = r;
    }
  }

  onReply(reply: RedisReply): void {
    if (Array.isArray(reply) && reply[0] === 1 && typeof reply[1] === 'number') {
      if (reply[1] === 0) this.#settle(undefined);
      else {
        // Reserved: passes after the wait, as Traefik's ratelimiter ServeHTTP sleeps it.
        this.suspended = true;
        delayRequest(this.#ctl, reply[1] / 1000);
      }
      return;
    }
    if (Array.isArray(reply) && reply[0] === 0 && typeof reply[1] === 'number') {
      this.#mw.rejected++;
      this.#settle(tooManyRequests(reply[1] / 1000));
      return;
    }
    this.onFailure(reply instanceof RedisError ? reply.message : `unexpected reply ${JSON.stringify(reply)}`);
  }

  onFailure(reason: string): void {
    this.#settle(this.#mw.unavailable(reason));
  }
}

/**
 * Traefik's ratelimiter ServeHTTP when the limiter fails (pkg/middlewares/ratelimiter/
 * rate_limiter.go): http.Error, 500, its text and a newline, with the two fields http.Error sets
 * (the access log's downstream_ fields show them, and the client gets nosniff).
 */
// Traefik v3.6's rateLimiter.ServeHTTP marks the span too: observability.SetStatusErrorf(ctx,
// "Could not insert/update bucket").
const BUCKET_FAILED = goHttpError(500, 'Could not insert/update bucket', 'Could not insert/update bucket');

/**
 * Traefik v3.4's rateLimit with `redis`: the bucket of each source lives in Redis, so every proxy
 * sharing that Redis enforces one limit together. One EVALSHA per request; the request is
 * suspended until Redis answers. When Redis fails (down, timeout), `failOpen` (ours) decides:
 * false (default, Traefik's behaviour) answers 500; true lets the request through.
 */
export class RedisRateLimitMiddleware implements Middleware {
  readonly #state: RedisLimiterState;
  readonly #key: SourceKey;
  readonly #prefix: string;
  readonly #args: readonly [number, number, number, number];
  readonly #failOpen: boolean;
  readonly #logger: Logger;
  rejected = 0;
  failures = 0;

  constructor(
    state: RedisLimiterState,
    key: SourceKey,
    config: RateLimitConfig,
    name: string,
    logger: Logger,
  ) {
    this.#state = state;
    this.#key = key;
    // The middleware's name is part of the key: two limits sharing one Redis keep apart buckets,
    // and every proxy running the same configuration shares each of them.
    this.#prefix = `rate:${name}:`;
    // Period and burst come normalised by the rateLimit schema (0 s is 1 s, a burst below 1 is 1).
    const ratePerMs = config.average / config.period;
    const { maxDelayMs, idleMs } = traefikTimings(config.average, config.period);
    this.#args = [ratePerMs, config.burst, idleMs, maxDelayMs];
    this.#failOpen = config.redis?.failOpen ?? false;
    this.#logger = logger;
  }

  onRequest = (req: RequestHead, ctl: RequestControl): RequestPhaseValue => {
    const check = new Check(this, ctl);
    new ScriptCall(
      this.#state.client,
      TOKEN_BUCKET,
      [this.#prefix + this.#key(req)],
      this.#args,
      check,
    ).run();
    if (check.settled) return check.result;
    check.suspended = true;
    return SUSPEND;
  };

  unavailable(reason: string): DirectResponse | undefined {
    this.failures++;
    this.#logger.debug('rateLimit: redis failed', { reason, failOpen: this.#failOpen });
    return this.#failOpen ? undefined : BUCKET_FAILED;
  }
}
