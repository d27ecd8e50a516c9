import { inRanges } from '../config/dynamic/status-ranges.ts';
import { ProxyError } from '../core/errors.ts';
import { HeaderList } from '../core/headers.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';
import { statusText } from '../core/status-text.ts';
import type { Timed } from '../core/ticker.ts';
import { IDEMPOTENT_METHODS } from '../http1/chars.ts';
import { CHUNKED_INCOMPLETE, ChunkedDecoder, type ChunkSink } from '../http1/chunked.ts';
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, type ParsedRequest } from '../http1/request-head.ts';
import type { ParsedResponse } from '../http1/response-head.ts';
import { enterLimit, unavailable } from '../middleware/in-flight-req.ts';
import {
  type Lease,
  type RequestControl,
  type RequestOutcome,
  type RetryPolicy,
  SUSPEND,
} from '../middleware/middleware.ts';
import type { RequestSpan, Tracer } from '../observability/tracing/index.ts';
import { backoffMs } from '../resilience/backoff.ts';
import type {
  FailoverNode,
  MirroringNode,
  ResolveSink,
  RouteTarget,
  ServerRuntime,
  ServiceRuntime,
} from '../runtime/types.ts';
import type { UpstreamConnection } from '../upstream/connection.ts';
import type { UpstreamUser } from '../upstream/upstream-user.ts';
import { BodyRecorder } from './body-recorder.ts';
import type { ClientSink } from './client-sink.ts';
import type { EntryPointContext } from './entry-point-context.ts';
import { upstreamHeadTail } from './heads.ts';
import { ResponseCapture } from './mirror-request.ts';
import { MirrorState } from './mirror-state.ts';

/** `#suspendedAt` while the request waits in its service's queue (`maxInFlight`). */
const SERVICE_QUEUE = 1 << 30;

/** RFC 9110 §15.5.6: a 405 lists the methods that are allowed. */
const TRACE_REFUSED_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'],
];

function retryLater(ex: Exchange): void {
  ex.retryNow();
}

/**
 * One request/response through the proxy: route, middlewares, pick, forward the head and body
 * upstream, relay the response. One object per request, methods instead of closures, and the
 * snapshot it routed with is kept to the end (a request never mixes generations).
 */
export class Exchange implements UpstreamUser, ChunkSink, RequestControl, ResolveSink, Timed {
  readonly #client: ClientSink;
  readonly #ctx: EntryPointContext;
  readonly parsed: ParsedRequest;
  readonly req: RequestHead;
  readonly #start = performance.now();
  #target: RouteTarget | undefined;
  #service: ServiceRuntime | undefined;
  #server: ServerRuntime | undefined;
  #serverIndex = -1;
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
  #recorder: BodyRecorder | null = null;
  /** Holds a retry slot of the policy's budget / counts in the budget's requests. */
  #retrying = false;
  #budgetHeld = false;
  #retryTimer: NodeJS.Timeout | null = null;
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
  #upstream: UpstreamConnection | null = null;
  #headTail = '';
  #hostOverride: string | undefined;
  // request body
  #bodyRemaining: number;
  #decoder: ChunkedDecoder | null = null;
  bodyDone: boolean;
  #upstreamBlocked = false;
  bytesIn = 0;
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
    this.#bodyRemaining = parsed.contentLength;
    this.bodyDone = parsed.bodyKind === BODY_NONE;
    // An HTTP/2 body arrives as DATA frames (feedData): there is no chunked framing to decode.
    if (parsed.bodyKind === BODY_CHUNKED && !client.http2) this.#decoder = new ChunkedDecoder();
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
    const target = snap.routes.match(this.#ctx.name, this.req);
    if (target === undefined) {
      this.#respondError(new ProxyError('NO_ROUTE'), false);
      return;
    }
    this.#target = target;
    this.#runMiddlewares(0);
  }

  #runMiddlewares(from: number): void {
    const mws = this.#target!.middlewares;
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

  // ---- the service

