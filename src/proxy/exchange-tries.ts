import type { Duplex } from 'node:stream';
import { inRanges } from '../config/dynamic/status-range.ts';
import { ProxyError } from '../core/errors.ts';
import { HeaderList } from '../core/headers.ts';
import type { SocketAddresses } from '../core/proxy-protocol.ts';
import { type DirectResponse, type RequestHead, type ResponseHead, withQuery } from '../core/request.ts';
import { statusText } from '../core/status-text.ts';
import type { Timed } from '../core/ticker.ts';
import { IDEMPOTENT_METHODS } from '../http1/chars.ts';
import { CONNECT_TUNNEL } from '../http1/request-head.ts';
import {
  errorPageTarget,
  nginxPageFields,
  pageRequestFields,
  rewrittenStatus,
} from '../middleware/errors.ts';
import type { RequestOutcome } from '../middleware/middleware.ts';
import type {
  ErrorPage,
  FailoverNode,
  MirroringNode,
  RouteTarget,
  ServerRuntime,
  ServiceRuntime,
  ServiceStep,
} from '../runtime/types.ts';
import type { ConnectionOwner } from '../upstream/connection.ts';
import type { StreamSource, UpstreamResponse, UpstreamStream, UpstreamUser } from '../upstream/stream.ts';
import { DISCARD_BODY, ErrorPageRequest } from './error-page.ts';
import { type PageStepHost, PageStepRun } from './error-page-steps.ts';
import { ExchangeCore } from './exchange-core.ts';
import { grpcKind, grpcTimeoutMs } from './grpc-status.ts';
import { ResponseCapture } from './mirror-request.ts';
import { MirrorState } from './mirror-state.ts';
import { type Retrier, RetryState } from './retry-state.ts';
import { TransformedStream } from './transformed-stream.ts';

function retryLater(r: Retrier): void {
  r.retryNow();
}

/**
 * A bound on `retryExpression`'s loop (one that always holds would never end). oxy's buffer
 * (Buffer.ServeHTTP) stops retrying once `attempt > DefaultMaxRetryAttempts` (10), a test made
 * after each try and before the increment: a predicate that always holds gets 11 tries.
 */
const MAX_BUFFERING_TRIES = 11;

/**
 * The tries of an exchange (the second of its three layers, see exchange.ts): which server takes
 * the request, the timeouts of each try and of the whole, and what a failed try leads to (another
 * server, a retry after backoff, the failover service, or the classified error the client gets).
 */
/**
 * What an HTTP/1.1 client's CONNECT gets once a server is picked: Traefik's connectHandler writes
 * the status alone (rw.WriteHeader(501), so an empty body), pkg/proxy/httputil/connect.go.
 */
const CONNECT_REFUSED: DirectResponse = { status: 501 };

export abstract class ExchangeTries extends ExchangeCore implements UpstreamUser, Retrier, Timed {
  protected serverIndex = -1;
  /** Servers tried (bit i = server i of the current service). */
  protected tried = 0;
  protected retriedFresh = false;
  // deadlines (Timed): total until the response head, and per try
  deadline = 0;
  tickerSlot = -1;
  #totalDeadline = 0;
  #tryDeadline = 0;
  #perTryMs = 0;
  protected timed = false;
  protected upstream: UpstreamStream | null = null;
  /** Who the pool serves: the exchange itself, or a body transform in front of it. */
  protected via: UpstreamUser = this;

  /** UpstreamUser: the client named by a PROXY protocol header to a server (a transport's `proxyProtocol`). */
  proxyProtocolClient(): SocketAddresses | undefined {
    return this.client.peer;
  }

  /**
   * UpstreamUser: the server challenged with NTLM or Negotiate, which authenticate the
   * connection: this client connection's later requests to it go through a pool of its own, as
   * Traefik's kerberosRoundTripper sticks a dedicated transport to the client connection
   * (pkg/server/service/transport.go; GHSA-qqjf-53cj-pwvv).
   */
  onConnectionAuth(owner: ConnectionOwner): void {
    const server = this.server;
    const make = owner.dedicatedPool;
    if (server === undefined || owner.dedicated === true || make === undefined) return;
    this.client.ownAffinity?.().stick(server.pool, () => make.call(owner));
  }

