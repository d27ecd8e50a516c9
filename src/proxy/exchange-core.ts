import type { KubernetesObjectRef, KubernetesServiceRef } from '../config/dynamic/kubernetes-meta.ts';
import { inRanges } from '../config/dynamic/status-range.ts';
import { ProxyError } from '../core/errors.ts';
import { invalidRequestField, REQUEST, settleFields } from '../core/field-values.ts';
import { HeaderList } from '../core/headers.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';
import { type MemoryBudget, SpooledBody } from '../core/spooled-body.ts';
import { statusText } from '../core/status-text.ts';
import { applyAliasHeaders } from '../http1/alias-headers.ts';
import { BODY_LENGTH, BODY_NONE, type ParsedRequest } from '../http1/request-head.ts';
import { goHttpError } from '../middleware/http-error.ts';
import { enterLimit, unavailable } from '../middleware/in-flight-req.ts';
import {
  type BodyTransform,
  type BufferingSpec,
  type CallTrace,
  type Lease,
  type RequestControl,
  type RequestOutcome,
  type RetryPolicy,
  SUSPEND,
} from '../middleware/middleware.ts';
import type {
  FailoverNode,
  MirroringNode,
  ResolveSink,
  RouteTarget,
  ServerRuntime,
  ServiceRuntime,
  ServiceStep,
} from '../runtime/types.ts';
import type { ClientExchange, ClientSink } from './client-sink.ts';
import type { EntryPointContext } from './entry-point-context.ts';
import type { ErrorPageRequest } from './error-page.ts';
import { logAccess, type ReportedExchange } from './exchange-report.ts';
import { dropKeptFields } from './forwarded.ts';
import type { LongLived } from './long-lived.ts';
import { ResponseCapture } from './mirror-request.ts';
import { type MirrorCount, MirrorState } from './mirror-state.ts';
import { admitRequest, forcedBudget, neverShed } from './overload-admission.ts';
import { type BodyListener, RequestBody } from './request-body.ts';
import { SpoolSink } from './request-spool.ts';
import { RequestTrace } from './request-trace.ts';
import { RetryState } from './retry-state.ts';

/** The bytes of a body read for a failover's `errors` kept in memory before a file takes the rest. */
const FAILOVER_MEM_BYTES = 1 << 20;

/**
 * A body over a failover's `errors.maxRequestBodyBytes`: Traefik's failover.go answers
 * http.Error(w, "Request body too large", 413) (the text and a newline, plain text, nosniff).
 */
const FAILOVER_TOO_LARGE = goHttpError(413, 'Request body too large');
/** oxy's buffer: a body over `maxRequestBodyBytes` (its text, as http.StatusText). */
const BUFFER_TOO_LARGE: DirectResponse = { status: 413, body: statusText(413) };

/**
 * The state of a request that met a failover on statuses (`errors`, Traefik v3.7, or our
 * `statusCodes`), allocated by failoverThrough only for such a request.
 */
class FailoverPass {
  /** The route whose service tree met the failover (its middlewares are those above it). */
  route: RouteTarget | undefined;
  /**
   * Tries that were the fallback's: the same attempt for the router's retry and buffering retry
   * and for the access log, as Traefik's failover sits inside them (its fallback call is not an
   * attempt of theirs).
   */
  fallbackTries = 0;
  /**
   * Where the service middlewares below the failover (its main side's, Traefik v3.7) begin in
   * the route's middlewares, or -1: they wrap the main handler inside Traefik's failover, so
   * they never see the fallback's answer, and their own answer with a listed status (`errors`)
   * goes to the fallback.
   */
  mwAt = -1;
  /**
   * The request as the failover got it, kept when its main side has service middlewares (they
   * may change it): the fallback gets it as it was, as Traefik's failover serves each side its
   * own clone of the request (rr.Clone).
   */
  saved: {
    readonly path: string;
    readonly query: string;
    readonly headers: HeaderList;
    readonly hostOverride: string | undefined;
  } | null = null;
  /** The body is being read whole for `errors` (then the service's admission). */
  spooling = false;
  /**
   * The main side's service middlewares, waiting for the body to be read whole: Traefik's
   * failover reads it before it calls its main handler, their wrapper included.
   */
  pendingStep: ServiceStep | null = null;
  /** The fallback's own service middlewares are running: the tree below them goes on the tries. */
  stepping = false;

  constructor(route: RouteTarget | undefined) {
    this.route = route;
  }
}

/** `#suspendedAt` while the request waits in its service's queue (`maxInFlight`). */
const SERVICE_QUEUE = 1 << 30;

/** RFC 9110 §15.5.6: a 405 lists the methods that are allowed. */
const TRACE_REFUSED_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'],
];

/**
 * A request refused by the entry point's aliasHeadersStrategy `reject`: a 400 as Go's
 * http.Error writes it.
 */
const ALIAS_REFUSED = goHttpError(400, 'Bad Request');

/**
 * What a request no router takes gets: Traefik's, Go's http.NotFound (404, `404 page not
 * found` and a newline, plain text, `X-Content-Type-Options: nosniff`).
 */
// Named as http.Error sets them in the header map (the access log's downstream_ fields show it).
const NO_ROUTE_ANSWER = goHttpError(404, '404 page not found');

/**
 * What a request gets when no server of its service can take it: Traefik's load balancers
 * (wrr, p2c, hrw, leasttime) answer http.Error(rw, "no available server", 503): the message and
 * a newline, plain text, `X-Content-Type-Options: nosniff`.
 */
const NO_SERVER_ANSWER = goHttpError(503, 'no available server');

/**
 * A Host whose routers need other TLS options than the SNI chose: Traefik's SNI check answers
 * http.Error(rw, http.StatusText(421), 421) (pkg/server/router/tcp/router.go, httpsHandler).
 */
const MISDIRECTED_ANSWER = goHttpError(421, statusText(421));

/**
 * The request side of an exchange (the first of its three layers, see exchange.ts): routing,
 * the middleware chain, the service tree and its admission, the answers the proxy makes itself,
 * and the end of the request (leases settled, metrics, trace span, access log). What happens
 * upstream is the subclass's: `forward` once the service admitted the request, `dropTry` to
 * abandon the current try, `endTries` when the request is over.
 */
