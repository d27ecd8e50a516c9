import { HeaderList } from '../core/headers.ts';
import type { ResponseHead } from '../core/request.ts';
import { statusText } from '../core/status-text.ts';
import type { ClientExchange } from '../proxy/client-sink.ts';
import { grpcKind, toGrpcAnswer, trailersOnlyFields } from '../proxy/grpc-status.ts';
import { PLAIN_TEXT_FIELDS } from '../proxy/heads.ts';
import type { UpstreamResponse } from '../upstream/stream.ts';
import { directResponseFields, upstreamResponseFields } from './response-fields.ts';
import { websocketAccept } from './stream-sink.ts';

/** What an answer is written with: a stream's HEADERS and DATA. */
export interface AnswerTarget {
  sendHeaders(fields: readonly string[], endStream: boolean): void;
  sendData(buf: Buffer, start: number, end: number, endStream: boolean): boolean;
}

/** A status with its reason as a text body (a refused request, a failed upgrade). */
export function textAnswer(s: AnswerTarget, status: number): void {
  const text = statusText(status);
  s.sendHeaders(
    directResponseFields({ status, reason: text, headers: HeaderList.from(PLAIN_TEXT_FIELDS) }, text.length),
    false,
  );
  const b = Buffer.from(text, 'latin1');
  s.sendData(b, 0, b.length, true);
}

/**
 * A response the proxy produces itself, as stream-sink.ts writes it: a gRPC call's error as a
 * trailers-only answer (grpc-status), else the head framed by the body's length.
 */
export function directAnswer(
  s: AnswerTarget,
  ex: ClientExchange,
  rh: ResponseHead,
  body: string,
  bodyBytes: number,
): void {
  if (rh.status >= 400) {
    const kind = grpcKind(ex.req.headers);
    if (kind !== 0) {
      toGrpcAnswer(rh, kind, ex.req.headers.get('content-type')!, body);
      s.sendHeaders(trailersOnlyFields(rh), true);
      return;
    }
  }
  const fields = directResponseFields(rh, bodyBytes);
  const st = rh.status;
  if (bodyBytes === 0 || ex.req.method === 'HEAD' || st === 204 || st === 205 || st === 304) {
    s.sendHeaders(fields, true);
    return;
  }
  s.sendHeaders(fields, false);
  const b = Buffer.from(body, 'utf8');
  s.sendData(b, 0, b.length, true);
}

/**
 * RFC 8441 §5, as stream-sink.ts: the fields of the 200 that answers an extended CONNECT once
 * the backend switched, or null when its Sec-WebSocket-Accept does not match the key we sent.
 * The Accept belongs to the HTTP/1.1 hop and is not relayed.
 */
export function tunnelFields(ex: ClientExchange, res: UpstreamResponse, extra: string): string[] | null {
  const key = ex.req.headers.get('sec-websocket-key') ?? '';
  if (res.headers.get('sec-websocket-accept') !== websocketAccept(key)) return null;
  const fields = upstreamResponseFields(200, res, extra, true);
  for (let i = fields.length - 2; i >= 2; i -= 2) {
    if (fields[i] === 'sec-websocket-accept') fields.splice(i, 2);
  }
  return fields;
}

/** An object of fields (node's form: repeated names as arrays) as `name, value, …`. */
export function objectFields(o: Record<string, string | string[]>): string[] {
  const out: string[] = [];
  for (const k of Object.keys(o)) {
    const v = o[k]!;
    if (typeof v === 'string') out.push(k, v);
    else for (const x of v) out.push(k, x);
  }
  return out;
}
