/**
 * Serialising heads: the upstream request's fields, the client response's fields, and the heads
 * of responses we produce ourselves. Functions of their inputs (no state, no I/O); an unsettled
 * response list is settled in place first (core/field-values.ts).
 */
import { H1_RESPONSE, settleFields } from '../core/field-values.ts';
import { forwardedForWithPeer } from '../core/forwarded-fields.ts';
import type { HeaderList } from '../core/headers.ts';
import { httpDate } from '../core/http-date.ts';
import type { ResponseHead } from '../core/request.ts';
import { bodyAllowed, statusText } from '../core/status-text.ts';
import { isHopByHop, isResponseHop } from '../http1/chars.ts';
import { BODY_CHUNKED, BODY_LENGTH, CONNECT_TUNNEL, type ParsedRequest } from '../http1/request-head.ts';
import type { UpstreamResponse } from '../upstream/stream.ts';

/**
 * The field lines of a request head sent upstream, hop-by-hop fields left out. `peer` (when not
 * null) is appended to X-Forwarded-For as Traefik's proxy does for each request it writes
 * (pkg/proxy/httputil/proxy.go rewriteRequestBuilder, Go's ReverseProxy): the field's lines
 * joined with ", " and the peer after them, one `X-Forwarded-For` line where the first was; a
 * request without the field gets one with the peer alone, after the others. Nothing is stored:
 * the lines are only written, so each try, mirror copy or tunnel gets exactly one peer.
 */
export function requestFieldLines(headers: HeaderList, peer: string | null): string {
  const { names, lnames, values } = headers;
  let s = '';
  let appended = peer === null;
  for (let i = 0; i < names.length; i++) {
    const ln = lnames[i]!;
    if (isHopByHop(ln)) continue;
    if (peer !== null && ln === 'x-forwarded-for') {
      if (appended) continue; // a later line, joined into the first
      appended = true;
      s += `X-Forwarded-For: ${forwardedForWithPeer(lnames, values, i, peer)}\r\n`;
      continue;
    }
    s += `${names[i]}: ${values[i]}\r\n`;
  }
  if (!appended) s += `X-Forwarded-For: ${peer}\r\n`;
  return s;
}

/**
 * Header fields and framing of the upstream request, rebuilt from the parsed form; the request
 * line and Host come per attempt. Fields named in the client's Connection were removed on
 * arrival (Http1Connection): what carries such a name now was added by us or a middleware.
 * `peer`: appended to X-Forwarded-For (requestFieldLines), or null.
 */
export function upstreamHeadTail(headers: HeaderList, p: ParsedRequest, peer: string | null): string {
  let s = requestFieldLines(headers, peer);
  if (p.bodyKind === BODY_LENGTH) s += `Content-Length: ${p.contentLength}\r\n`;
  else if (p.bodyKind === BODY_CHUNKED) s += 'Transfer-Encoding: chunked\r\n';
  else if (p.method === 'POST' || p.method === 'PUT' || p.method === 'PATCH') s += 'Content-Length: 0\r\n';
  // The one hop-by-hop pair we put back, as Go's reverse proxy does: the handshake of a
  // protocol switch (RFC 9110 §7.8), whose value we accepted (websocket). Not on a CONNECT
  // (Go's transport writes its head without either, nor any framing: net/http transfer.go).
  if (p.upgrade !== null && p.upgrade !== CONNECT_TUNNEL)
    s += `Connection: Upgrade\r\nUpgrade: ${p.upgrade}\r\n`;
  return `${s}\r\n`;
}

/**
 * Header fields of a mirrored copy of the request: like the upstream request's, but framed by
 * Content-Length over the recorded (de-chunked) body, or without a body at all.
 */
export function mirrorHeadTail(
  headers: HeaderList,
  method: string,
  bodyLength: number,
  peer: string | null,
): string {
  let s = requestFieldLines(headers, peer);
  if (bodyLength > 0 || method === 'POST' || method === 'PUT' || method === 'PATCH') {
    s += `Content-Length: ${bodyLength}\r\n`;
  }
  return `${s}\r\n`;
}

