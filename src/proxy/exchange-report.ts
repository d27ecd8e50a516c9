/**
 * What an exchange leaves behind once it is over: its access-log line and its trace span. Read
 * from the finished exchange, once; metrics are counted by the exchange itself (one call).
 */
import type { KubernetesObjectRef, KubernetesServiceRef } from '../config/dynamic/kubernetes-meta.ts';
import type { HeaderList } from '../core/headers.ts';
import type { RequestHead, RequestTls } from '../core/request.ts';
import type { ParsedRequest } from '../http1/request-head.ts';
import { BODY_CHUNKED } from '../http1/request-head.ts';
import { goSubjectString } from '../middleware/pass-tls-client-cert.ts';
import { fromByteString, unescapePath } from '../middleware/path.ts';
import type { AccessLog } from '../observability/access-log.ts';
import { tlsLabels } from '../observability/metrics/tls-labels.ts';
import type { RequestSpan, Tracer } from '../observability/tracing/index.ts';
import { joinTargetPath, type ServerRuntime } from '../runtime/types.ts';

/** The finished exchange as the reports read it. */
export interface ReportedExchange {
  readonly req: RequestHead;
  readonly parsed: ParsedRequest;
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** `performance.now()` when the request head had been read. */
  readonly startedAt: number;
  readonly routerName: string;
  readonly serviceName: string;
  readonly serverUrl: string;
  /** The route's Ingress or IngressRoute (RouteTarget.kubernetes), read for the access log only. */
  readonly kubernetesObject: KubernetesObjectRef | undefined;
  /** The Kubernetes Service of the load balancer that took the request (ServiceRuntime.kubernetes). */
  readonly kubernetesService: KubernetesServiceRef | null | undefined;
  /** Tries after the first. */
  readonly retries: number;
  readonly clientIp: string;
  /** The client connection's port, when known. */
  readonly clientPort: number | undefined;
  readonly http2: boolean;
  /** `performance.now()` when the service took the request, when it did and is logged; else -1. */
  /** The request's fields as logged, when the exchange removed some before the service (else null). */
  readonly loggedHeaders: HeaderList | null;
  readonly serviceAt: number;
  /** X-Forwarded-For before the router's middlewares (ExchangeCore), or null when not read. */
  readonly arrivedForwardedFor: string | undefined | null;
  /** What an auth middleware set (Traefik's ClientUsername), or undefined. */
  readonly clientUsername: string | undefined;
  /** basicAuth or digestAuth authenticated the request (RequestControl.setUrlUser). */
  readonly urlUser: boolean;
  /** The response's fields as sent, kept only when the access log logs headers; else null. */
  readonly responseHeaders: HeaderList | null;
}

/**
 * Traefik's ClientHost: the X-Forwarded-For value the request arrived with, when it kept one (a
 * trusted peer's; an untrusted peer's is dropped), else the peer's address (pkg/middlewares/
 * accesslog/logger.go ServeHTTP). The peer is never in the field: the proxy appends it only to
 * the heads it writes upstream. A trusted peer's empty field (`X-Forwarded-For: `) is "" to
 * Traefik's Get: the peer then. The field as the router's middlewares got it (`arrivedForwardedFor`,
 * before a headers middleware or forwardAuth changes it), else as it is now (a request that
 * reached no router: nothing changed it).
 */
function clientHost(ex: ReportedExchange): string {
  const arrived = ex.arrivedForwardedFor;
  const xff = arrived === null ? ex.req.headers.get('x-forwarded-for') : arrived;
  return xff === undefined || xff === '' ? ex.clientIp : xff;
}

/** Each TLS connection's client certificate subject, worked out once (null: none sent). */
const subjects = new WeakMap<RequestTls, string | null>();

/**
 * Traefik's TLSClientSubject: the leaf certificate's subject as Go's pkix.Name.String() writes
 * it, when the client sent one (pkg/middlewares/accesslog/logger.go ServeHTTP). Read once per
 * connection (renegotiation is off: its certificate cannot change), only when a line is logged.
 */
function clientSubject(tls: RequestTls): string | undefined {
  let s = subjects.get(tls);
  if (s === undefined) {
    const cert = (tls as Partial<RequestTls>).getPeerX509Certificate?.();
    s = null;
    if (cert !== undefined) {
      try {
        s = goSubjectString(cert.raw);
      } catch {
        // DER our small reader does not follow (OpenSSL accepted it): the field is left out.
      }
    }
    subjects.set(tls, s);
  }
  return s ?? undefined;
}

/** The first comma-separated entry of X-Forwarded-For, trimmed; undefined when absent or blank. */
function firstForwardedFor(xff: string | undefined): string | undefined {
  if (xff === undefined) return undefined;
  const comma = xff.indexOf(',');
  const first = (comma === -1 ? xff : xff.slice(0, comma)).trim();
  return first === '' ? undefined : first;
}