  /** The source of a try to `pool`: the client connection's own pool for it, if it has one. */
  #sourceFor(pool: ServerRuntime['pool']): StreamSource {
    // An upgrade (WebSocket) goes over HTTP/1.1, also to HTTP/2 servers (as Traefik's smart
    // round tripper sends `Connection: Upgrade` requests); an HTTP/2 client's CONNECT has no such
    // field and takes the server's own protocol: a CONNECT stream on an HTTP/2 session
    // (x/net/http2, RFC 9113 §8.5), an HTTP/1.1 CONNECT on an HTTP/1.1 connection.
    const up = this.parsed.upgrade;
    const src =
      up === null || up === CONNECT_TUNNEL || this.page !== null || pool.upgrades === undefined
        ? pool
        : pool.upgrades;
    const affinity = this.client.affinity;
    if (affinity == null || src !== pool) return src;
    return affinity.get(pool) ?? pool;
  }

  // The stream's part of UpstreamUser (onUpstreamError is here: a failed try is this layer's).
  abstract onUpstreamReady(stream: UpstreamStream): void;
  abstract onUpstreamInterim(res: UpstreamResponse): void;
  abstract onUpstreamHead(
    res: UpstreamResponse,
    body: Buffer | null,
    bodyStart: number,
    bodyEnd: number,
  ): void;
  abstract onUpstreamData(buf: Buffer, start: number, end: number): void;
  abstract onUpstreamEnd(trailers: HeaderList | null): void;
  abstract override onUpstreamDrain(): void;
  abstract onUpstreamUpgrade(res: UpstreamResponse, socket: Duplex, rest: Buffer | null): void;
  abstract transformedTrailers(trailers: HeaderList): void;

  protected endTries(): void {
    this.releaseServer();
    if (this.timed) this.ctx.ticker.delete(this);
  }

  /** The service admitted the request: forward it. */
  protected forward(): void {
    const route = this.route!;
    const rp = route.retry;
    if (rp !== null) {
      // Made at the retry's marker already when middlewares after it (or service middlewares
      // below it) run per attempt; a retry among a service's middlewares (a target past them,
      // ServiceStep.targetAfter) is the one that applies from there.
      let r = this.retry;
      if (r === null || r.policy !== rp) {
        const outer = r;
        r = new RetryState(rp);
        r.route = route;
        if (outer !== null) this.nestRetry(r, outer);
        this.retry = r;
      }
      for (let o: RetryState | null = r; o !== null; o = o.outer) o.forwarded = true;
    }
    if (this.transform !== null) this.via = new TransformedStream(this.transform, this);
    const mirror = this.mirror;
    if (mirror?.idle) this.mirror = null;
    this.#setupRecorder();
    this.#setupTimeouts(route, this.service);
    this.pickAndAcquire();
    const m = this.mirror;
    if (m !== null) {
      if (m.comparison !== null)
        this.capture = new ResponseCapture(m.node.compareHeaders, m.node.compareBody);
      // The copies go once the answer is written (mirrorsDue); a body not kept is known now.
      if (m.wantsBody && !this.mirrorableBody(m.node)) m.skip();
    }
  }

  /** Keeps a copy of the request body when a retry or a mirror may need it again. */
  #setupRecorder(): void {
    const body = this.body;
    if (body === null) return;
    let limit = this.retry === null ? -1 : this.retry.policy.maxBodyBytes;
    const m = this.mirror;
    if (m?.wantsBody)
      limit = Math.max(limit, m.node.maxBodySize < 0 ? Number.MAX_SAFE_INTEGER : m.node.maxBodySize);
    if (limit >= 0) body.record(limit);
  }

  #setupTimeouts(route: RouteTarget, lb: ServiceRuntime | undefined): void {
    let total = route.timeouts.totalMs || (lb?.timeouts.totalMs ?? 0);
    if (this.client.http2 || this.transform !== null) {
      // A gRPC call's deadline (grpc-timeout, gRPC-Web too) bounds it here, capped by the route's.
      const g = grpcTimeoutMs(this.req.headers.get('grpc-timeout'));
      if (g > 0 && (total === 0 || g < total)) total = g;
    }
    const perTry = route.timeouts.perTryMs || (lb?.timeouts.perTryMs ?? 0);
    if (total === 0 && perTry === 0) return;
    this.#perTryMs = perTry;
    if (total > 0) this.#totalDeadline = this.ctx.ticker.now + total;
    this.timed = true;
    this.ctx.ticker.add(this);
  }

  #armDeadline(): void {
    const t = this.#totalDeadline;
    const p = this.#tryDeadline;
    this.deadline = t === 0 ? p : p === 0 ? t : Math.min(t, p);
  }

  /** A timeout of ours ran out (ticker): the try, or the whole request, before a response head. */
  onDeadline(now: number): void {
    if (this.done || this.responseStarted || this.headMs >= 0) return;
    const totalOver = this.#totalDeadline !== 0 && now >= this.#totalDeadline;
    if (this.server !== undefined && this.serverIndex >= 0) this.recordTry(0, this.#perTryMs);
    // The call's context ran out: Traefik's ComputeStatusCode says 504 for a timeout.
    this.trace?.endCall(504, null);
    if (this.semconvCall) this.endCallMetric(504);
    this.dropTry();
    if (totalOver) {
      this.retry?.cancel();
      this.respondError(
        new ProxyError('ROUTE_TIMEOUT', 'route timeout before the response head'),
        true,
        this.server,
      );
      return;
    }
    this.tryFailed(
      new ProxyError('UPSTREAM_RESPONSE_TIMEOUT', 'per-try timeout before the response head'),
      'perTry',
    );
  }

  /**
   * The entry point's readTimeout ran out, counted from the request's head, before any response
   * head (a frozen backend, or a queue that never let the request through). Traefik's
   * readTimeout is a read deadline set when the request starts that cancels such a request too;
   * we answer 504. Called by the client side's deadline: no timer of the exchange's own.
   */
  readTimeoutBeforeHead(): void {
    if (this.done || this.responseStarted || this.headMs >= 0) return;
    if (this.server !== undefined && this.serverIndex >= 0)
      this.recordTry(0, performance.now() - this.startedAt);
    this.trace?.endCall(504, null);
    if (this.semconvCall) this.endCallMetric(504);
    this.dropTry();
    this.retry?.cancel();
    this.respondError(
      new ProxyError('UPSTREAM_RESPONSE_TIMEOUT', "no response head within the entry point's readTimeout"),
      true,
      this.server,
    );
  }

  protected setUpstream(stream: UpstreamStream | null): void {
    this.upstream = stream;
    // An error page's request has no body: the client's goes nowhere (DISCARD_BODY) by then.
    if (this.page === null) this.body?.attach(stream);
  }

  /** Abandons the current try's stream (no callback of it arrives after this). */
  protected dropTry(): void {
    const up = this.upstream;
    this.setUpstream(null);
    if (up !== null) up.destroy();
    else if (this.server !== undefined) this.server.pool.cancel(this.via);
    this.releaseServer();
  }

  protected pickAndAcquire(): void {
    const svc = this.service;
    if (svc === undefined) {
      // No service of the tree had a usable server (a retry of that goes on: #noServerRetried).
      if (!this.#noServerRetried()) this.noServer(this.route!.service.name);
      return;
    }
    const guards = this.route!.guards;
    const guard = guards.length === 0 ? null : (s: ServerRuntime) => guards.every((g) => g.accept(s));
    let idx = svc.pick(this.req, this.tried, guard, this);
    if (idx < 0 && this.tried !== 0 && this.tries > 0 && this.#refused === null && this.retry?.retrying) {
      // A retry with no untried server left goes back to one already tried (not when another
      // server is sought after a refused connection: that failure is the attempt's then).
      idx = svc.pick(this.req, 0, guard, this);
    }
    if (idx < 0) {
      // A weighted child with a fixed status, a failover with nothing up (runtime/service-nodes.ts
      // StatusNode) answers it.
      const fixed = svc.fixedAnswer;
      if (fixed !== undefined) {
        this.respondDirect(fixed);
        return;
      }
      const refused = this.#refused;
      if (refused !== null) {
        // A connection that failed while another server was sought: no other one can take the
        // request, so that failure is the attempt's outcome (Traefik's proxy answers the dial
        // error with 502; its load balancer never saw "no available server").
        this.#refused = null;
        this.tryFailed(refused, 'connect');
      } else if (this.#failoverErrors(503)) {
        // The main service's load balancer writes 503 "no available server" to the failover's
        // responseWriter (Traefik's): the fallback takes the request when `errors` lists 503.
        this.#toFallback(this.failover!, 503, false);
      } else if (!this.#noServerRetried()) this.noServer(svc.name);
      return;
    }
    this.#refused = null;
    this.serverIndex = idx;
    if (idx < 31) this.tried |= 1 << idx;
    this.tries++;
    this.serverTook = true;
    this.server = svc.servers[idx]!;
    svc.inFlight[idx]!++;
    // The try's start: for the per-try timings of a retry, and with metrics on for every try
    // (the service's request duration, below the middlewares and the retry, as Traefik's).
    if (this.tries > 1 || this.ctx.metrics !== null) {
      this.tryStart = performance.now();
      // This try's answer is the service's own (metrics; #head sets it).
      this.serviceStatus = -1;
      this.serviceBytesOut = -1;
      // With metrics.otlp, the call's http.client.request.duration is recorded when it ends.
      if (this.route!.metered && this.ctx.metrics?.semconv != null) this.semconvCall = true;
    }
    if (this.#perTryMs > 0) {
      this.#tryDeadline = this.ctx.ticker.now + this.#perTryMs;
      this.#armDeadline();
    } else if (this.timed) this.#armDeadline();
    if (this.parsed.upgrade === null && this.req.method === 'CONNECT' && this.page === null) {
      // An HTTP/1.1 client's CONNECT (an HTTP/2 one has CONNECT_TUNNEL): Traefik routes it, runs
      // the middlewares and picks the server, and its proxy answers 501 without a body, never
      // dialling (pkg/proxy/httputil/connect.go connectHandler, #13542: tunnels are for HTTP/2
      // clients only); its mirrors' copies meet the same refusal (the exchange ends here).
      this.respondDirect(CONNECT_REFUSED);
      return;
    }
    const pool = this.server.pool;
    // An error page is a plain GET of its own: no body transform of the request's applies.
    if (this.page !== null) this.via = this;
    this.trace?.call(
      this.page !== null,
      this,
      svc.name,
      this.server,
      this.page === null ? this.req.headers : this.page.headers,
    );
    this.#sourceFor(pool).acquire(this.via, this.page?.method ?? this.req.method);
  }

  /**
   * No server could take the attempt: Traefik's load balancer writes 503 ("no available server")
   * below the retry middleware, which counts it as an attempt and retries it, after the backoff,
   * when `status` lists 503 (pkg/middlewares/retry/retry.go, responseWriter.WriteHeader; the
   * network-error rule does not apply, the request never reached the proxy). True when a retry
   * follows.
   */
  #noServerRetried(): boolean {
    const r = this.retry;
    if (this.page !== null) return this.#pageFailedRetried('noServer');
    if (r === null || !this.#retryLists(503)) return false;
    this.tries++;
    // An `errors` after a retry catches the 503 first (#mayRetry), that retry decides on its page.
    if (!this.#mayRetry('status', 503, this.mwRan)) return false;
    // The attempt ended synchronously: without a backoff, the next one waits for the event
    // loop's turn (an immediate) rather than running inside this one, so that many attempts
    // never pile up on the stack.
    this.#scheduleRetry(503, false, true);
    return true;
  }

  /**
   * A middleware after the retry (one that runs once per attempt) answered `status` itself (a
   * rateLimit's 429, a tripped circuitBreaker's 503, an inFlightReq's 429): that is the
   * attempt's answer, written to the retry's response writer like a server's, and retried after
   * the backoff when `status` lists it, for the methods and bodies a server's answer would be
   * (Traefik's pkg/middlewares/retry/retry.go, responseWriter.WriteHeader and ServeHTTP's
   * isIdempotent). Service middlewares (Traefik v3.7) are inside the attempt too: the whole
   * service handler, its middlewares included, writes to the retry's response writer.
   */
  protected retryAnswer(at: number, status: number): boolean {
    let r = this.retry!;
    if (this.page !== null) return false;
    // The retry whose attempt this middleware is in: nested ones after it are not reached.
    while (r.from < 0 || at < r.from) {
      if (r.outer === null) return false;
      r = this.#popRetry(r.outer);
    }
    // An attempt, whether retried or the answer: the access log's RetryAttempts counts it.
    this.tries++;
    // An `errors` between the retry and this middleware fetches its page first (respondDirect);
    // the retry decides on the page's status when it answers (#pageFailedRetried).
    if (!this.#mayRetry('status', status, at)) return false;
    // Every lease taken since the attempt began is its own (none went to a server's admission).
    this.retry!.leaseTo = -1;
    this.#scheduleRetry(status, false, true);
    return true;
  }

  /** The failure of a connection while another server is sought for the request. */
  #refused: ProxyError | null = null;

  /** Resolving the service tree again for a retry's attempt (#nextAttempt). */
  #again = false;

  /**
   * ResolveSink: a mirroring service met again by a retry's attempt is called again, as Traefik's
   * retry calls the whole service per attempt: its mirroring handler (pkg/server/service/
   * loadbalancer/mirror/mirror.go ServeHTTP) counts the attempt against each mirror's percent
   * (getActiveMirrors) and sends its own copies, with the body kept for replay.
   */
  override mirrorThrough(node: MirroringNode): void {
    if (!this.#again) super.mirrorThrough(node);
    else this.#attemptMirror(node);
  }

  /**
   * A later attempt's mirroring: copies of the request as this attempt sends it, no comparison
   * (compare mode compares the first attempt's), sent once the attempt ended (mirrorsDue), as
   * the first attempt's. A body goes with them once read whole (the recorder kept it for the
   * retry); over the mirror's `maxBodySize`, or not kept, none is sent.
   */
  #attemptMirror(node: MirroringNode): void {
    // A body read whole first (buffering) goes as the first attempt's copies take it.
    const hasBody = this.body !== null && this.spool === null;
    const m = new MirrorState(node, this.req, hasBody, false);
    if (m.idle) return;
    if (m.wantsBody && !this.mirrorableBody(node)) {
      m.skip();
      return;
    }
    // Kept on the outermost retry, which lasts as long as the request.
    let r = this.retry!;
    while (r.outer !== null) r = r.outer;
    if (r.pendingMirrors === null) r.pendingMirrors = [m];
    else r.pendingMirrors.push(m);
  }

  /** The first attempt's copies, then the later attempts' (kept on the outermost retry). */
  protected override mirrorsDue(final: boolean): void {
    super.mirrorsDue(final);
    const r = this.#rootRetry();
    const pending = r?.pendingMirrors;
    if (pending == null) return;
    for (let i = 0; i < pending.length; i++) this.mirrorDue(pending[i]!, final);
    // Those waiting for the body stay (onBodyComplete).
    const waiting = pending.filter((m) => !m.started);
    r!.pendingMirrors = waiting.length === 0 ? null : waiting;
  }

  protected override cancelMirrors(): void {
    super.cancelMirrors();
    const r = this.#rootRetry();
    const pending = r?.pendingMirrors;
    if (pending == null) return;
    r!.pendingMirrors = null;
    for (let i = 0; i < pending.length; i++) pending[i]!.skip();
  }

  #rootRetry(): RetryState | null {
    let r = this.retry;
    if (r === null) return null;
    while (r.outer !== null) r = r.outer;
    return r;
  }

  override onBodyComplete(): void {
    super.onBodyComplete();
    const r = this.#rootRetry();
    const pending = r?.pendingMirrors;
    if (pending == null) return;
    // The copies of attempts that ended before the body's end go now.
    for (let i = 0; i < pending.length; i++) if (pending[i]!.due) this.mirrorDue(pending[i]!, false);
    const waiting = pending.filter((m) => !m.started);
    r!.pendingMirrors = waiting.length === 0 ? null : waiting;
  }

  /** The retry policy's backoff ran out: try again. */
  retryNow(): void {
    this.retry?.fired();
    if (this.done) return;
    try {
      this.#nextAttempt();
    } catch (e) {
      this.onInternalError(e);
    }
  }

  /**
   * A retry's attempt goes through the route's whole service again, as Traefik's retry
   * middleware calls the service handler once per attempt (pkg/middlewares/retry/retry.go
   * ServeHTTP): a weighted service picks a child again, a failover looks at its main service
   * again. The load balancer it lands on keeps the servers already tried aside; another one
   * starts afresh. The Set-Cookie lines of the attempt before are dropped (Traefik's retry
   * discards the headers of an attempt it retries).
   */
  /** Ends the retries nested in `outer` (their attempts are over): `outer` is the current one. */
  #popRetry(outer: RetryState): RetryState {
    for (let r = this.retry; r !== null && r !== outer; r = r.outer) {
      r.settle();
      r.outer = null;
    }
    this.retry = outer;
    return outer;
  }

  #nextAttempt(): void {
    const r = this.retry!;
    if (r.from >= 0) {
      this.#rerun(r);
      return;
    }
    // Nothing to run again before the service (no service middlewares below the retry either):
    // its route's service tree again.
    this.trace?.retryAttempt(r.policy, r.count(this.attempts) + 1, false);
    if (r.route !== undefined) this.route = r.route;
    this.attemptAgain();
  }

  /**
   * The attempt runs the route's middlewares after the retry again, on the request as the retry
   * got it, as Traefik's retry calls its `next` (the rest of the router's chain, then the
   * service) once per attempt with a clone of the request (pkg/middlewares/retry/retry.go
   * ServeHTTP: req.Clone, and reusableReq.Clone with `status`): a header a middleware set, a
   * prefix it stripped, are set or stripped again, never twice. Their dispatch then resolves the
   * service again (attemptAgain), or forwards the request if no attempt reached the service yet.
   */
  #rerun(r: RetryState): void {
    if (r.hasInner) {
      // A new run of the retries nested in it: they start with every server untried.
      r.runs++;
      this.tried = 0;
    }
    r.restore(this.req);
    // From the route whose chain has the retry: past service middlewares (Traefik v3.7) the
    // exchange's route is the target below them, and a parent router's retry matches its
    // children again (Traefik's child router is the parent chain's `next`).
    this.route = r.route;
    r.stepping = false;
    // The attempt resolves the service tree anew: the Set-Cookie lines of the one before go.
    this.setCookies = '';
    this.hostOverride = r.hostOverride;
    this.mwRan = r.from;
    r.leaseFrom = this.leases === null ? 0 : this.leases.length;
    r.leaseTo = -1;
    r.attemptAt = performance.now();
    r.again = true;
    // No try runs while the middlewares do (a rateLimit may hold the request): only the total
    // deadline stands.
    if (this.timed) {
      this.#tryDeadline = 0;
      this.#armDeadline();
    }
    this.trace?.retryAttempt(r.policy, r.hasInner ? r.runs : r.count(this.attempts) + 1, true);
    this.rerunMiddlewares(r.from);
  }

  /**
   * The leases the attempt's middlewares took (a circuitBreaker's, an inFlightReq's slot, a
   * rateLimit's wait) end with the attempt, with its `status`: Traefik's middlewares after the
   * retry wrap each attempt (a breaker records each attempt, a slot is held for one).
   */
  #endAttempt(r: RetryState, status: number, networkError: boolean): void {
    const leases = this.leases;
    if (leases === null) return;
    const to = r.leaseTo < 0 ? leases.length : r.leaseTo;
    if (to <= r.leaseFrom) return;
    const ms = performance.now() - r.attemptAt;
    const outcome: RequestOutcome = { status, networkError, headMs: ms, totalMs: ms };
    const ended = leases.splice(r.leaseFrom, to - r.leaseFrom);
    for (let i = 0; i < ended.length; i++) {
      try {
        ended[i]!.release(outcome);
      } catch (e) {
        this.ctx.logger.error('internal error', { error: String(e), router: this.routerName });
      }
    }
  }

  /**
   * Resolves the route's service tree again for an attempt after the first and tries it.
   */
  protected attemptAgain(): void {
    const route = this.route!;
    const r = this.retry!;
    // Past service middlewares this attempt resolved already: its Set-Cookie lines stay.
    if (!r.stepping) this.setCookies = '';
    this.#again = true;
    const lb = route.service.resolve(this.req, this);
    this.#again = false;
    const step = this.serviceStep;
    if (step !== null) {
      // This attempt's choice has middlewares of its own (Traefik v3.7: pkg/server/service/
      // service.go wraps the service's handler with them, and the retry calls that handler per
      // attempt): they run again, on the request as the route's left it, then the tree below.
      this.serviceStep = null;
      this.failoverMainStep(route);
      r.again = true;
      r.stepping = true;
      this.route = step.targetAfter(route);
      this.mwRan = route.middlewares.length;
      this.rerunMiddlewares(route.middlewares.length);
      return;
    }
    r.stepping = false;
    if (lb !== this.service) {
      this.service = lb;
      this.tried = 0;
    }
    this.pickAndAcquire();
  }

  /** Passive health and per-server guards learn each try's outcome (status 0 = network). */
  protected recordTry(status: number, headMs: number): void {
    const svc = this.service;
    const server = this.server;
    if (svc === undefined || server === undefined) return;
    const h = svc.health;
    if (h?.recordsOutcomes) h.record(server.index, status, headMs);
    // leasttime learns from tries that got a response head (Traefik: GotFirstResponseByte).
    if (status !== 0) svc.responseTimes?.add(server.index, headMs);
    const guards = this.route!.guards;
    for (let i = 0; i < guards.length; i++) guards[i]!.record(server, status, headMs);
  }

  /**
   * Whether the retry policy allows another try (see RetryState.allows). `at`: the answer came
   * from middleware `at` (or below): an `errors` at or before it that catches `status` is inside
   * the attempts of the retry it comes after (ErrorPage.within), so only the retries after it
   * decide on `status`; that one, and those it is nested in, see its page instead (the caller
   * goes on to fetch it, #fetchPage), as Traefik's errors middleware writes the page to that
   * retry's responseWriter. -1: no page applies.
   */
  #mayRetry(kind: 'connect' | 'status' | 'perTry', status: number, at = -1): boolean {
    const r = this.retry;
    if (r === null || this.page !== null) return false;
    const stop =
      at >= 0 && this.route!.errorPages !== null ? this.#catchingPage(status, at)?.within : undefined;
    const body = this.body;
    // A gRPC call whose messages reached a server is never sent again (a stream has side effects
    // per message, and its server may have answered some already).
    if (kind !== 'connect' && body !== null && body.bytesIn > 0 && grpcKind(this.req.headers) !== 0)
      return false;
    const pastTotal = this.#totalDeadline !== 0 && this.ctx.ticker.now >= this.#totalDeadline;
    // The innermost retry first; when it gives up, the one it is nested in gets the answer
    // (Traefik's retry middlewares of a chain nest), and so on outwards.
    for (let o: RetryState | null = r; o !== null; o = o.outer) {
      if ((o !== r && o.from < 0) || o.policy === stop) break;
      const verdict = o.allows(
        o.count(this.attempts),
        this.req.method,
        kind,
        status,
        body !== null && body.bytesIn > 0,
        // Nothing read yet (a middleware after the retry answered before any server was asked):
        // the next attempt sends the body as it comes.
        body === null || this.spool !== null || body.bytesIn === 0 || body.replayable(o.policy.maxBodyBytes),
        pastTotal || (o.policy.windowMs > 0 && performance.now() - this.startedAt >= o.policy.windowMs),
      );
      if (verdict === 'no-budget')
        this.ctx.logger.debug('retry budget exhausted', { router: this.route!.router });
      if (verdict === 'retry') {
        if (o !== r) this.#popRetry(o);
        return true;
      }
    }
    return false;
  }

  /**
   * The current try is not the answer (a retry, another server, the failover service or an error
   * page follows): its service counts it, with `status`, as Traefik's service metrics wrap each
   * server's handler below the retry, failover and errors handlers, so that every attempt is a
   * request of the service (pkg/server/service/service.go getLoadBalancerServiceHandler).
   */
  protected countTry(status: number): void {
    // Counted once per try (a failed connection is counted before another server is sought).
    if (!this.serverTook) return;
    const m = this.ctx.metrics;
    // Counted now: the request's own observation counts on the service only if a later try
    // reaches a server.
    this.serverTook = false;
    if (m === null || !this.route!.metered || this.service === undefined) return;
    const began = this.tryStart === 0 ? this.startedAt : this.tryStart;
    m.series(this.route, this.service).tryEnded(
      status,
      (performance.now() - began) / 1000,
      this.req,
      this.parsed.upgrade,
    );
  }

  #scheduleRetry(status: number, networkError: boolean, deferred = false): void {
    const r = this.retry!;
    let root = r;
    while (root.outer !== null) root = root.outer;
    root.retried++;
    if (r.from >= 0) this.#endAttempt(r, status, networkError);
    // The attempt is over: the copies of the mirroring it met go (Traefik's retry calls the
    // service per attempt, and its mirroring sends them when its main handler returns).
    if (this.mirror !== null || root.pendingMirrors !== null) this.attemptOver(false);
    if (this.route!.metered) this.ctx.metrics?.series(this.route, this.service).retry();
    if (r.schedule(this, r.count(this.attempts))) this.deadline = this.#totalDeadline;
    else if (deferred) setImmediate(retryLater, this);
    else this.#nextAttempt();
  }

  /**
   * One try failed before any response byte reached the client: before anything was sent
   * ('connect'), after (its status is the one we answer: 'status'), or by our per-try timeout.
   */
  protected tryFailed(err: ProxyError, kind: 'connect' | 'status' | 'perTry'): void {
    this.networkError = true;
    const server = this.server;
    if (this.page !== null) {
      // Fetching an error page failed: inside the retry's attempts, the retry decides.
      if (this.#pageFailedRetried(kind === 'connect' ? 'connect' : 'sent')) {
        this.logError(err, server, 'debug');
        this.countTry(err.status);
      } else this.respondError(err, true, server);
      return;
    }
    // The failover is inside the router's retry and buffering (Traefik's failover.go): the 502
    // or 504 its main service's proxy writes reaches its responseWriter first.
    if (this.#failoverErrors(err.status)) {
      this.logError(err, server, 'debug');
      this.#toFallback(this.failover!, err.status, false);
      return;
    }
    if (this.#bufferingRetry(err.status)) {
      this.logError(err, server, 'debug');
      return;
    }
    // An `errors` after a retry catches our 502/504 first, a connection that failed before
    // anything was sent included (Traefik's customerrors catches the proxy's 502 inside the
    // attempt before the retry's writer drops it): #pageFailedRetried decides on its page.
    if (this.#mayRetry(kind, err.status, kind === 'perTry' ? -1 : this.mwRan)) {
      this.logError(err, server, 'debug');
      this.countTry(err.status);
      this.#scheduleRetry(err.status, true);
      return;
    }
    const r = this.retry;
    if (r === null) this.respondError(err, true, server);
    else {
      // A page fetched now replaces a connection that failed before anything was sent.
      r.quietCaught = kind === 'connect';
      this.respondError(err, true, server);
      r.quietCaught = false;
    }
  }

  protected releaseServer(): void {
    if (this.serverIndex >= 0) {
      this.service!.inFlight[this.serverIndex]!--;
      this.serverIndex = -1;
    }
  }

  onUpstreamError(err: ProxyError, phase: 'connect' | 'head' | 'body', reused: boolean): void {
    if (this.done) return;
    // The call failed: its span ends with the status the client would get for it (Traefik's
    // ComputeStatusCode: 502, 504 for a timeout).
    this.trace?.endCall(err.status, null);
    if (this.semconvCall) this.endCallMetric(err.status);
    this.setUpstream(null);
    const server = this.server;
    const headMs = performance.now() - (this.tries > 1 ? this.tryStart : this.startedAt);
    this.recordTry(0, headMs);
    this.releaseServer();
    if (phase === 'body' || this.responseStarted) {
      // The head is out: the only honest signal left is a broken connection (never a clean end,
      // never an error page appended to a 2xx).
      this.logError(err, server);
      this.status = this.status || err.status;
      this.networkError = true;
      this.closeAfter = true;
      this.client.broken();
      this.finish();
      return;
    }
    if (phase === 'connect' && (this.bytesIn === 0 || this.spool !== null) && this.tried !== 0) {
      // Nothing reached any server: trying another one cannot duplicate a side effect.
      const svc = this.service!;
      if (svc.servers.length > 1 && this.triedCount() < Math.min(svc.servers.length, 3)) {
        this.logError(err, server, 'debug');
        this.countTry(err.status);
        this.#refused = err;
        this.pickAndAcquire();
        return;
      }
    }
    if (
      phase === 'head' &&
      reused &&
      !this.retriedFresh &&
      (this.body === null || this.spool !== null) &&
      IDEMPOTENT_METHODS.has(this.req.method)
    ) {
      // The keep-alive race: the server closed an idle socket as we wrote to it. Replay once
      // on a fresh connection (RFC 9112 §9.3.1 allows it for idempotent requests).
      this.retriedFresh = true;
      this.serverIndex = server === undefined ? -1 : this.service!.servers.indexOf(server);
      this.service!.inFlight[this.serverIndex]!++;
      const src = this.#sourceFor(server!.pool);
      this.trace?.call(
        this.page !== null,
        this,
        this.service!.name,
        server!,
        this.page === null ? this.req.headers : this.page.headers,
      );
      src.acquire(this.via, this.page?.method ?? this.req.method, true);
      return;
    }
    this.tryFailed(err, phase === 'connect' ? 'connect' : 'status');
  }

  /**
   * A response whose status the failover service or the retry policy does not accept: dropped
   * (its connection too) and the request sent again, when it is safe to replay.
   */
  protected retryOnStatus(status: number): boolean {
    if (this.page !== null) return this.#pageFailedRetried('sent');
    const fo = this.failover;
    if (fo !== null && inRanges(fo.statusCodes, status)) {
      // `errors` (Traefik v3.7): any request, its body read whole before the main service got
      // it; `statusCodes` (ours): a replayable one, and only while the fallback can take it.
      if (
        fo.errors !== null
          ? this.#replayableAfterSend(true)
          : this.#replayableAfterSend(false) && fo.fallback.available()
      ) {
        this.#toFallback(fo, status, true);
        return true;
      }
    }
    if (this.#bufferingRetry(status)) return true;
    if (!this.#retryLists(status)) return false;
    // An `errors` after a retry catches it first; that retry decides on its page's status.
    if (!this.#mayRetry('status', status, this.mwRan)) return false;
    this.countTry(status);
    this.dropTry();
    this.headMs = -1;
    this.#scheduleRetry(status, false);
    return true;
  }

  /**
   * `buffering.retryExpression` after a try that ended with `status` (ours for a network error
   * or a timeout): oxy's IsNetworkError() is "the status is 502 or 504", Attempts() the tries
   * made. The body was read whole (it can be replayed); the next try may go to any server, the
   * same one included, as oxy's loop sends it through the load balancer again.
   */
  #bufferingRetry(status: number): boolean {
    const retry = this.route!.buffering?.retry;
    const attempts = this.attempts;
    if (retry == null || this.page !== null || attempts >= MAX_BUFFERING_TRIES) return false;
    if (this.body !== null && this.spool === null) return false;
    if (!retry(attempts, status, status === 502 || status === 504, this.req.method)) return false;
    this.countTry(status);
    this.dropTry();
    this.headMs = -1;
    this.tried = 0;
    this.pickAndAcquire();
    return true;
  }

  /** The route's retry, or one it is nested in, lists `status`. */
  #retryLists(status: number): boolean {
    const r = this.retry;
    if (r === null) {
      const p = this.route!.retry;
      return p !== null && inRanges(p.status, status);
    }
    for (let o: RetryState | null = r; o !== null; o = o.outer) {
      if (o !== r && o.from < 0) break;
      if (inRanges(o.policy.status, status)) return true;
    }
    return false;
  }

  /** The error page that catches `status` answered at middleware `at` (the innermost), if any. */
  #catchingPage(status: number, at: number): ErrorPage | undefined {
    const pages = this.route!.errorPages!;
    for (let i = 0; i < pages.length; i++) {
      const p = pages[i]!;
      if (p.at <= at && inRanges(p.spec.status, status)) return p;
    }
    return undefined;
  }

  /**
   * An error page inside the retry's attempts answered, or its fetch failed: the retry decides,
   * as Traefik's does on what its errors middleware writes (pkg/middlewares/customerrors, then
   * retry.go responseWriter.WriteHeader). Traefik's page request carries the attempt's context
   * (customerrors: pageReq.WithContext(req.Context())), so the retry's WrapHandler around each
   * of the page service's servers sets the attempt's writer to retry until a request byte
   * reaches that server (ShouldRetry(true), then false at WroteHeaders). Hence, by `how`:
   * - 'sent' (the page answered, or its request reached its server and then failed): the
   *   status the page is served with (after `statusRewrites`) is retried when `status` lists it;
   * - 'connect' (the page's connection failed before anything was sent): retried as a network
   *   failure (any method, unless `disableRetryOnNetworkError`). Traefik does so even when the
   *   attempt's own server got the request (a POST sent again because the page server is down);
   *   ours then only for what a listed status would be retried for (`perTry`'s rule), see
   *   docs/migrating-from-traefik.md;
   * - 'noServer' (no server of the page's service): the load balancer's 503 goes through the
   *   page's codeModifier to a writer left as the attempt left it: retried as a network failure
   *   after a connection that failed before anything was sent (`page.quiet`), else on `status`.
   * Where the network rule does not retry, the status one still may (WriteHeader's status check).
   */
  #pageFailedRetried(how: 'sent' | 'connect' | 'noServer'): boolean {
    const page = this.page!;
    if (!page.inRetry || this.retry === null) return false;
    // The page's picks were no attempt of the retry's.
    const tries = this.tries;
    this.tries = page.tries;
    this.page = null;
    const kind = how === 'sent' ? 'status' : page.quiet ? 'connect' : how === 'connect' ? 'perTry' : 'status';
    const network = kind !== 'status' && this.#mayRetry(kind, page.status);
    if (!network && !(this.#retryLists(page.status) && this.#mayRetry('status', page.status))) {
      this.page = page;
      this.tries = tries;
      return false;
    }
    // The page's stream goes (the request body stays where the page left it).
    this.page = page;
    this.dropTry();
    this.page = null;
    this.headMs = -1;
    this.mwRan = this.route!.middlewares.length;
    this.#scheduleRetry(page.status, network, how === 'noServer');
    return true;
  }

  protected catchError(status: number, fromServer = false): boolean {
    const pages = this.route!.errorPages;
    if (pages === null || this.page !== null) return false;
    for (let i = 0; i < pages.length; i++) {
      const p = pages[i]!;
      if (p.at <= this.mwRan && inRanges(p.spec.status, status)) {
        if (fromServer) this.countTry(status);
        this.#fetchPage(p, status);
        return true;
      }
    }
    return false;
  }

  /**
   * Drops the answer `original` (and its upstream stream) and asks the error page's service for
   * the page instead; only the middlewares before the `errors` one see the page's response.
   */
  #fetchPage(p: ErrorPage, original: number): void {
    const req = this.req;
    const status = rewrittenStatus(p.spec, original);
    const fields = pageRequestFields(p.spec, req.headers);
    // ingress-nginx's pages (the Ingress NGINX provider's custom-http-errors): its X- fields, and
    // the page's own status for the client (ErrorPageRequest status 0).
    const nginx = p.spec.nginx !== null;
    this.page = new ErrorPageRequest(
      req.method === 'HEAD',
      errorPageTarget(p.spec, req, status, original),
      nginx ? nginxPageFields(p.spec, fields, req, original) : fields,
      nginx ? 0 : status,
    );
    const within = p.within;
    if (within !== undefined) {
      for (let o = this.retry; o !== null; o = o.outer) {
        if (o.policy !== within) continue;
        // The page is inside this retry's attempt: the retries after the `errors` gave up (their
        // attempts are over), this one decides on the page (#pageFailedRetried). The attempt's
        // own connection failure is this retry's only if none came after it (Traefik's
        // WrapHandler tells the innermost retry).
        this.page.inRetry = true;
        this.page.quiet = o === this.retry && o.quietCaught;
        this.page.tries = this.tries;
        if (o !== this.retry) this.#popRetry(o);
        break;
      }
    }
    this.dropTry();
    this.trace?.pageCaught(p.span);
    this.mwRan = p.at;
    const body = this.body;
    if (body !== null && !body.done) {
      body.attach(DISCARD_BODY);
      this.closeAfter = true;
      this.client.resumeBody();
    }
    this.setCookies = '';
    this.failover = null;
    const lb = p.service.resolve(req, this);
    if (lb === undefined) {
      const step = this.serviceStep;
      if (step !== null) {
        this.serviceStep = null;
        this.#pageSteps(p, step);
        return;
      }
      if (!this.#pageFailedRetried('noServer'))
        this.respondError(new ProxyError('NO_SERVER', `no server available for ${p.service.name}`), true);
      return;
    }
    this.#tryPage(lb);
  }

  #tryPage(lb: ServiceRuntime): void {
    this.service = lb;
    this.tried = 0;
    this.headMs = -1;
    this.pickAndAcquire();
  }

  /**
   * The page's service has service middlewares (Traefik v3.7: customerrors calls the service's
   * handler, its middlewares included): they run on the page request (error-page-steps.ts),
   * then the page is fetched as they left it, or their answer is the page.
   */
  #pageSteps(p: ErrorPage, step: ServiceStep): void {
    const page = this.page!;
    const req = this.req;
    const q = page.target.indexOf('?');
    const head: RequestHead = {
      method: page.method,
      path: q < 0 ? page.target : page.target.slice(0, q),
      query: q < 0 ? '' : page.target.slice(q + 1),
      host: req.host,
      hostPort: req.hostPort,
      headers: page.headers.clone(),
      clientIp: req.clientIp,
      scheme: req.scheme,
      entryPoint: req.entryPoint,
      omitForwardedFor: false,
      tls: req.tls,
    };
    const ex = this;
    const host: PageStepHost = {
      get done() {
        return ex.done;
      },
      pageAnswered(resp, run) {
        if (ex.done) return;
        // The answer goes out under the page's status (respondDirect), through the middlewares
        // that let the page request through, then those before the `errors` one.
        const rh: ResponseHead = {
          status: resp.status,
          reason: statusText(resp.status),
          headers: HeaderList.from(resp.headers ?? []),
        };
        for (let i = run.ran.length - 1; i >= 0; i--) run.ran[i]!.onResponse?.(run.head, rh);
        const h = rh.headers;
        ex.respondDirect({
          status: rh.status,
          headers: h.names.map((n, i) => [n, h.values[i]!] as const),
          ...(resp.body === undefined ? {} : { body: resp.body }),
        });
      },
      pageResolved(lb, run) {
        if (ex.done) return;
        const h = run.head;
        ex.page = new ErrorPageRequest(
          page.method === 'HEAD',
          withQuery(h.path, h.query),
          h.headers,
          page.status,
          {
            head: h,
            ran: run.ran,
          },
        );
        ex.page.inRetry = page.inRetry;
        ex.page.quiet = page.quiet;
        ex.page.tries = page.tries;
        if (lb === undefined) {
          if (!ex.#pageFailedRetried('noServer'))
            ex.respondError(new ProxyError('NO_SERVER', `no server available for ${p.service.name}`), true);
          return;
        }
        ex.#tryPage(lb);
      },
      pageFailed(e) {
        if (!ex.done) ex.onInternalError(e);
      },
      onEnd: (lease) => ex.onEnd(lease),
      addSetCookie: (line) => ex.addSetCookie(line),
    };
    new PageStepRun(head, step, host).run();
  }

  /** A failover's `errors` lists `status`, for our own failure of its main service's try. */
  #failoverErrors(status: number): boolean {
    const fo = this.failover;
    return (
      fo !== null &&
      fo.errors !== null &&
      this.page === null &&
      inRanges(fo.statusCodes, status) &&
      this.#replayableAfterSend(true)
    );
  }

  /**
   * The main service of a failover answered (or failed with) a status it lists: that try is
   * dropped and the request goes to the fallback service, once (Traefik's failover.go
   * ServeHTTP: the main's answer is discarded by its responseWriter, then the fallback handler
   * serves a clone of the request; whatever the fallback answers is the answer). A fallback
   * with no usable server answers 503, as Traefik's load balancer does; one that reports down
   * to a failover with `healthCheck` is not called, the failover answers its own 503.
   */
  #toFallback(fo: FailoverNode, status: number, drop: boolean): void {
    this.failover = null;
    this.foPass!.fallbackTries++;
    // The main side's service middlewares do not see the fallback's answer (Traefik's).
    this.leaveFailoverMain();
    this.countTry(status);
    if (drop) this.dropTry();
    this.setCookies = '';
    this.#refused = null;
    const lb = fo.resolveFallback(this.req, this);
    if (lb !== undefined) this.tryFallback(lb);
    else if (this.serviceStep !== null) this.enterFallbackStep(true);
    else this.noServer(fo.fallback.name);
  }

  protected tryFallback(lb: ServiceRuntime): void {
    this.service = lb;
    this.tried = 0;
    this.headMs = -1;
    this.pickAndAcquire();
  }

  /**
   * The request can be sent again: its body (if any) kept whole, and, unless `anyMethod` (a
   * failover's `errors`, whose body was read first), an idempotent method. A failover met only
   * by a retry's attempt found the body already streaming: recorded whole, or not replayed.
   */
  #replayableAfterSend(anyMethod: boolean): boolean {
    if (!anyMethod && !IDEMPOTENT_METHODS.has(this.req.method)) return false;
    const body = this.body;
    if (body === null || this.spool !== null) return true;
    return body.recorder !== null && !body.recorder.overflow && body.done;
  }

  protected triedCount(): number {
    let n = 0;
    for (let t = this.tried; t !== 0; t &= t - 1) n++;
    return n;
  }
}
