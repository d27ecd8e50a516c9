import { copyFields, HeaderList } from '../core/headers.ts';
import { FIELD_VALUE, isResponseHop, TCHAR } from './chars.ts';
import { lowerFieldName } from './field-names.ts';
import { headAt, probeHead } from './head-probe.ts';
import { ParseError } from './parse-error.ts';
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE } from './request-head.ts';

/** Body delimited by the upstream closing the connection (RFC 9112 §6.3 rule 8). */
export const BODY_CLOSE = 3;
export type ResponseBodyKind =
  | typeof BODY_NONE
  | typeof BODY_LENGTH
  | typeof BODY_CHUNKED
  | typeof BODY_CLOSE;

export interface ParsedResponse {
  readonly status: number;
  readonly reason: string;
  readonly versionMinor: 0 | 1;
  readonly headers: HeaderList;
  readonly bodyKind: ResponseBodyKind;
  readonly contentLength: number;
  /** The upstream connection may carry another request after this response. */
  readonly reusable: boolean;
  /**
   * A `WWW-Authenticate` challenge of a scheme that authenticates the connection, not the
   * request (NTLM, Negotiate): see `isConnectionAuthChallenge`.
   */
  readonly connectionAuth: boolean;
  readonly connectionTokens: readonly string[] | null;
  readonly headLength: number;
  /**
   * The head as latin1 text from its first byte, and perhaps more of the same read after it (the
   * first KiB of it: head-probe.ts): a small body that follows is `text.slice(headLength, …)`
   * when the text reaches that far. Its slices are the field values already.
   */
  readonly text: string;
}

/**
 * The fields of the head being parsed, copied out at their size (copyFields). Safe to share: a
 * parse runs to its end before the next one starts. Slots past the last head's fields keep
 * earlier, longer heads' strings (and the head strings they are slices of) until overwritten:
 * bounded by the longest head seen, and cheaper than clearing them per head.
 */
const scratchNames: string[] = [];
const scratchLnames: string[] = [];
const scratchValues: string[] = [];

/**
 * Parses an upstream response head from `buf[start..end)`. null = incomplete. A ParseError here
 * always becomes a 502 and the upstream socket is destroyed (never reused after anything odd).
 * `requestMethod` decides framing for HEAD (RFC 9112 §6.3 rule 1).
 */
