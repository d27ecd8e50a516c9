/**
 * Answers the proxy makes to gRPC and gRPC-Web calls. A gRPC client reads the outcome of a call in
 * `grpc-status`, not in the HTTP status: Traefik answers its errors with plain HTTP statuses and a
 * text body, which gRPC clients can only guess from (502 → UNAVAILABLE, 404 → UNIMPLEMENTED, …).
 * Here an error the proxy produces for a gRPC call (no route, 502, 503, 504, a rate limit, an open
 * circuit breaker, …) is a trailers-only response: `200`, the gRPC content type, `grpc-status`
 * and `grpc-message` in the one HEADERS frame (for gRPC-Web, in the response fields), no body.
 */
import type { HeaderList } from '../core/headers.ts';
import type { ResponseHead } from '../core/request.ts';
import { relaysResponseField } from './heads.ts';

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) we answer with. */
export const GRPC = {
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/**
 * The gRPC status of an HTTP status the proxy answers with: gRPC's own HTTP mapping
 * (doc/http-grpc-status-mapping.md) where it fits, and what the failure means otherwise (no route
 * is NOT_FOUND, a timeout DEADLINE_EXCEEDED, a limit RESOURCE_EXHAUSTED).
 */
export function grpcStatusOf(http: number): number {
  switch (http) {
    case 400:
      return GRPC.INTERNAL;
    case 401:
      return GRPC.UNAUTHENTICATED;
    case 403:
      return GRPC.PERMISSION_DENIED;
    case 404:
      return GRPC.NOT_FOUND;
    case 405:
    case 501:
      return GRPC.UNIMPLEMENTED;
    case 408:
    case 504:
      return GRPC.DEADLINE_EXCEEDED;
    case 413:
    case 429:
    case 431:
      return GRPC.RESOURCE_EXHAUSTED;
    case 499:
      return GRPC.CANCELLED;
    case 500:
      return GRPC.INTERNAL;
    case 421:
    case 502:
    case 503:
      return GRPC.UNAVAILABLE;
    default:
      return GRPC.UNKNOWN;
  }
}

const GRPC_TYPE = 'application/grpc';
const GRPC_WEB_TYPE = 'application/grpc-web';

/** 0: not gRPC; 1: gRPC; 2: gRPC-Web (either encoding). From the request's content type. */
export function grpcKind(headers: HeaderList): 0 | 1 | 2 {
  const ct = headers.get('content-type');
  if (ct === undefined || !ct.startsWith(GRPC_TYPE)) return 0;
  return ct.startsWith(GRPC_WEB_TYPE) ? 2 : 1;
}

/** gRPC's Percent-Encoded: bytes outside 0x20–0x7E, and `%`, as %XX of their UTF-8. */
export function percentEncode(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    out +=
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Turns the head of a direct answer (`rh`, status ≥ 400, its text `body`) to a gRPC call into a
 * trailers-only gRPC answer, in place: 200, the call's content type (gRPC-Web keeps its own),
 * grpc-status and grpc-message; the other fields (Retry-After, CORS) stay. The body is dropped.
 */
export function toGrpcAnswer(rh: ResponseHead, kind: 1 | 2, requestType: string, body: string): void {
  const status = grpcStatusOf(rh.status);
  const text = body.trim() === '' || body.length > 1024 ? rh.reason : body.trim();
  const h = rh.headers;
  h.delete('content-length');
  h.set('content-type', kind === 2 ? requestType : GRPC_TYPE);
  h.set('grpc-status', String(status));
  h.set('grpc-message', percentEncode(text));
  rh.status = 200;
  rh.reason = 'OK';
}

/** The HTTP/2 header list of a trailers-only answer (`:status` 200, END_STREAM, no length). */
export function trailersOnlyFields(rh: ResponseHead): string[] {
  const out: string[] = [':status', String(rh.status)];
  const { lnames, values } = rh.headers;
  for (let i = 0; i < lnames.length; i++) {
    const ln = lnames[i]!;
    if (relaysResponseField(ln, true, undefined)) out.push(ln, values[i]!);
  }
  return out;
}

const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/**
 * A `grpc-timeout` value (1 to 8 digits and a unit, PROTOCOL-HTTP2.md) in whole milliseconds,
 * rounded up (a deadline already due is 1 ms); -1 when absent or malformed (then ignored).
 */
export function grpcTimeoutMs(value: string | undefined): number {
  if (value === undefined || value.length < 2 || value.length > 9) return -1;
  const unit = TIMEOUT_UNIT_MS[value[value.length - 1]!];
  if (unit === undefined) return -1;
  let n = 0;
  for (let i = 0; i < value.length - 1; i++) {
    const c = value.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return Math.max(1, Math.ceil(n * unit));
}