function protocol(ex: ReportedExchange): string {
  return ex.http2 ? 'HTTP/2.0' : ex.parsed.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
}

/** `entry`: a traced request's EntryPoint span (the TraceId and SpanId fields), else undefined. */
export function logAccess(
  log: AccessLog,
  ex: ReportedExchange,
  entryPoint: string,
  entry: RequestSpan | undefined,
): void {
  const req = ex.req;
  const now = performance.now();
  const durationMs = now - ex.startedAt;
  // The connection's TLS (a TLSSocket): Traefik's TLSVersion and TLSCipher (pkg/tls GetVersion,
  // GetCipherName: "1.0"…"1.3", Go's IANA names, else "unknown"), as the metrics label them.
  const tls = req.tls === undefined ? undefined : tlsLabels(req.tls);
  log.log({
    startTime: Date.now() - durationMs,
    clientIp: ex.clientIp,
    clientHost: clientHost(ex),
    clientUsername: ex.clientUsername,
    clientPort: ex.clientPort,
    method: req.method,
    host: req.host,
    hostPort: req.hostPort,
    // The path as the client sent it, before any rewrite (as Traefik logs RequestPath).
    path: ex.parsed.path,
    query: ex.parsed.query,
    protocol: protocol(ex),
    scheme: req.scheme,
    tlsVersion: tls?.version,
    tlsCipher: tls?.cipher,
    tlsClientSubject: req.tls === undefined ? undefined : clientSubject(req.tls),
    status: ex.status,
    bytesIn: ex.bytesIn,
    bytesOut: ex.bytesOut,
    durationMs,
    originMs: ex.serviceAt < 0 ? undefined : now - ex.serviceAt,
    entryPoint,
    router: ex.routerName,
    service: ex.serviceName,
    server: ex.serverUrl,
    userAgent: req.headers.get('user-agent') ?? '',
    referer: req.headers.get('referer') ?? '',
    retryAttempts: ex.retries,
    requestHeaders: ex.loggedHeaders ?? req.headers,
    responseHeaders: ex.responseHeaders,
    trace: entry,
    kubernetes: ex.kubernetesObject,
    kubernetesService: ex.kubernetesService,
  });
}

/**
 * A sampled span's request attributes, read when it starts, as Traefik's CaptureServerRequest
 * (pkg/observability/tracing/tracing.go) sets them on the entry point's span.
 */
export function captureServerRequest(span: RequestSpan, tracer: Tracer, ex: ReportedExchange): void {
  const req = ex.req;
  const parsed = ex.parsed;
  const h = req.headers;
  span.setAttribute('http.request.method', req.method);
  // Traefik's proto(r.Proto): "1.1", "1.0", and Go's HTTP/2 "HTTP/2.0" as it is (its switch
  // names "HTTP/2", which Go's server never sets).
  span.setAttribute(
    'network.protocol.version',
    ex.http2 ? 'HTTP/2.0' : parsed.versionMinor === 1 ? '1.1' : '1.0',
  );
  // Go's Request.ContentLength: -1 when unknown (chunked, or an HTTP/2 body without one), 0 for none.
  span.setAttribute('http.request.body.size', parsed.bodyKind === BODY_CHUNKED ? -1 : parsed.contentLength);
  // Go's r.URL.Path: percent-decoded (a malformed escape, which Go refuses, stays as received).
  const path = parsed.path.indexOf('%') === -1 ? parsed.path : unescapePath(parsed.path);
  span.setAttribute('url.path', path === undefined ? parsed.path : fromByteString(path));
  span.setAttribute('url.query', tracer.safeQuery(parsed.query));
  // Traefik reads X-Forwarded-Proto, set by then (ws/wss for a WebSocket handshake); '' if removed.
  span.setAttribute('url.scheme', h.get('x-forwarded-proto') ?? '');
  span.setAttribute('user_agent.original', h.get('user-agent') ?? '');
  // r.Host: the authority as sent, port included.
  span.setAttribute('server.address', parsed.authority);
  // network.peer.*: the connection's peer (net.SplitHostPort(r.RemoteAddr)); client.address:
  // the first entry of X-Forwarded-For when there is one, else the peer, as Traefik v3.8's
  // CaptureServerRequest (PR #13444). The field only reaches it from a trusted peer (an
  // untrusted one's is dropped first); the peer is appended only upstream.
  span.setAttribute('network.peer.address', ex.clientIp);
  span.setAttribute('client.address', firstForwardedFor(h.get('x-forwarded-for')) ?? ex.clientIp);
  const port = ex.clientPort;
  if (port !== undefined) {
    span.setAttribute('client.port', port);
    span.setAttribute('network.peer.port', port);
  }
  tracer.captureRequest(span, h);
}

