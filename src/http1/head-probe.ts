/**
 * Finding the end of an HTTP/1.1 head, for the request and the response parsers. The usual head
 * (and often the small body or next request after it) is taken as one latin1 string and searched
 * there: one call into C++ instead of a Buffer search and then a slice. A head longer than the
 * probe is found in the buffer first and sliced to its end.
 */

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** How much of a read is taken as a string to look for the head's end in. */
const HEAD_PROBE_BYTES = 1024;

/**
 * Where the last `probeHead` found the head's CRLFCRLF (an index into the buffer), or -1 when
 * `buf[start..end)` holds no whole head yet. A module field, not a returned pair: no object per
 * head (a parse runs to its end before the next one starts).
 */
export let headAt = -1;

/**
 * The text from `start` on: at least the head up to its last field's CRLF when `headAt` is not
 * -1, perhaps more (the caller stops at `headAt`). Meaningless when `headAt` is -1.
 */
export function probeHead(buf: Buffer, start: number, end: number): string {
  const probeEnd = Math.min(end, start + HEAD_PROBE_BYTES);
  let head = buf.latin1Slice(start, probeEnd);
  let at = head.indexOf('\r\n\r\n');
  if (at !== -1) at += start;
  else if (probeEnd < end) {
    // Past the probe, and never past `end`: the buffer may hold stale bytes after it.
    at = buf.indexOf(CRLFCRLF, start);
    if (at !== -1 && at + 4 <= end) head = buf.latin1Slice(start, at + 2);
  }
  headAt = at === -1 || at + 4 > end ? -1 : at;
  return head;
}
