/**
 * Request text arrives as latin1 "byte strings" (one char per wire byte); rule values are JS
 * strings. Traefik compares Go strings, i.e. UTF-8 bytes, so literal rule values are turned into
 * byte strings once at compile time and compared without decoding anything per request.
 */

export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The UTF-8 bytes of `s`, one char per byte. Identity for ASCII. */
export function toByteString(s: string): string {
  return isAscii(s) ? s : Buffer.from(s, 'utf8').toString('latin1');
}

/**
 * A byte string read as UTF-8 text, for regexes (Go's regexp reads input as UTF-8 runes; invalid
 * bytes become U+FFFD there and here). ASCII is returned as is, without copying.
 */
export function byteStringToText(s: string): string {
  return isAscii(s) ? s : Buffer.from(s, 'latin1').toString('utf8');
}

export function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}