export function parseResponseHead(
  buf: Buffer,
  start: number,
  end: number,
  requestMethod: string,
  maxHeaderBytes: number,
): ParsedResponse | ParseError | null {
  const head = probeHead(buf, start, end);
  const at = headAt;
  if (at === -1) {
    if (end - start > maxHeaderBytes) return new ParseError(502, 'upstream response head too large');
    const lf = buf.indexOf(10, start);
    if (lf !== -1 && lf < end && (lf === start || buf[lf - 1] !== 13)) return new ParseError(502, 'bare LF');
    // An HTTP/0.9-style or garbage response never produces a head; fail fast on a wrong prefix.
    const n = Math.min(end - start, 5);
    if (buf.latin1Slice(start, start + n) !== 'HTTP/'.slice(0, n)) {
      return new ParseError(502, 'upstream did not answer HTTP/1.x');
    }
    return null;
  }
  const headLength = at + 4 - start;
  if (headLength > maxHeaderBytes) return new ParseError(502, 'upstream response head too large');
  const lineEnd = head.indexOf('\r\n');
  // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
  let versionMinor: 0 | 1;
  if (head.startsWith('HTTP/1.1 ')) versionMinor = 1;
  else if (head.startsWith('HTTP/1.0 ')) versionMinor = 0;
  else return new ParseError(502, 'upstream did not answer HTTP/1.x');
  const d0 = head.charCodeAt(9) - 0x30;
  const d1 = head.charCodeAt(10) - 0x30;
  const d2 = head.charCodeAt(11) - 0x30;
  if (!(d0 >= 1 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9)) {
    return new ParseError(502, 'invalid status code');
  }
  const status = d0 * 100 + d1 * 10 + d2;
  if (status > 599) return new ParseError(502, 'invalid status code');
  let reason = '';
  if (lineEnd > 12) {
    if (head.charCodeAt(12) !== 0x20) return new ParseError(502, 'invalid status line');
    reason = head.slice(13, lineEnd);
    for (let i = 0; i < reason.length; i++) {
      if (FIELD_VALUE[reason.charCodeAt(i)] !== 1) return new ParseError(502, 'invalid reason phrase');
    }
  } else if (lineEnd !== 12) {
    return new ParseError(502, 'invalid status line');
  }

  const names = scratchNames;
  const lnames = scratchLnames;
  const values = scratchValues;
  let n = 0;
  let cl: string | undefined;
  let clConflict = false;
  let te: string | undefined;
  let connection: string | undefined;
  let connectionAuth = false;
  let pos = lineEnd + 2;
  // The field block as the client gets it (HeaderList.raw): while every line is regular, and
  // the hop-by-hop ones (at most two, nginx's `Connection: keep-alive`) are cut out of it.
  let regular = true;
  let cut0 = -1;
  let cut0End = -1;
  let cut1 = -1;
  let cut1End = -1;
  // `head` may go on past the head (body bytes of the same read): fields end here. The field
  // lines are scanned in `buf` (head[i] is buf[start + i]: latin1 maps each byte to itself), whose
  // bytes are read without a string's representation check per character; slices come from
  // `head`. In a loop over a typical nginx head, ~5–7 % faster than `head.charCodeAt` (the rest
  // of 5b097fb's ~11 % is Content-Length read in one pass, decimal15).
  const headEnd = at + 2 - start;
  while (pos < headEnd) {
    // One pass per field line: the name's token bytes, the colon, the value's bytes up to CR LF
    // (what fieldNameEnd and fieldValue check, without a search for the line's end first).
    let i = pos;
    while (i < headEnd && TCHAR[buf[start + i]!] === 1) i++;
    if (i === pos || i === headEnd || buf[start + i]! !== 0x3a) {
      return new ParseError(502, 'invalid upstream header field');
    }
    const colon = i++;
    let c = 0;
    for (; i < headEnd; i++) {
      c = buf[start + i]!;
      if (c !== 0x20 && c !== 0x09) break;
    }
    const valueStart = i;
    let valueEnd = i;
    for (; i < headEnd; i++) {
      c = buf[start + i]!;
      if (FIELD_VALUE[c] !== 1) break;
      if (c !== 0x20 && c !== 0x09) valueEnd = i + 1;
    }
    // The head ends with CR LF, so a line that reached headEnd without one held a bare CR or LF.
    if (i + 1 >= headEnd || c !== 0x0d || buf[start + i + 1] !== 0x0a) {
      return new ParseError(502, 'invalid upstream header value');
    }
    const eol = i;
    const value = head.slice(valueStart, valueEnd);
    const name = head.slice(pos, colon);
    const lname = lowerFieldName(name);
    // Regular: `Name: value` with one SP and nothing after the value, the form the client's head
    // is rebuilt in (proxy/heads.ts), so that the line relays byte for byte.
    if (regular) {
      if (valueStart !== colon + 2 || buf[start + colon + 1] !== 0x20 || valueEnd !== eol) regular = false;
      else if (isResponseHop(lname)) {
        if (cut0 === -1) {
          cut0 = pos;
          cut0End = eol + 2;
        } else if (cut1 === -1) {
          cut1 = pos;
          cut1End = eol + 2;
        } else regular = false;
      }
    }
    names[n] = name;
    lnames[n] = lname;
    values[n++] = value;
    if (lname === 'content-length') {
      if (cl !== undefined && cl !== value) clConflict = true;
      cl = value;
    } else if (lname === 'transfer-encoding') {
      te = te === undefined ? value : `${te}, ${value}`;
    } else if (lname === 'connection') {
      connection = connection === undefined ? value : `${connection},${value}`;
    } else if (lname === 'www-authenticate' && !connectionAuth) {
      connectionAuth = isConnectionAuthChallenge(value);
    }
    pos = eol + 2;
  }

  let hasClose = false;
  let hasKeepAlive = false;
  let connectionTokens: string[] | null = null;
  // The usual single option needs no splitting.
  if (connection === 'keep-alive' || connection === 'Keep-Alive') hasKeepAlive = true;
  else if (connection === 'close' || connection === 'Close') hasClose = true;
  else if (connection !== undefined) {
    for (const raw of connection.split(',')) {
      const tok = raw.trim().toLowerCase();
      if (tok === 'close') hasClose = true;
      else if (tok === 'keep-alive') hasKeepAlive = true;
      else if (tok !== '') {
        connectionTokens ??= [];
        connectionTokens.push(tok);
      }
    }
  }
  let reusable = !hasClose && (versionMinor === 1 || hasKeepAlive);

  // A Content-Length we would forward must be valid even where it does not frame a body (HEAD, 304).
  const clNumber = cl === undefined ? -1 : decimal15(cl);
  if (cl !== undefined && (clConflict || clNumber < 0)) {
    return new ParseError(
      502,
      clConflict ? 'conflicting upstream Content-Length' : 'invalid upstream Content-Length',
    );
  }
  // Framing, in the order of RFC 9112 §6.3.
  let bodyKind: ResponseBodyKind;
  let contentLength = 0;
  if (requestMethod === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304) {
    bodyKind = BODY_NONE;
  } else if (te !== undefined) {
    const codings = te.split(',');
    const last = codings[codings.length - 1]!.trim().toLowerCase();
    if (last === 'chunked' && codings.length === 1) {
      bodyKind = BODY_CHUNKED;
    } else {
      // Any other coding (gzip, identity, a list): we would have to forward the bytes without
      // their coding label or decode them. Refuse instead of relaying a mislabelled body.
      return new ParseError(502, `unsupported upstream transfer coding ${te}`);
    }
    if (versionMinor === 0) reusable = false;
    // TE with CL: TE wins, and the connection must not be reused (§6.3 rule 3).
    if (cl !== undefined) reusable = false;
  } else if (cl !== undefined) {
    // Checked above: one value, 1-15 digits.
    contentLength = clNumber;
    bodyKind = contentLength === 0 ? BODY_NONE : BODY_LENGTH;
  } else {
    bodyKind = BODY_CLOSE;
    reusable = false;
  }
  // Nothing is appended to a response's fields on the plain path: no room.
  const headers = new HeaderList(copyFields(names, n, 0), copyFields(lnames, n, 0), copyFields(values, n, 0));
  // Fields named by Connection are dropped on the way out too: not relayed raw (rare).
  if (regular && connectionTokens === null) {
    const from = lineEnd + 2;
    headers.raw =
      cut0 === -1
        ? head.slice(from, headEnd)
        : cut1 === -1
          ? head.slice(from, cut0) + head.slice(cut0End, headEnd)
          : head.slice(from, cut0) + head.slice(cut0End, cut1) + head.slice(cut1End, headEnd);
  }
  return {
    status,
    reason,
    versionMinor,
    headers,
    bodyKind,
    contentLength,
    reusable,
    connectionAuth,
    connectionTokens,
    headLength,
    text: head,
  };
}

/**
 * A `WWW-Authenticate` value whose scheme authenticates the connection it is answered on (NTLM,
 * Negotiate/Kerberos, as IIS does), case-insensitive (RFC 9110 §11.1): Traefik's
 * containsNTLMorNegotiate (pkg/server/service/transport.go), which reads the scheme token of each
 * field value.
 */
export function isConnectionAuthChallenge(value: string): boolean {
  const sp = value.indexOf(' ');
  const scheme = sp === -1 ? value : value.slice(0, sp);
  const l = scheme.length;
  return (l === 4 || l === 9) && /^(?:ntlm|negotiate)$/i.test(scheme);
}

/**
 * The value of 1 to 15 ASCII digits and nothing else (what /^\d{1,15}$/ matches), or -1: checked
 * and converted in one pass, without the RegExp call or `Number`'s general string-to-double.
 * 15 digits stay below 2^53, so the sum is exact.
 */
function decimal15(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}
