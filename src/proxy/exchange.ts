import type { Socket } from 'node:net';
import { ProxyError } from '../core/errors.ts';
import { HeaderList } from '../core/headers.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';
import { statusText } from '../core/status-text.ts';
import { IDEMPOTENT_METHODS } from '../http1/chars.ts';
import { CHUNKED_INCOMPLETE, ChunkedDecoder, type ChunkSink } from '../http1/chunked.ts';
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, type ParsedRequest } from '../http1/request-head.ts';
import { BODY_CLOSE, type ParsedResponse } from '../http1/response-head.ts';
import type { RouteTarget, ServerRuntime, ServiceRuntime } from '../runtime/types.ts';
import type { UpstreamConnection } from '../upstream/connection.ts';
import type { UpstreamUser } from '../upstream/upstream-user.ts';
import type { EntryPointContext } from './entry-point-context.ts';
import { directResponseHead, responseFields, upstreamHeadTail } from './heads.ts';

/** What an exchange needs from the client connection it belongs to. */
export interface Downstream {
  readonly socket: Socket;
  readonly clientIp: string;
  /** Requests served on this connection, this one included. */
  readonly requestCount: number;
  /** The exchange is over; `keepAlive` says whether the connection may carry another request. */
  exchangeDone(ex: Exchange, keepAlive: boolean): void;
  /** The upstream can take request body bytes again: feed what is pending. */
  resumeBody(): void;
}

function uncork(socket: Socket): void {
  socket.uncork();
}

/**
 * One request/response through the proxy: route, middlewares, pick, forward the head and body
 * upstream, relay the response. One object per request, methods instead of closures, and the
 * snapshot it routed with is kept to the end (a request never mixes generations).
 */
export class Exchange implements UpstreamUser, ChunkSink {
  readonly #down: Downstream;
  readonly #ctx: EntryPointContext;
  readonly parsed: ParsedRequest;
  readonly req: RequestHead;
  readonly #start = performance.now();
  #target: RouteTarget | undefined;
  #service: ServiceRuntime | undefined;
  #server: ServerRuntime | undefined;
  #serverIndex = -1;
  #tried = 0;
  #retriedFresh = false;
  #mwRan = 0;
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
  #clientChunked = false;
  #closeAfter = false;
  #clientBlocked = false;
  status = 0;
  bytesOut = 0;
  done = false;

  constructor(down: Downstream, ctx: EntryPointContext, parsed: ParsedRequest, req: RequestHead) {
    this.#down = down;
    this.#ctx = ctx;
    this.parsed = parsed;
    this.req = req;
    this.#bodyRemaining = parsed.contentLength;
    this.bodyDone = parsed.bodyKind === BODY_NONE;
    if (parsed.bodyKind === BODY_CHUNKED) this.#decoder = new ChunkedDecoder();
  }

  /** Routes and runs the request phase; upstream work continues asynchronously. */
  start(): void {
    const target = this.#ctx.snapshots.current.routes.match(this.#ctx.name, this.req);
    if (target === undefined) {
      this.#respondError(new ProxyError('NO_ROUTE'), false);
      return;
    }
    this.#target = target;
    const mws = target.middlewares;
    for (let i = 0; i < mws.length; i++) {
      const mw = mws[i]!;
      if (mw.onRequest === undefined) continue;
      const direct = mw.onRequest(this.req);
      if (direct !== undefined) {
        this.#mwRan = i;
        this.#respondDirect(direct);
        return;
      }
    }
    this.#mwRan = mws.length;
    this.#service = target.service;
    if (mws.length > 0) {
      const h = this.req.headers.get('host');
      if (h !== undefined && h !== this.parsed.authority) this.#hostOverride = h;
    }
    this.#headTail = upstreamHeadTail(this.req.headers, this.parsed);
    this.#pickAndAcquire();
  }

