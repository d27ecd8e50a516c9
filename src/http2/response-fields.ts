import { H2_RESPONSE, settleFields } from '../core/field-values.ts';
import { httpDate } from '../core/http-date.ts';
import type { ResponseHead } from '../core/request.ts';
import { bodyAllowed } from '../core/status-text.ts';
import { BODY_CHUNKED } from '../http1/request-head.ts';
import { BODY_CLOSE } from '../http1/response-head.ts';
import { relaysResponseField } from '../proxy/heads.ts';
import type { UpstreamResponse } from '../upstream/stream.ts';

/**
 * The HTTP/2 response header list (`name, value, …`, the raw form `stream.respond` takes, which
 * keeps order and repeated fields) for an upstream response: lowercase names, hop-by-hop and
 * Connection-named fields dropped, Content-Length dropped when `dropLength`, then `extra`,
 * whole field lines (`Name: value\r\n`) the proxy adds.
 */
export function upstreamResponseFields(
  status: number,
  res: UpstreamResponse,
  extra: string,
  dropLength: boolean,
): string[] {
  const out: string[] = [':status', String(status)];
  // Fields a response middleware made: an invalid one is dropped, as Go's HTTP/2 server does.
  if (res.headers.unsettled) settleFields(res.headers, H2_RESPONSE);
  const { lnames, values } = res.headers;
  const tokens = res.connectionTokens;
  let hasDate = false;
  // The fields the HTTP/1.1 side relays: its hop-by-hop list (RFC 9110 §7.6.1) covers every
  // connection-specific field RFC 9113 §8.2.2 forbids (node:http2 would refuse to send them).
  for (let i = 0; i < lnames.length; i++) {
    const ln = lnames[i]!;
    if (relaysResponseField(ln, dropLength, tokens)) {
      out.push(ln, values[i]!);
      if (ln === 'date') hasDate = true;
    }
  }
  // A response that came without Date gets one, as Go's HTTP/2 server adds it (RFC 9110 §6.6.1).
  if (!hasDate) out.push('date', httpDate());
  if (extra !== '') appendFieldLines(out, extra);
  return out;
}

/**
 * The head of an upstream's final response on a client's HTTP/2 stream (both engines): the
 * upstream's Content-Length is kept when it framed the body by it; a chunked or close-delimited
 * body has none on HTTP/2, nor has a 204 (RFC 9110 §8.6).
 */
export function responseHeadFields(status: number, res: UpstreamResponse, extra: string): string[] {
  const kind = res.bodyKind;
  return upstreamResponseFields(
    status,
    res,
    extra,
    kind === BODY_CHUNKED || kind === BODY_CLOSE || res.status === 204,
  );
}

/** A gRPC response: a broken one ends with grpc-status trailers rather than a reset. */
export function isGrpcResponse(res: UpstreamResponse): boolean {
  return res.headers.get('content-type')?.startsWith('application/grpc') === true;
}

/** `lines` is `Name: value\r\n` repeated, as the exchange builds them. */
function appendFieldLines(out: string[], lines: string): void {
  let p = 0;
  while (p < lines.length) {
    let eol = lines.indexOf('\r\n', p);
    if (eol === -1) eol = lines.length;
    const colon = lines.indexOf(':', p);
    if (colon !== -1 && colon < eol) {
      out.push(lines.slice(p, colon).toLowerCase(), lines.slice(colon + 1, eol).trim());
    }
    p = eol + 2;
  }
}

/** Header list of a response the proxy produces itself, framed by its body length. */
export function directResponseFields(rh: ResponseHead, bodyBytes: number): string[] {
  const out: string[] = [':status', String(rh.status)];
  if (rh.headers.unsettled) settleFields(rh.headers, H2_RESPONSE);
  const { lnames, values } = rh.headers;
  let hasDate = false;
  for (let i = 0; i < lnames.length; i++) {
    const ln = lnames[i]!;
    // Framed here (content-length below), and no connection-specific field.
    if (!relaysResponseField(ln, true, undefined)) continue;
    if (ln === 'date') hasDate = true;
    out.push(ln, values[i]!);
  }
  // No Content-Type of our own, as proxy/heads.ts directResponseHead.
  if (!hasDate) out.push('date', httpDate());
  if (bodyAllowed(rh.status)) out.push('content-length', String(bodyBytes));
  return out;
}

/** The fields of a 1xx (103 Early Hints, 102…), as an object (`additionalHeaders` takes no raw list). */
export function interimFields(res: UpstreamResponse): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  out[':status'] = String(res.status);
  const { lnames, values } = res.headers;
  for (let i = 0; i < lnames.length; i++) {
    const ln = lnames[i]!;
    if (!relaysResponseField(ln, true, res.connectionTokens)) continue;
    const prev = out[ln];
    if (prev === undefined) out[ln] = values[i]!;
    else if (typeof prev === 'string') out[ln] = [prev, values[i]!];
    else prev.push(values[i]!);
  }
  return out;
}
