import type { Duplex } from 'node:stream';
import type { HeaderList } from '../core/headers.ts';
import { type ResponseHead, withQuery } from '../core/request.ts';
import type { SpoolReplay, SpoolTarget } from '../core/spooled-body.ts';
import { statusText } from '../core/status-text.ts';
import { applyAliasHeaders } from '../http1/alias-headers.ts';
import {
  BODY_CHUNKED,
  BODY_LENGTH,
  BODY_NONE,
  type BodyKind,
  type ParsedRequest,
} from '../http1/request-head.ts';
import type { BodyFilter } from '../middleware/middleware.ts';
import { joinTargetPath } from '../runtime/types.ts';
import {
  type OutgoingRequest,
  TUNNEL_RESET,
  type UpstreamResponse,
  type UpstreamStream,
  type UpstreamUser,
} from '../upstream/stream.ts';
import { type PipelineSink, ResponsePipeline } from './body-pipeline.ts';
import type { ClientExchange } from './client-sink.ts';
import { ExchangeTries } from './exchange-tries.ts';
import { isManagedForwardingField } from './forwarded.ts';
import { upstreamHeadTail } from './heads.ts';
import { destroyWithReset, Tunnel, type TunnelEnd, type TunnelListener } from './tunnel.ts';

/**
 * A WebSocket whose one side closed its TCP half has finished its closing handshake already
 * (RFC 6455 §7.1.1: the server closes TCP after it): the other side gets this long to close its
 * own half, then both are closed. Go's reverse proxy (Traefik) closes both at the first EOF.
 */
const WEBSOCKET_TERMINATION_MS = 1000;

/**
 * An upstream switched for a client that is gone: an HTTP/2 CONNECT stream is cancelled
 * (RST_STREAM(CANCEL) alone, through its TUNNEL_RESET), a socket closed.
 */
function dropUpstream(socket: Duplex): void {
  if ((socket as Duplex & { [TUNNEL_RESET]?: unknown })[TUNNEL_RESET] !== undefined) destroyWithReset(socket);
  else socket.destroy();
}

/** One try's replay of a buffered request body into its stream. */
class ReplayInto implements SpoolTarget {
  readonly #stream: UpstreamStream;
  readonly #ex: Exchange;

  constructor(stream: UpstreamStream, ex: Exchange) {
    this.#stream = stream;
    this.#ex = ex;
  }

  write(chunk: Buffer): boolean {
    return this.#stream.sendBody(chunk, 0, chunk.length);
  }

  end(): void {
    this.#stream.endBody();
  }

  fail(reason: string): void {
    this.#ex.replayFailed(reason);
  }
}

/**
 * One request/response through the proxy: route, middlewares, pick a server, forward through an
 * upstream stream, relay the response. One object per request, methods instead of closures, and
 * the snapshot it routed with is kept to the end (a request never mixes generations).
 *
 * The exchange sees no framing on either side: the client side is a `ClientSink` (HTTP/1.1
 * connection or HTTP/2 stream), the upstream side an `UpstreamStream` (HTTP/1.1 connection or
 * HTTP/2 stream). It is one object built in three layers, each a file of its own:
 *
 * - `ExchangeCore` (exchange-core.ts): routing, middlewares, the service, our own answers, the end;
 * - `ExchangeTries` (exchange-tries.ts): servers, timeouts, retries, failover;
 * - `Exchange` (here): the stream with the chosen server, the request going out and the
 *   response coming back, with backpressure both ways.
 *
 * Beside them, the request body (`RequestBody`, only when there is one), the retry policy
 * (`RetryState`, only on routes with one) and the reports (`exchange-report.ts`).
 */
