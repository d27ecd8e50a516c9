/**
 * The seam between a request and the server it goes to: one request/response exchange with an
 * upstream, whatever carries it (an HTTP/1.1 keep-alive connection of the pool, or a stream of an
 * HTTP/2 session). The proxy writes the request through `UpstreamStream` and hears the response
 * through `UpstreamUser`; neither side sees the other's framing:
 *
 *   request head → body chunks → end       (UpstreamStream, written by the user)
 *   interim heads → response head → body chunks → trailers → end / error   (UpstreamUser)
 *
 * Calls are methods on long-lived objects, never callbacks, so that the HTTP/1.1 path allocates
 * nothing for the seam (one exchange object per request is the whole cost).
 */

import type { Duplex } from 'node:stream';
import type { ProxyError } from '../core/errors.ts';
import type { HeaderList } from '../core/headers.ts';
import type { SocketAddresses } from '../core/proxy-protocol.ts';
import type { BodyKind } from '../http1/request-head.ts';
import type { ResponseBodyKind } from '../http1/response-head.ts';
import type { ConnectionOwner } from './connection.ts';

/** What a request sends upstream, the same for every try (the authority comes per try). */
export interface OutgoingRequest {
  readonly method: string;
  /** Path and query as forwarded (origin-form). */
  readonly target: string;
  /** Fields after middlewares; hop-by-hop ones are still there, the stream drops them. */
  readonly headers: HeaderList;
  /** BODY_NONE, BODY_LENGTH (`contentLength` bytes follow) or BODY_CHUNKED (length unknown). */
  readonly bodyKind: BodyKind;
  readonly contentLength: number;
  /**
   * The protocol the request switches to once the upstream answers 101 (`websocket`), or null.
   * Such a request goes upstream as HTTP/1.1 with `Connection: Upgrade`.
   */
  readonly upgrade: string | null;
  /**
   * The address appended to X-Forwarded-For when the head is written (HTTP/1.1 and HTTP/2 alike),
   * or null for none: Traefik's proxy appends the peer to each request it sends upstream
   * (pkg/proxy/httputil/proxy.go rewriteRequestBuilder), not when the request arrives, so
   * `headers` never carries it. Null with the entry point's `notAppendXForwardedFor`, after a
   * headers middleware's nil X-Forwarded-For (RequestHead.omitForwardedFor), and for the
   * requests Traefik builds itself (forwardAuth's, which sets the field on its own, and an error
   * page's, whose request has no RemoteAddr).
   */
  readonly forwardedFor: string | null;
  /**
   * The field lines of an HTTP/1.1 head (hop-by-hop fields dropped, framing fields added, final
   * CRLF included). Built once per request and kept, since every try over HTTP/1.1 sends the same.
   */
  h1Fields(): string;
}

/** A response head as the upstream sent it, on either protocol. */
export interface UpstreamResponse {
  readonly status: number;
  readonly reason: string;
  readonly headers: HeaderList;
  /** How the body is delimited upstream; the client side re-frames it. */
  readonly bodyKind: ResponseBodyKind;
  readonly contentLength: number;
  /** Fields the upstream named in its Connection field (never relayed); null when none. */
  readonly connectionTokens: readonly string[] | null;
  /** Trailer fields may end the body (HTTP/2 upstreams); absent = never (HTTP/1.1 drops them). */
  readonly trailers?: boolean;
}

/** The request side of one upstream exchange. */
export interface UpstreamStream {
  /** Writes the request head. `authority` is the Host (`:authority`) of this try. */
  sendHead(out: OutgoingRequest, authority: string): void;
  /** Request body bytes, unframed. false: wait for `onUpstreamDrain` before sending more. */
  sendBody(buf: Buffer, start: number, end: number): boolean;
  /**
   * The request body is complete. `trailers`: the client's trailer fields (HTTP/2 and gRPC);
   * a stream whose protocol cannot carry them drops them.
   */
  endBody(trailers?: HeaderList | null): void;
  /** Several sends follow at once: coalesce them into one write where the transport can. */
  cork(): void;
  uncork(): void;
  /** Response backpressure: stop (and restart) delivering body bytes to the user. */
  pause(): void;
  resume(): void;
  /** The exchange ended in a state where the connection must not carry another request. */
  markNotReusable(): void;
  /** Request bytes accepted but not yet handed to the kernel. */
  readonly pendingBytes: number;
  /** Abandons the exchange: no callback of this stream reaches the user afterwards. */
  destroy(): void;
}

