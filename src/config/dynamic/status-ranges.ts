import { z } from 'zod';
import { parseStatusRange, type StatusRange } from './status-range.ts';

const EXPECTED = 'a status (503), a class (5xx), a range (500-504) or a list of them';

export { inRanges, parseStatusRange, type StatusRange } from './status-range.ts';

const one = z.unknown().transform((v, ctx): StatusRange => {
  const r = parseStatusRange(v);
  if ('error' in r) {
    ctx.addIssue({ code: 'custom', message: r.error, params: { expected: EXPECTED } });
    return z.NEVER;
  }
  return r;
});

/**
 * A status spec or a list of them, normalised to a list of inclusive ranges. A string holding
 * commas is a list, as Traefik's label decoder (paerser) splits a list value: a label
 * `errors.status=500,501,503,505-599`. (The normaliser splits strings only where the schema is a
 * plain array; this one also takes a single value.) Items of a real list are not split.
 */
export const statusRanges = z
  .union([z.array(z.unknown()), z.unknown()])
  .transform((v) =>
    Array.isArray(v) ? v : typeof v === 'string' && v.includes(',') ? v.split(',').map((s) => s.trim()) : [v],
  )
  .pipe(z.array(one));
