import type { ProxyError } from '../core/errors.ts';
import type { ParsedResponse } from '../http1/response-head.ts';
import type { UpstreamConnection } from './connection.ts';

/**
 * The side of a request that uses an upstream connection (the proxy's exchange). Methods, not
 * callbacks: one object per request instead of a closure per event.
 */
export interface UpstreamUser {
  /** A connection is ready (fresh or from the idle list); the request may be written. */
  onUpstreamReady(conn: UpstreamConnection): void;
  /** 1xx other than 101, to relay as an interim response. */
  onUpstreamInterim(res: ParsedResponse): void;
  /**
   * The final response head. When a small Content-Length body arrived whole with the head,
   * it comes along as `body[bodyStart..bodyEnd)` (and no onUpstreamData follows), so that the
   * user can send head and body in one write; otherwise `body` is null.
   */
  onUpstreamHead(res: ParsedResponse, body: Buffer | null, bodyStart: number, bodyEnd: number): void;
  onUpstreamData(buf: Buffer, start: number, end: number): void;
  /** The response body ended cleanly (the connection has already gone back to the pool or closed). */
  onUpstreamEnd(): void;
  /**
   * The exchange with this upstream failed. `phase` says how far it got: 'connect' (nothing was
   * sent), 'head' (request sent, no response byte yet), 'body' (response head already delivered).
   * `reused` is true when the connection came from the idle list.
   */
  onUpstreamError(err: ProxyError, phase: 'connect' | 'head' | 'body', reused: boolean): void;
  /** An exception escaped while handling upstream data: fail the exchange, keep the process. */
  onInternalError(e: unknown): void;
  /** The upstream socket drained: request body forwarding may resume. */
  onUpstreamDrain(): void;
}
