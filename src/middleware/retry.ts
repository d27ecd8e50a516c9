import type { RetryConfig } from '../config/dynamic/middlewares.ts';
import { inRanges } from '../config/dynamic/status-range.ts';
import { RetryBudget } from '../resilience/retry-budget.ts';
import type { MiddlewareFactory } from './middleware.ts';

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
