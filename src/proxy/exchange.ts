import { inRanges } from '../config/dynamic/status-ranges.ts';
import { ProxyError } from '../core/errors.ts';
import { HeaderList } from '../core/headers.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';
import { statusText } from '../core/status-text.ts';
import type { Timed } from '../core/ticker.ts';
import { IDEMPOTENT_METHODS } from '../http1/chars.ts';
import { BODY_NONE, type BodyKind, type ParsedRequest } from '../http1/request-head.ts';
import { enterLimit, unavailable } from '../middleware/in-flight-req.ts';
import { type Lease, type RequestControl, type RequestOutcome, SUSPEND } from '../middleware/middleware.ts';
import type { RequestSpan, Tracer } from '../observability/tracing/index.ts';
import type {
  FailoverNode,
  MirroringNode,
  ResolveSink,
  RouteTarget,
  ServerRuntime,
  ServiceRuntime,
} from '../runtime/types.ts';
import type { OutgoingRequest, UpstreamResponse, UpstreamStream, UpstreamUser } from '../upstream/stream.ts';
import type { ClientExchange, ClientSink } from './client-sink.ts';
import type { EntryPointContext } from './entry-point-context.ts';
import { endSpan, logAccess, type ReportedExchange } from './exchange-report.ts';
import { upstreamHeadTail } from './heads.ts';
import { ResponseCapture } from './mirror-request.ts';
import { MirrorState } from './mirror-state.ts';
import { type BodyListener, RequestBody } from './request-body.ts';
import { type Retrier, RetryState } from './retry-state.ts';

/** `#suspendedAt` while the request waits in its service's queue (`maxInFlight`). */
const SERVICE_QUEUE = 1 << 30;

/** RFC 9110 §15.5.6: a 405 lists the methods that are allowed. */
const TRACE_REFUSED_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'],
];

/**
 * One request/response through the proxy: route, middlewares, pick a server, forward through an
 * upstream stream, relay the response. One object per request, methods instead of closures, and
 * the snapshot it routed with is kept to the end (a request never mixes generations).
 *
 * The exchange sees no framing on either side: the client side is a `ClientSink` (HTTP/1.1
 * connection or HTTP/2 stream), the upstream side an `UpstreamStream` (HTTP/1.1 connection or
 * HTTP/2 stream). Its concerns beside the flow live apart: the request body (`RequestBody`, only
 * when there is one), the retry policy (`RetryState`, only on routes with one), and the reports
 * (`exchange-report.ts`).
 */