  #dispatch(): void {
    const target = this.#target!;
    if (target.middlewares.length > 0) {
      const h = this.req.headers.get('host');
      if (h !== undefined && h !== this.parsed.authority) this.#hostOverride = h;
    }
    const tracer = this.#ctx.tracer;
    if (tracer !== null) this.#startSpan(tracer);
    this.#headTail = upstreamHeadTail(this.req.headers, this.parsed);
    const lb = target.service.resolve(this.req, this);
    if (lb === undefined) {
      this.#respondError(new ProxyError('NO_SERVER', `no server available for ${target.service.name}`), true);
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
    const target = this.#target!;
    const lb = this.#service!;
    const retry = target.retry;
    if (retry !== null) {
      retry.budget.requestStarted();
      this.#budgetHeld = true;
    }
    const mirror = this.#mirror;
    if (mirror?.idle) this.#mirror = null;
    this.#setupRecorder(retry);
    this.#setupTimeouts(target, lb, retry);
    this.#pickAndAcquire();
    const m = this.#mirror;
    if (m !== null) {
      if (m.comparison !== null)
        this.#capture = new ResponseCapture(m.node.compareHeaders, m.node.compareBody);
      if (!m.wantsBody) this.#startMirrors(null);
      else if (this.#recorder === null || this.#recorder.overflow) m.skip();
    }
  }

  /** W3C trace context: our span joins the client's trace, and the backend joins ours. */
  #startSpan(tracer: Tracer): void {
    const h = this.req.headers;
    const span = tracer.startSpan(
      h.get('traceparent'),
      h.get('tracestate'),
      `${this.req.method} ${this.#target!.router}`,
      Date.now() - (performance.now() - this.#start),
    );
    h.set('traceparent', span.traceparent);
    if (span.tracestate !== undefined) h.set('tracestate', span.tracestate);
    else h.delete('tracestate');
    this.#span = span;
  }

  /** Keeps a copy of the request body when a retry or a mirror may need it again. */
  #setupRecorder(retry: RetryPolicy | null): void {
    if (this.bodyDone) return;
    let limit = retry === null ? -1 : retry.maxBodyBytes;
    const m = this.#mirror;
    if (m?.wantsBody)
      limit = Math.max(limit, m.node.maxBodySize < 0 ? Number.MAX_SAFE_INTEGER : m.node.maxBodySize);
    if (limit < 0) return;
    const r = new BodyRecorder(limit);
    if (this.parsed.bodyKind === BODY_LENGTH && this.parsed.contentLength > limit) r.overflow = true;
    this.#recorder = r;
  }

  #setupTimeouts(target: RouteTarget, lb: ServiceRuntime, retry: RetryPolicy | null): void {
    const total = target.timeouts.totalMs || lb.timeouts.totalMs;
    let perTry = target.timeouts.perTryMs || lb.timeouts.perTryMs;
    if (retry !== null && retry.perTryMs > 0 && (perTry === 0 || retry.perTryMs < perTry))
      perTry = retry.perTryMs;
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
      this.#cancelRetryTimer();
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

  /** Abandons the current try's connection (no callback of it arrives after this). */
  #dropTry(): void {
    const up = this.#upstream;
    this.#upstream = null;
    if (up !== null) up.destroy();
    else if (this.#server !== undefined) this.#server.pool.cancel(this);
    this.#releaseServer();
  }

  #pickAndAcquire(): void {
    const svc = this.#service!;
    const guards = this.#target!.guards;
    const guard = guards.length === 0 ? null : (s: ServerRuntime) => guards.every((g) => g.accept(s));
    let idx = svc.pick(this.req, this.#tried, guard, this);
    if (idx < 0 && this.#tried !== 0 && this.#tries > 0 && this.#retrying) {
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
    this.#retryTimer = null;
    if (this.done) return;
    try {
      this.#pickAndAcquire();
    } catch (e) {
      this.onInternalError(e);
    }
  }

  #cancelRetryTimer(): void {
    if (this.#retryTimer !== null) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
  }

  /** Passive health and per-server guards learn each try's outcome (status 0 = network). */
  #recordTry(status: number, headMs: number): void {
    const svc = this.#service;
    const server = this.#server;
    if (svc === undefined || server === undefined) return;
    const h = svc.health;
    if (h?.recordsOutcomes) h.record(server.index, status, headMs);
    const guards = this.#target!.guards;
    for (let i = 0; i < guards.length; i++) guards[i]!.record(server, status, headMs);
  }