export class Exchange
  extends ExchangeTries
  implements ClientExchange, UpstreamUser, OutgoingRequest, TunnelListener, PipelineSink
{
  #clientBlocked = false;
  /** The response body phase: its filters, when the route's middlewares asked for the body. */
  #pipeline: ResponsePipeline | null = null;
  #pipelineBlocked = false;
  /** The filtered response's head, until its first bytes go out. */
  #filteredHead: UpstreamResponse | null = null;
  /** The head the filters may still edit: its status is read when the head goes out. */
  #filteredRh: ResponseHead | null = null;
  /** The route's index of the middleware behind each filter of the pipeline, in its order. */
  #filterAt: number[] | null = null;
  #trailers: HeaderList | null = null;
  /** The buffered request body being sent on this try (buffering middleware). */
  #replay: SpoolReplay | null = null;
  /** After a protocol switch: the tunnel that now carries the connection, until it ends. */
  #tunnel: Tunnel | null = null;

  // ---- OutgoingRequest (what every try sends)

  get method(): string {
    return this.req.method;
  }

  get target(): string {
    const req = this.req;
    let target = withQuery(req.path, req.query);
    // Only a CONNECT has no path (a middleware that set one made it the target, as in Traefik).
    if (target.length === 0) {
      // Traefik's sanitizePath (on by default) makes the RequestURI of its empty path `/`
      // (pkg/server/server_entrypoint_tcp.go, URL.JoinPath then URL.RequestURI), which the
      // director sends; without it, Go's transport writes the Host it sends, authority-form
      // (net/http request.go write: `CONNECT` with an empty URL path). Unless the server keeps
      // its URL's path (`preservePath`): the director's JoinURLPath makes that path and a slash
      // the URL path, which the transport then writes (pkg/proxy/httputil/proxy.go).
      if (!this.ctx.pathPolicy.sanitize) {
        const prefix = this.server?.pathPrefix ?? '';
        return prefix === '' ? this.#upstreamAuthority() : joinTargetPath(prefix, '');
      }
      target = '/';
    }
    // This try's server keeps its URL's path (`preservePath`): it goes first.
    const prefix = this.server?.pathPrefix ?? '';
    return prefix === '' ? target : joinTargetPath(prefix, target);
  }

  /** The Host of the upstream request: a middleware's Host wins, as in Traefik. */
  #upstreamAuthority(): string {
    return this.service!.passHostHeader
      ? (this.hostOverride ?? this.parsed.authority)
      : this.server!.authority;
  }

  get headers(): HeaderList {
    return this.req.headers;
  }

  get bodyKind(): BodyKind {
    return this.spool === null ? this.parsed.bodyKind : BODY_LENGTH;
  }

  get contentLength(): number {
    return this.spool === null ? this.parsed.contentLength : this.spool.length;
  }

  get upgrade(): string | null {
    return this.parsed.upgrade;
  }

  /**
   * The peer, appended to X-Forwarded-For as each try's head is written (Traefik's
   * pkg/proxy/httputil/proxy.go rewriteRequestBuilder): not with the entry point's
   * `notAppendXForwardedFor` (ShouldNotAppendXFF), nor after a headers middleware's nil field.
   */
  get forwardedFor(): string | null {
    const req = this.req;
    return req.omitForwardedFor || !this.ctx.appendForwardedFor ? null : req.clientIp;
  }

  /**
   * Built for each try, not kept: a kept string lives as long as the request, and under HTTP/2
   * (hundreds of requests in flight) whatever lives that long is promoted to the old generation
   * (docs/performance.md, "Garbage collection"); a retry builds it again.
   */
  h1Fields(): string {
    const p = this.parsed;
    // A buffered body goes with its length, however the client framed it.
    const framing: ParsedRequest =
      this.spool === null ? p : { ...p, bodyKind: BODY_LENGTH, contentLength: this.spool.length };
    return upstreamHeadTail(this.req.headers, framing, this.forwardedFor);
  }

  // ---- UpstreamUser

  onUpstreamReady(stream: UpstreamStream): void {
    if (this.done) {
      stream.destroy();
      return;
    }
    this.setUpstream(stream);
    // A Host set by a middleware (headers.customRequestHeaders) wins, as in Traefik.
    const authority = this.#upstreamAuthority();
    if (this.page !== null) {
      stream.sendHead(this.page, authority);
      return;
    }
    const spool = this.spool;
    if (spool !== null) {
      stream.cork();
      stream.sendHead(this, authority);
      this.#replay = spool.replay(new ReplayInto(stream, this));
      stream.uncork();
      return;
    }
    const body = this.body;
    if (body === null) {
      stream.sendHead(this, authority);
      return;
    }
    if (body.bytesIn > 0 || (body.done && body.recorder !== null)) body.replay(stream, this, authority);
    else stream.sendHead(this, authority);
    if (!body.done) this.client.resumeBody();
  }

  onUpstreamInterim(res: UpstreamResponse): void {
    // Traefik's retry writer clears a 1xx response (103 Early Hints) of every attempt but the
    // last (pkg/middlewares/retry/retry.go, responseWriter.WriteHeader). A 100 Continue still
    // goes: Go's server sends its own when the attempt reads the body.
    const r = this.retry;
    if (r !== null && res.status !== 100 && r.count(this.attempts) < r.policy.attempts) return;
    // A failover's `errors` writer drops the main service's 1xx but 101 (Traefik v3.7's
    // failover/response_writer.go WriteHeader); 100 Continue as above.
    if (res.status !== 100 && this.failover?.errors != null) return;
    // A client that does not take them pauses the upstream, as after `data`: Go's reverse proxy
    // (Traefik) writes and flushes each 1xx from the transport's read loop (httputil
    // ReverseProxy's Got1xxResponse hook), which waits for the client meanwhile. Go 1.24 counts
    // them no more when that hook is set (net/http transport.go readResponse), nor do we.
    if (!this.client.interim(this, res) && !this.#clientBlocked && this.upstream !== null) {
      this.#clientBlocked = true;
      this.upstream.pause();
    }
  }

  onUpstreamHead(res: UpstreamResponse, body: Buffer | null, bodyStart: number, bodyEnd: number): void {
    this.#head(res, body, bodyStart, bodyEnd, null);
  }

  /**
   * The small whole body as text (UpstreamUser.onUpstreamHeadText), taken when it goes straight
   * to a client whose sink writes text (HTTP/1.1): a mirror's capture and a body filter want
   * bytes, and so does an HTTP/2 stream.
   */
  onUpstreamHeadText(res: UpstreamResponse, body: string): boolean {
    if (this.client.headText === undefined || this.capture !== null || this.route!.bodyPhase) return false;
    this.#head(res, null, 0, 0, body);
    return true;
  }

  /** The response head, with its whole body as bytes (`body`) or as text (`text`), or neither. */
  #head(
    res: UpstreamResponse,
    body: Buffer | null,
    bodyStart: number,
    bodyEnd: number,
    text: string | null,
  ): void {
    const route = this.route!;
    const svc = this.service!;
    // The call returned its response head: its CLIENT span ends there (Traefik's RoundTrip).
    this.trace?.endCall(res.status, res.headers);
    if (this.semconvCall) this.endCallMetric(res.status);
    if (
      this.timed ||
      route.guards.length > 0 ||
      svc.health?.recordsOutcomes ||
      svc.responseTimes !== null ||
      this.leases !== null
    ) {
      this.headMs = performance.now() - (this.tries > 1 ? this.tryStart : this.startedAt);
      this.deadline = 0;
      this.recordTry(res.status, this.headMs);
      if (this.retryOnStatus(res.status)) return;
    } else if (route.retry !== null || this.failover !== null || route.buffering !== null) {
      if (this.retryOnStatus(res.status)) return;
    }
    if (route.errorPages !== null && this.catchError(res.status, true)) return;
    this.networkError = false;
    this.capture?.head(res.status, res.headers);
    if (body !== null) this.capture?.data(body, bodyStart, bodyEnd);
    if (!this.bodyDone) {
      // The server answered before reading the whole request: neither connection can be reused
      // in a well-defined state.
      this.upstream?.markNotReusable();
      this.closeAfter = true;
    }
    if (this.ctx.metrics !== null) {
      // The `code` label of a gRPC request (metrics): the grpc-status of the answer's head.
      this.grpcStatus = res.headers.get('grpc-status');
      // The service level counts its server's status, whatever the middlewares make of it.
      this.serviceStatus = res.status;
    }
    const mws = route.middlewares;
    const page = this.page;
    let status = page === null || page.status === 0 ? res.status : page.status;
    let reason = page === null || page.status === 0 ? res.reason : statusText(status);
    const steps = page === null ? null : page.steps;
    if (this.mwRan > 0 || steps !== null) {
      // A middleware may change the fields other than through HeaderList's methods (a plugin
      // writes the arrays): the parser's text of them is no longer theirs.
      res.headers.raw = null;
      const rh: ResponseHead = { status, reason, headers: res.headers };
      if (steps !== null) {
        // The page's service middlewares (Traefik v3.7) answer inside customerrors' codeModifier:
        // they see the page's own status, then the client gets the one the page stands for.
        rh.status = res.status;
        rh.reason = res.reason;
        for (let i = steps.ran.length - 1; i >= 0; i--) steps.ran[i]!.onResponse?.(steps.head, rh);
        rh.status = status;
        rh.reason = reason;
      }
      for (let i = this.mwRan - 1; i >= 0; i--) mws[i]!.onResponse?.(this.req, rh);
      status = rh.status;
      reason = rh.reason;
      if (
        route.bodyPhase &&
        res.bodyKind !== BODY_NONE &&
        this.#filterBody(rh, res, body, bodyStart, bodyEnd)
      ) {
        return;
      }
    }
    this.status = status;
    this.responseStarted = true;
    this.spanResponse(res.headers);
    if (body !== null) this.bytesOut += bodyEnd - bodyStart;
    else if (text !== null) this.bytesOut += text.length;
    this.closeAfter =
      text === null
        ? this.client.head(
            this,
            status,
            reason,
            res,
            this.setCookies,
            this.closeAfter,
            body,
            bodyStart,
            bodyEnd,
          )
        : // onUpstreamHeadText checked that the sink has it.
          this.client.headText!(this, status, reason, res, this.setCookies, this.closeAfter, text);
    // A body still to come (SSE, a download, a gRPC stream) may outlive the route (reloads).
    if (body === null && text === null && res.bodyKind !== BODY_NONE && !this.done) this.#liveLong();
  }

  onUpstreamData(buf: Buffer, start: number, end: number): void {
    this.capture?.data(buf, start, end);
    const n = end - start;
    if (n === 0) return;
    const pipeline = this.#pipeline;
    if (pipeline !== null) {
      this.serviceBytesOut += n;
      if (!pipeline.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end))) {
        this.#pipelineBlocked = true;
        this.upstream?.pause();
      }
      return;
    }
    this.bytesOut += n;
    if (!this.client.data(buf, start, end) && !this.#clientBlocked && this.upstream !== null) {
      this.#clientBlocked = true;
      this.upstream.pause();
    }
  }

  /** The client drained: let the upstream send more. */
  onClientDrain(): void {
    if (this.#clientBlocked) {
      this.#clientBlocked = false;
      if (!this.#pipelineBlocked) this.upstream?.resume();
      this.#pipeline?.clientDrained();
    }
  }

  /** TransformUser: the trailers a body transform put in the body (gRPC-Web), as onUpstreamEnd's. */
  transformedTrailers(trailers: HeaderList): void {
    if (this.grpcStatus === undefined && this.ctx.metrics !== null)
      this.grpcStatus = trailers.get('grpc-status');
  }

  onUpstreamEnd(trailers: HeaderList | null): void {
    this.cleanEnd = true;
    // Else its trailers' (Traefik reads the response's header map once the call is over).
    if (trailers !== null && this.grpcStatus === undefined && this.ctx.metrics !== null)
      this.grpcStatus = trailers.get('grpc-status');
    const up = this.upstream;
    this.setUpstream(null);
    // The connection went back to the pool paused: it must read again for its next user.
    if (this.#clientBlocked || this.#pipelineBlocked) up?.resume();
    const pipeline = this.#pipeline;
    if (pipeline !== null) {
      // The filters flush what they hold (a compressor's last block); the end follows from them.
      this.#trailers = trailers;
      pipeline.end();
      return;
    }
    this.client.end(trailers);
    this.finish();
  }

  // ---- the response body phase (middlewares' onResponseBody)

  /**
   * Asks the route's middlewares for body filters; with any, the response goes through them
   * (ResponsePipeline) and its head waits for their first output, so that a filter may still
   * decide about it (a compressor holding its first bytes). False when none wants the body.
   */
  #filterBody(
    rh: ResponseHead,
    res: UpstreamResponse,
    body: Buffer | null,
    start: number,
    end: number,
  ): boolean {
    const mws = this.route!.middlewares;
    let filters: BodyFilter[] | null = null;
    let at: number[] | null = null;
    for (let i = this.mwRan - 1; i >= 0; i--) {
      const f = mws[i]!.onResponseBody?.(this.req, rh);
      if (f === undefined || f === null) continue;
      if (filters === null) {
        filters = [];
        at = [];
      }
      filters.push(f);
      at!.push(i);
    }
    if (filters === null) return false;
    this.#filterAt = at;
    this.status = rh.status;
    this.responseStarted = true;
    this.spanResponse(rh.headers);
    // The filters' output has no known length: re-framed (chunked to HTTP/1.1 clients).
    this.#filteredHead = {
      status: rh.status,
      reason: rh.reason,
      headers: rh.headers,
      bodyKind: BODY_CHUNKED,
      contentLength: 0,
      connectionTokens: res.connectionTokens,
    };
    this.#filteredRh = rh;
    // The service level counts the bytes it sent, not the filters' output (metrics).
    this.serviceBytesOut = 0;
    this.#pipeline = new ResponsePipeline(filters, this);
    this.#liveLong();
    if (body !== null && end > start) this.onUpstreamData(body, start, end);
    return true;
  }

  /** The head of a filtered response, sent with its first filtered bytes (or at its end). */
  #sendFilteredHead(): void {
    const head = this.#filteredHead;
    if (head === null) return;
    this.#filteredHead = null;
    // A filter holding the whole body may change the status until its first output (an
    // http-wasm guest's set_status_code with buffer_response, plugins/wasm.ts).
    const rh = this.#filteredRh!;
    this.#filteredRh = null;
    let { status, reason } = head;
    if (rh.status !== status && Number.isInteger(rh.status) && rh.status >= 200 && rh.status <= 599) {
      status = rh.status;
      // The reason goes with the status, unless the filter gave its own.
      reason = rh.reason === reason ? statusText(status) : rh.reason;
      this.status = status;
    }
    this.closeAfter = this.client.head(
      this,
      status,
      reason,
      head,
      this.setCookies,
      this.closeAfter,
      null,
      0,
      0,
    );
  }

  pipelineData(chunk: Buffer): boolean {
    this.#sendFilteredHead();
    this.bytesOut += chunk.length;
    if (this.client.data(chunk, 0, chunk.length)) return true;
    if (!this.#clientBlocked) {
      this.#clientBlocked = true;
      this.upstream?.pause();
    }
    return false;
  }

  pipelineLength(n: number): void {
    const head = this.#filteredHead;
    if (head === null) return;
    head.headers.set('Content-Length', String(n));
    this.#filteredHead = { ...head, bodyKind: BODY_LENGTH, contentLength: n };
  }

  pipelineEnd(): void {
    this.#sendFilteredHead();
    this.#pipeline = null;
    this.client.end(this.#trailers);
    this.finish();
  }

  pipelineFailed(reason: string, status: number | undefined, filter: number): void {
    this.#pipeline = null;
    this.ctx.logger.error('response body filter failed', { reason, router: this.routerName });
    this.upstream?.destroy();
    this.setUpstream(null);
    this.networkError = true;
    if (status !== undefined && this.#filteredHead !== null) {
      // Nothing of the response went out: the client gets a clean error instead, answered by
      // the failed filter's middleware as Traefik's (oxy's buffer) writes it on the writer it
      // was given: the middlewares before it see it (their headers, an errors page), those
      // after it do not. The client connection stays open unless its request body is unread.
      this.#filteredHead = null;
      this.#filteredRh = null;
      this.responseStarted = false;
      const at = this.#filterAt?.[filter];
      if (at !== undefined) this.mwRan = at;
      this.respondDirect({ status, body: statusText(status) });
      return;
    }
    this.closeAfter = true;
    // Nothing sent yet: the head goes out and the body breaks, never a clean end.
    this.#sendFilteredHead();
    this.client.broken();
    this.finish();
  }

  pipelineDrained(): void {
    if (this.#pipelineBlocked) {
      this.#pipelineBlocked = false;
      if (!this.#clientBlocked) this.upstream?.resume();
    }
  }

  /**
   * The upstream accepted the protocol switch (101): the head goes to the client through the
   * response middlewares, then both sides are joined by a tunnel. The exchange lives on with it,
   * so that what the request holds (an inFlightReq slot, a rate-limit lease) is held for the
   * tunnel's life, and its access-log line and metrics tell the whole connection.
   */
  onUpstreamUpgrade(res: UpstreamResponse, socket: Duplex, rest: Buffer | null): void {
    if (this.done) {
      dropUpstream(socket);
      return;
    }
    const server = this.server!;
    this.trace?.endCall(res.status, res.headers);
    if (this.semconvCall) this.endCallMetric(res.status);
    this.setUpstream(null);
    this.headMs = performance.now() - (this.tries > 1 ? this.tryStart : this.startedAt);
    this.deadline = 0;
    this.recordTry(res.status, this.headMs);
    if (this.ctx.metrics !== null) this.serviceStatus = res.status;
    let status = res.status;
    let reason = res.reason;
    if (this.mwRan > 0) {
      res.headers.raw = null; // as in onUpstreamHead
      const mws = this.route!.middlewares;
      const rh: ResponseHead = { status, reason, headers: res.headers };
      for (let i = this.mwRan - 1; i >= 0; i--) mws[i]!.onResponse?.(this.req, rh);
      status = rh.status;
      reason = rh.reason;
    }
    this.status = status;
    this.responseStarted = true;
    this.spanResponse(res.headers);
    this.closeAfter = true;
    const side = this.client.upgrade(this, status, reason, res, this.setCookies);
    if (side === null) {
      dropUpstream(socket);
      this.finish();
      return;
    }
    this.#liveLong();
    if (this.route!.metered) this.ctx.metrics?.tunnels.opened(this.routerName, this.serviceName);
    // An HTTP/2 upstream's CONNECT stream (only those carry TUNNEL_RESET): the client's
    // END_STREAM is passed on as END_STREAM and the backend's half then stays open until it ends
    // it, as Traefik's x/net/http2 transport ends the request body and reads on.
    const h2 = (socket as Duplex & { [TUNNEL_RESET]?: unknown })[TUNNEL_RESET] !== undefined;
    const tunnel = new Tunnel(
      side.stream,
      socket,
      this.ctx.ticker,
      server.tunnelIdleMs,
      WEBSOCKET_TERMINATION_MS,
      this,
      0,
      false,
      h2,
    );
    this.#tunnel = tunnel;
    tunnel.start(side.rest, rest);
  }

  /** Its route or server left the configuration and the grace period is over (LongLivedRegistry). */
  closeLongLived(): void {
    if (this.done) return;
    const t = this.#tunnel;
    if (t !== null) t.close('closed-by-proxy');
    else this.abandon(502, false);
  }

  #liveLong(): void {
    this.longLived = true;
    this.ctx.longLived.add(this);
  }

  onTunnelEnd(tunnel: Tunnel, end: TunnelEnd): void {
    if (this.route!.metered)
      this.ctx.metrics?.tunnels.closed(
        this.routerName,
        this.serviceName,
        end,
        tunnel.bytesUp,
        tunnel.bytesDown,
        (performance.now() - tunnel.startedAt) / 1000,
      );
    this.tunnelBytesIn = tunnel.bytesUp;
    this.bytesOut += tunnel.bytesDown;
    if (end === 'broken') this.networkError = true;
    this.cleanEnd = end === 'closed';
    this.finish();
  }

  /** The client side went away: a tunnel notices it by itself and reports its end. */
  override abort(): void {
    if (this.#tunnel === null) super.abort();
  }

  protected override setUpstream(stream: UpstreamStream | null): void {
    if (this.#replay !== null) {
      this.#replay.stop();
      this.#replay = null;
    }
    super.setUpstream(stream);
  }

  /** The buffered body could not be read back from its file: the request cannot go on. */
  replayFailed(reason: string): void {
    this.ctx.logger.error('buffered request body lost', { reason, router: this.routerName });
    this.abandon(500, false);
  }

  /** However the request ends, filters still running are stopped (a pipeline that ended is gone). */
  protected override endTries(): void {
    if (this.#pipeline !== null) {
      this.#pipeline.destroy();
      this.#pipeline = null;
    }
    super.endTries();
  }

  onUpstreamDrain(): void {
    this.#replay?.drained();
    const body = this.body;
    if (body?.blocked) {
      body.blocked = false;
      this.client.resumeBody();
    }
  }

  // ---- the request body, fed by the client side

  get canTakeBody(): boolean {
    return this.body?.canTake === true;
  }

  get bodyError(): string | null {
    return this.body?.error ?? null;
  }

  feedBody(buf: Buffer, start: number, end: number): number {
    return this.body!.feed(buf, start, end);
  }

  feedData(buf: Buffer): void {
    this.body!.feedData(buf);
  }

  endData(trailers: HeaderList | null = null): void {
    if (trailers !== null && trailers.lnames.length > 0 && !this.#checkTrailers(trailers)) return;
    this.body?.endData(trailers);
  }

  /**
   * The entry point's defenses on request trailers (HTTP/2; HTTP/1.1 ones are never forwarded),
   * as on the head, Traefik v3.7.13 (GHSA-v67p-phpq-fc8x, PR #13822): an untrusted client's
   * forwarding fields are dropped, and aliasHeadersStrategy deletes the aliasing names or, with
   * `reject`, fails the request (400 if nothing was answered yet). False when it failed.
   */
  #checkTrailers(trailers: HeaderList): boolean {
    if (!this.ctx.isTrusted(this.client.clientIp)) trailers.deleteWhere(isManagedForwardingField);
    const alias = this.ctx.aliasHeaders;
    if (alias != null && !applyAliasHeaders(trailers, alias)) {
      this.failBody('a trailer field name aliases another');
      return false;
    }
    return true;
  }
}