  #pickAndAcquire(): void {
    const svc = this.#service!;
    // The exclusion closure exists only on a retry: the first pick of a request allocates nothing.
    const tried = this.#tried;
    const idx = tried === 0 ? svc.picker.pick() : svc.picker.pick((i) => i >= 31 || (tried & (1 << i)) === 0);
    if (idx < 0) {
      this.#respondError(new ProxyError('NO_SERVER', `no server available for ${svc.name}`), true);
      return;
    }
    this.#serverIndex = idx;
    if (idx < 31) this.#tried |= 1 << idx;
    this.#server = svc.servers[idx]!;
    svc.inFlight[idx]!++;
    this.#server.pool.acquire(this, this.req.method);
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
    conn.socket.write(`${req.method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${this.#headTail}`, 'latin1');
    if (!this.bodyDone) this.#down.resumeBody();
  }

  onUpstreamInterim(res: ParsedResponse): void {
    // 100 Continue and 103 Early Hints are relayed to HTTP/1.1 clients; nothing else of 1xx is
    // meaningful across a proxy.
    if (this.parsed.versionMinor === 1 && (res.status === 100 || res.status === 103)) {
      let s = `HTTP/1.1 ${res.status} ${res.reason}\r\n`;
      if (res.status === 103) s += responseFields(res, true);
      this.#down.socket.write(`${s}\r\n`, 'latin1');
    }
  }

  onUpstreamHead(res: ParsedResponse, body: Buffer | null, bodyStart: number, bodyEnd: number): void {
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
    let close =
      this.#closeAfter || !this.parsed.keepAlive || this.#ctx.draining || this.#maxRequestsReached();
    const kind = res.bodyKind;
    const rechunk = kind === BODY_CHUNKED || kind === BODY_CLOSE;
    // A 204 never has content, and RFC 9110 §8.6 forbids Content-Length on it: a client that
    // believed the upstream's value would take bytes of the next response as this body.
    let s = `HTTP/1.1 ${status} ${reason}\r\n${responseFields(res, rechunk || res.status === 204)}`;
    if (rechunk) {
      if (this.parsed.versionMinor === 1) {
        this.#clientChunked = true;
        s += 'Transfer-Encoding: chunked\r\n';
      } else {
        close = true; // HTTP/1.0 client: the end of the body is the end of the connection
      }
    }
    if (close) s += 'Connection: close\r\n';
    else if (this.parsed.versionMinor === 0) s += 'Connection: keep-alive\r\n';
    this.#closeAfter = close;
    s += '\r\n';
    const socket = this.#down.socket;
    this.responseStarted = true;
    if (body !== null) {
      // Head and whole body in one buffer, one write(2): no cork, no writev, no tick.
      const n = bodyEnd - bodyStart;
      const out = Buffer.allocUnsafe(s.length + n);
      out.latin1Write(s, 0, s.length);
      body.copy(out, s.length, bodyStart, bodyEnd);
      this.bytesOut += n;
      socket.write(out);
      return;
    }
    if (kind === BODY_NONE) {
      socket.write(s, 'latin1');
      return;
    }
    // Body bytes follow in this same turn more often than not: send them with the head.
    socket.cork();
    socket.write(s, 'latin1');
    process.nextTick(uncork, socket);
  }

  onUpstreamData(buf: Buffer, start: number, end: number): void {
    const socket = this.#down.socket;
    const n = end - start;
    if (n === 0) return;
    this.bytesOut += n;
    let ok: boolean;
    if (this.#clientChunked) {
      socket.cork();
      socket.write(`${n.toString(16)}\r\n`, 'latin1');
      socket.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      ok = socket.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
    }
    if (!ok && !this.#clientBlocked && this.#upstream !== null) {
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
    const conn = this.#upstream;
    this.#upstream = null;
    if (this.#clientBlocked) conn?.socket.resume();
    if (this.#clientChunked) this.#down.socket.write('0\r\n\r\n', 'latin1');
    this.#finish();
  }

  onUpstreamError(err: ProxyError, phase: 'connect' | 'head' | 'body', reused: boolean): void {
    if (this.done) return;
    this.#upstream = null;
    const server = this.#server;
    this.#releaseServer();
    if (phase === 'body' || this.responseStarted) {
      // The head is out: the only honest signal left is a broken connection (never a clean end,
      // never an error page appended to a 2xx).
      this.#logError(err, server);
      this.status = this.status || err.status;
      this.#down.socket.destroy();
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
    this.#respondError(err, true, server);
  }

  onUpstreamDrain(): void {
    if (this.#upstreamBlocked) {
      this.#upstreamBlocked = false;
      this.#down.resumeBody();
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
        if (!up.socket.write(start === 0 && n === buf.length ? buf : buf.subarray(start, start + n))) {
          this.#upstreamBlocked = true;
        }
      }
      if (this.#bodyRemaining === 0) this.bodyDone = true;
      return start + n;
    }
    const decoder = this.#decoder!;
    up.socket.cork();
    const r = decoder.feed(buf, start, end, this);
    if (r >= 0) {
      up.socket.write('0\r\n\r\n', 'latin1');
      this.bodyDone = true;
    }
    up.socket.uncork();
    if (r === CHUNKED_INCOMPLETE) return end;
    if (r < 0) return -1;
    return r;
  }

  onChunkData(buf: Buffer, start: number, end: number): void {
    const sock = this.#upstream!.socket;
    const n = end - start;
    this.bytesIn += n;
    sock.write(`${n.toString(16)}\r\n`, 'latin1');
    sock.write(buf.subarray(start, end));
    if (!sock.write('\r\n', 'latin1')) this.#upstreamBlocked = true;
  }

  get bodyError(): string | null {
    return this.#decoder?.error ?? null;
  }

  /** The client sent a malformed body: answer 400 if we still can, else break both sides. */
  failBody(reason: string): void {
    if (this.done) return;
    this.#ctx.logger.debug('bad request body', { reason, entryPoint: this.#ctx.name });
    this.#abandon(400, true);
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
      this.#down.socket.destroy();
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
      clientIp: this.#down.clientIp,
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
    const close =
      !this.bodyDone || !this.parsed.keepAlive || this.#ctx.draining || this.#maxRequestsReached();
    this.#closeAfter = close || this.#closeAfter;
    const len = Buffer.byteLength(body);
    const s = directResponseHead(rh, len, this.#closeAfter, this.parsed.versionMinor === 0);
    const socket = this.#down.socket;
    this.responseStarted = true;
    if (!socket.destroyed) {
      if (this.req.method === 'HEAD' || len === 0) socket.write(s, 'latin1');
      else socket.write(s + body, 'utf8');
    }
    this.bytesOut += this.req.method === 'HEAD' ? 0 : len;
    this.#finish();
  }

  #maxRequestsReached(): boolean {
    const max = this.#ctx.keepAliveMaxRequests;
    return max > 0 && this.#down.requestCount >= max;
  }

  #finish(): void {
    if (this.done) return;
    this.done = true;
    this.#releaseServer();
    const log = this.#ctx.accessLog;
    if (log !== null) {
      const req = this.req;
      log.log({
        startTime: Date.now() - (performance.now() - this.#start),
        clientIp: this.#down.clientIp,
        method: req.method,
        host: req.host,
        // The path as the client sent it, before any rewrite (as Traefik logs RequestPath).
        path: this.parsed.path,
        query: this.parsed.query,
        protocol: this.parsed.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0',
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
      });
    }
    this.#down.exchangeDone(this, !this.#closeAfter);
  }
}
