import { FIELD_VALUE, TCHAR } from './chars.ts';

/** Returned by fieldNameEnd when the name is empty or holds a non-token byte. */
export const BAD_NAME = -1;
/** Returned by fieldNameEnd for whitespace between the name and the colon (RFC 9112 §5.1). */
export const SPACE_BEFORE_COLON = -2;

/**
 * End of the field name that starts at `pos` in `head` (a field line ending at `eol`): the index
 * of its colon, or BAD_NAME / SPACE_BEFORE_COLON. Shared by the request and response parsers.
 */
export function fieldNameEnd(head: string, pos: number, eol: number): number {
  let colon = pos;
  while (colon < eol && TCHAR[head.charCodeAt(colon)] === 1) colon++;
  if (colon === pos) return BAD_NAME;
  if (colon === eol || head.charCodeAt(colon) !== 0x3a) {
    const c = head.charCodeAt(colon);
    return c === 0x20 || c === 0x09 ? SPACE_BEFORE_COLON : BAD_NAME;
  }
  return colon;
}

/**
 * The value of a field line, `head[from..to)` without surrounding whitespace, or null when it
 * holds a byte no field value may hold (CR, LF, NUL, other controls: RFC 9110 §5.5).
 */
export function fieldValue(head: string, from: number, to: number): string | null {
  while (from < to && (head.charCodeAt(from) === 0x20 || head.charCodeAt(from) === 0x09)) from++;
  while (to > from && (head.charCodeAt(to - 1) === 0x20 || head.charCodeAt(to - 1) === 0x09)) to--;
  for (let i = from; i < to; i++) if (FIELD_VALUE[head.charCodeAt(i)] !== 1) return null;
  return head.slice(from, to);
}
