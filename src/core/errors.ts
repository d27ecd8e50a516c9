/**
 * One error type for the whole proxy. Every failure that can reach a client or a log line carries
 * a stable code from ERROR_CODES; the table says which status the client gets, where the fault
 * lies and whether the request may be replayed. docs/errors.md lists every code (a test keeps it
 * complete).
 */
import { statusText } from './status-text.ts';

export type ErrorSource = 'downstream' | 'upstream' | 'internal' | 'config' | 'provider';

export interface ErrorSpec {
  readonly status: number;
  readonly source: ErrorSource;
  /** True when nothing reached the upstream, so replaying cannot duplicate a side effect. */
  readonly retryable: boolean;
}

export const ERROR_CODES = {
  // downstream: the client sent something we will not forward
  BAD_REQUEST: { status: 400, source: 'downstream', retryable: false },
  URI_TOO_LONG: { status: 414, source: 'downstream', retryable: false },
  HEADERS_TOO_LARGE: {
    status: 431,
    source: 'downstream',
    retryable: false,
  },
  NOT_IMPLEMENTED: { status: 501, source: 'downstream', retryable: false },
  VERSION_NOT_SUPPORTED: {
    status: 505,
    source: 'downstream',
    retryable: false,
  },
  REQUEST_TIMEOUT: { status: 408, source: 'downstream', retryable: false },
  EXPECTATION_FAILED: { status: 417, source: 'downstream', retryable: false },
  /** TRACE while the entry point does not allow it (`http.allowTrace`). */
  METHOD_NOT_ALLOWED: { status: 405, source: 'downstream', retryable: false },
  CLIENT_ABORTED: { status: 499, source: 'downstream', retryable: false },
  // routing
  NO_ROUTE: { status: 404, source: 'config', retryable: false },
  NO_SERVER: { status: 503, source: 'config', retryable: false },
  /** RFC 9110 §15.5.20: the TLS policy chosen by SNI is not the one the Host's router needs. */
  MISDIRECTED: { status: 421, source: 'downstream', retryable: false },
  SERVICE_DISABLED: { status: 503, source: 'config', retryable: false },
  /**
   * A server URL Traefik loads but cannot send to (`localhost`, `ftp://h`, `http://`): 500, as
   * Go's transport error reaches Traefik's error handler (config/dynamic/server-url.ts).
   */
  SERVER_URL_UNUSABLE: { status: 500, source: 'config', retryable: false },
  // upstream
  UPSTREAM_REFUSED: { status: 502, source: 'upstream', retryable: true },
  UPSTREAM_UNREACHABLE: { status: 502, source: 'upstream', retryable: true },
  UPSTREAM_DNS: { status: 502, source: 'upstream', retryable: true },
  UPSTREAM_CONNECT_TIMEOUT: { status: 504, source: 'upstream', retryable: true },
  UPSTREAM_RESPONSE_TIMEOUT: {
    status: 504,
    source: 'upstream',
    retryable: false,
  },
  UPSTREAM_RESET: { status: 502, source: 'upstream', retryable: false },
  /** The router's or service's `timeouts.total` ran out before a response head arrived. */
  ROUTE_TIMEOUT: { status: 504, source: 'upstream', retryable: false },
  UPSTREAM_BAD_RESPONSE: { status: 502, source: 'upstream', retryable: false },
  UPSTREAM_POOL_FULL: { status: 503, source: 'upstream', retryable: true },
  // upstream TLS: the handshake failed, so no request byte reached the server's application
  UPSTREAM_TLS_CERT_EXPIRED: { status: 502, source: 'upstream', retryable: true },
  UPSTREAM_TLS_HOSTNAME: { status: 502, source: 'upstream', retryable: true },
  /** The server's certificate lacks the transport's `peerCertURI` (a Consul Connect SPIFFE ID). */
  UPSTREAM_TLS_PEER_URI: { status: 502, source: 'upstream', retryable: true },
  UPSTREAM_TLS_UNTRUSTED: { status: 502, source: 'upstream', retryable: true },
  UPSTREAM_TLS_HANDSHAKE: { status: 502, source: 'upstream', retryable: true },
  // internal
  INTERNAL: { status: 500, source: 'internal', retryable: false },
  SHUTTING_DOWN: { status: 503, source: 'internal', retryable: false },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ProxyError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly source: ErrorSource;
  readonly retryable: boolean;
  /**
   * The connection's `local->remote` addresses, as Go's net.OpError writes them, when its pool
   * keeps them (PoolOptions.keepAddresses) and the failure came after the connect.
   */
  addresses?: string;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const spec: ErrorSpec = ERROR_CODES[code];
    super(detail ?? statusText(spec.status), options);
    this.name = 'ProxyError';
    this.code = code;
    this.status = spec.status;
    this.source = spec.source;
    this.retryable = spec.retryable;
  }
}

/**
 * The one place where raw Node errors from an upstream socket become ProxyErrors.
 * `phase` tells whether the request could have reached the server: a refusal during connect is
 * always safe to replay, a reset after bytes were written is not.
 */
export function upstreamError(err: unknown, phase: 'connect' | 'request' | 'response'): ProxyError {
  if (err instanceof ProxyError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'ECONNREFUSED':
      return new ProxyError('UPSTREAM_REFUSED', `connection refused: ${message}`, { cause: err });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return new ProxyError('UPSTREAM_DNS', `name resolution failed: ${message}`, { cause: err });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'EMFILE':
    case 'ENFILE':
      return new ProxyError('UPSTREAM_UNREACHABLE', message, { cause: err });
    case 'ETIMEDOUT':
      return phase === 'connect'
        ? new ProxyError('UPSTREAM_CONNECT_TIMEOUT', message, { cause: err })
        : new ProxyError('UPSTREAM_RESPONSE_TIMEOUT', message, { cause: err });
    default:
      if (phase === 'connect') return new ProxyError('UPSTREAM_UNREACHABLE', message, { cause: err });
      return new ProxyError('UPSTREAM_RESET', message, { cause: err });
  }
}
