import { z } from 'zod';
import { parseStatusRange, type StatusRange } from './status-range.ts';

export { inRanges, parseStatusRange, type StatusRange } from './status-range.ts';

function ranges(classes: boolean) {
  const expected = classes
    ? 'a status (503), a class (5xx), a range (500-504) or a list of them'
    : 'a status (503), a range (500-504) or a list of them';
  const one = z.unknown().transform((v, ctx): StatusRange => {
    const r = parseStatusRange(v, classes);
    if ('error' in r) {
      ctx.addIssue({ code: 'custom', message: r.error, params: { expected } });
      return z.NEVER;
    }
    return r;
  });
  return z
    .union([z.array(z.unknown()), z.unknown()])
    .transform((v) =>
      Array.isArray(v)
        ? v
        : typeof v === 'string' && v.includes(',')
          ? v.split(',').map((s) => s.trim())
          : [v],
    )
    .pipe(z.array(one));
}

/**
 * A status spec or a list of them, normalised to a list of inclusive ranges. A string holding
 * commas is a list, as Traefik's label decoder (paerser) splits a list value: a label
 * `errors.status=500,501,503,505-599`. (The normaliser splits strings only where the schema is a
 * plain array; this one also takes a single value.) Items of a real list are not split.
 * Our own keys: a class (`5xx`) is taken too.
 */
export const statusRanges = ranges(true);

/**
 * The same for Traefik's keys (errors, retry, failover.errors status), which it reads with
 * types.NewHTTPCodeRanges (pkg/types/http_code_range.go): strconv.Atoi of each side of a `-`, so
 * a class `5xx` is refused, by the middleware's constructor (the router disabled; the API shows
 * `strconv.Atoi: parsing "5xx": invalid syntax`, admin/traefik-middleware-errors.ts).
 */
export const traefikStatusRanges = ranges(false);
