import type { Timed } from '../core/ticker.ts';
import type { EntryPointContext } from '../proxy/entry-point-context.ts';

/** `armStreamTimers` armed nothing: neither timeout is set. */
export const UNTIMED = -1;

/**
 * The timers of a client's HTTP/2 stream (both engines; a tunnel has none): readTimeout bounds
 * the request body and, from the request's start, the wait for the response head (a frozen
 * backend); writeTimeout the whole stream. `t.deadline` becomes the earlier of the two and `t`
 * goes on the ticker. Returns writeTimeout's deadline on the ticker's clock (0: none), or
 * UNTIMED when neither timeout is set (nothing armed).
 */
export function armStreamTimers(ctx: EntryPointContext, t: Timed): number {
  const rt = ctx.readTimeoutMs;
  const wt = ctx.writeTimeoutMs;
  if (rt <= 0 && wt <= 0) return UNTIMED;
  const now = ctx.ticker.now;
  const writeBy = wt > 0 ? now + wt : 0;
  t.deadline = rt > 0 ? now + rt : 0;
  if (writeBy !== 0 && (t.deadline === 0 || writeBy < t.deadline)) t.deadline = writeBy;
  ctx.ticker.add(t);
  return writeBy;
}