  /**
   * Whether the retry policy allows another try. `sent` says the request may have reached the
   * server: then only a replayable request (idempotent, or allowed by the policy, with a body
   * kept whole) is tried again. The budget caps retries among the requests in flight, so that
   * retries never multiply an outage.
   */
  #mayRetry(sent: boolean, network: boolean): boolean {
    const p = this.#target!.retry;
    if (p === null || this.#tries >= p.attempts) return false;
    if (network && !p.onNetworkError) return false;
    if (this.#totalDeadline !== 0 && this.#ctx.ticker.now >= this.#totalDeadline) return false;
    if (sent) {
      if (!p.nonIdempotent && !IDEMPOTENT_METHODS.has(this.req.method)) return false;
      if (!this.#bodyReplayable(p)) return false;
    } else if (this.bytesIn > 0 && !this.#bodyReplayable(p)) return false;
    if (!this.#retrying) {
      if (!p.budget.tryStartRetry()) {
        this.#ctx.logger.debug('retry budget exhausted', { router: this.#target!.router });
        return false;
      }
      this.#retrying = true;
    }
    return true;
  }

  #bodyReplayable(p: RetryPolicy): boolean {
    if (this.parsed.bodyKind === BODY_NONE) return true;
    const r = this.#recorder;
    return r !== null && !r.overflow && r.length <= p.maxBodyBytes;
  }

  #scheduleRetry(): void {
    this.#ctx.metrics?.series(this.#target, this.#service).retry();
    const p = this.#target!.retry!;
    const delay = backoffMs(this.#tries, p.initialIntervalMs, Math.random());
    if (delay <= 0) {
      this.#pickAndAcquire();
      return;
    }
    this.deadline = this.#totalDeadline;
    this.#retryTimer = setTimeout(retryLater, delay, this);
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

  onUpstreamReady(conn: UpstreamConnection): void {
    if (this.done) {
      conn.destroy();
      return;
    }
    this.#upstream = conn;
    const req = this.req;
    // A Host set by a middleware (headers.customRequestHeaders) wins, as in Traefik.
    const host = this.#service!.passHostHeader
      ? (this.#hostOverride ?? this.parsed.authority)
      : this.#server!.authority;
    const target = req.query === '' ? req.path : `${req.path}?${req.query}`;
    const head = `${req.method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${this.#headTail}`;
    if (this.bytesIn > 0 || (this.bodyDone && this.#recorder !== null)) this.#replayBody(conn, head);
    else conn.socket.write(head, 'latin1');
    if (!this.bodyDone) this.#client.resumeBody();
  }

  /** A retry: the head again, then every body byte recorded so far (the rest follows live). */
  #replayBody(conn: UpstreamConnection, head: string): void {
    const sock = conn.socket;
    const r = this.#recorder!;
    sock.cork();
    sock.write(head, 'latin1');
    if (r.length > 0) {
      if (this.parsed.bodyKind === BODY_CHUNKED) {
        sock.write(`${r.length.toString(16)}\r\n`, 'latin1');
        sock.write(r.bytes());
        sock.write('\r\n', 'latin1');
      } else sock.write(r.bytes());
    }
    if (this.bodyDone && this.parsed.bodyKind === BODY_CHUNKED) sock.write('0\r\n\r\n', 'latin1');
    sock.uncork();
  }

  onUpstreamInterim(res: ParsedResponse): void {
    this.#client.interim(this, res);
  }

  onUpstreamHead(res: ParsedResponse, body: Buffer | null, bodyStart: number, bodyEnd: number): void {
    const t = this.#target!;
    const svc = this.#service!;
    if (this.#timed || t.guards.length > 0 || svc.health?.recordsOutcomes || this.#leases !== null) {
      this.#headMs = performance.now() - (this.#tries > 1 ? this.#tryStart : this.#start);
      this.deadline = 0;
      this.#recordTry(res.status, this.#headMs);
      if (this.#retryOnStatus(res.status)) return;
    } else if (t.retry !== null || this.#failover !== null) {
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
    const mws = this.#target!.middlewares;
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
    const p = this.#target!.retry;
    if (p === null || p.status.length === 0 || !inRanges(p.status, status)) return false;
    if (!this.#mayRetry(true, false)) return false;
    this.#dropTry();
    this.#headMs = -1;
    this.#scheduleRetry();
    return true;
  }

  #replayableAfterSend(): boolean {
    if (!IDEMPOTENT_METHODS.has(this.req.method)) return false;
    if (this.parsed.bodyKind === BODY_NONE) return true;
    const r = this.#recorder;
    return r !== null && !r.overflow && this.bodyDone;
  }

  onUpstreamData(buf: Buffer, start: number, end: number): void {
    this.#capture?.data(buf, start, end);
    const n = end - start;
    if (n === 0) return;
    this.bytesOut += n;
    if (!this.#client.data(buf, start, end) && !this.#clientBlocked && this.#upstream !== null) {
      this.#clientBlocked = true;
      this.#upstream.socket.pause();
    }
  }

  /** The client socket drained: let the upstream send more. */
  onClientDrain(): void {
    if (this.#clientBlocked) {
      this.#clientBlocked = false;
      this.#upstream?.socket.resume();
    }
  }

  onUpstreamEnd(): void {
    this.#cleanEnd = true;
    const conn = this.#upstream;
    this.#upstream = null;
    if (this.#clientBlocked) conn?.socket.resume();
    this.#client.end();
    this.#finish();
  }

  onUpstreamError(err: ProxyError, phase: 'connect' | 'head' | 'body', reused: boolean): void {
    if (this.done) return;
    this.#upstream = null;
    const server = this.#server;
    const headMs = performance.now() - (this.#tries > 1 ? this.#tryStart : this.#start);
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
      this.parsed.bodyKind === BODY_NONE &&
      IDEMPOTENT_METHODS.has(this.req.method)
    ) {
      // The keep-alive race: the server closed an idle socket as we wrote to it. Replay once
      // on a fresh connection (RFC 9112 §9.3.1 allows it for idempotent requests).
      this.#retriedFresh = true;
      this.#serverIndex = this.#serverIndexOf(server);
      this.#service!.inFlight[this.#serverIndex]!++;
      server!.pool.acquire(this, this.req.method, true);
      return;
    }
    this.#tryFailed(err, phase);
  }

  onUpstreamDrain(): void {
    if (this.#upstreamBlocked) {
      this.#upstreamBlocked = false;
      this.#client.resumeBody();
    }
  }

  #serverIndexOf(server: ServerRuntime | undefined): number {
    return server === undefined ? -1 : this.#service!.servers.indexOf(server);
  }

  #triedCount(): number {
    let n = 0;
    for (let t = this.#tried; t !== 0; t &= t - 1) n++;
    return n;
  }

  // ---- request body

  /** True when body bytes can be forwarded now. */
  get canTakeBody(): boolean {
    return this.#upstream !== null && !this.#upstreamBlocked;
  }

  /**
   * Forwards request body bytes from `buf[start..end)`; returns the offset up to which bytes
   * were consumed (bytes after the body belong to the next request). -1 on a malformed body.
   */
  feedBody(buf: Buffer, start: number, end: number): number {
    const up = this.#upstream!;
    if (this.parsed.bodyKind === BODY_LENGTH) {
      const n = Math.min(end - start, this.#bodyRemaining);
      if (n > 0) {
        this.bytesIn += n;
        this.#bodyRemaining -= n;
        this.#recorder?.add(buf, start, start + n);
        if (!up.socket.write(start === 0 && n === buf.length ? buf : buf.subarray(start, start + n))) {
          this.#upstreamBlocked = true;
        }
      }
      if (this.#bodyRemaining === 0) this.#bodyComplete();
      return start + n;
    }
    const decoder = this.#decoder!;
    up.socket.cork();
    const r = decoder.feed(buf, start, end, this);
    if (r >= 0) {
      up.socket.write('0\r\n\r\n', 'latin1');
      this.#bodyComplete();
    }
    up.socket.uncork();
    if (r === CHUNKED_INCOMPLETE) return end;
    if (r < 0) return -1;
    return r;
  }

  /**
   * HTTP/2: forwards one DATA frame's payload. With the client's content-length it is sent as
   * is (nghttp2 holds the DATA total to that value, RFC 9113 §8.1.1); without, re-chunked.
   */
  feedData(buf: Buffer): void {
    if (this.parsed.bodyKind === BODY_LENGTH) {
      if (this.feedBody(buf, 0, buf.length) !== buf.length) this.failBody('body longer than content-length');
      return;
    }
    if (buf.length === 0 || this.bodyDone) return;
    const sock = this.#upstream!.socket;
    sock.cork();
    this.onChunkData(buf, 0, buf.length);
    sock.uncork();
  }

  /** HTTP/2: the client ended its stream (END_STREAM); the body is complete. */
  endData(): void {
    if (this.bodyDone) return;
    if (this.parsed.bodyKind !== BODY_CHUNKED) {
      this.failBody('body shorter than content-length');
      return;
    }
    this.#upstream!.socket.write('0\r\n\r\n', 'latin1');
    this.#bodyComplete();
  }

  #bodyComplete(): void {
    this.bodyDone = true;
    const m = this.#mirror;
    if (m?.wantsBody) {
      const r = this.#recorder;
      if (r === null || r.overflow) m.skip();
      else this.#startMirrors(r.bytes());
    }
  }

  #startMirrors(body: Buffer | null): void {
    const host = this.#hostOverride ?? this.parsed.authority;
    this.#mirror!.start(this.req, host, body, this.#ctx.logger);
  }

  onChunkData(buf: Buffer, start: number, end: number): void {
    const sock = this.#upstream!.socket;
    const n = end - start;
    this.bytesIn += n;
    this.#recorder?.add(buf, start, end);
    sock.write(`${n.toString(16)}\r\n`, 'latin1');
    sock.write(buf.subarray(start, end));
    if (!sock.write('\r\n', 'latin1')) this.#upstreamBlocked = true;
  }

  get bodyError(): string | null {
    return this.#decoder?.error ?? null;
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
      router: this.#target?.router ?? '',
      entryPoint: this.#ctx.name,
    });
    if (this.done) return;
    // Middlewares do not run on this answer: one of them may be what threw.
    this.#abandon(500, false);
  }

  /** Drops the upstream side; answers `status` when nothing was sent yet, else breaks the connection. */
  #abandon(status: number, runMiddlewares: boolean): void {
    this.#upstream?.destroy();
    this.#upstream = null;
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
    const up = this.#upstream;
    this.#upstream = null;
    if (up !== null) up.destroy();
    else if (this.#server !== undefined) this.#server.pool.cancel(this);
    this.#releaseServer();
    this.#cancelRetryTimer();
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
      router: this.#target?.router ?? '',
      service: this.#service?.name ?? '',
      server: server?.url ?? '',
      method: this.req.method,
      host: this.req.host,
      path: this.req.path,
      clientIp: this.#client.clientIp,
    });
  }

  #respondDirect(resp: DirectResponse, runMiddlewares = true): void {
    const mws = runMiddlewares ? this.#target?.middlewares : undefined;
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

  /** Releases what the request held: leases, the retry budget, the mirror comparison. */
  #settle(): void {
    const leases = this.#leases;
    if (leases !== null) {
      const headMs = this.#headMs >= 0 ? this.#headMs : performance.now() - this.#start;
      const outcome: RequestOutcome = { status: this.status, networkError: this.#networkError, headMs };
      this.#leases = null;
      for (let i = 0; i < leases.length; i++) {
        try {
          leases[i]!.release(outcome);
        } catch (e) {
          this.#ctx.logger.error('internal error', { error: String(e), router: this.#target?.router ?? '' });
        }
      }
    }
    const p = this.#target?.retry ?? null;
    if (p !== null) {
      if (this.#retrying) p.budget.retryEnded();
      if (this.#budgetHeld) p.budget.requestEnded();
      this.#retrying = false;
      this.#budgetHeld = false;
    }
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

  #endSpan(span: RequestSpan): void {
    if (span.sampled) {
      const req = this.req;
      span.setAttribute('http.request.method', req.method);
      span.setAttribute('url.path', this.parsed.path);
      span.setAttribute('server.address', req.host);
      span.setAttribute('client.address', this.#client.clientIp);
      span.setAttribute(
        'network.protocol.version',
        this.#client.http2 ? '2' : this.parsed.versionMinor === 1 ? '1.1' : '1.0',
      );
      span.setAttribute('traffic.entry_point', this.#ctx.name);
      span.setAttribute('traffic.router', this.#target?.router ?? '');
      span.setAttribute('traffic.service', this.#service?.name ?? '');
      span.setAttribute('traffic.server', this.#server?.url ?? '');
      span.setAttribute('traffic.retries', this.#tries > 1 ? this.#tries - 1 : 0);
    }
    span.end(Date.now(), this.status);
  }

  #finish(): void {
    if (this.done) return;
    this.done = true;
    this.#releaseServer();
    if (this.#timed) this.#ctx.ticker.delete(this);
    if (this.#leases !== null || this.#budgetHeld || this.#mirror !== null) this.#settle();
    const metrics = this.#ctx.metrics;
    if (metrics !== null) {
      metrics
        .series(this.#target, this.#service)
        .observe(this.status, (performance.now() - this.#start) / 1000, this.bytesIn, this.bytesOut);
    }
    if (this.#span !== null) this.#endSpan(this.#span);
    const log = this.#ctx.accessLog;
    if (log !== null) {
      const req = this.req;
      log.log({
        startTime: Date.now() - (performance.now() - this.#start),
        clientIp: this.#client.clientIp,
        method: req.method,
        host: req.host,
        // The path as the client sent it, before any rewrite (as Traefik logs RequestPath).
        path: this.parsed.path,
        query: this.parsed.query,
        protocol: this.#client.http2 ? 'HTTP/2.0' : this.parsed.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0',
        status: this.status,
        bytesIn: this.bytesIn,
        bytesOut: this.bytesOut,
        durationMs: performance.now() - this.#start,
        entryPoint: this.#ctx.name,
        router: this.#target?.router ?? '',
        service: this.#service?.name ?? '',
        server: this.#server?.url ?? '',
        userAgent: req.headers.get('user-agent') ?? '',
        referer: req.headers.get('referer') ?? '',
        retryAttempts: this.#tries > 1 ? this.#tries - 1 : 0,
        requestHeaders: req.headers,
      });
    }
    this.#client.exchangeDone(this, !this.#closeAfter);
  }
}
