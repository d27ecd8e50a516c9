/**
 * What an exchange leaves behind once it is over: its access-log line and its trace span. Read
 * from the finished exchange, once; metrics are counted by the exchange itself (one call).
 */
import type { RequestHead } from '../core/request.ts';
import type { ParsedRequest } from '../http1/request-head.ts';
import type { AccessLog } from '../observability/access-log.ts';
import { tlsLabels } from '../observability/metrics/tls-labels.ts';
import type { RequestSpan } from '../observability/tracing/index.ts';

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
  /** Tries after the first. */
  readonly retries: number;
  readonly clientIp: string;
  /** The client connection's port, when known. */
  readonly clientPort: number | undefined;
  readonly http2: boolean;
  /** `performance.now()` when the service took the request, when it did and is logged; else -1. */
  readonly serviceAt: number;
  /** What an auth middleware set (Traefik's ClientUsername), or undefined. */
  readonly clientUsername: string | undefined;
}

/**
 * Traefik's ClientHost: the X-Forwarded-For value the request arrived with, when it kept one (a
 * trusted peer's; an untrusted peer's is dropped), else the peer's address (pkg/middlewares/
 * accesslog/logger.go ServeHTTP). Ours has been extended with the peer by then
 * (proxy/forwarded.ts): that suffix comes off. Read only when a line is written.
 */
function clientHost(ex: ReportedExchange): string {
  const ip = ex.clientIp;
  const xff = ex.req.headers.get('x-forwarded-for');
  if (xff === undefined || xff === ip) return ip;
  const tail = `, ${ip}`;
  return xff.endsWith(tail) ? xff.slice(0, -tail.length) : xff;
}

function protocol(ex: ReportedExchange): string {
  return ex.http2 ? 'HTTP/2.0' : ex.parsed.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
}

export function logAccess(log: AccessLog, ex: ReportedExchange, entryPoint: string): void {
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
    requestHeaders: req.headers,
  });
}

export function endSpan(span: RequestSpan, ex: ReportedExchange, entryPoint: string): void {
  if (span.sampled) {
    const req = ex.req;
    span.setAttribute('http.request.method', req.method);
    span.setAttribute('url.path', ex.parsed.path);
    span.setAttribute('server.address', req.host);
    span.setAttribute('client.address', ex.clientIp);
    span.setAttribute(
      'network.protocol.version',
      ex.http2 ? '2' : ex.parsed.versionMinor === 1 ? '1.1' : '1.0',
    );
    span.setAttribute('traffic.entry_point', entryPoint);
    span.setAttribute('traffic.router', ex.routerName);
    span.setAttribute('traffic.service', ex.serviceName);
    span.setAttribute('traffic.server', ex.serverUrl);
    span.setAttribute('traffic.retries', ex.retries);
  }
  span.end(Date.now(), ex.status);
}
