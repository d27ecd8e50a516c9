import type { RetryConfig } from '../config/dynamic/middlewares.ts';
import { inRanges } from '../config/dynamic/status-range.ts';
import { RetryBudget } from '../resilience/retry-budget.ts';
import type { Middleware, MiddlewareFactory, RequestControl, RetryPolicy } from './middleware.ts';

/**
 * Traefik's retry. It has no phase of its own: the exchange applies the policy around its
 * upstream tries (another server when there is one, exponential backoff with jitter, only what
 * is safe to replay, and never beyond the retry budget).
 */
export const retryFactory: MiddlewareFactory<RetryConfig> = {
  type: 'retry',
  create(config, ctx) {
    const budget = ctx.shared(
      `retry|${config.budget.percent}|${config.budget.minConcurrent}`,
      () => new RetryBudget({ percent: config.budget.percent, minConcurrent: config.budget.minConcurrent }),
    );
    const status = config.status ?? [];
    return {
      retry: {
        attempts: config.attempts,
        initialIntervalMs: config.initialInterval,
        status,
        retriesNoServer: inRanges(status, 503),
        onNetworkError: !config.disableRetryOnNetworkError,
        nonIdempotent: config.retryNonIdempotentMethod,
        windowMs: config.timeout,
        maxBodyBytes: config.maxRequestBodyBytes < 0 ? Number.MAX_SAFE_INTEGER : config.maxRequestBodyBytes,
        budget,
      },
    };
  },
};

/**
 * The marker a route's chain gets right after each `retry` middleware (runtime/build-snapshot.ts
 * liftChain): the exchange learns there where the middlewares that run once per attempt begin
 * (`from`, the index after the marker) and keeps the request as the retry got it. As Traefik's
 * retry (pkg/middlewares/retry/retry.go ServeHTTP) calls `next`, the rest of the chain and the
 * service, once per attempt, each time with a clone of the request as it got it. `rerun` false
 * (no middleware with a request phase after it): nothing to run again, the marker does nothing,
 * and is there only so that a parent router's chain stays a prefix of its children's.
 */
export function retryPoint(from: number, policy: RetryPolicy, rerun: boolean): Middleware {
  if (!rerun) return { onRequest: () => undefined };
  return {
    onRequest: (_req, ctl: RequestControl) => {
      ctl.retryPoint?.(from, policy);
      return undefined;
    },
  };
}
