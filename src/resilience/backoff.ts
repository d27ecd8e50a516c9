/**
 * Delay before retry number `attempt` (1 = the first retry): exponential from `initialIntervalMs`
 * with the jitter of cenkalti/backoff (randomization factor 0.5, which Traefik's retry
 * middleware uses), so clients that failed together do not retry together.
 *
 * The interval is capped at `maxMs` before the jitter is applied and the result is clamped to
 * `maxMs` again, so `maxMs` is a hard bound (cenkalti lets the jitter exceed its MaxInterval by
 * half; a caller here uses `maxMs` as a deadline, which must hold).
 *
 * `multiplier` defaults to 2. Traefik itself uses 2^(1/(attempts-1)), so that the interval only
 * doubles over all attempts; pass that to reproduce Traefik's progression exactly.
 *
 * @param random uniform in [0, 1), injected so that tests and callers control the draw.
 */
export function backoffMs(
  attempt: number,
  initialIntervalMs: number,
  random: number,
  maxMs = 30_000,
  multiplier = 2,
): number {
  // The first attempt is not a retry and is never delayed.
  if (!(initialIntervalMs > 0) || !(attempt >= 1) || !(maxMs > 0)) return 0;
  let interval = initialIntervalMs * multiplier ** (attempt - 1);
  // Overflow to Infinity (attempt in the thousands) or NaN must still yield the cap.
  if (!(interval < maxMs)) interval = maxMs;
  const jittered = interval * (0.5 + random);
  return Math.min(jittered, maxMs);
}