/**
 * A sampled CLIENT span's request attributes, as Traefik's CaptureClientRequest sets them
 * (pkg/observability/tracing/tracing.go): `url.full` (the URL called, its user and password and
 * its query redacted as `url.query` is; `urlUser`: the request carries a user, as after Traefik's
 * basicAuth or digestAuth), `url.scheme`, and `server.*` / `network.peer.*` from its
 * host, with 80/443 for a URL without a port (and then, as in Traefik, an empty
 * `network.peer.address`: Go's SplitHostPort fails on it). `headers` are the ones sent, captured
 * as `tracing.capturedRequestHeaders` says. `origin` is `scheme://authority` (anything after
 * the authority is ignored), `path` and `query` (raw, without `?`) the target's.
 */
export function captureCall(
  span: RequestSpan,
  tracer: Tracer,
  method: string,
  version: string,
  origin: string,
  path: string,
  query: string,
  headers: HeaderList,
  urlUser = false,
): void {
  span.setAttribute('http.request.method', method);
  span.setAttribute('network.protocol.version', version);
  const sep = origin.indexOf('://');
  let scheme = sep < 0 ? 'http' : origin.slice(0, sep).toLowerCase();
  // An h2c:// server is called over http (Traefik's proxy builder).
  if (scheme === 'h2c') scheme = 'http';
  const rest = sep < 0 ? origin : origin.slice(sep + 3);
  let host = rest.slice(0, authorityEnd(rest));
  const at = host.lastIndexOf('@');
  // The server URL's user, or the one basicAuth or digestAuth set on the request's URL (`urlUser`),
  // which Traefik's director keeps on the outgoing URL: either is redacted whole (safeURL).
  const userinfo = at < 0 && !urlUser ? '' : 'REDACTED:REDACTED@';
  if (at >= 0) host = host.slice(at + 1);
  const safe = tracer.safeQuery(query);
  span.setAttribute('url.full', `${scheme}://${userinfo}${host}${path}${safe === '' ? '' : `?${safe}`}`);
  span.setAttribute('url.scheme', scheme);
  span.setAttribute('user_agent.original', headers.get('user-agent') ?? '');
  const close = host.lastIndexOf(']');
  const colon = host.lastIndexOf(':');
  if (colon > close) {
    const name = host.charCodeAt(0) === 0x5b ? host.slice(1, close) : host.slice(0, colon);
    const port = Number.parseInt(host.slice(colon + 1), 10) || 0;
    span.setAttribute('network.peer.address', name);
    span.setAttribute('network.peer.port', port);
    span.setAttribute('server.address', name);
    span.setAttribute('server.port', port);
  } else {
    span.setAttribute('network.peer.address', '');
    span.setAttribute('server.address', host);
    const port = scheme === 'http' ? 80 : scheme === 'https' ? 443 : 0;
    if (port !== 0) {
      span.setAttribute('network.peer.port', port);
      span.setAttribute('server.port', port);
    }
  }
  tracer.captureRequest(span, headers);
}

/** Where the authority of `rest` (a URL after `scheme://`) ends: its path, query or fragment. */
function authorityEnd(rest: string): number {
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c === 0x2f || c === 0x3f || c === 0x23) return i;
  }
  return rest.length;
}

/** The path and raw query of an absolute URL (`/` for none), as Go's url.Parse splits them. */
export function urlTarget(url: string): { path: string; query: string } {
  const sep = url.indexOf('://');
  const rest = sep < 0 ? url : url.slice(sep + 3);
  let target = rest.slice(authorityEnd(rest));
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf('?');
  return q < 0 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

/** The call of one try to `server`: its URL with the request's path (the server's path first). */
export function captureClientRequest(
  span: RequestSpan,
  tracer: Tracer,
  ex: ReportedExchange,
  server: ServerRuntime,
  headers: HeaderList,
): void {
  const req = ex.req;
  const path = server.pathPrefix === '' ? req.path : joinTargetPath(server.pathPrefix, req.path);
  // Traefik's director sends every call as HTTP/1.1 (outReq.Proto, pkg/proxy/httputil/proxy.go
  // directorBuilder) before its round tripper captures it: "1.1", whatever the client spoke.
  captureCall(span, tracer, req.method, '1.1', server.url, path, req.query, headers, ex.urlUser);
}

export function endSpan(span: RequestSpan, ex: ReportedExchange, entryPoint: string): void {
  if (span.sampled) {
    // Traefik's entry point span carries `entry_point` (pkg/middlewares/observability/entrypoint.go).
    span.setAttribute('entry_point', entryPoint);
    span.setAttribute('traffic.entry_point', entryPoint);
    span.setAttribute('traffic.router', ex.routerName);
    span.setAttribute('traffic.service', ex.serviceName);
    span.setAttribute('traffic.server', ex.serverUrl);
    span.setAttribute('traffic.retries', ex.retries);
  }
  span.end(Date.now(), ex.status);
}