/**
 * The side of a request that uses an upstream stream (the proxy's exchange, a mirror). Methods,
 * not callbacks: one object per request instead of a closure per event.
 */
export interface UpstreamUser {
  /** A stream is ready (fresh or reused connection); the request may be written. */
  onUpstreamReady(stream: UpstreamStream): void;
  /** 1xx other than 101, to relay as an interim response. */
  onUpstreamInterim(res: UpstreamResponse): void;
  /**
   * The final response head. When a small Content-Length body arrived whole with the head,
   * it comes along as `body[bodyStart..bodyEnd)` (and no onUpstreamData follows), so that the
   * user can send head and body in one write; otherwise `body` is null.
   */
  onUpstreamHead(res: UpstreamResponse, body: Buffer | null, bodyStart: number, bodyEnd: number): void;
  /**
   * Optional, for the common small response read with its head into the shared read buffer:
   * `onUpstreamHead` with the whole body as latin1 text, cut from the head's own string, instead
   * of a copy of the bytes. Returns false, having done nothing, when the user wants the bytes
   * after all; the connection then calls `onUpstreamHead` with them.
   */
  onUpstreamHeadText?(res: UpstreamResponse, body: string): boolean;
  /**
   * Response body bytes, `buf[start..end)`. They are the user's: every stream hands over bytes
   * no later read overwrites (the HTTP/1.1 connection copies small reads out of its reused
   * buffer and lends large ones; HTTP/2 chunks are fresh), so the user may keep them uncopied.
   * The same holds for `onUpstreamHead`'s body.
   */
  onUpstreamData(buf: Buffer, start: number, end: number): void;
  /**
   * The response body ended cleanly (the stream is already released or closed), with the
   * upstream's trailer fields when it sent any (gRPC's status travels there), else null.
   */
  onUpstreamEnd(trailers: HeaderList | null): void;
  /**
   * The exchange with this upstream failed. `phase` says how far it got: 'connect' (nothing was
   * sent), 'head' (request sent, no response byte yet), 'body' (response head already delivered).
   * `reused` is true when the connection had carried a request before (the keep-alive race).
   */
  onUpstreamError(err: ProxyError, phase: 'connect' | 'head' | 'body', reused: boolean): void;
  /** An exception escaped while handling upstream data: fail the exchange, keep the process. */
  onInternalError(e: unknown): void;
  /** The stream can take request body bytes again. */
  onUpstreamDrain(): void;
  /**
   * The upstream switched protocols (101 to an upgrade request): from now on the connection is a
   * byte stream, no longer HTTP, and it belongs to the user. `rest` holds the bytes that followed
   * the 101 head in the same read (the protocol's first bytes), or null.
   */
  onUpstreamUpgrade(res: UpstreamResponse, socket: Duplex, rest: Buffer | null): void;
  /**
   * The client connection a PROXY protocol header describes, for a pool whose transport sends
   * one (`proxyProtocol`); absent or undefined = the header says UNKNOWN / LOCAL.
   */
  proxyProtocolClient?(): SocketAddresses | undefined;
  /**
   * The server answered with a challenge of a scheme that authenticates the connection (NTLM,
   * Negotiate) on a connection of `owner`: the client's later requests to it should go through a
   * pool of their own (UpstreamAffinity). Absent: nothing sticks (a mirror, a forwardAuth call).
   */
  onConnectionAuth?(owner: ConnectionOwner): void;
}

/**
 * How a tunnel's stream that is not a TCP socket is reset when the tunnel breaks, where
 * `destroy()` would not say it (proxy/tunnel.ts): a node:http2 stream's destroy() sends
 * RST_STREAM(NO_ERROR) on an open stream, so an HTTP/2 upstream stream handed over by
 * `onUpstreamUpgrade` carries a function here that sends CANCEL (what Go's transport sends when
 * the request is cancelled).
 */
export const TUNNEL_RESET = Symbol('traffic.tunnel.reset');

/** Where requests get their streams: a server's pool, whatever protocol it speaks. */
export interface StreamSource {
  /**
   * Hands `user` a stream: synchronously when a connection is idle, else once one is ready.
   * `fresh`: never a reused connection (the retry after a keep-alive race).
   */
  acquire(user: UpstreamUser, method: string, fresh?: boolean): void;
  /** Withdraws a user still waiting for its stream (its client went away). */
  cancel(user: UpstreamUser): void;
}