export class Exchange
  implements
    ClientExchange,
    UpstreamUser,
    OutgoingRequest,
    RequestControl,
    ResolveSink,
    BodyListener,
    Retrier,
    ReportedExchange,
    Timed
{
  readonly #client: ClientSink;
  readonly #ctx: EntryPointContext;
  readonly parsed: ParsedRequest;
  readonly req: RequestHead;
  readonly startedAt = performance.now();
  #route: RouteTarget | undefined;
  #service: ServiceRuntime | undefined;
  #server: ServerRuntime | undefined;
  #serverIndex = -1;
  /** Servers tried (bit i = server i of the current service). */
  #tried = 0;
  /** Tries started (picks), for the retry policy's attempts. */
  #tries = 0;
  #retriedFresh = false;
  #mwRan = 0;
  /** Index of the middleware that suspended the request (a queue), or -1. */
  #suspendedAt = -1;
  #leases: Lease[] | null = null;
  #setCookies = '';
  #mirror: MirrorState | null = null;
  #capture: ResponseCapture | null = null;
  #failover: FailoverNode | null = null;
  #retry: RetryState | null = null;
  readonly #body: RequestBody | null;
  #networkError = false;
  #tryStart = 0;
  #headMs = -1;
  // deadlines (Timed): total until the response head, and per try
  deadline = 0;
  #totalDeadline = 0;
  #tryDeadline = 0;
  #perTryMs = 0;
  #timed = false;
  #cleanEnd = false;
  #span: RequestSpan | null = null;
  #upstream: UpstreamStream | null = null;
  #h1Fields = '';
  #hostOverride: string | undefined;
  // response
  responseStarted = false;
  #closeAfter = false;
  #clientBlocked = false;
  status = 0;
  bytesOut = 0;
  done = false;

  constructor(client: ClientSink, ctx: EntryPointContext, parsed: ParsedRequest, req: RequestHead) {
    this.#client = client;
    this.#ctx = ctx;
    this.parsed = parsed;
    this.req = req;
    this.#body = parsed.bodyKind === BODY_NONE ? null : new RequestBody(parsed, client.http2, this);
  }

  /** Routes and runs the request phase; upstream work continues asynchronously. */
  start(): void {
    if (this.req.method === 'TRACE' && !this.#ctx.allowTrace) {
      // A backend that reflects TRACE would echo the client's cookies and credentials back to
      // a script (cross-site tracing): refused at the edge unless the entry point allows it.
      this.#respondDirect({ status: 405, headers: TRACE_REFUSED_HEADERS, body: statusText(405) }, false);
      return;
    }
    const snap = this.#ctx.snapshots.current;
    if (this.#ctx.scheme === 'https' && snap.tls !== null) {
      // A connection reused for another host whose router needs other TLS options (client
      // certificates, versions) must not get them by sharing this handshake.
      if (snap.tls.router.misdirected(this.#client.serverName, this.req.host)) {
        this.#respondError(new ProxyError('MISDIRECTED'), false);
        return;
      }
    }
    const route = snap.routes.match(this.#ctx.name, this.req);
    if (route === undefined) {
      this.#respondError(new ProxyError('NO_ROUTE'), false);
      return;
    }
    this.#route = route;
    this.#runMiddlewares(0);
  }

  #runMiddlewares(from: number): void {
    const mws = this.#route!.middlewares;
    for (let i = from; i < mws.length; i++) {
      const mw = mws[i]!;
      if (mw.onRequest === undefined) continue;
      const r = mw.onRequest(this.req, this);
      if (r === undefined) continue;
      if (r === SUSPEND) {
        this.#suspendedAt = i;
        return;
      }
      this.#mwRan = i;
      this.#respondDirect(r);
      return;
    }
    this.#mwRan = mws.length;
    this.#dispatch();
  }

  // ---- RequestControl (for middlewares)

  resume(response?: DirectResponse): void {
    const at = this.#suspendedAt;
    if (this.done || at < 0) return;
    this.#suspendedAt = -1;
    try {
      if (at === SERVICE_QUEUE) {
        if (response !== undefined) this.#respondDirect(response);
        else this.#forward();
      } else if (response !== undefined) {
        this.#mwRan = at;
        this.#respondDirect(response);
      } else this.#runMiddlewares(at + 1);
    } catch (e) {
      this.onInternalError(e);
    }
  }

  onEnd(lease: Lease): void {
    if (this.#leases === null) this.#leases = [lease];
    else this.#leases.push(lease);
  }

  // ---- ResolveSink (for the service tree)

  addSetCookie(line: string): void {
    this.#setCookies += line;
  }

  mirrorThrough(node: MirroringNode): void {
    if (this.#mirror === null) this.#mirror = new MirrorState(node, this.req, !this.bodyDone);
  }

  failoverThrough(node: FailoverNode): void {
    this.#failover = node;
  }

  // ---- OutgoingRequest (what every try sends)

  get method(): string {
    return this.req.method;
  }

  get target(): string {
    const req = this.req;
    return req.query === '' ? req.path : `${req.path}?${req.query}`;
  }

  get headers(): HeaderList {
    return this.req.headers;
  }

  get bodyKind(): BodyKind {
    return this.parsed.bodyKind;
  }

  get contentLength(): number {
    return this.parsed.contentLength;
  }

  h1Fields(): string {
    if (this.#h1Fields === '') this.#h1Fields = upstreamHeadTail(this.req.headers, this.parsed);
    return this.#h1Fields;
  }

  // ---- the service

  #dispatch(): void {
    const route = this.#route!;
    if (route.middlewares.length > 0) {
      const h = this.req.headers.get('host');
      if (h !== undefined && h !== this.parsed.authority) this.#hostOverride = h;
    }
    const tracer = this.#ctx.tracer;
    if (tracer !== null) this.#startSpan(tracer);
    const lb = route.service.resolve(this.req, this);
    if (lb === undefined) {
      this.#respondError(new ProxyError('NO_SERVER', `no server available for ${route.service.name}`), true);
      return;
    }
    this.#service = lb;
    const adm = lb.admission;
    if (adm !== null) {
      const r = enterLimit(adm, '', this, this.#ctx.ticker.now, unavailable(adm.retryAfter));
      if (r === SUSPEND) {
        this.#suspendedAt = SERVICE_QUEUE;
        return;
      }
      if (r !== undefined) {
        this.#respondDirect(r);
        return;
      }
    }
    this.#forward();
  }

  /** The service admitted the request: forward it. */
  #forward(): void {
    const route = this.#route!;
    if (route.retry !== null) this.#retry = new RetryState(route.retry);
    const mirror = this.#mirror;
    if (mirror?.idle) this.#mirror = null;
    this.#setupRecorder();
    this.#setupTimeouts(route, this.#service!);
    this.#pickAndAcquire();
    const m = this.#mirror;
    if (m !== null) {
      if (m.comparison !== null)
        this.#capture = new ResponseCapture(m.node.compareHeaders, m.node.compareBody);
      const rec = this.#body?.recorder ?? null;
      if (!m.wantsBody) this.#startMirrors(null);
      else if (rec === null || rec.overflow) m.skip();
    }
  }

  /** W3C trace context: our span joins the client's trace, and the backend joins ours. */
  #startSpan(tracer: Tracer): void {
    const h = this.req.headers;
    const span = tracer.startSpan(
      h.get('traceparent'),
      h.get('tracestate'),
      `${this.req.method} ${this.#route!.router}`,
      Date.now() - (performance.now() - this.startedAt),
    );
    h.set('traceparent', span.traceparent);
    if (span.tracestate !== undefined) h.set('tracestate', span.tracestate);
    else h.delete('tracestate');
    this.#span = span;
  }

  /** Keeps a copy of the request body when a retry or a mirror may need it again. */
  #setupRecorder(): void {
    const body = this.#body;
    if (body === null) return;
    let limit = this.#retry === null ? -1 : this.#retry.policy.maxBodyBytes;
    const m = this.#mirror;
    if (m?.wantsBody)
      limit = Math.max(limit, m.node.maxBodySize < 0 ? Number.MAX_SAFE_INTEGER : m.node.maxBodySize);
    if (limit >= 0) body.record(limit);
  }

  #setupTimeouts(route: RouteTarget, lb: ServiceRuntime): void {
    const total = route.timeouts.totalMs || lb.timeouts.totalMs;
    let perTry = route.timeouts.perTryMs || lb.timeouts.perTryMs;
    const retryMs = this.#retry?.policy.perTryMs ?? 0;
    if (retryMs > 0 && (perTry === 0 || retryMs < perTry)) perTry = retryMs;
    if (total === 0 && perTry === 0) return;
    this.#perTryMs = perTry;
    if (total > 0) this.#totalDeadline = this.#ctx.ticker.now + total;
    this.#timed = true;
    this.#ctx.ticker.add(this);
  }

  #armDeadline(): void {
    const t = this.#totalDeadline;
    const p = this.#tryDeadline;
    this.deadline = t === 0 ? p : p === 0 ? t : Math.min(t, p);
  }

  /** A timeout of ours ran out (ticker): the try, or the whole request, before a response head. */
  onDeadline(now: number): void {
    if (this.done || this.responseStarted || this.#headMs >= 0) return;
    const totalOver = this.#totalDeadline !== 0 && now >= this.#totalDeadline;
    if (this.#server !== undefined && this.#serverIndex >= 0) this.#recordTry(0, this.#perTryMs);
    this.#dropTry();
    if (totalOver) {
      this.#retry?.cancel();
      this.#respondError(
        new ProxyError('ROUTE_TIMEOUT', 'route timeout before the response head'),
        true,
        this.#server,
      );
      return;
    }
    this.#tryFailed(
      new ProxyError('UPSTREAM_RESPONSE_TIMEOUT', 'per-try timeout before the response head'),
      'head',
    );
  }

  #setUpstream(stream: UpstreamStream | null): void {
    this.#upstream = stream;
    this.#body?.attach(stream);
  }

  /** Abandons the current try's stream (no callback of it arrives after this). */
  #dropTry(): void {
    const up = this.#upstream;
    this.#setUpstream(null);
    if (up !== null) up.destroy();
    else if (this.#server !== undefined) this.#server.pool.cancel(this);
    this.#releaseServer();
  }

  #pickAndAcquire(): void {
    const svc = this.#service!;
    const guards = this.#route!.guards;
    const guard = guards.length === 0 ? null : (s: ServerRuntime) => guards.every((g) => g.accept(s));
    let idx = svc.pick(this.req, this.#tried, guard, this);
    if (idx < 0 && this.#tried !== 0 && this.#tries > 0 && this.#retry?.retrying) {
      // A retry with no untried server left goes back to one already tried.
      idx = svc.pick(this.req, 0, guard, this);
    }
    if (idx < 0) {
      this.#respondError(new ProxyError('NO_SERVER', `no server available for ${svc.name}`), true);
      return;
    }
    this.#serverIndex = idx;
    if (idx < 31) this.#tried |= 1 << idx;
    this.#tries++;
    this.#server = svc.servers[idx]!;
    svc.inFlight[idx]!++;
    if (this.#tries > 1) this.#tryStart = performance.now();
    if (this.#perTryMs > 0) {
      this.#tryDeadline = this.#ctx.ticker.now + this.#perTryMs;
      this.#armDeadline();
    } else if (this.#timed) this.#armDeadline();
    this.#server.pool.acquire(this, this.req.method);
  }

  /** The retry policy's backoff ran out: try again. */
  retryNow(): void {
    this.#retry?.fired();
    if (this.done) return;
    try {
      this.#pickAndAcquire();
    } catch (e) {
      this.onInternalError(e);
    }
  }

  /** Passive health and per-server guards learn each try's outcome (status 0 = network). */
  #recordTry(status: number, headMs: number): void {
    const svc = this.#service;
    const server = this.#server;
    if (svc === undefined || server === undefined) return;
    const h = svc.health;
    if (h?.recordsOutcomes) h.record(server.index, status, headMs);
    const guards = this.#route!.guards;
    for (let i = 0; i < guards.length; i++) guards[i]!.record(server, status, headMs);
  }

  /** Whether the retry policy allows another try (see RetryState.allows). */
  #mayRetry(sent: boolean, network: boolean): boolean {
    const r = this.#retry;
    if (r === null) return false;
    const body = this.#body;
    const verdict = r.allows(
      this.#tries,
      this.req.method,
      sent,
      network,
      body !== null && body.bytesIn > 0,
      body === null || body.replayable(r.policy.maxBodyBytes),
      this.#totalDeadline !== 0 && this.#ctx.ticker.now >= this.#totalDeadline,
    );
    if (verdict === 'no-budget')
      this.#ctx.logger.debug('retry budget exhausted', { router: this.#route!.router });
    return verdict === 'retry';
  }

  #scheduleRetry(): void {
    this.#ctx.metrics?.series(this.#route, this.#service).retry();
    if (this.#retry!.schedule(this, this.#tries)) this.deadline = this.#totalDeadline;
    else this.#pickAndAcquire();
  }

  /** One try failed before any response byte reached the client. */
  #tryFailed(err: ProxyError, phase: 'connect' | 'head'): void {
    this.#networkError = true;
    const server = this.#server;
    if (this.#mayRetry(phase !== 'connect', true)) {
      this.#logError(err, server, 'debug');
      this.#scheduleRetry();
      return;
    }
    this.#respondError(err, true, server);
  }

  #releaseServer(): void {
    if (this.#serverIndex >= 0) {
      this.#service!.inFlight[this.#serverIndex]!--;
      this.#serverIndex = -1;
    }
  }

  // ---- UpstreamUser

  onUpstreamReady(stream: UpstreamStream): void {
    if (this.done) {
      stream.destroy();
      return;
    }
    this.#setUpstream(stream);
    // A Host set by a middleware (headers.customRequestHeaders) wins, as in Traefik.
    const authority = this.#service!.passHostHeader
      ? (this.#hostOverride ?? this.parsed.authority)
      : this.#server!.authority;
    const body = this.#body;
    if (body === null) {
      stream.sendHead(this, authority);
      return;
    }
    if (body.bytesIn > 0 || (body.done && body.recorder !== null)) body.replay(stream, this, authority);
    else stream.sendHead(this, authority);
    if (!body.done) this.#client.resumeBody();
  }

  onUpstreamInterim(res: UpstreamResponse): void {
    this.#client.interim(this, res);
  }

  onUpstreamHead(res: UpstreamResponse, body: Buffer | null, bodyStart: number, bodyEnd: number): void {
    const route = this.#route!;
    const svc = this.#service!;
    if (this.#timed || route.guards.length > 0 || svc.health?.recordsOutcomes || this.#leases !== null) {
      this.#headMs = performance.now() - (this.#tries > 1 ? this.#tryStart : this.startedAt);
      this.deadline = 0;
      this.#recordTry(res.status, this.#headMs);
      if (this.#retryOnStatus(res.status)) return;
    } else if (route.retry !== null || this.#failover !== null) {
      if (this.#retryOnStatus(res.status)) return;
    }
    this.#networkError = false;
    this.#capture?.head(res.status, res.headers);
    if (body !== null) this.#capture?.data(body, bodyStart, bodyEnd);
    if (!this.bodyDone) {
      // The server answered before reading the whole request: neither connection can be reused
      // in a well-defined state.
      this.#upstream?.markNotReusable();
      this.#closeAfter = true;
    }
    const mws = route.middlewares;
    let status = res.status;
    let reason = res.reason;
    if (this.#mwRan > 0) {
      const rh: ResponseHead = { status, reason, headers: res.headers };
      for (let i = this.#mwRan - 1; i >= 0; i--) mws[i]!.onResponse?.(this.req, rh);
      status = rh.status;
      reason = rh.reason;
    }
    this.status = status;
    this.responseStarted = true;
    if (body !== null) this.bytesOut += bodyEnd - bodyStart;
    this.#closeAfter = this.#client.head(
      this,
      status,
      reason,
      res,
      this.#setCookies,
      this.#closeAfter,
      body,
      bodyStart,
      bodyEnd,
    );
  }

  /**
   * A response whose status the failover service or the retry policy does not accept: dropped
   * (its connection too) and the request sent again, when it is safe to replay.
   */
  #retryOnStatus(status: number): boolean {
    const fo = this.#failover;
    if (fo !== null && inRanges(fo.statusCodes, status) && this.#replayableAfterSend()) {
      this.#failover = null;
      this.#dropTry();
      this.#setCookies = '';
      const lb = fo.fallback.resolve(this.req, this);
      if (lb === undefined) return false;
      this.#service = lb;
      this.#tried = 0;
      this.#headMs = -1;
      this.#pickAndAcquire();
      return true;
    }
    const p = this.#route!.retry;
    if (p === null || p.status.length === 0 || !inRanges(p.status, status)) return false;
    if (!this.#mayRetry(true, false)) return false;
    this.#dropTry();
    this.#headMs = -1;
    this.#scheduleRetry();
    return true;
  }

  #replayableAfterSend(): boolean {
    if (!IDEMPOTENT_METHODS.has(this.req.method)) return false;
    const body = this.#body;
    if (body === null) return true;
    return body.recorder !== null && !body.recorder.overflow && body.done;
  }

  onUpstreamData(buf: Buffer, start: number, end: number): void {
    this.#capture?.data(buf, start, end);
    const n = end - start;
    if (n === 0) return;
    this.bytesOut += n;
    if (!this.#client.data(buf, start, end) && !this.#clientBlocked && this.#upstream !== null) {
      this.#clientBlocked = true;
      this.#upstream.pause();
    }
  }

  /** The client drained: let the upstream send more. */
  onClientDrain(): void {
    if (this.#clientBlocked) {
      this.#clientBlocked = false;
      this.#upstream?.resume();
    }
  }

  onUpstreamEnd(): void {
    this.#cleanEnd = true;
    const up = this.#upstream;
    this.#setUpstream(null);
    // The connection went back to the pool paused: it must read again for its next user.
    if (this.#clientBlocked) up?.resume();
    this.#client.end();
    this.#finish();
  }

  onUpstreamError(err: ProxyError, phase: 'connect' | 'head' | 'body', reused: boolean): void {
    if (this.done) return;
    this.#setUpstream(null);
    const server = this.#server;
    const headMs = performance.now() - (this.#tries > 1 ? this.#tryStart : this.startedAt);
    this.#recordTry(0, headMs);
    this.#releaseServer();
    if (phase === 'body' || this.responseStarted) {
      // The head is out: the only honest signal left is a broken connection (never a clean end,
      // never an error page appended to a 2xx).
      this.#logError(err, server);
      this.status = this.status || err.status;
      this.#networkError = true;
      this.#client.broken();
      this.#finish();
      return;
    }
    if (phase === 'connect' && this.bytesIn === 0 && this.#tried !== 0) {
      // Nothing reached any server: trying another one cannot duplicate a side effect.
      const svc = this.#service!;
      if (svc.servers.length > 1 && this.#triedCount() < Math.min(svc.servers.length, 3)) {
        this.#logError(err, server, 'debug');
        this.#pickAndAcquire();
        return;
      }
    }
    if (
      phase === 'head' &&
      reused &&
      !this.#retriedFresh &&
      this.#body === null &&
      IDEMPOTENT_METHODS.has(this.req.method)
    ) {
      // The keep-alive race: the server closed an idle socket as we wrote to it. Replay once
      // on a fresh connection (RFC 9112 §9.3.1 allows it for idempotent requests).
      this.#retriedFresh = true;
      this.#serverIndex = server === undefined ? -1 : this.#service!.servers.indexOf(server);
      this.#service!.inFlight[this.#serverIndex]!++;
      server!.pool.acquire(this, this.req.method, true);
      return;
    }
    this.#tryFailed(err, phase);
  }

  onUpstreamDrain(): void {
    const body = this.#body;
    if (body?.blocked) {
      body.blocked = false;
      this.#client.resumeBody();
    }
  }

  #triedCount(): number {
    let n = 0;
    for (let t = this.#tried; t !== 0; t &= t - 1) n++;
    return n;
  }

  // ---- request body (ClientExchange, BodyListener)

  get bodyDone(): boolean {
    return this.#body === null || this.#body.done;
  }

  get canTakeBody(): boolean {
    return this.#body?.canTake === true;
  }

  get bytesIn(): number {
    return this.#body === null ? 0 : this.#body.bytesIn;
  }

  get bodyError(): string | null {
    return this.#body?.error ?? null;
  }

  feedBody(buf: Buffer, start: number, end: number): number {
    return this.#body!.feed(buf, start, end);
  }

  feedData(buf: Buffer): void {
    this.#body!.feedData(buf);
  }

  endData(): void {
    this.#body?.endData();
  }

  onBodyComplete(): void {
    const m = this.#mirror;
    if (m?.wantsBody) {
      const r = this.#body!.recorder;
      if (r === null || r.overflow) m.skip();
      else this.#startMirrors(r.bytes());
    }
  }

  #startMirrors(body: Buffer | null): void {
    const host = this.#hostOverride ?? this.parsed.authority;
    this.#mirror!.start(this.req, host, body, this.#ctx.ticker, this.#ctx.logger);
  }

  /**
   * The client sent a malformed body (or too slowly: 408): answer `status` if we still can, else
   * break both sides.
   */
  failBody(reason: string, status = 400): void {
    if (this.done) return;
    this.#ctx.logger.debug('bad request body', { reason, entryPoint: this.#ctx.name });
    this.#abandon(status, true);
  }

  /**
   * A bug (an exception in a middleware or in our own code) must cost one request, never the
   * process: answer 500 if nothing was sent yet, else break the connection.
   */
  onInternalError(e: unknown): void {
    this.#ctx.logger.error('internal error', {
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      router: this.routerName,
      entryPoint: this.#ctx.name,
    });
    if (this.done) return;
    // Middlewares do not run on this answer: one of them may be what threw.
    this.#abandon(500, false);
  }

  /** Drops the upstream side; answers `status` when nothing was sent yet, else breaks the connection. */
  #abandon(status: number, runMiddlewares: boolean): void {
    this.#upstream?.destroy();
    this.#setUpstream(null);
    this.#releaseServer();
    this.#closeAfter = true;
    if (this.responseStarted) {
      this.#client.broken();
      this.#finish();
      return;
    }
    this.#respondDirect({ status, body: statusText(status) }, runMiddlewares);
  }

  /** The client went away: cancel everything upstream. */
  abort(): void {
    if (this.done) return;
    this.#dropTry();
    this.#retry?.cancel();
    if (this.status === 0) this.status = 499;
    this.#closeAfter = true;
    this.#finish();
  }

  // ---- responses we produce ourselves

  #respondError(err: ProxyError, log: boolean, server?: ServerRuntime): void {
    if (log) this.#logError(err, server);
    this.#respondDirect({ status: err.status, body: statusText(err.status) });
  }

  #logError(err: ProxyError, server: ServerRuntime | undefined, level: 'error' | 'debug' = 'error'): void {
    const logger = this.#ctx.logger;
    if (!logger.enabled(level)) return;
    logger[level]('request failed', {
      code: err.code,
      status: err.status,
      detail: err.message,
      entryPoint: this.#ctx.name,
      router: this.routerName,
      service: this.serviceName,
      server: server?.url ?? '',
      method: this.req.method,
      host: this.req.host,
      path: this.req.path,
      clientIp: this.#client.clientIp,
    });
  }

  #respondDirect(resp: DirectResponse, runMiddlewares = true): void {
    const mws = runMiddlewares ? this.#route?.middlewares : undefined;
    const body = resp.body ?? '';
    const rh: ResponseHead = {
      status: resp.status,
      reason: statusText(resp.status),
      headers: HeaderList.from(resp.headers ?? []),
    };
    if (mws !== undefined) {
      for (let i = this.#mwRan - 1; i >= 0; i--) mws[i]!.onResponse?.(this.req, rh);
    }
    this.status = rh.status;
    const len = Buffer.byteLength(body);
    this.responseStarted = true;
    this.#closeAfter = this.#client.direct(this, rh, body, len, this.#closeAfter || !this.bodyDone);
    this.bytesOut += this.req.method === 'HEAD' ? 0 : len;
    this.#finish();
  }

  // ---- the end (ReportedExchange)

  get routerName(): string {
    return this.#route?.router ?? '';
  }

  get serviceName(): string {
    return this.#service?.name ?? '';
  }

  get serverUrl(): string {
    return this.#server?.url ?? '';
  }

  get retries(): number {
    return this.#tries > 1 ? this.#tries - 1 : 0;
  }

  get clientIp(): string {
    return this.#client.clientIp;
  }

  get http2(): boolean {
    return this.#client.http2;
  }

  /** Releases what the request held: leases, the retry budget, the mirror comparison. */
  #settle(): void {
    const leases = this.#leases;
    if (leases !== null) {
      const headMs = this.#headMs >= 0 ? this.#headMs : performance.now() - this.startedAt;
      const outcome: RequestOutcome = { status: this.status, networkError: this.#networkError, headMs };
      this.#leases = null;
      for (let i = 0; i < leases.length; i++) {
        try {
          leases[i]!.release(outcome);
        } catch (e) {
          this.#ctx.logger.error('internal error', { error: String(e), router: this.routerName });
        }
      }
    }
    this.#retry?.settle();
    const m = this.#mirror;
    if (m !== null) {
      m.skip();
      const c = m.comparison;
      const cap = this.#capture;
      if (c !== null) {
        c.primary(
          cap !== null && this.#cleanEnd
            ? cap.result()
            : (cap ?? new ResponseCapture([], false)).failure('primary failed'),
        );
      }
    }
  }

  #finish(): void {
    if (this.done) return;
    this.done = true;
    this.#releaseServer();
    if (this.#timed) this.#ctx.ticker.delete(this);
    if (this.#leases !== null || this.#retry !== null || this.#mirror !== null) this.#settle();
    const ctx = this.#ctx;
    if (ctx.metrics !== null) {
      ctx.metrics
        .series(this.#route, this.#service)
        .observe(this.status, (performance.now() - this.startedAt) / 1000, this.bytesIn, this.bytesOut);
    }
    if (this.#span !== null) endSpan(this.#span, this, ctx.name);
    if (ctx.accessLog !== null) logAccess(ctx.accessLog, this, ctx.name);
    this.#client.exchangeDone(this, !this.#closeAfter);
  }
}
