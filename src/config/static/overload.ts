import { z } from 'zod';
import { duration } from '../duration.ts';
import { strictObject } from '../schema-helpers.ts';

/**
 * Ours (Traefik has no overload protection; Envoy's overload manager is the model): the static
 * `overload` section, process-wide. Each limit turns off with 0. What happens over each limit is
 * in docs/architecture.md, "Overload".
 */
export const overloadSchema = strictObject({
  /** Shed new requests (503) while the event loop lags more than this. */
  maxEventLoopDelay: duration.default(500),
  /** Shed new requests (503) while the V8 heap in use is above this share of V8's heap limit. */
  maxHeapUsedRatio: z.number().min(0).max(1).default(0.9),
  /** Request-body bytes all requests in flight may hold at once; over it, a request with a body gets 503. */
  maxRequestBodyBytes: z
    .number()
    .int()
    .nonnegative()
    .default(128 * 1024 * 1024),
  /** `Retry-After` of those 503s, rounded up to whole seconds. */
  retryAfter: duration.refine((ms) => ms > 0, 'must be greater than 0').default(1000),
});

export type OverloadConfig = z.output<typeof overloadSchema>;

/** The limits of a configuration without an `overload` section. */
export function defaultOverload(): OverloadConfig {
  return overloadSchema.parse({});
}
