import type { ResponseHead } from '../core/request.ts';
import type { ParsedResponse } from '../http1/response-head.ts';
import type { Exchange } from './exchange.ts';

/**
 * Everything an exchange sends to its client goes through this: the HTTP/1.1 connection
 * (`Http1Sink`) and each HTTP/2 stream implement it, so that routing, middlewares, retries and
 * the upstream side are written once. The exchange decides *what* to send (status after
 * middlewares, whether the request body was read, whether a response broke); the sink decides
 * how it looks on the wire (framing, hop-by-hop fields, keep-alive).
 *
 * One sink serves one exchange at a time. Calls are methods, never callbacks, and carry plain
 * values, so that the HTTP/1.1 path allocates nothing for it.
 */
export interface ClientSink {
  /** The socket peer address (IPv4-mapped IPv6 unwrapped). */
  readonly clientIp: string;
  /**
   * True for an HTTP/2 stream: the request body arrives as DATA frames, fed with
   * `Exchange.feedData`/`endData` instead of `feedBody` (no HTTP/1.1 chunked framing to decode).
   */
  readonly http2: boolean;
  /** The TLS SNI the client sent, or undefined (no TLS, or no SNI): for the 421 rule. */
  readonly serverName: string | undefined;
  /** A 1xx from the upstream (100 Continue, 103 Early Hints); the sink drops what its protocol cannot relay. */
  interim(ex: Exchange, res: ParsedResponse): void;
  /**
   * The response head: `status` and `reason` as middlewares left them, the upstream's fields
   * (the sink drops hop-by-hop ones and regenerates framing), and `extra`, whole field lines
   * (`Name: value\r\n`) that the proxy adds (Set-Cookie of sticky sessions). When the whole
   * body arrived with the head it is `body[bodyStart..bodyEnd)`, else `body` is null and data
   * follows. `close` says the exchange wants the connection closed afterwards; the return value
   * says whether it will be.
   */
  head(
    ex: Exchange,
    status: number,
    reason: string,
    res: ParsedResponse,
    extra: string,
    close: boolean,
    body: Buffer | null,
    bodyStart: number,
    bodyEnd: number,
  ): boolean;
  /** Response body bytes. false: the client is slow; `ex.onClientDrain()` follows when it drained. */
  data(buf: Buffer, start: number, end: number): boolean;
  /** The response body ended cleanly. */
  end(): void;
  /**
   * A response the proxy produces itself (errors, redirects, middleware answers) with a body of
   * `bodyBytes` bytes (utf8). `close` and the return value as for `head`.
   */
  direct(ex: Exchange, rh: ResponseHead, body: string, bodyBytes: number, close: boolean): boolean;
  /**
   * The response cannot be completed (upstream broke mid-body, internal error after the head):
   * the client must see it as broken, never as a clean end.
   */
  broken(): void;
  /** The exchange is over; `keepAlive` says whether the connection may carry another request. */
  exchangeDone(ex: Exchange, keepAlive: boolean): void;
  /** The upstream can take request body bytes again: feed what is pending. */
  resumeBody(): void;
}
