import type { Logger } from '../core/logger.ts';
import type { Ticker } from '../core/ticker.ts';
import type { AliasHeaders } from '../http1/alias-headers.ts';
import type { RequestLimits } from '../http1/request-head.ts';
import type { PathPolicy } from '../http1/request-path.ts';
import type { AccessLog } from '../observability/access-log.ts';
import type { Tracer } from '../observability/tracing/index.ts';
import type { EntryPointGate } from '../overload/entry-point-gate.ts';
import type { SnapshotRef } from '../runtime/types.ts';
import type { CnameFlattener } from './cname-flattening.ts';
import type { LongLivedRegistry } from './long-lived.ts';
import type { EntryPointMetrics } from './route-metrics.ts';

/** What every connection of one entry point shares. Built once per listener. */
export interface EntryPointContext {
  readonly name: string;
  readonly scheme: 'http' | 'https';
  /** The port we listen on, for X-Forwarded-Port when Host has none. */
  readonly port: string;
  readonly limits: RequestLimits;
  /** How request paths are made canonical before routing (sanitizePath, encodedCharacters). */
  readonly pathPolicy: PathPolicy;
  /** `http.allowTrace`: TRACE is answered 405 unless set. */
  readonly allowTrace: boolean;
  /**
   * Static `hostResolver.cnameFlattening`: the host's CNAME chain is followed before routing
   * (RequestHead.flatHost). Null or absent: off, one field read per request.
   */
  readonly cnameFlattening?: CnameFlattener | null;
  /** `http.aliasHeadersStrategy` (or `underscoreHeadersStrategy`); null or absent: `keep`. */
  readonly aliasHeaders?: AliasHeaders | null;
  /** From the first byte of a request head to its end → 408. */
  readonly readHeaderTimeoutMs: number;
  /** Keep-alive idle time between requests → close. */
  readonly idleTimeoutMs: number;
  /** Whole request, head and body; 0 = none. */
  readonly readTimeoutMs: number;
  /** From a request's head to the end of its response (Go's WriteTimeout); 0 = none. */
  readonly writeTimeoutMs: number;
  /** Requests per connection; 0 = unlimited. */
  readonly keepAliveMaxRequests: number;
  /**
   * `transport.keepAliveMaxTime`, ms: a request that arrives on a connection older than this is
   * its last (Traefik's keepAliveMiddleware: `Connection: close` on its response; GOAWAY on
   * HTTP/2); 0 = no limit.
   */
  readonly keepAliveMaxTimeMs: number;
  /** Peers whose X-Forwarded-* we extend instead of overwrite (forwardedHeaders.trustedIPs). */
  readonly isTrusted: (ip: string) => boolean;
  /**
   * `forwardedHeaders.connection` (lowercased): fields a client's Connection names that routing
   * and the middlewares still see, removed only before the request goes upstream. Null = none.
   */
  readonly connectionKept: ReadonlySet<string> | null;
  /**
   * Not `forwardedHeaders.notAppendXForwardedFor`: the peer's address is appended to
   * X-Forwarded-For when each upstream head is written (Exchange.forwardedFor), as Traefik's
   * proxy appends it on the way out, never to the request's fields.
   */
  readonly appendForwardedFor: boolean;
  /** `forwardedHeaders.addXForwardedSchemeHeaders`: X-Forwarded-Scheme and X-Scheme set too. */
  readonly schemeHeaders: boolean;
  readonly snapshots: SnapshotRef;
  readonly ticker: Ticker;
  readonly logger: Logger;
  readonly accessLog: AccessLog | null;
  /** Null when metrics are off: the hot path then pays one null check. */
  readonly metrics: EntryPointMetrics | null;
  /** Null when tracing is off. */
  readonly tracer: Tracer | null;
  /**
   * The entry point's `observability`, for requests no router took (404s, refusals before
   * routing); a routed request reads its route's flags (RouteTarget.logged, .metered).
   */
  readonly logUnrouted: boolean;
  readonly meterUnrouted: boolean;
  /** Its requests get an entry point span (with `tracer`), as its default handler's chain does. */
  readonly traceUnrouted: boolean;
  /** Its `traceVerbosity` is `detailed`: that chain's detailed spans too (its `Metrics` span). */
  readonly detailUnrouted: boolean;
  /** Connection caps, load shedding and the request-body budget (overload/). */
  readonly overload: EntryPointGate;
  /** Long-lived requests of the process (tunnels, streaming responses), reviewed on reload. */
  readonly longLived: LongLivedRegistry;
  /** `transport.lifeCycle.graceTimeOut`: shutdown drain, and how long a long-lived request outlives its removed route. */
  readonly graceMs: number;
  /** Set on graceful shutdown: finish the current exchange, then close. */
  draining: boolean;
}

/**
 * keepAliveMaxTime: whether a connection opened at `openedAt` (ticker ms) has outlived it, so the
 * request that finds it so is its last (HTTP/1.1 and both HTTP/2 engines ask this).
 */
export function outlivedKeepAlive(ctx: EntryPointContext, openedAt: number): boolean {
  const max = ctx.keepAliveMaxTimeMs;
  return max > 0 && ctx.ticker.now - openedAt >= max;
}
