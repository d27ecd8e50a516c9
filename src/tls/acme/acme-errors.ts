/**
 * What can go wrong talking to an ACME server. A problem document (RFC 7807, RFC 8555 §6.7) keeps
 * its `type` and `detail` so that logs say what the CA said; transport failures keep their cause.
 */

export const ACME_ERROR_PREFIX = 'urn:ietf:params:acme:error:';

export interface AcmeProblem {
  readonly type: string;
  readonly detail?: string;
  readonly status?: number;
  readonly subproblems?: readonly AcmeProblem[];
}

export class AcmeProblemError extends Error {
  /** Full URN, e.g. `urn:ietf:params:acme:error:badNonce`. */
  readonly type: string;
  readonly detail: string;
  /** HTTP status of the response that carried it (0 when it came inside a challenge or authorization). */
  readonly status: number;
  readonly subproblems: readonly AcmeProblem[];
  /** Milliseconds the server asked us to wait (Retry-After), when it did. */
  readonly retryAfterMs: number | undefined;

  constructor(problem: AcmeProblem, status: number, retryAfterMs?: number) {
    const detail = problem.detail ?? '';
    const subs = problem.subproblems ?? [];
    const subText = subs.map((s) => `; ${s.type}: ${s.detail ?? ''}`).join('');
    super(`ACME ${problem.type}${detail === '' ? '' : `: ${detail}`}${subText}`);
    this.name = 'AcmeProblemError';
    this.type = problem.type;
    this.detail = detail;
    this.status = status;
    this.subproblems = subs;
    this.retryAfterMs = retryAfterMs;
  }

  /** True for `urn:ietf:params:acme:error:<short>`. */
  is(short: string): boolean {
    return this.type === ACME_ERROR_PREFIX + short;
  }
}

/** The server could not be reached, answered garbage, or a wait ran out. */
export class AcmeTransportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AcmeTransportError';
  }
}

/** Reads a problem document out of anything; undefined when it is not one. */
export function asProblem(value: unknown): AcmeProblem | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.type !== 'string') return undefined;
  const subproblems = Array.isArray(v.subproblems)
    ? v.subproblems.map(asProblem).filter((p): p is AcmeProblem => p !== undefined)
    : [];
  return {
    type: v.type,
    ...(typeof v.detail === 'string' ? { detail: v.detail } : {}),
    ...(typeof v.status === 'number' ? { status: v.status } : {}),
    subproblems,
  };
}