/**
 * Whether an upstream response field (lowercase name `ln`) is relayed to the client, over
 * HTTP/1.1 or HTTP/2: not hop-by-hop, not named by the response's Connection (`tokens`), and not
 * Content-Length when the body is re-framed (`dropLength`).
 */
export function relaysResponseField(
  ln: string,
  dropLength: boolean,
  tokens: readonly string[] | null | undefined,
): boolean {
  return !isResponseHop(ln) && !(dropLength && ln === 'content-length') && !tokens?.includes(ln);
}

/** The upstream response's fields minus hop-by-hop ones (and Content-Length when re-framed). */
export function responseFields(res: UpstreamResponse, dropLength: boolean): string {
  // The parser's own text of the fields when nothing changed them since (HeaderList.raw): the
  // same bytes as the loop below makes, in one or two slices of the upstream head.
  const raw = res.headers.raw;
  if (raw !== null && !dropLength) return raw;
  // Fields a response middleware made: CR, LF and NUL become SP, as Go's server writes them
  // (core/field-values.ts); nothing to do for what the upstream parser made.
  if (res.headers.unsettled) settleFields(res.headers, H1_RESPONSE);
  const { names, lnames, values } = res.headers;
  const tokens = res.connectionTokens;
  let s = '';
  for (let i = 0; i < names.length; i++) {
    if (relaysResponseField(lnames[i]!, dropLength, tokens)) s += `${names[i]}: ${values[i]}\r\n`;
  }
  return s;
}

/**
 * The Date line a relayed response gets when its upstream sent none (RFC 9110 §6.6.1; Go's
 * server adds it to every Traefik response), else ''.
 */
export function missingDateLine(headers: HeaderList): string {
  return headers.has('date') ? '' : `Date: ${httpDate()}\r\n`;
}

/** The type Go's http.Error and its server's own refusals write. */
export const PLAIN_TEXT_FIELDS: readonly (readonly [string, string])[] = [
  ['Content-Type', 'text/plain; charset=utf-8'],
];

/**
 * Go's server's own answer to a request it cannot read (net/http server.go, conn.serve):
 * `HTTP/1.1 <code> <text>[: <detail>]`, its errorHeaders (the plain-text type, `Connection:
 * close`), then the same words as the body, which the close ends (no Date, no Content-Length).
 * A transfer coding it does not know gets `501 Not Implemented` and `Unsupported transfer
 * encoding`. `detail` is one of Go's badRequestError texts, or ''.
 */
export function serverRefusal(status: number, detail: string): string {
  const line = `${status} ${statusText(status)}${detail === '' ? '' : `: ${detail}`}`;
  const body = status === 501 ? 'Unsupported transfer encoding' : line;
  return `HTTP/1.1 ${line}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${body}`;
}

/** Head of a response we produce ourselves (errors, redirects, CORS preflight), CRLFCRLF included. */
export function directResponseHead(
  rh: ResponseHead,
  bodyBytes: number,
  close: boolean,
  http10: boolean,
): string {
  let s = `HTTP/1.1 ${rh.status} ${rh.reason}\r\n`;
  if (rh.headers.unsettled) settleFields(rh.headers, H1_RESPONSE);
  const { names, lnames, values } = rh.headers;
  let hasDate = false;
  for (let i = 0; i < names.length; i++) {
    const ln = lnames[i]!;
    if (ln === 'content-length' || ln === 'connection' || ln === 'transfer-encoding') continue;
    if (ln === 'date') hasDate = true;
    s += `${names[i]}: ${values[i]}\r\n`;
  }
  // No Content-Type of our own: Traefik's entry point turns Go's sniffing off
  // (contenttype.DisableAutoDetection), so an answer written without one goes out without one.
  if (!hasDate) s += `Date: ${httpDate()}\r\n`;
  // Go's server writes no Content-Length for a status without a body (bodyAllowedForStatus).
  if (bodyAllowed(rh.status)) s += `Content-Length: ${bodyBytes}\r\n`;
  if (close) s += 'Connection: close\r\n';
  else if (http10) s += 'Connection: keep-alive\r\n';
  return `${s}\r\n`;
}
