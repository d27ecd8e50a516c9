import type { Duplex } from 'node:stream';
import type { HeaderList } from '../core/headers.ts';
import type { SocketAddresses } from '../core/proxy-protocol.ts';
import type { RequestHead, ResponseHead } from '../core/request.ts';
import type { ParsedRequest } from '../http1/request-head.ts';
import type { UpstreamAffinity } from '../upstream/affinity.ts';
import type { UpstreamResponse } from '../upstream/stream.ts';

/**
 * The exchange as the client side (a connection, an HTTP/2 stream) drives it: the request head it
 * parsed, the body it feeds, and what it learns of the client. `Exchange` implements it.
 */
export interface ClientExchange {
  readonly parsed: ParsedRequest;
  readonly req: RequestHead;
  readonly done: boolean;
  readonly responseStarted: boolean;
  /** Every request body byte has been forwarded (or there is none). */
  readonly bodyDone: boolean;
  /** Body bytes can be forwarded now (a stream is there and takes them). */
  readonly canTakeBody: boolean;
  /** Why the HTTP/1.1 chunked body was refused, when it was. */
  readonly bodyError: string | null;
  /** Routes the request and runs it (once the client side is ready for the response). */
  start(): void;
  /** HTTP/1.1 body bytes; returns the offset consumed, -1 on a malformed body. */
  feedBody(buf: Buffer, start: number, end: number): number;
  /** HTTP/2: one DATA frame's payload. */
  feedData(buf: Buffer): void;
  /** HTTP/2: END_STREAM, with the client's trailer fields when it sent any. */
  endData(trailers?: HeaderList | null): void;
  /** The client sent a malformed body, or too slowly (408). */
  failBody(reason: string, status?: number): void;
  /** The entry point's readTimeout ran out before any response head (504). */
  readTimeoutBeforeHead(): void;
  /** The client went away. */
  abort(): void;
  /** The client drained what we wrote: more response bytes may come. */
  onClientDrain(): void;
  onInternalError(e: unknown): void;
}

/** The client's end of a tunnel: its byte stream, and what it sent past the handshake. */
export interface ClientTunnelSide {
  readonly stream: Duplex;
  readonly rest: Buffer | null;
}

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
  /** The client connection's socket (its addresses), for a PROXY protocol header to a server. */
  readonly peer?: SocketAddresses | undefined;
  /**
   * The client connection's own upstream pools, for servers that authenticate connections
   * (NTLM, Negotiate): null until one of them challenged this client (UpstreamAffinity).
   */
  readonly affinity?: UpstreamAffinity | null;
  /** The client connection's affinity, made on first use. */
  ownAffinity?(): UpstreamAffinity;
  /**
   * The client sent its FIN (HTTP/1.1): Go's server cancels the request's context on it (net/http
   * connReader backgroundRead), which a mirroring reads as a canceled request (read only then).
   */
  readonly clientEnded?: boolean;
  /**
   * A 1xx from the upstream (100 Continue, 103 Early Hints); the sink drops what its protocol
   * cannot relay. False when the client is not taking what it is sent: the exchange pauses the
   * upstream until `onClientDrain`, as `data`.
   */
  interim(ex: ClientExchange, res: UpstreamResponse): boolean;
  /**
   * The response head: `status` and `reason` as middlewares left them, the upstream's fields
   * (the sink drops hop-by-hop ones and regenerates framing), and `extra`, whole field lines
   * (`Name: value\r\n`) that the proxy adds (Set-Cookie of sticky sessions). When the whole
   * body arrived with the head it is `body[bodyStart..bodyEnd)`, else `body` is null and data
   * follows. `close` says the exchange wants the connection closed afterwards; the return value
   * says whether it will be.
   */
  head(
    ex: ClientExchange,
    status: number,
    reason: string,
    res: UpstreamResponse,
    extra: string,
    close: boolean,
    body: Buffer | null,
    bodyStart: number,
    bodyEnd: number,
  ): boolean;
  /**
   * Optional: `head` with the whole body given as latin1 text (a small body the upstream
   * connection cut from the head's string; UpstreamUser.onUpstreamHeadText).
   */
  headText?(
    ex: ClientExchange,
    status: number,
    reason: string,
    res: UpstreamResponse,
    extra: string,
    close: boolean,
    body: string,
  ): boolean;
  /** Response body bytes. false: the client is slow; `ex.onClientDrain()` follows when it drained. */
  data(buf: Buffer, start: number, end: number): boolean;
  /** The response body ended cleanly, with the upstream's trailer fields (or null). */
  end(trailers: HeaderList | null): void;
  /**
   * A response the proxy produces itself (errors, redirects, middleware answers) with a body of
   * `bodyBytes` bytes (utf8). `close` and the return value as for `head`.
   */
  direct(ex: ClientExchange, rh: ResponseHead, body: string, bodyBytes: number, close: boolean): boolean;
  /**
   * The upstream switched protocols (a WebSocket handshake it accepted): tell the client (101 on
   * HTTP/1.1, 200 to an HTTP/2 extended CONNECT) with the upstream's fields as middlewares left
   * them plus `extra` lines, and hand over the client side as a byte stream, with the bytes the
   * client already sent past its request (`rest`). null when the client cannot switch (gone).
   */
  upgrade(
    ex: ClientExchange,
    status: number,
    reason: string,
    res: UpstreamResponse,
    extra: string,
  ): ClientTunnelSide | null;
  /**
   * The response cannot be completed (upstream broke mid-body, internal error after the head):
   * the client must see it as broken, never as a clean end.
   */
  broken(): void;
  /** The exchange is over; `keepAlive` says whether the connection may carry another request. */
  exchangeDone(ex: ClientExchange, keepAlive: boolean): void;
  /** The upstream can take request body bytes again: feed what is pending. */
  resumeBody(): void;
}
