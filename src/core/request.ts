import type { X509Certificate } from 'node:crypto';
import type { HeaderList } from './headers.ts';

/** The TLS connection a request arrived on. A `TLSSocket` satisfies it as it is. */
export interface RequestTls {
  /** The client's certificate (the leaf), or undefined when it sent none. */
  getPeerX509Certificate(): X509Certificate | undefined;
}

/**
 * What routing and middlewares see of a request: the parsed head, nothing of the body.
 * Produced by a listener (HTTP/1.1 codec or HTTP/2 glue); middlewares may rewrite `path`, `query`
 * and `headers` before the request is forwarded. The upstream request line is rebuilt from
 * `method`, `path` and `query`, never copied from the wire.
 */
export interface RequestHead {
  readonly method: string;
  /** Path as received (percent-encoding kept), always starting with '/' (or '*' for OPTIONS *). */
  path: string;
  /** Query without the leading '?'; '' when there is none. */
  query: string;
  /** Host for routing: lowercased, no port, no trailing dot. '' when absent (HTTP/1.0). */
  readonly host: string;
  /** Port from the Host header, or '' when absent. */
  readonly hostPort: string;
  readonly headers: HeaderList;
  /** The socket peer address (IPv4-mapped IPv6 unwrapped). Never taken from X-Forwarded-For. */
  readonly clientIp: string;
  /** 'http' or 'https': how the client reached us. */
  readonly scheme: 'http' | 'https';
  /** Entry point name the request arrived on. */
  readonly entryPoint: string;
  /**
   * Go's nil X-Forwarded-For: a headers middleware emptied the field under exactly that name
   * (Traefik's pkg/middlewares/headers/header.go modifyCustomRequestHeaders sets it to nil), so
   * the requests sent upstream carry none, the peer not appended either (Go's ReverseProxy,
   * "nil now means don't populate the header"). False when the request is read; a later edit
   * of the field (set, or removed under another spelling) makes it false again. The peer's
   * address is otherwise appended when each upstream head is written, never to `headers`
   * (OutgoingRequest.forwardedFor): routing, middlewares and plugins see the field without it.
   */
  omitForwardedFor: boolean;
  /**
   * Static `hostResolver.cnameFlattening` only (never set otherwise, so the objects keep their
   * shape): the name `host` resolves to through its CNAME chain, or `host` itself when it has
   * none, set before routing as Traefik's requestdecorator stores it in the request's context.
   * `Host` matchers and the TLS options check read it as Traefik's (GetCNAMEFlatten).
   */
  flatHost?: string;
  /** The TLS connection, one object per connection (same for each of its requests); undefined on cleartext. */
  readonly tls?: RequestTls | undefined;
}

/**
 * The origin-form target of a path and a query as `RequestHead` keeps them (query without its '?',
 * '' for none): `path?query`, or the path alone. The one place that spells it out.
 */
export function withQuery(path: string, query: string): string {
  return query === '' ? path : `${path}?${query}`;
}

/** A response that a middleware or the proxy produces itself, without an upstream. */
export interface DirectResponse {
  readonly status: number;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: string;
  /**
   * A middleware's refusal that Traefik marks on the request's current span
   * (observability.SetStatusErrorf: an error status with this message), e.g. basicAuth's
   * "Authentication failed": the middleware's own span when tracing is detailed, else the
   * entry point's. A message that depends on the request is a function of it, made once with the
   * middleware and called only for a traced request (an untraced refusal allocates nothing).
   */
  readonly spanError?: string | ((req: RequestHead) => string);
}

/** The upstream response head as middlewares may edit it before it is sent to the client. */
export interface ResponseHead {
  status: number;
  reason: string;
  readonly headers: HeaderList;
}
