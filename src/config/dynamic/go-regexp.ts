import { compileRe2 } from '../../core/re2/index.ts';

// ---------------------------------------------------------------------------------------------
// Go RE2 → JS RegExp. Traefik configs are written for Go's regexp; the same text must mean the
// same thing here or fail loudly, never match something else.

export interface GoRegexp {
  readonly regexp: RegExp;
  /** Capture group names by group number (index 0 unused); undefined for unnamed groups. */
  readonly groupNames: readonly (string | undefined)[];
}

/**
 * Compiles a Go regexp with the project's one translator (`core/re2`, shared with router rules),
 * keeping its capture groups for replacement templates. `extraFlags` (e.g. 'g', 'y') are added.
 */
export function compileGoRegexp(src: string, extraFlags = ''): GoRegexp | { error: string } {
  const r = compileRe2(src, { captures: true, flags: extraFlags });
  if (r.ok) return { regexp: r.regexp, groupNames: r.groupNames };
  const at = r.index > 0 ? ` (at offset ${r.index})` : '';
  return { error: `invalid regular expression ${JSON.stringify(src)}: ${r.message}${at}` };
}