export abstract class ExchangeCore
  implements ClientExchange, RequestControl, ResolveSink, BodyListener, ReportedExchange, LongLived
{
  protected readonly client: ClientSink;
  protected readonly ctx: EntryPointContext;
  readonly parsed: ParsedRequest;
  readonly req: RequestHead;
  readonly startedAt = performance.now();
  protected route: RouteTarget | undefined;
  protected service: ServiceRuntime | undefined;
  protected server: ServerRuntime | undefined;
  /** Tries started (picks), for the retry policy's attempts. */
  protected tries = 0;
  /**
   * What a request that met a failover on statuses carries (failoverThrough allocates it): null
   * for every other request, which pays one field for the feature.
   */
  protected foPass: FailoverPass | null = null;
  /** When the current try started (performance.now()): set for retries, and with metrics on. */
  protected tryStart = 0;
  /**
   * A server took the current try (metrics: the service counts the request only then, as
   * Traefik's service metrics wrap each server's handler; a balancer with no server to give
   * answers 503 itself).
   */
  protected serverTook = false;
  protected mwRan = 0;
  /** Index of the middleware that suspended the request (a queue), or -1. */
  #suspendedAt = -1;
  protected leases: Lease[] | null = null;
  protected setCookies = '';
  protected mirror: MirrorState | null = null;
  protected capture: ResponseCapture | null = null;
  protected failover: FailoverNode | null = null;
  /** ResolveSink: service middlewares the tree stopped at, until #dispatch takes them (rare). */
  serviceStep: ServiceStep | null = null;
  protected retry: RetryState | null = null;
  /** A middleware's body transform for this request (grpcWeb), or null (nearly always). */
  protected transform: BodyTransform | null = null;
  protected readonly body: RequestBody | null;
  protected networkError = false;
  /** In the process's long-lived registry (a tunnel or a streaming response). */
  protected longLived = false;
  /** Bytes the client sent through a tunnel (after a protocol switch), beyond the request body. */
  protected tunnelBytesIn = 0;
  protected headMs = -1;
  protected cleanEnd = false;
  /**
   * A call to a server is under way whose `http.client.request.duration` is still to be recorded
   * (with `metrics.otlp` only).
   */
  protected semconvCall = false;
  /** The request's spans (request-trace.ts), or null when it is not traced: one field when off. */
  protected trace: RequestTrace | null = null;
  protected hostOverride: string | undefined;
  responseStarted = false;
  protected closeAfter = false;
  /** The error page that replaces the response (errors middleware), once one caught it. */
  protected page: ErrorPageRequest | null = null;
  /** The request body, read whole before sending (buffering middleware), or null. */
  protected spool: SpooledBody | null = null;
  #awaitingBody = false;
  /** The index of the buffering whose read of the body the middlewares wait for, or -1. */
  #gateAt = -1;
  /** A middleware waiting for the whole request body (`readBody`), or null. */
  #bodyReader: ((body: Buffer) => void) | null = null;
  status = 0;
  /**
   * With metrics on: the answer's grpc-status (its head's, else its trailers'), the `code` label
   * of a gRPC request. A reference to the field's string, nothing is allocated.
   */
  protected grpcStatus: string | undefined = undefined;
  /**
   * With metrics on, the service's own answer where the router's middlewares changed it: its
   * server's status, and the body bytes it sent when a body filter (buffering, compress) stands
   * between; -1: the exchange's (`status`, `bytesOut`). Traefik's service metrics sit below the
   * router's middlewares (pkg/middlewares/metrics wrapped around the service's handler,
   * pkg/server/service/service.go), so a buffering that refuses the answer (500) leaves the
   * service's 200 and its bytes counted (integration TestMetricsWithBufferingMiddleware).
   */
  protected serviceStatus = -1;
  protected serviceBytesOut = -1;
  bytesOut = 0;
  done = false;
  /** When the service took the request (Origin fields), set only when it is access-logged; else -1. */
  serviceAt = -1;
  /** The request's fields as the access log shows them, when they differ from `req.headers`. */
  loggedHeaders: HeaderList | null = null;
  /**
   * X-Forwarded-For as the request came to its router's middlewares (the access log's ClientHost),
   * read only when it is access-logged; null when not read (then the field as it is at the end).
   * A reference to the field's string: nothing is allocated.
   */
  arrivedForwardedFor: string | undefined | null = null;
  /** Set by an auth middleware (setClientUsername), for the access log; undefined for most. */
  clientUsername: string | undefined = undefined;
  /** basicAuth or digestAuth authenticated the request (setUrlUser): its calls' spans show a user. */
  urlUser = false;
  /**
   * The response's fields as sent, for the access log's downstream_ and origin_ fields: kept only
   * when it logs headers (`fields.headers`); null otherwise. A reference, nothing is copied.
   */
  responseHeaders: HeaderList | null = null;

  /** The service admitted the request: forward it. */
  protected abstract forward(): void;
  /** A failover's fallback below its own service middlewares resolved to `lb`: try it. */
  protected abstract tryFallback(lb: ServiceRuntime): void;
  /** Abandons the current try's upstream stream, or its wait for one. */
  protected abstract dropTry(): void;
  /** The request is over: give back what the tries held (server slot, deadline). */
  protected abstract endTries(): void;
  /**
   * A middleware at index `at` answered `status`: when it runs once per attempt of the route's
   * retry (after its marker), that attempt ends there; true when another one follows.
   */
  protected abstract retryAnswer(at: number, status: number): boolean;
  /** An attempt after the first ran the middlewares after the retry again: the service now. */
  protected abstract attemptAgain(): void;
  /**
   * An answer with `status` (the upstream's, a middleware's or ours) that an error page of the
   * route catches: the page is fetched instead, and true returned. `fromServer`: the status is
   * the answer of the current try's server (which its service then counts as a try).
   */
  protected abstract catchError(status: number, fromServer?: boolean): boolean;
  /** The address appended to X-Forwarded-For upstream, or null (OutgoingRequest.forwardedFor). */
  abstract readonly forwardedFor: string | null;
  // The client side's part of ClientExchange, implemented where the upstream stream is known.
  abstract readonly canTakeBody: boolean;
  abstract readonly bodyError: string | null;
  abstract feedBody(buf: Buffer, start: number, end: number): number;
  abstract feedData(buf: Buffer): void;
  abstract endData(trailers?: HeaderList | null): void;
  abstract onClientDrain(): void;
  /** LongLived: ends the request when a reload removed its route or server. */
  abstract closeLongLived(): void;
  abstract readTimeoutBeforeHead(): void;

  constructor(client: ClientSink, ctx: EntryPointContext, parsed: ParsedRequest, req: RequestHead) {
    this.client = client;
    this.ctx = ctx;
    this.parsed = parsed;
    this.req = req;
    this.body = parsed.bodyKind === BODY_NONE ? null : new RequestBody(parsed, client.http2, this);
  }

  /** Routes and runs the request phase; upstream work continues asynchronously. */
  start(): void {
    // Traefik's requestdecorator, first in the entry point's chain: the host's CNAME chain,
    // looked up before routing when not known yet (the request waits, as Traefik's does).
    const flattener = this.ctx.cnameFlattening;
    if (flattener != null && this.req.flatHost === undefined) {
      const host = this.req.host;
      const flat = flattener.cached(host);
      if (flat === undefined) {
        void flattener.resolve(host).then((name) => {
          if (this.done) return;
          this.req.flatHost = name;
          try {
            this.start();
          } catch (e) {
            this.onInternalError(e);
          }
        });
        return;
      }
      this.req.flatHost = flat;
    }
    if (this.req.method === 'TRACE' && !this.ctx.allowTrace) {
      if (this.ctx.tracer !== null) this.#traceEntry(undefined);
      // A backend that reflects TRACE would echo the client's cookies and credentials back to
      // a script (cross-site tracing): refused at the edge unless the entry point allows it.
      this.respondDirect({ status: 405, headers: TRACE_REFUSED_HEADERS, body: statusText(405) }, false);
      return;
    }
    // Traefik v3.7.12's aliasHeadersStrategy, before routing: one field read when it is `keep`.
    const alias = this.ctx.aliasHeaders;
    if (alias != null && !applyAliasHeaders(this.req.headers, alias)) {
      if (this.ctx.tracer !== null) this.#traceEntry(undefined);
      this.respondDirect(ALIAS_REFUSED, false);
      return;
    }
    const snap = this.ctx.snapshots.current;
    let route: RouteTarget | undefined;
    if (this.ctx.scheme === 'https') {
      // A connection reused for another host whose router needs other TLS options (client
      // certificates, versions) must not get them by sharing this handshake.
      // Traefik's SNICheck compares the flattened name when there is one (getHost).
      const tls = snap.tls;
      if (tls !== null) {
        const host = this.req.flatHost ?? this.req.host;
        if (tls.routerFor(this.ctx.name).misdirected(this.client.serverName, host)) {
          if (this.ctx.tracer !== null) this.#traceEntry(undefined);
          this.respondDirect(MISDIRECTED_ANSWER);
          return;
        }
      }
      route = snap.routes.https(this.ctx.name, this.req);
    } else route = snap.routes.http(this.ctx.name, this.req);
    // Traefik's entry point span wraps the router's whole chain (or the 404 handler): every
    // request of a traced router or entry point has one, whoever answers it.
    if (this.ctx.tracer !== null) this.#traceEntry(route);
    if (route === undefined) {
      this.respondDirect(NO_ROUTE_ANSWER, false);
      return;
    }
    this.route = route;
    // Traefik's access log reads ClientHost before any router middleware may change the field
    // (pkg/middlewares/accesslog/logger.go ServeHTTP, in the entry point's chain).
    if (this.ctx.accessLog !== null && route.logged)
      this.arrivedForwardedFor = this.req.headers.get('x-forwarded-for');
    // Overload: one field read on the plain path; the manager decides only under pressure or
    // for a request with a body (its memory budget).
    const gate = this.ctx.overload;
    if (gate.shedding !== 0 || this.body !== null) {
      const refused = admitRequest(gate, route, this.parsed, this.body, this.client.http2);
      if (refused !== undefined) {
        this.respondDirect(refused, false);
        return;
      }
    }
    // Detailed tracing: the spans after the buffering's wait for the body (RequestTrace).
    if (this.trace?.detailed && route.buffering !== null && this.body !== null) this.trace.holdForBody();
    this.#runMiddlewares(0);
  }

  /** A retry's attempt runs the route's middlewares again from `from` (its marker's next). */
  protected rerunMiddlewares(from: number): void {
    this.#runMiddlewares(from);
  }

  /**
   * Runs the route's middlewares from `from` (`opened`: group `from`'s spans are open already,
   * detailed tracing). A `buffering` among them stops the walk at its index until the body is
   * read whole, as Traefik's buffering (oxy's buffer.ServeHTTP) reads it before it calls its
   * `next`: those after it see the request only then, and a body it refuses (413) never.
   */
  #runMiddlewares(from: number, opened = false): void {
    const route = this.route!;
    const mws = route.middlewares;
    // One field test for a route without a buffering.
    let end = mws.length;
    if (route.buffering !== null && this.body !== null) end = this.#nextGate(from, opened);
    for (let i = from; i < end; i++) {
      const mw = mws[i]!;
      if (this.trace?.detailed && !(opened && i === from)) this.trace.middleware(route, i);
      if (mw.onRequest === undefined) continue;
      const r = mw.onRequest(this.req, this);
      if (r === undefined) continue;
      if (r === SUSPEND) {
        this.#suspendedAt = i;
        return;
      }
      this.mwRan = i;
      this.trace?.middlewareAnswered(r, this.req);
      if (
        this.foPass !== null &&
        this.foPass.mwAt >= 0 &&
        i >= this.foPass.mwAt &&
        this.#middlewareToFallback(r.status)
      )
        return;
      if (this.retry !== null && this.retryAnswer(i, r.status)) return;
      this.respondDirect(r);
      return;
    }
    if (end < mws.length) {
      // At a buffering: its span opens, then the body is read (or was, by an earlier reader).
      if (this.trace?.detailed && !(opened && end === from)) this.trace.middleware(route, end);
      if (!this.#bufferingGate(end)) this.#runMiddlewares(end, true);
      return;
    }
    this.mwRan = mws.length;
    const children = this.route!.children;
    if (children !== null) {
      // A parent router (multi-layer routing): its children are matched against the request as
      // its middlewares left it; none matching is Go's NotFound, which they see (Traefik's child
      // muxer's default handler, inside the parent's chain).
      const child = children.match(this.ctx.name, this.req);
      if (child === undefined) this.respondDirect(NO_ROUTE_ANSWER);
      else {
        this.route = child;
        this.#runMiddlewares(mws.length);
      }
      return;
    }
    if (this.trace?.detailed) this.trace.middleware(this.route!, mws.length);
    // A buffering after the last middleware with a phase.
    if (this.route!.buffering !== null && this.body !== null && this.#bufferingGate(mws.length)) return;
    this.mwRan = mws.length;
    this.#dispatch();
  }

  /**
   * The index of the route's first buffering the walk from `from` stops at (`opened`: the one
   * at `from` was passed already), else the count of middlewares.
   */
  #nextGate(from: number, opened: boolean): number {
    const route = this.route!;
    const n = route.middlewares.length;
    const gates = route.bufferings!;
    for (let k = 0; k < gates.length; k++) {
      const at = gates[k]!.at;
      if (at >= n) return n;
      if (at > from || (at === from && !opened)) return at;
    }
    return n;
  }

  /**
   * The route's bufferings at index `at` of its middlewares (`at` = their count: those after the
   * last middleware): false when the body is read whole already and within their limits (the
   * walk goes on); else it is being read, with the first one's settings (the walk resumes at
   * `at` once it is, #bodySpooled), or refused (413). Until the body is read whole, an answer
   * (413, a failed read) is the buffering middleware's: as oxy writes it on the writer it was
   * given, only the middlewares before it see it (their headers, an errors page).
   */
  #bufferingGate(at: number): boolean {
    if (this.spool === null) {
      const gates = this.route!.bufferings!;
      let spec = this.route!.buffering!;
      for (let k = 0; k < gates.length; k++)
        if (gates[k]!.at >= at) {
          spec = gates[k]!.spec;
          break;
        }
      this.mwRan = at;
      this.#gateAt = at;
      this.#spoolBody(spec);
      return true;
    }
    return this.#overGates(at);
  }

  /**
   * True (and answered 413) when the body read whole is over the limit of a buffering at `at`
   * (at the end: any from there), as each of Traefik's buffering middlewares reads it again with
   * its own limit.
   */
  #overGates(at: number): boolean {
    const route = this.route!;
    const size = this.spool!.length;
    const gates = route.bufferings!;
    const last = at >= route.middlewares.length;
    let over = false;
    for (let k = 0; k < gates.length && !over; k++) {
      const g = gates[k]!;
      if (g.at === at || (last && g.at > at))
        over = g.spec.maxRequestBodyBytes > 0 && size > g.spec.maxRequestBodyBytes;
    }
    if (!over) return false;
    this.mwRan = at;
    this.#refuseBody(BUFFER_TOO_LARGE);
    return true;
  }

  /**
   * `buffering`: the body is read whole (memory, then a temporary file) before a server is
   * picked; the request then goes with a Content-Length, and each try replays it.
   */
  #spoolBody(b: BufferingSpec): void {
    const max = b.maxRequestBodyBytes > 0 ? b.maxRequestBodyBytes : -1;
    // oxy checks the announced length first: refused before a byte of the body is read.
    if (this.#announcedOver(max)) {
      this.#refuseBody(BUFFER_TOO_LARGE);
      return;
    }
    // Its memory part counts in the overload manager's request-body budget (set at admission).
    this.#startSpool(
      new SpooledBody(b.memRequestBodyBytes, this.body!.budget),
      max,
      BUFFER_TOO_LARGE,
      'maxRequestBodyBytes',
    );
  }

  /** A body announced (Content-Length) larger than `max` bytes (< 0: no limit). */
  #announcedOver(max: number): boolean {
    return max >= 0 && this.parsed.bodyKind === BODY_LENGTH && this.parsed.contentLength > max;
  }

  /**
   * Reads the request body into `spool` (answered `over` past `max`, `what` naming it,
   * `spanError` marked on a traced request's span then).
   */
  #startSpool(spool: SpooledBody, max: number, over: DirectResponse, what: string, spanError?: string): void {
    this.spool = spool;
    this.#awaitingBody = true;
    this.body!.attach(new SpoolSink(spool, this, max, over, what, spanError));
    this.client.resumeBody();
  }

  /** A whole-body read (readBody) went over the request-body budget: shed, counted, closed after. */
  shedBody(): void {
    if (this.done) return;
    const gate = this.ctx.overload;
    gate.shed.request_body_memory++;
    this.closeAfter = true;
    this.respondDirect({ status: 503, headers: gate.retryAfterHeaders, body: statusText(503) });
  }

  /** A body refused for its size: answered `answer`, and the connection closed after it. */
  #refuseBody(answer: DirectResponse, spanError?: string): void {
    if (spanError !== undefined) this.trace?.middlewareFailed(spanError, this.req);
    this.closeAfter = true;
    this.respondDirect(answer);
  }

  /** True (and answered 500) when the spool could not keep the body. */
  #spoolFailed(spool: SpooledBody): boolean {
    if (spool.error === null) return false;
    this.ctx.logger.error('request body could not be buffered', {
      error: spool.error,
      router: this.routerName,
    });
    this.respondDirect({ status: 500, body: statusText(500) });
    return true;
  }

  #bodySpooled(): void {
    if (this.done || this.#spoolFailed(this.spool!)) return;
    // Detailed tracing: the spans after the buffering start now (RequestTrace.holdForBody).
    this.trace?.bodyRead();
    try {
      const at = this.#gateAt;
      if (at >= 0) {
        // Read at a buffering: the others there check their limits, then what follows runs.
        this.#gateAt = -1;
        if (this.#overGates(at)) return;
        if (at < this.route!.middlewares.length) this.#runMiddlewares(at, true);
        else {
          this.mwRan = at;
          this.#dispatch();
        }
        return;
      }
      const fp = this.foPass;
      if (fp?.spooling === true) {
        const step = fp.pendingStep;
        if (step === null) this.#admit(this.service!);
        else {
          fp.pendingStep = null;
          this.#takeStep(this.route!, step);
        }
      } else {
        this.mwRan = this.route!.middlewares.length;
        this.#dispatch();
      }
    } catch (e) {
      this.onInternalError(e);
    }
  }

  /**
   * A failover with `errors` (Traefik v3.7) took the request to its main service: the body is
   * read whole first, so that the fallback can get it again, as Traefik's failover.go ServeHTTP
   * reads it with mirror.NewReusableRequest before calling the main handler: past
   * `maxRequestBodyBytes` (< 0: no limit) the answer is 413 and no server is asked. Past 1 MiB
   * the bytes go to a temporary file (Traefik keeps them in memory), as the buffering
   * middleware's; the memory part counts in the request-body budget.
   */
  #spoolForFailover(max: number): void {
    const limit = max < 0 ? -1 : max;
    if (this.#announcedOver(limit)) {
      this.closeAfter = true;
      this.respondDirect(FAILOVER_TOO_LARGE);
      return;
    }
    this.foPass!.spooling = true;
    this.#startSpool(
      new SpooledBody(FAILOVER_MEM_BYTES, this.body!.budget),
      limit,
      FAILOVER_TOO_LARGE,
      "the failover's errors.maxRequestBodyBytes",
    );
  }

  abstract onUpstreamDrain(): void;

  // ---- RequestControl (for middlewares)

  resume(response?: DirectResponse): void {
    const at = this.#suspendedAt;
    if (this.done || at < 0) return;
    this.#suspendedAt = -1;
    try {
      if (at === SERVICE_QUEUE) {
        if (response !== undefined) this.respondDirect(response);
        else this.forward();
      } else if (response !== undefined) {
        this.mwRan = at;
        this.trace?.middlewareAnswered(response, this.req);
        const fp = this.foPass;
        if (fp !== null && fp.mwAt >= 0 && at >= fp.mwAt && this.#middlewareToFallback(response.status))
          return;
        if (this.retry !== null && this.retryAnswer(at, response.status)) return;
        this.respondDirect(response);
      } else this.#runMiddlewares(at + 1);
    } catch (e) {
      this.onInternalError(e);
    }
  }

  /**
   * RequestControl: the request went past a retry whose middlewares after it run per attempt
   * (middleware/retry.ts retryPoint). A later retry of the chain (a parent router's, then its
   * child's; a router's, then a service's) is nested in the one before (nestRetry), as Traefik's
   * retry middlewares of one chain nest.
   */
  retryPoint(from: number, policy: RetryPolicy): void {
    let r = this.retry;
    if (r === null || r.policy !== policy) {
      const outer = r;
      r = new RetryState(policy);
      if (outer !== null) this.nestRetry(r, outer);
      this.retry = r;
    }
    r.keep(from, this.req, this.hostOverride);
    r.route = this.route;
    r.leaseFrom = this.leases === null ? 0 : this.leases.length;
    r.leaseTo = -1;
    r.attemptAt = performance.now();
  }

  /**
   * `inner`, a later `retry` of the chain, runs inside each attempt of `outer`, as Traefik's
   * retry middlewares of one chain nest (each calls the rest of the chain, the next retry
   * included, per attempt): its attempts are counted from here, and when it gives up, `outer`
   * decides on the answer (ExchangeTries #mayRetry).
   */
  protected nestRetry(inner: RetryState, outer: RetryState): void {
    inner.outer = outer;
    inner.base = this.attempts;
    inner.forwarded = outer.forwarded;
    inner.again = outer.again;
    inner.stepping = outer.stepping;
    outer.again = false;
    outer.hasInner = true;
  }

  onEnd(lease: Lease): void {
    if (this.leases === null) this.leases = [lease];
    else this.leases.push(lease);
  }

  /**
   * The whole request body, in memory, for a suspended middleware (forwardAuth's `forwardBody`):
   * `done` is called later (never from within this call) with its bytes; a body over `limit`
   * bytes (< 0: none) is answered `over` and `done` is never called. The server then gets
   * the same bytes, with a Content-Length (the body is replayed like the buffering middleware's).
   */
  readBody(limit: number, over: DirectResponse, done: (body: Buffer) => void, overSpanError?: string): void {
    if (this.body === null) {
      queueMicrotask(() => done(Buffer.alloc(0)));
      return;
    }
    if (this.spool !== null) {
      // Read already (an earlier middleware): the same bytes, or over this one's limit.
      const spool = this.spool;
      void spool.settled().then(() => this.#deliverBody(spool, limit, over, done, overSpanError));
      return;
    }
    if (this.#announcedOver(limit)) {
      queueMicrotask(() => this.#refuseBody(over, overSpanError));
      return;
    }
    // All in memory, as Traefik's io.ReadAll: `limit` bounds it when set. Those bytes count in
    // the overload manager's request-body budget like a buffered body's memory part: past it
    // the request is shed (503), not written to a file, since the middleware wants it in memory.
    // The proxy's own routes are never shed: their bodies are counted whatever the budget says.
    this.#bodyReader = done;
    const budget = this.body.budget;
    const counted: MemoryBudget | null =
      budget === null || !neverShed(this.route!) ? budget : forcedBudget(budget);
    this.#startSpool(
      new SpooledBody(Number.MAX_SAFE_INTEGER, counted, true),
      limit,
      over,
      "the middleware's maxBodySize",
      overSpanError,
    );
  }

  #deliverBody(
    spool: SpooledBody,
    limit: number,
    over: DirectResponse,
    done: (body: Buffer) => void,
    overSpanError?: string,
  ): void {
    if (this.done || this.#spoolFailed(spool)) return;
    if (limit >= 0 && spool.length > limit) {
      this.#refuseBody(over, overSpanError);
      return;
    }
    try {
      done(Buffer.concat(spool.memoryChunks as Buffer[]));
    } catch (e) {
      this.onInternalError(e);
    }
  }

  /** RequestControl.traceCall: a middleware's call's span, when this request is traced. */
  traceCall(name: string, method: string, url: string, headers: HeaderList): CallTrace | null {
    return this.trace === null ? null : this.trace.sideCall(name, method, url, headers);
  }

  transformBody(t: BodyTransform): void {
    this.transform = t;
  }

  setClientUsername(name: string): void {
    this.clientUsername = name;
  }

  setUrlUser(): void {
    this.urlUser = true;
  }

  markSpanError(message: string): void {
    this.trace?.middlewareFailed(message, this.req);
  }

  // ---- ResolveSink (for the service tree)

  addSetCookie(line: string): void {
    this.setCookies += line;
  }

  mirrorThrough(node: MirroringNode): void {
    if (this.mirror === null) this.mirror = new MirrorState(node, this.req, !this.bodyDone);
  }

  failoverThrough(node: FailoverNode): void {
    this.failover = node;
    // A retry's attempt meets it again: the same pass (its fallback tries count on).
    if (this.foPass === null) this.foPass = new FailoverPass(this.route);
  }

  serviceMiddlewares(step: ServiceStep): void {
    this.serviceStep = step;
  }

  // ---- the service

  #dispatch(): void {
    const route = this.route!;
    // `forwardedHeaders.connection`: fields that stayed for routing and the middlewares go now.
    const kept = this.ctx.connectionKept;
    if (kept !== null && this.parsed.connectionTokens !== null) {
      // Traefik's access log reads the request's own header map, which its proxy's outgoing copy
      // leaves whole (httputil.ReverseProxy removes hop-by-hop fields from outreq's clone): the
      // kept fields are still logged (integration/headers_test.go TestConnectionHopByHop).
      const log = this.ctx.accessLog;
      // Once: a retry dispatches again, after the fields went.
      if (log?.logsHeaders && route.logged && this.loggedHeaders === null)
        this.loggedHeaders = this.req.headers.clone();
      dropKeptFields(this.req.headers, this.parsed.connectionTokens, kept);
    }
    // Traefik's AddServiceFields times the service for OriginDuration: only read by the log.
    if (this.ctx.accessLog !== null && route.logged) this.serviceAt = performance.now();
    // A field a middleware made that needs it is settled once, before the Host override is read
    // and before mirrors copy the list (core/field-values.ts).
    if (this.req.headers.unsettled) {
      const bad = settleFields(this.req.headers, REQUEST);
      if (bad !== null) {
        this.respondError(invalidRequestField(bad), true);
        return;
      }
    }
    if (route.middlewares.length > 0) {
      const h = this.req.headers.get('host');
      if (h !== undefined && h !== this.parsed.authority) this.hostOverride = h;
      // A retry whose middlewares after it run per attempt: the leases they took are this
      // attempt's; an attempt after the first goes on to the service as ExchangeTries resolves it.
      const r = this.retry;
      if (r !== null && r.from >= 0) {
        r.leaseTo = this.leases === null ? 0 : this.leases.length;
        for (let o = r.outer; o !== null; o = o.outer) o.leaseTo = r.leaseTo;
        if (r.again) {
          r.again = false;
          if (r.forwarded) {
            this.attemptAgain();
            return;
          }
        }
      }
    }
    const lb = route.service.resolve(this.req, this);
    if (lb === undefined) {
      const step = this.serviceStep;
      if (step !== null) {
        // Service middlewares (Traefik v3.7): the services above chose the one that has them;
        // they run after the route's (and the steps' before them), then the tree below them is
        // resolved. Only requests whose tree has such a step come here.
        this.serviceStep = null;
        const fo = this.failover;
        const fp = this.foPass;
        if (
          fo !== null &&
          fp !== null &&
          fp.mwAt < 0 &&
          fo.errors !== null &&
          this.body !== null &&
          this.spool === null
        ) {
          // The main side of a failover with `errors`: Traefik's failover.go ServeHTTP reads the
          // body (mirror.NewReusableRequest, 413 past maxRequestBodyBytes) before it calls its
          // main handler, whose middlewares these are; they run once it is read.
          fp.pendingStep = step;
          this.#spoolForFailover(fo.errors.maxRequestBodyBytes);
          return;
        }
        this.#takeStep(route, step);
        return;
      }
      // Traefik's retry wraps the whole service: the 503 its load balancer writes when no server
      // is available is an attempt, retried when `status` lists 503 (pkg/middlewares/retry/
      // retry.go, responseWriter.WriteHeader). The tries go on without a service for now.
      const retry = route.retry;
      let retried = retry?.retriesNoServer === true;
      // Or a retry the route's is nested in (RetryState.outer) lists 503.
      for (let o = this.retry?.outer ?? null; !retried && o !== null; o = o.outer)
        retried = o.policy.retriesNoServer;
      if (!retried) {
        this.noServer(route.service.name);
        return;
      }
      this.mirror = null;
      this.forward();
      return;
    }
    this.service = lb;
    const fo = this.failover;
    if (fo !== null) {
      if (fo.errors !== null && this.body !== null && this.spool === null) {
        this.#spoolForFailover(fo.errors.maxRequestBodyBytes);
        return;
      }
    } else if (this.foPass?.stepping === true) {
      // Past the fallback's service middlewares: the request is already forwarded, its tries go on.
      this.foPass.stepping = false;
      this.tryFallback(lb);
      return;
    }
    this.#admit(lb);
  }

  /** Runs `step`'s service middlewares after `route`'s, then what is below them (#dispatch). */
  #takeStep(route: RouteTarget, step: ServiceStep): void {
    this.failoverMainStep(route);
    // A mirroring service above: its copies are the request as it got it (Traefik's).
    this.mirror?.freeze(this.req, this.hostOverride ?? this.parsed.authority, this.forwardedFor);
    this.route = step.targetAfter(route);
    this.#runMiddlewares(route.middlewares.length);
  }

  /**
   * Service middlewares met below a failover (chosen by the resolve that stopped at them) run
   * inside it, on its main side: where they begin, and the request as the failover got it.
   */
  protected failoverMainStep(route: RouteTarget): void {
    const fp = this.foPass;
    if (this.failover === null || fp === null || fp.mwAt >= 0) return;
    fp.mwAt = route.middlewares.length;
    const req = this.req;
    fp.saved = {
      path: req.path,
      query: req.query,
      headers: req.headers.clone(),
      hostOverride: this.hostOverride,
    };
  }

  /**
   * The failover's fallback has service middlewares (Traefik v3.7 `fallbackMiddlewares`, or the
   * fallback service's own): resolving it stopped at them (`serviceStep`). They run inside the
   * failover, after the middlewares above it (the route's, as `foPass.route` had them), on the
   * fallback's side only; then the tree below them is resolved and, once the request was
   * `forwarded` to the main service, tried (`tryFallback`), else forwarded.
   */
  protected enterFallbackStep(forwarded: boolean): void {
    const step = this.serviceStep!;
    const fp = this.foPass!;
    const base = fp.route!;
    this.serviceStep = null;
    fp.stepping = forwarded;
    this.route = step.targetAfter(base);
    this.mwRan = base.middlewares.length;
    this.#runMiddlewares(base.middlewares.length);
  }

  /**
   * A middleware of a failover's main side answered `status`: with `errors` listing it, the
   * request goes to the fallback instead (Traefik's failover.go: the main handler, its
   * middlewares included, writes to the failover's responseWriter), and only the middlewares
   * above the failover see what the fallback answers. Nothing was sent upstream yet: the body
   * goes to the fallback as it comes.
   */
  #middlewareToFallback(status: number): boolean {
    const fo = this.failover;
    if (fo === null || fo.errors === null || !inRanges(fo.statusCodes, status)) return false;
    this.failover = null;
    this.leaveFailoverMain();
    this.setCookies = '';
    const lb = fo.resolveFallback(this.req, this);
    if (lb !== undefined) {
      this.service = lb;
      this.#admit(lb);
    } else if (this.serviceStep !== null) {
      // Nothing was forwarded yet: the fallback's middlewares, then its service, as a dispatch.
      this.enterFallbackStep(false);
    } else this.noServer(fo.fallback.name);
    return true;
  }

  /**
   * Going to a failover's fallback: the middlewares of its main side (if any) are left behind,
   * their answer unseen by them and the request as they found it.
   */
  protected leaveFailoverMain(): void {
    const fp = this.foPass;
    if (fp === null || fp.mwAt < 0) return;
    this.mwRan = fp.mwAt;
    const saved = fp.saved;
    if (saved === null) return;
    const req = this.req;
    req.path = saved.path;
    req.query = saved.query;
    const h = req.headers;
    h.names.length = 0;
    h.lnames.length = 0;
    h.values.length = 0;
    h.names.push(...saved.headers.names);
    h.lnames.push(...saved.headers.lnames);
    h.values.push(...saved.headers.values);
    h.unsettled = saved.headers.unsettled;
    h.raw = null;
    this.hostOverride = saved.hostOverride;
  }

  /** The service's admission (its `maxInFlight` queue), then the request is forwarded. */
  #admit(lb: ServiceRuntime): void {
    const adm = lb.admission;
    if (adm !== null) {
      const r = enterLimit(adm, '', this, this.ctx.ticker.now, unavailable(adm.retryAfter));
      if (r === SUSPEND) {
        this.#suspendedAt = SERVICE_QUEUE;
        return;
      }
      if (r !== undefined) {
        this.respondDirect(r);
        return;
      }
    }
    this.forward();
  }

  /**
   * The request's spans (request-trace.ts), when its router traces it, or its entry point for a
   * request no router took (Traefik's default handler has the entry point's chain).
   */
  #traceEntry(route: RouteTarget | undefined): void {
    if (!(route === undefined ? this.ctx.traceUnrouted : route.traced)) return;
    this.trace = new RequestTrace(
      this.ctx.tracer!,
      this,
      this.ctx.name,
      route,
      Date.now() - (performance.now() - this.startedAt),
      this.ctx.metrics === null ? null : this.ctx.metrics.levels,
      route === undefined && this.ctx.detailUnrouted,
    );
  }

  /**
   * The response head as it goes to the client: a sampled span records the captured fields
   * (Traefik's CaptureResponse on the entry point's span). One null check when not tracing.
   */
  protected spanResponse(headers: HeaderList): void {
    this.trace?.response(headers);
    // The response's fields once its middlewares ran, as Traefik's DownstreamResponse clones
    // rw.Header() (pkg/middlewares/accesslog/logger.go ServeHTTP).
    if (this.ctx.accessLog?.logsHeaders === true) this.responseHeaders = headers;
  }

  // ---- the request body (BodyListener)

  get bodyDone(): boolean {
    return this.body === null || this.body.done;
  }

  get bytesIn(): number {
    return (this.body === null ? 0 : this.body.bytesIn) + this.tunnelBytesIn;
  }

  onBodyComplete(): void {
    if (this.#awaitingBody) {
      this.#awaitingBody = false;
      const reader = this.#bodyReader;
      this.#bodyReader = null;
      const spool = this.spool!;
      spool.settled().then(
        () =>
          reader === null ? this.#bodySpooled() : this.#deliverBody(spool, -1, BUFFER_TOO_LARGE, reader),
        (e: unknown) => this.onInternalError(e),
      );
      return;
    }
    // The answer came before the body's end (a server answered early, a retry followed): copies
    // that waited for it go now.
    const m = this.mirror;
    if (m?.due) this.mirrorDue(m, false);
  }

  /**
   * The attempt that met the mirroring ended (`final`: the request did, its answer written):
   * its copies go now, as Traefik's mirroring sends them once its main handler returned
   * (pkg/server/service/loadbalancer/mirror/mirror.go ServeHTTP). A client that went away
   * before cancelled them (cancelMirrors). Only requests that met a mirroring come here.
   */
  protected mirrorsDue(final: boolean): void {
    const m = this.mirror;
    if (m !== null) this.mirrorDue(m, final);
  }

  /**
   * Sends `m`'s copies if its body can go with them: none wanted (`mirrorBody: false`, no body),
   * or kept whole within the mirroring's `maxBodySize`. A body still coming makes them wait for
   * its end (`due`), unless the request is over (`final`): then, and past `maxBodySize`, the
   * request is not mirrored, as Traefik's errBodyTooLarge.
   */
  protected mirrorDue(m: MirrorState, final: boolean): void {
    if (m.started) return;
    const wanted = m.wantsBody;
    if (wanted && !this.mirrorableBody(m.node)) {
      m.skip();
      return;
    }
    const ready = !wanted || this.body!.done;
    if (!ready && final) {
      m.skip();
      return;
    }
    // A later attempt may change the request meanwhile: the copies keep it as it was.
    if (!final) m.freeze(this.req, this.hostOverride ?? this.parsed.authority, this.forwardedFor);
    if (ready) this.startMirrors(wanted ? this.body!.recorder!.bytes() : null, m);
    else m.due = true;
  }

  /**
   * An attempt that may have met a mirroring is over (`final`: the request): its copies go, unless
   * the client canceled the request meanwhile: went away (abort), or sent its FIN, which Go's
   * server takes as a cancel (net/http connReader backgroundRead cancels the request's context;
   * the answer still goes out here, RFC 9112 §9.6 half-close).
   */
  protected attemptOver(final: boolean): void {
    if (this.client.clientEnded === true) this.cancelMirrors();
    else this.mirrorsDue(final);
  }

  /** The recorded request body can go to `node`'s mirrors (kept whole, within its maxBodySize). */
  protected mirrorableBody(node: MirroringNode): boolean {
    const rec = this.body?.recorder ?? null;
    return rec !== null && !rec.overflow && (node.maxBodySize < 0 || rec.length <= node.maxBodySize);
  }

  /**
   * The client went away before the answer: no copy goes, as Traefik's mirroring sends none when
   * the request's context was canceled during its main handler (mirror.go ServeHTTP).
   */
  protected cancelMirrors(): void {
    this.mirror?.skip();
  }

  /** Sends the copies of `state` (the request's mirroring, or a later attempt's) with `body`. */
  protected startMirrors(body: Buffer | null, state: MirrorState = this.mirror!): void {
    const host = this.hostOverride ?? this.parsed.authority;
    const m = this.ctx.metrics;
    const route = this.route;
    const req = this.req;
    const upgrade = this.parsed.upgrade;
    // With metrics on, each copy a mirror's server took counts on its service (Traefik's).
    const count: MirrorCount | null =
      m === null || route === undefined || !route.metered
        ? null
        : (lb, status, seconds, bytesIn, bytesOut, server) => {
            m.series(route, lb).tryEnded(status, seconds, req, upgrade, bytesIn, bytesOut);
            // Each copy is a call through Traefik's observability round tripper too.
            m.semconv?.client(
              req.method,
              status,
              server.url,
              req.headers.get('x-forwarded-proto') ?? '',
              seconds,
            );
          };
    const trace = this.trace;
    state.start({
      req,
      hostHeader: host,
      forwardedFor: this.forwardedFor,
      body,
      ticker: this.ctx.ticker,
      logger: this.ctx.logger,
      count,
      trace: trace === null ? null : { trace, ex: this },
    });
  }

  // ---- failures of the client or of our own code

  /**
   * The client sent a malformed body (or too slowly: 408): answer `status` if we still can, else
   * break both sides.
   */
  failBody(reason: string, status = 400, spanError?: string, answer?: DirectResponse): void {
    if (this.done) return;
    if (spanError !== undefined) this.trace?.middlewareFailed(spanError, this.req);
    this.ctx.logger.debug('bad request body', { reason, entryPoint: this.ctx.name });
    this.abandon(status, true, answer);
  }

  /**
   * A bug (an exception in a middleware or in our own code) must cost one request, never the
   * process: answer 500 if nothing was sent yet, else break the connection.
   */
  onInternalError(e: unknown): void {
    this.ctx.logger.error('internal error', {
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      router: this.routerName,
      entryPoint: this.ctx.name,
    });
    if (this.done) return;
    // Middlewares do not run on this answer: one of them may be what threw.
    this.abandon(500, false);
  }

  /** Drops the upstream side; answers `status` when nothing was sent yet, else breaks the connection. */
  protected abandon(status: number, runMiddlewares: boolean, answer?: DirectResponse): void {
    this.dropTry();
    this.closeAfter = true;
    if (this.responseStarted) {
      this.client.broken();
      this.finish();
      return;
    }
    this.respondDirect(answer ?? { status, body: statusText(status) }, runMiddlewares);
  }

  /**
   * The current call to a server ended with `status` (its answer's head, or the status Traefik's
   * ComputeStatusCode gives its failure): its `http.client.request.duration`, as Traefik's
   * observability round tripper records it (pkg/proxy/httputil/observability.go RoundTrip).
   */
  protected endCallMetric(status: number): void {
    this.semconvCall = false;
    const sc = this.ctx.metrics?.semconv;
    const server = this.server;
    if (sc == null || server === undefined) return;
    sc.client(
      this.req.method,
      status,
      server.url,
      this.req.headers.get('x-forwarded-proto') ?? '',
      (performance.now() - (this.tryStart === 0 ? this.startedAt : this.tryStart)) / 1000,
    );
  }

  /** The client went away: cancel everything upstream. */
  abort(): void {
    if (this.done) return;
    // The client went away during the call: Traefik's ComputeStatusCode says 499 (canceled).
    this.trace?.endCall(499, null);
    if (this.semconvCall) this.endCallMetric(499);
    this.dropTry();
    this.retry?.cancel();
    if (this.mirror !== null || this.retry !== null) this.cancelMirrors();
    if (this.status === 0) this.status = 499;
    this.closeAfter = true;
    this.finish();
  }

  // ---- responses we produce ourselves

  /** No server of `service` could take the request: logged as NO_SERVER, answered as Traefik's. */
  protected noServer(service: string): void {
    this.logError(new ProxyError('NO_SERVER', `no server available for ${service}`), undefined);
    this.respondDirect(NO_SERVER_ANSWER);
  }

  protected respondError(err: ProxyError, log: boolean, server?: ServerRuntime): void {
    if (log) this.logError(err, server);
    this.respondDirect({ status: err.status, body: statusText(err.status) });
  }

  protected logError(
    err: ProxyError,
    server: ServerRuntime | undefined,
    level: 'error' | 'debug' = 'error',
  ): void {
    const logger = this.ctx.logger;
    if (!logger.enabled(level)) return;
    logger[level]('request failed', {
      code: err.code,
      status: err.status,
      detail: err.message,
      entryPoint: this.ctx.name,
      router: this.routerName,
      service: this.serviceName,
      server: server?.url ?? '',
      method: this.req.method,
      host: this.req.host,
      path: this.req.path,
      clientIp: this.client.clientIp,
    });
  }

  protected respondDirect(resp: DirectResponse, runMiddlewares = true): void {
    const route = this.route;
    if (runMiddlewares && route !== undefined && route.errorPages !== null && this.catchError(resp.status))
      return;
    const mws = runMiddlewares ? route?.middlewares : undefined;
    const body = resp.body ?? '';
    // Fetching an error page failed: the client still gets the status the page stood for.
    const status = this.page === null || this.page.status === 0 ? resp.status : this.page.status;
    const rh: ResponseHead = {
      status,
      reason: statusText(status),
      headers: HeaderList.from(resp.headers ?? []),
    };
    if (mws !== undefined) {
      for (let i = this.mwRan - 1; i >= 0; i--) mws[i]!.onResponse?.(this.req, rh);
      // Once the head is whole, as Go's server decides the type when the body is first written.
      for (let i = this.mwRan - 1; i >= 0; i--) mws[i]!.onDirectResponse?.(this.req, rh, body);
    }
    this.status = rh.status;
    // A 2xx to an HTTP/1.1 CONNECT (a middleware's or a weighted child's `status`, never the
    // proxy's: it answers 501) tells the client a tunnel began: what it sends next is not a
    // request. Go 1.26.9's server stops reading requests then (CVE-2026-94439): so do we.
    if (status >= 200 && status < 300 && this.req.method === 'CONNECT' && this.parsed.upgrade === null)
      this.closeAfter = true;
    const len = Buffer.byteLength(body);
    this.responseStarted = true;
    this.spanResponse(rh.headers);
    this.closeAfter = this.client.direct(this, rh, body, len, this.closeAfter || !this.bodyDone);
    // The sink turned an error to a gRPC call into a trailers-only answer (grpc-status in rh).
    if (this.ctx.metrics !== null) this.grpcStatus = rh.headers.get('grpc-status');
    this.bytesOut += this.req.method === 'HEAD' ? 0 : len;
    this.finish();
  }

  // ---- the end (ReportedExchange)

  get removalGraceMs(): number {
    return this.ctx.graceMs;
  }

  get routerName(): string {
    return this.route?.router ?? '';
  }

  get serviceName(): string {
    return this.service?.name ?? '';
  }

  get serverUrl(): string {
    return this.server?.url ?? '';
  }

  get kubernetesObject(): KubernetesObjectRef | undefined {
    return this.route?.kubernetes;
  }

  get kubernetesService(): KubernetesServiceRef | null | undefined {
    return this.service?.kubernetes;
  }

  /** Tries that were attempts of the router's retry: a failover's fallback tries left out. */
  protected get attempts(): number {
    const fp = this.foPass;
    return fp === null ? this.tries : this.tries - fp.fallbackTries;
  }

  /**
   * The retries the route's retry middlewares made: what Traefik's retry tells its listeners
   * (retry.go notify, Listener.Retried), which the access log's SaveRetries would record; neither
   * an error page's fetch nor another server sought after a refused connection is one.
   */
  get retries(): number {
    let r = this.retry;
    if (r === null) return 0;
    while (r.outer !== null) r = r.outer;
    return r.retried;
  }

  get clientIp(): string {
    return this.client.clientIp;
  }

  get clientPort(): number | undefined {
    return this.client.peer?.remotePort;
  }

  get http2(): boolean {
    return this.client.http2;
  }

  /** Releases what the request held: leases, the retry budget, the mirror comparison. */
  #settle(): void {
    const leases = this.leases;
    if (leases !== null) {
      const totalMs = performance.now() - this.startedAt;
      const headMs = this.headMs >= 0 ? this.headMs : totalMs;
      const outcome: RequestOutcome = {
        status: this.status,
        networkError: this.networkError,
        headMs,
        totalMs,
      };
      this.leases = null;
      // The leases the last attempt's middlewares after a retry took: that attempt's time (a
      // circuitBreaker after the retry times each attempt, as Traefik's wraps its `next`).
      const r = this.retry;
      let attemptFrom = leases.length;
      let attemptTo = leases.length;
      let attempt = outcome;
      if (r !== null && r.from >= 0) {
        attemptFrom = r.leaseFrom;
        if (r.leaseTo >= 0) attemptTo = r.leaseTo;
        const ms = performance.now() - r.attemptAt;
        attempt = {
          status: outcome.status,
          networkError: outcome.networkError,
          headMs: Math.min(headMs, ms),
          totalMs: ms,
        };
      }
      for (let i = 0; i < leases.length; i++) {
        try {
          leases[i]!.release(i >= attemptFrom && i < attemptTo ? attempt : outcome);
        } catch (e) {
          this.ctx.logger.error('internal error', { error: String(e), router: this.routerName });
        }
      }
    }
    // The answer is written: the copies go (those of a client that went away were cancelled).
    if (this.mirror !== null || this.retry !== null) this.attemptOver(true);
    for (let r = this.retry; r !== null; r = r.outer) r.settle();
    const m = this.mirror;
    if (m !== null) {
      const c = m.comparison;
      const cap = this.capture;
      if (c !== null) {
        c.primary(
          cap !== null && this.cleanEnd
            ? cap.result()
            : (cap ?? new ResponseCapture([], false)).failure('primary failed'),
        );
      }
    }
  }

  protected finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.longLived) this.ctx.longLived.delete(this);
    if (this.spool !== null) this.spool.dispose();
    this.endTries();
    if (this.leases !== null || this.retry !== null || this.mirror !== null) this.#settle();
    const body = this.body;
    if (body !== null && body.budget !== null) body.release();
    const ctx = this.ctx;
    // The route's observability flags (runtime/observe.ts); a request no router took has its
    // entry point's, as Traefik's default handler (pkg/server/router/router.go BuildEPChain).
    const route = this.route;
    if (ctx.metrics !== null && (route === undefined ? ctx.meterUnrouted : route.metered)) {
      const now = performance.now();
      ctx.metrics.series(route, this.serverTook ? this.service : undefined).observe(
        this.status,
        (now - this.startedAt) / 1000,
        this.bytesIn,
        this.bytesOut,
        this.req,
        this.parsed.upgrade,
        this.grpcStatus,
        // The service's duration is its last try's, as Traefik's service metrics wrap the
        // server's handler (pkg/server/service/service.go), below middlewares and retries.
        this.tryStart === 0 ? -1 : (now - this.tryStart) / 1000,
        this.serviceStatus,
        this.serviceBytesOut,
      );
      const sc = ctx.metrics.semconv;
      if (sc !== null) {
        // Traefik's SemConvServerMetrics (pkg/middlewares/observability/semconv.go).
        const parsed = this.parsed;
        sc.server(
          this.req.method,
          this.status,
          this.http2 ? 'HTTP/2.0' : parsed.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0',
          parsed.authority,
          this.client.peer?.localPort ?? 0,
          this.req.headers.get('x-forwarded-proto') ?? '',
          route === undefined ? '' : route.httpRoute,
          (now - this.startedAt) / 1000,
        );
      }
    }
    if (this.trace !== null) this.trace.end(this, ctx.name);
    if (ctx.accessLog !== null && (route === undefined ? ctx.logUnrouted : route.logged))
      logAccess(ctx.accessLog, this, ctx.name, this.trace?.entry);
    this.client.exchangeDone(this, !this.closeAfter);
  }
}
