import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';
import { type Middleware, type RequestControl, SUSPEND } from './middleware.ts';

/** For callers that run no suspending middleware: resuming or leasing is a bug there. */
export const NO_CONTROL: RequestControl = {
  resume: () => {
    throw new Error('resume outside an exchange');
  },
  onEnd: () => {},
  transformBody: () => {},
};

export interface RequestPhaseResult {
  /** Set when a middleware answered by itself; the rest of the chain and the service are skipped. */
  readonly response?: DirectResponse;
  /** How many middlewares must get the response phase: those before the one that answered, or all. */
  readonly ranUpTo: number;
}

// Results for "every middleware passed" are shared and frozen, so the common case allocates nothing.
const PASSED: readonly RequestPhaseResult[] = Array.from({ length: 33 }, (_, n) =>
  Object.freeze({ ranUpTo: n }),
);

/** Runs onRequest in order until one returns a DirectResponse. */
export function runRequestPhase(
  chain: readonly Middleware[],
  req: RequestHead,
  ctl: RequestControl = NO_CONTROL,
): RequestPhaseResult {
  const n = chain.length;
  for (let i = 0; i < n; i++) {
    const m = chain[i]!;
    if (m.onRequest === undefined) continue;
    const response = m.onRequest(req, ctl);
    if (response === SUSPEND) throw new Error('a middleware suspended outside an exchange');
    if (response !== undefined) return { response, ranUpTo: i };
  }
  return PASSED[n] ?? { ranUpTo: n };
}

/**
 * Runs onResponse in reverse order over the first `ranUpTo` middlewares, on the upstream response
 * or on a direct response (from a middleware at index `ranUpTo`, or from the proxy).
 */
export function runResponsePhase(
  chain: readonly Middleware[],
  ranUpTo: number,
  req: RequestHead,
  res: ResponseHead,
): void {
  for (let i = ranUpTo - 1; i >= 0; i--) {
    const m = chain[i]!;
    if (m.onResponse !== undefined) m.onResponse(req, res);
  }
}
