/** The HTTP/2 client connection preface (RFC 9113 §3.4), sent first by a client with prior knowledge. */
export const H2_PREFACE: Buffer = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const PREFACE_NO = 0;
/** What arrived so far is a strict prefix of the preface: wait for more bytes. */
export const PREFACE_PARTIAL = 1;
export const PREFACE_FULL = 2;
export type PrefaceMatch = typeof PREFACE_NO | typeof PREFACE_PARTIAL | typeof PREFACE_FULL;

/**
 * Whether `buf[start..end)`, the first bytes of a connection, open an HTTP/2 connection (h2c with
 * prior knowledge). An HTTP/1.1 request can never start with the preface: `PRI` is no method we
 * accept and `HTTP/2.0` no version.
 */
export function matchPreface(buf: Buffer, start: number, end: number): PrefaceMatch {
  const n = Math.min(end - start, H2_PREFACE.length);
  for (let i = 0; i < n; i++) if (buf[start + i] !== H2_PREFACE[i]) return PREFACE_NO;
  return n === H2_PREFACE.length ? PREFACE_FULL : PREFACE_PARTIAL;
}
