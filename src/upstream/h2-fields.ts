/**
 * Header mapping between the proxy's form (HeaderList, HTTP/1.1 semantics) and HTTP/2 header
 * lists for upstream sessions. Pure functions of their inputs.
 */
import { forwardedForWithPeer } from '../core/forwarded-fields.ts';
import { HeaderList } from '../core/headers.ts';
import { statusText } from '../core/status-text.ts';
import { HOP_BY_HOP, isHopByHop } from '../http1/chars.ts';
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, CONNECT_TUNNEL } from '../http1/request-head.ts';
import type { ResponseBodyKind } from '../http1/response-head.ts';
import type { OutgoingRequest, UpstreamResponse } from './stream.ts';

/**
 * The raw HTTP/2 header list (`name, value, …`, the form `ClientHttp2Session.request` takes) of a
 * request: pseudo-header fields first (RFC 9113 §8.3.1), then the fields an HTTP/1.1 head would
 * carry minus connection-specific ones (§8.2.2: HOP_BY_HOP covers them; Host becomes
 * `:authority`). `te: trailers` is the one TE value HTTP/2 allows: it is kept when the client
 * sent it and added for gRPC, whose servers may insist on it (as Go's reverse proxy keeps it).
 *
 * An HTTP/2 client's CONNECT (`upgrade` CONNECT_TUNNEL) goes as a plain CONNECT (RFC 9113 §8.5):
 * `:method` and `:authority` only, no `:scheme` nor `:path`, as x/net/http2's encodeHeaders
 * writes it for Traefik (`isNormalConnect`): its DATA is then the tunnel.
 */
export function h2RequestFields(out: OutgoingRequest, authority: string, scheme: string): string[] {
  const raw =
    out.upgrade !== CONNECT_TUNNEL
      ? [':method', out.method, ':scheme', scheme, ':authority', authority, ':path', out.target]
      : [':method', 'CONNECT', ':authority', authority];
  const { lnames, values } = out.headers;
  // The peer goes after X-Forwarded-For's lines, joined into one, as on HTTP/1.1
  // (proxy/heads.ts requestFieldLines; Traefik's pkg/proxy/httputil/proxy.go rewriteRequestBuilder).
  const peer = out.forwardedFor;
  let appended = peer === null;
  let trailers = false;
  for (let i = 0; i < lnames.length; i++) {
    const ln = lnames[i]!;
    let v = values[i]!;
    if (ln === 'te') {
      if (hasToken(v, 'trailers')) trailers = true;
      continue;
    }
    if (isHopByHop(ln)) continue;
    if (ln === 'content-type' && v.startsWith('application/grpc')) trailers = true;
    else if (peer !== null && ln === 'x-forwarded-for') {
      if (appended) continue; // a later line, joined into the first
      appended = true;
      v = forwardedForWithPeer(lnames, values, i, peer);
    }
    raw.push(ln, v);
  }
  if (!appended) raw.push('x-forwarded-for', peer!);
  if (out.bodyKind === BODY_LENGTH) raw.push('content-length', String(out.contentLength));
  if (trailers) raw.push('te', 'trailers');
  return raw;
}

function hasToken(list: string, token: string): boolean {
  for (const part of list.split(',')) {
    const semi = part.indexOf(';');
    if ((semi === -1 ? part : part.slice(0, semi)).trim().toLowerCase() === token) return true;
  }
  return false;
}

/** Regular fields of a raw header list (pseudo-header fields skipped); names are lowercase on h2. */
export function headerListOf(raw: readonly string[]): HeaderList {
  const names: string[] = [];
  const values: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.charCodeAt(0) === 0x3a /* : */) continue;
    names.push(n);
    values.push(raw[i + 1]!);
  }
  return new HeaderList(names, names.slice(), values);
}

/** A response head from an HTTP/2 upstream, in the seam's terms. */
export class H2Response implements UpstreamResponse {
  readonly status: number;
  readonly reason: string;
  readonly headers: HeaderList;
  readonly bodyKind: ResponseBodyKind;
  readonly contentLength: number;
  readonly connectionTokens = null;
  /** A body follows, and trailer fields may end it. */
  readonly trailers: boolean;

  constructor(status: number, headers: HeaderList, bodyKind: ResponseBodyKind, contentLength: number) {
    this.status = status;
    this.reason = statusText(status);
    this.headers = headers;
    this.bodyKind = bodyKind;
    this.contentLength = contentLength;
    this.trailers = bodyKind !== BODY_NONE;
  }
}

const DIGITS = /^[0-9]{1,15}$/;

/**
 * The response head of a stream: `endStream` (END_STREAM on the HEADERS frame), HEAD, 204 and
 * 304 have no body; a valid Content-Length frames the rest (nghttp2 holds the DATA total to it,
 * RFC 9113 §8.1.1, so a mismatch resets the stream); otherwise the length is open and the client
 * side re-frames the body (chunked for HTTP/1.1).
 */
export function h2Response(
  status: number,
  raw: readonly string[],
  endStream: boolean,
  method: string,
): H2Response {
  const headers = headerListOf(raw);
  if (endStream || method === 'HEAD' || status === 204 || status === 304) {
    return new H2Response(status, headers, BODY_NONE, 0);
  }
  const cl = headers.get('content-length');
  if (cl !== undefined && DIGITS.test(cl)) return new H2Response(status, headers, BODY_LENGTH, Number(cl));
  return new H2Response(status, headers, BODY_CHUNKED, 0);
}

/**
 * Fields that never go into HTTP/2 trailers: pseudo-header fields, connection-specific ones, and
 * those that frame, route or authenticate a message (RFC 9110 §6.5.1).
 */
const NOT_IN_TRAILERS: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  'authorization',
  'cache-control',
  'content-encoding',
  'content-range',
  'content-type',
  'expect',
  'max-forwards',
  'pragma',
  'range',
  'set-cookie',
]);

/** Trailer fields as a raw list (`name, value, …`) for our own HTTP/2 client; empty when none. */
export function trailerFields(t: HeaderList | null): string[] {
  const out: string[] = [];
  if (t === null) return out;
  const { lnames, values } = t;
  for (let i = 0; i < lnames.length; i++) {
    const ln = lnames[i]!;
    if (ln.charCodeAt(0) !== 0x3a && !NOT_IN_TRAILERS.has(ln)) out.push(ln, values[i]!);
  }
  return out;
}

/** Trailer fields as the object `sendTrailers` takes (repeated names as arrays). */
export function trailersObject(t: HeaderList | null): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  if (t === null) return out;
  const { lnames, values } = t;
  for (let i = 0; i < lnames.length; i++) {
    const ln = lnames[i]!;
    if (ln.charCodeAt(0) === 0x3a || NOT_IN_TRAILERS.has(ln)) continue;
    const prev = out[ln];
    if (prev === undefined) out[ln] = values[i]!;
    else if (typeof prev === 'string') out[ln] = [prev, values[i]!];
    else prev.push(values[i]!);
  }
  return out;
}
