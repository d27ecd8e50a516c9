/*
 * Status ranges without their schema (status-ranges.ts): the proxy and the errors middleware match
 * statuses in a process that never loads `zod` (docs/performance.md, "Memory at rest").
 */

import { goAtoiError } from '../../core/go-string.ts';

/** An inclusive range of HTTP status codes. */
export interface StatusRange {
  readonly from: number;
  readonly to: number;
}

/**
 * One status spec: `503`, `"503"`, `"5xx"` or `"500-504"`. Traefik's own keys take single codes
 * or Go-style `"500-599"` strings (errors middleware, retry status); the class form is Caddy's and
 * only our own keys take it (`classes`): Traefik's NewHTTPCodeRanges refuses `5xx` (Atoi).
 * The numbers are read as Traefik's types.NewHTTPCodeRanges reads them (pkg/types/
 * http_code_range.go): strconv.Atoi of each side of the `-`, nothing checked beyond that, so
 * `"400-999"` or `"0-599"` load (a status is always 100-999 on the wire), and a range whose
 * ends are reversed loads and never matches. Spaces around the parts are allowed here (Atoi
 * refuses them).
 */
export function parseStatusRange(input: unknown, classes = true): StatusRange | { error: string } {
  const text = typeof input === 'number' ? String(input) : typeof input === 'string' ? input.trim() : null;
  if (text === null) return { error: `invalid status ${JSON.stringify(input)}` };
  let m = classes ? /^([1-5])xx$/i.exec(text) : null;
  if (m !== null) {
    const c = Number(m[1]) * 100;
    return { from: c, to: c + 99 };
  }
  // Go's Atoi takes a leading '+'; a '-' sign cannot survive the split on '-'.
  m = /^\+?(\d{1,18})(?:\s*-\s*\+?(\d{1,18}))?$/.exec(text);
  if (m === null) return { error: `invalid status "${text}"` };
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  return { from, to };
}

export function inRanges(ranges: readonly StatusRange[], status: number): boolean {
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    if (status >= r.from && status <= r.to) return true;
  }
  return false;
}

/**
 * Traefik's types.NewHTTPCodeRanges (pkg/types/http_code_range.go), exactly: each block split on
 * `-`, its first two parts read with strconv.Atoi (one part: both ends), nothing else checked; the
 * first error fails the whole list, with Atoi's text.
 */
export function goHttpCodeRanges(blocks: readonly string[]): StatusRange[] | { error: string } {
  const out: StatusRange[] = [];
  for (const block of blocks) {
    const codes = block.split('-');
    const low = codes[0]!;
    const high = codes[1] ?? low;
    const e = goAtoiError(low) ?? goAtoiError(high);
    if (e !== undefined) return { error: e };
    out.push({ from: Number(low), to: Number(high) });
  }
  return out;
}
