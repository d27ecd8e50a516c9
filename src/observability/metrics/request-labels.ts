/**
 * The `method` and `protocol` labels of Traefik's request metrics (pkg/middlewares/metrics:
 * getMethod, getRequestProtocol), as small integers so that a request's series is found without
 * building a string. Methods outside HTTP's common set become EXTENSION_METHOD (Traefik's bound on
 * the number of series); the protocol is `websocket` for an upgrade to it, `sse` when Accept lists
 * text/event-stream, `grpc-web` / `grpc` by Content-Type, else `http`, tested in Traefik's order.
 */
import type { RequestHead } from '../../core/request.ts';

export const METHODS: readonly string[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
  'PRI',
  'EXTENSION_METHOD',
];
const EXTENSION = METHODS.length - 1;

export const PROTOCOLS: readonly string[] = ['http', 'websocket', 'sse', 'grpc-web', 'grpc'];
export const PROTO_HTTP = 0;
const PROTO_WEBSOCKET = 1;
const PROTO_SSE = 2;
export const PROTO_GRPC_WEB = 3;
export const PROTO_GRPC = 4;

const EVENT_STREAM = /text\/event-stream/i;

export function methodIndex(method: string): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'DELETE':
      return 4;
    case 'CONNECT':
      return 5;
    case 'OPTIONS':
      return 6;
    case 'TRACE':
      return 7;
    case 'PATCH':
      return 8;
    case 'PRI':
      return 9;
    default:
      return EXTENSION;
  }
}

/** `upgrade` is the protocol the request asked to switch to (the HTTP/1.1 codec's), or null. */
export function protocolIndex(req: RequestHead, upgrade: string | null): number {
  if (upgrade === 'websocket') return PROTO_WEBSOCKET;
  const h = req.headers;
  const accept = h.get('accept');
  // The cheap test first; Traefik's exact rule (one comma-separated item equal, any case) after.
  if (accept !== undefined && EVENT_STREAM.test(accept) && listContains(accept, 'text/event-stream'))
    return PROTO_SSE;
  const type = h.get('content-type');
  if (type?.startsWith('application/grpc')) {
    return type.startsWith('application/grpc-web') ? PROTO_GRPC_WEB : PROTO_GRPC;
  }
  return PROTO_HTTP;
}

function listContains(value: string, item: string): boolean {
  for (const part of value.split(',')) if (part.trim().toLowerCase() === item) return true;
  return false;
}

/** gRPC's Code.UnmarshalJSON names (google.golang.org/grpc/codes), quotes included. */
const GRPC_CODE_NAMES: ReadonlyMap<string, number> = new Map(
  [
    'OK',
    'CANCELLED',
    'UNKNOWN',
    'INVALID_ARGUMENT',
    'DEADLINE_EXCEEDED',
    'NOT_FOUND',
    'ALREADY_EXISTS',
    'PERMISSION_DENIED',
    'RESOURCE_EXHAUSTED',
    'FAILED_PRECONDITION',
    'ABORTED',
    'OUT_OF_RANGE',
    'UNIMPLEMENTED',
    'INTERNAL',
    'UNAVAILABLE',
    'DATA_LOSS',
    'UNAUTHENTICATED',
  ].map((name, code) => [`"${name}"`, code]),
);
const GRPC_UNKNOWN = 2;
const DIGITS = /^[0-9]+$/;

/**
 * The `code` label of a gRPC or gRPC-Web request: its response's grpc-status (`value`, undefined
 * when there was none), read as Traefik's grpcStatusCode (pkg/middlewares/metrics/metrics.go)
 * does with gRPC's Code.UnmarshalJSON: a decimal below 17, or a code's name in double quotes;
 * anything else, or no grpc-status, is Unknown (2).
 */
export function grpcCode(value: string | undefined): number {
  if (value === undefined) return GRPC_UNKNOWN;
  if (DIGITS.test(value)) {
    const n = Number(value);
    return n < GRPC_CODE_NAMES.size ? n : GRPC_UNKNOWN;
  }
  return GRPC_CODE_NAMES.get(value) ?? GRPC_UNKNOWN;
}
