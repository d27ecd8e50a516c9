import { z } from 'zod';
import { parseGoDuration } from '../core/go-duration.ts';

/**
 * Node's timers overflow above 2^31-1 ms and then fire after 1 ms, so a "very long" timeout would
 * silently become an immediate one; refuse it instead.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

export const DURATION_EXPECTED = 'a duration such as 10s, 1m30s, 250ms, or a whole number of seconds';

/**
 * Traefik's durations: a Go duration string (`1m30s`, `250ms`, `0`) or a bare integer meaning
 * seconds (as a YAML number or a string of digits). Returns milliseconds, or an error message.
 */
export function parseDuration(input: unknown): number | { error: string } {
  let ms: number;
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 0) {
      return { error: `invalid duration ${input}: a bare number must be a whole number of seconds` };
    }
    ms = input * 1000;
  } else if (typeof input === 'string') {
    const text = input.trim();
    if (/^\d+$/.test(text)) ms = Number(text) * 1000;
    else if (text.startsWith('-')) return { error: `invalid duration "${input}": must not be negative` };
    else {
      // Go's time.ParseDuration (Traefik's ptypes.Duration falls back to it after the integer).
      try {
        ms = Number(parseGoDuration(text)) / 1e6;
      } catch {
        return { error: `invalid duration "${input}"` };
      }
    }
  } else {
    return { error: `invalid duration: got ${input === null ? 'an empty value' : typeof input}` };
  }
  if (!Number.isFinite(ms) || ms > MAX_DURATION_MS) {
    return { error: `duration ${String(input)} is too long (the maximum is 596h31m23s)` };
  }
  return ms;
}

/**
 * A duration that may be negative (`-1ms`, `-1`), as Traefik's `flushInterval` (where negative
 * means "after every write"). Milliseconds, negative kept.
 */
export const signedDuration = z.unknown().transform((value, ctx): number => {
  const negative =
    (typeof value === 'number' && value < 0) || (typeof value === 'string' && value.trim().startsWith('-'));
  const abs =
    typeof value === 'number'
      ? Math.abs(value)
      : typeof value === 'string'
        ? value.trim().replace(/^-/, '')
        : value;
  const r = parseDuration(abs);
  if (typeof r === 'number') return negative ? -r : r;
  ctx.addIssue({ code: 'custom', message: r.error, params: { expected: DURATION_EXPECTED } });
  return z.NEVER;
});

/** A duration in the config, parsed to milliseconds. */
export const duration = z.unknown().transform((value, ctx): number => {
  const r = parseDuration(value);
  if (typeof r === 'number') return r;
  ctx.addIssue({ code: 'custom', message: r.error, params: { expected: DURATION_EXPECTED } });
  return z.NEVER;
});
