import { randomBytes } from 'node:crypto';
import type { RequestHead, RequestTls } from '../core/request.ts';
import { ParseError } from '../http1/parse-error.ts';
import { canonicalPath, canonicalQuery } from '../http1/request-path.ts';
import type { ClientSink } from '../proxy/client-sink.ts';
import type { EntryPointContext } from '../proxy/entry-point-context.ts';
import { Exchange } from '../proxy/exchange.ts';
import { applyForwardedHeaders, forwardedProto } from '../proxy/forwarded.ts';
import { parseH2Request } from './request.ts';

/** Who the request came from: the connection's part of every request head. */
export interface RequestOrigin {
  readonly ctx: EntryPointContext;
  readonly clientIp: string;
  readonly trusted: boolean;
  readonly tls: RequestTls | undefined;
}

/**
 * The exchange of a stream whose header list is well-formed HTTP/2 (own-fields.ts; node's
 * session checked it for session.ts), for either engine: the request rules (parseH2Request),
 * path policy, forwarded fields and WebSocket key; a ParseError is the status to answer instead.
 */
export function streamExchange(
  sink: ClientSink,
  o: RequestOrigin,
  raw: readonly string[],
  endStream: boolean,
): Exchange | ParseError {
  const ctx = o.ctx;
  const parsed = parseH2Request(raw, endStream, ctx.limits.maxHeaderCount);
  if (parsed instanceof ParseError) return parsed;
  const path = canonicalPath(parsed.path, ctx.pathPolicy);
  if (path instanceof ParseError) return path;
  if (parsed.upgrade === 'websocket') {
    // RFC 8441 has no key: the backend's HTTP/1.1 handshake gets one of ours (checked on its 101).
    parsed.headers.delete('sec-websocket-key');
    parsed.headers.append('Sec-WebSocket-Key', randomBytes(16).toString('base64'));
  }
  const req: RequestHead = {
    method: parsed.method,
    path,
    query: canonicalQuery(parsed.query, ctx.pathPolicy),
    host: parsed.host,
    hostPort: parsed.hostPort,
    headers: parsed.headers,
    clientIp: o.clientIp,
    scheme: ctx.scheme,
    entryPoint: ctx.name,
    tls: o.tls,
    omitForwardedFor: false,
  };
  applyForwardedHeaders(
    parsed.headers,
    o.trusted,
    o.clientIp,
    forwardedProto(ctx.scheme, parsed.upgrade),
    parsed.authority,
    parsed.hostPort,
    ctx.schemeHeaders,
  );
  return new Exchange(sink, ctx, parsed, req);
}
