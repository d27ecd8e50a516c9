import type { HeaderList } from '../core/headers.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import type { RetryPolicy } from '../middleware/middleware.ts';
import type { MetricLevels } from '../observability/metrics/index.ts';
import type { Baggage } from '../observability/tracing/baggage.ts';
import type { RequestSpan, Tracer } from '../observability/tracing/index.ts';
import { SPAN_CLIENT, SPAN_INTERNAL } from '../observability/tracing/span.ts';
import type { DetailedSpan, RouteTarget, ServerRuntime } from '../runtime/types.ts';
import {
  captureCall,
  captureClientRequest,
  captureServerRequest,
  endSpan,
  type ReportedExchange,
  urlTarget,
} from './exchange-report.ts';

/**
 * The spans of one traced request, as Traefik v3 makes them (one object, made only for a request
 * its router or entry point traces):
 *
 * - `EntryPoint`, SERVER (pkg/middlewares/observability/entrypoint.go): around the router's
 *   whole chain, or the 404 handler; it joins the client's trace (W3C context) and records the
 *   request as it came, before any middleware (CaptureServerRequest);
 * - `ReverseProxy`, CLIENT, one per call to a server (pkg/proxy/httputil/observability.go), a
 *   mirror's copies included: the server gets its context in `traceparent`; it ends when the
 *   response head arrives; `AuthRequest`, CLIENT, for forwardAuth's call (auth/forward.go);
 * - with `traceVerbosity: detailed`, INTERNAL spans, each under the one before: `Router`
 *   (router.go), one per middleware named by its type (middleware.go WrapMiddleware), one `Retry`
 *   per attempt of a retry middleware (pkg/middlewares/retry/retry.go), `Metrics` where the
 *   metrics registry counts (pkg/middlewares/metrics), and per call `Service` (service.go, as
 *   pkg/server/service/service.go wraps each server's handler of a load balancer).
 *
 * An unsampled request has its entry span (for its ids) and, per call, a traceparent only: there
 * is nothing to record, and the only id anyone sees is the one the server gets.
 */
export class RequestTrace {
  readonly entry: RequestSpan;
  readonly #tracer: Tracer;
  /** What extraction left in the request's context for injection (B3/Jaeger debug, deferred). */
  readonly #flags: number;
  /** The baggage extraction found (propagators beside W3C trace context only), for injection. */
  readonly #baggage: Baggage | null;
  /** The span the next span goes under: the innermost one open. */
  #parent: RequestSpan;
  /** Detailed (and sampled): the router's, middlewares' and service's spans, to end last. */
  #detailed: RequestSpan[] | null = null;
  /**
   * Detailed: the retries met, outermost first (several nest: each attempt of one runs the next
   * afresh), each with its current attempt's span; null until the first.
   */
  #frames: RetryFrame[] | null = null;
  /** Detailed: each middleware entry's current span (an error page's calls go under its own). */
  #spanOf: Map<DetailedSpan, RequestSpan> | null = null;
  /**
   * Detailed, a route with `buffering` and a request body (holdForBody): true until its Buffer
   * span is made, then the spans after it wait in `#held` until the body is read.
   */
  #holdBody = false;
  /** The spans held (see #holdBody): from group `group`'s entry `index` to group `to`'s end. */
  #held: HeldSpans | null = null;
  /** The error page being fetched: the span of the `errors` middleware that caught the answer. */
  #pageParent: RequestSpan | null = null;
  /** The current call's CLIENT span, until its response head. */
  #call: RequestSpan | null = null;
  /** Detailed: the current try's `Service` (and service `Metrics`) spans, until the next try. */
  #trySpans: RequestSpan[] | null = null;
  /** Detailed, with metrics: the levels that have a `Metrics` span (Traefik's metrics middlewares). */
  readonly #metrics: MetricLevels | null;
  /**
   * The router's service is one of the proxy's own (`api@internal`…): Traefik serves those in
   * its process, with no call and no context sent; ours go to the admin server, untraced alike.
   */
  readonly #ownService: boolean;

  constructor(
    tracer: Tracer,
    ex: ReportedExchange,
    entryPoint: string,
    route: RouteTarget | undefined,
    startEpochMs: number,
    metrics: MetricLevels | null,
    unroutedDetailed: boolean,
  ) {
    this.#tracer = tracer;
    this.#metrics = metrics;
    this.#ownService = route?.service.name.endsWith('@internal') === true;
    // The client's context, by the propagators of OTEL_PROPAGATORS (none: a trace of its own).
    const span = tracer.startEntrySpan(ex.req.headers, 'EntryPoint', startEpochMs);
    this.#flags = tracer.extractedFlags;
    this.#baggage = tracer.extractedBaggage;
    this.entry = span;
    this.#parent = span;
    if (!span.sampled) return;
    span.setAttribute('entry_point', entryPoint);
    captureServerRequest(span, tracer, ex);
    const detailed = route?.detailed;
    if (detailed === undefined) {
      // The 404 handler's chain (BuildEPChain with the entry point's observability): at detailed,
      // its metrics middleware's span.
      if (unroutedDetailed && metrics?.entryPoints) {
        this.#detailed = [];
        this.#metricsSpan('metrics-entrypoint');
      }
      return;
    }
    this.#detailed = [];
    // The entry point's chain (BuildEPChain): its metrics middleware, after the entry span.
    if (metrics?.entryPoints) this.#metricsSpan('metrics-entrypoint');
    // Traefik's routerTracing, at detailed only, then the router's metrics middleware.
    const r = this.#internal('Router');
    r.setAttribute('traefik.service.name', route!.service.name);
    r.setAttribute('traefik.router.name', route!.router);
    r.setAttribute('http.route', detailed.rule);
    if (metrics?.routers) this.#metricsSpan('metrics-router');
  }

  /**
   * A metrics middleware's span: Traefik wraps its metrics middlewares with WrapMiddleware like
   * any (pkg/middlewares/metrics: typeName `Metrics`, names metrics-entrypoint, -router,
   * -service) wherever its registry counts that level, whether this router is metered or not.
   */
  #metricsSpan(name: string): void {
    this.#internal('Metrics').setAttribute('traefik.middleware.name', name);
  }

  /** Whether the detailed spans are made (sampled, `traceVerbosity: detailed`). */
  get detailed(): boolean {
    return this.#detailed !== null;
  }

  /** An INTERNAL span under the innermost one, which it becomes. */
  #internal(name: string): RequestSpan {
    const span = this.#tracer.childSpan(this.#parent, name, SPAN_INTERNAL, Date.now());
    this.#detailed!.push(span);
    this.#parent = span;
    return span;
  }

  /**
   * Detailed: the route's middleware `i` is about to run (`i` = the count of middlewares: the
   * chain is through). The spans of the middlewares up to it (route.detailed): each named by
   * its type, with `traefik.middleware.name`; the retry's first attempt's where it stands.
   */
  middleware(route: RouteTarget, i: number): void {
    const held = this.#held;
    if (held !== null) {
      held.route = route;
      held.to = i;
      return;
    }
    this.#open(route, i, 0);
  }

  /** The spans of group `i` of the route's middlewares, from its entry `from`. */
  #open(route: RouteTarget, i: number, from: number): void {
    const group = route.detailed!.middlewares[i];
    if (group === undefined) return;
    for (let k = from; k < group.length; k++) {
      const m = group[k]!;
      if (m.hold === true && this.#holdBody) {
        // Traefik's buffering reads the whole body before it calls what follows it: those
        // middlewares' spans start once it is read, and never if it refuses it (a 413).
        this.#holdBody = false;
        this.#middlewareOf(m);
        this.#held = { route, group: i, index: k + 1, to: i };
        return;
      }
      if (!m.retry) this.#middlewareOf(m);
      else if (this.#frameOf(m.policy) < 0) {
        // A retry met (again, for an inner one, by each attempt of the one it is nested in): its
        // first attempt's span, under the span before it.
        const frame: RetryFrame = {
          policy: m.policy,
          name: m.name,
          parent: this.#parent,
          groups: route.detailed!,
          group: i,
          index: k,
          at: this.#detailed!.length,
        };
        if (this.#frames === null) this.#frames = [frame];
        else this.#frames.push(frame);
        this.#attempt(frame, 1, true);
      }
    }
  }

  /**
   * Detailed: the route has `buffering` and the request a body, which the exchange reads where
   * the buffering stands; the spans after the Buffer span in its group wait for it (released by
   * bodyRead, or by an answer or call of a middleware after it, dropped if the body is refused).
   */
  holdForBody(): void {
    if (this.#detailed !== null) this.#holdBody = true;
  }

  /** The held spans are made (the body is read, or a middleware after the buffering acted). */
  bodyRead(): void {
    const held = this.#held;
    if (held === null) return;
    this.#held = null;
    this.#open(held.route, held.group, held.index);
    for (let g = held.group + 1; g <= held.to; g++) this.#open(held.route, g, 0);
  }

  /**
   * A middleware answered the request itself (`answer`): the held spans, if any, are made (it
   * runs after the buffering in Traefik), and its span error marked.
   */
  middlewareAnswered(answer: DirectResponse, req: RequestHead): void {
    if (this.#held !== null) this.bodyRead();
    if (answer.spanError !== undefined) this.middlewareFailed(answer.spanError, req);
  }

  /**
   * A middleware refused the request with `message` (DirectResponse.spanError): Traefik's
   * observability.SetStatusErrorf marks the span of the request's context, which is the
   * middleware's own when tracing is detailed (WrapMiddleware) and the entry point's otherwise:
   * the innermost span open here in both cases. A message of the request (`message` a function)
   * is worked out only for a sampled trace.
   */
  middlewareFailed(message: string | ((req: RequestHead) => string), req: RequestHead): void {
    const span = this.#parent;
    if (!span.sampled) return;
    span.setError(typeof message === 'string' ? message : message(req));
  }

  /** A middleware's span, named by its type, with `traefik.middleware.name`. */
  #middlewareOf(m: DetailedSpan): void {
    const span = this.#internal(m.type);
    span.setAttribute('traefik.middleware.name', m.name);
    if (this.#spanOf === null) this.#spanOf = new Map();
    this.#spanOf.set(m, span);
  }

  /**
   * An `errors` middleware caught the answer (its span entry, detailed): the page's calls go
   * under its span, as Traefik's customErrors calls the page service with its own context.
   */
  pageCaught(entry: DetailedSpan | undefined): void {
    if (entry !== undefined && this.#spanOf !== null) this.#pageParent = this.#spanOf.get(entry) ?? null;
  }

  /** The frame of the retry with `policy` among those met (-1: none). */
  #frameOf(policy: RetryPolicy | undefined): number {
    const f = this.#frames;
    if (f === null) return -1;
    for (let i = f.length - 1; i >= 0; i--) if (f[i]!.policy === policy) return i;
    return -1;
  }

  /**
   * One span per attempt of a retry middleware (pkg/middlewares/retry/retry.go ServeHTTP: each
   * attempt starts its own `Retry` span under the context the retry got, the previous one
   * ended), `http.request.resend_count` from the second attempt on. What ran under the previous
   * attempt ends as the next starts, the spans of the retries nested in it too (their frames go:
   * the next attempt meets them afresh). `rerun`: the attempt runs the middlewares after the
   * retry again, which make their own spans; else (nothing to run again, a single retry) they
   * are made here, as Traefik's trace shows them per attempt.
   */
  #attempt(frame: RetryFrame, attempt: number, rerun: boolean): void {
    const d = this.#detailed!;
    const frames = this.#frames!;
    if (attempt > 1) {
      const now = Date.now();
      for (let i = d.length - 1; i >= frame.at; i--) d[i]!.end(now, -1);
      d.length = frame.at;
      while (frames[frames.length - 1] !== frame) frames.pop();
    }
    const span = this.#tracer.childSpan(frame.parent, 'Retry', SPAN_INTERNAL, Date.now());
    span.setAttribute('traefik.middleware.name', frame.name);
    if (attempt > 1) span.setAttribute('http.request.resend_count', attempt - 1);
    d.push(span);
    this.#parent = span;
    if (rerun) return;
    const groups = frame.groups.middlewares;
    for (let g = frame.group; g < groups.length; g++) {
      const group = groups[g]!;
      for (let k = g === frame.group ? frame.index + 1 : 0; k < group.length; k++) {
        const m = group[k]!;
        if (!m.retry) this.#middlewareOf(m);
      }
    }
  }

  /**
   * Detailed: attempt `attempt` of the retry with `policy` begins (ExchangeTries #nextAttempt):
   * its `Retry` span, under which the spans of the middlewares after it (made again as they run,
   * `rerun`, or here) and its calls then go, as Traefik's retry starts a span per attempt before
   * calling `next`. Another server tried after a refused connection is no attempt: no span.
   */
  retryAttempt(policy: RetryPolicy, attempt: number, rerun: boolean): void {
    if (this.#detailed === null) return;
    const f = this.#frameOf(policy);
    if (f < 0) return;
    this.#endTry(Date.now());
    this.#attempt(this.#frames![f]!, attempt, rerun);
  }

  /**
   * A call to `server` is about to be made (`page`: an error page's): its CLIENT span, whose
   * context goes to the server in `headers` (`traceparent`, and `tracestate` as received).
   */
  call(
    page: boolean,
    ex: ReportedExchange,
    service: string,
    server: ServerRuntime,
    headers: HeaderList,
  ): void {
    if (this.#ownService && !page) return;
    if (this.#held !== null) this.bodyRead();
    const tracer = this.#tracer;
    const entry = this.entry;
    if (this.#call !== null) this.endCall(502, null);
    let traceparent: string;
    if (!entry.sampled) traceparent = tracer.unsampledTraceparent(entry);
    else {
      let parent = page && this.#pageParent !== null ? this.#pageParent : this.#parent;
      if (this.#detailed !== null) {
        const now = Date.now();
        this.#endTry(now);
        // Traefik wraps each server's handler of a load balancer (pkg/server/service/service.go
        // getLoadBalancerServiceHandler): the service's span, then its metrics middleware's, per
        // call, under what called the load balancer.
        const svc = tracer.childSpan(parent, 'Service', SPAN_INTERNAL, now);
        svc.setAttribute('traefik.service.name', service);
        const spans = [svc];
        parent = svc;
        if (this.#metrics?.services) {
          parent = tracer.childSpan(svc, 'Metrics', SPAN_INTERNAL, now);
          parent.setAttribute('traefik.middleware.name', 'metrics-service');
          spans.push(parent);
        }
        this.#trySpans = spans;
      }
      const call = tracer.clientSpan(parent, Date.now());
      captureClientRequest(call, tracer, ex, server, headers);
      this.#call = call;
      traceparent = call.traceparent;
    }
    this.#tracer.propagation.inject(headers, traceparent, entry.tracestate, this.#flags, this.#baggage);
  }

  /**
   * A `mirroring` service's copy to the mirror service `service`'s `server`: Traefik's mirror
   * handler calls that service's handler (pkg/server/service/loadbalancer/mirror), so the copy
   * has the spans of any call (detailed: Service, service Metrics) and its own ReverseProxy
   * span, under the span the request was in when the copies left; its context is set in
   * `headers` (the copy's own). Returns the spans to end (innermost first), or null.
   */
  mirror(
    ex: ReportedExchange,
    service: string,
    server: ServerRuntime,
    headers: HeaderList,
  ): RequestSpan[] | null {
    const tracer = this.#tracer;
    const entry = this.entry;
    let traceparent: string;
    let spans: RequestSpan[] | null = null;
    if (!entry.sampled) traceparent = tracer.unsampledTraceparent(entry);
    else {
      const now = Date.now();
      let parent = this.#parent;
      spans = [];
      if (this.#detailed !== null) {
        parent = tracer.childSpan(parent, 'Service', SPAN_INTERNAL, now);
        parent.setAttribute('traefik.service.name', service);
        spans.push(parent);
        if (this.#metrics?.services) {
          parent = tracer.childSpan(parent, 'Metrics', SPAN_INTERNAL, now);
          parent.setAttribute('traefik.middleware.name', 'metrics-service');
          spans.push(parent);
        }
      }
      const call = tracer.clientSpan(parent, now);
      captureClientRequest(call, tracer, ex, server, headers);
      spans.push(call);
      traceparent = call.traceparent;
    }
    this.#tracer.propagation.inject(headers, traceparent, entry.tracestate, this.#flags, this.#baggage);
    return spans === null ? null : spans.reverse();
  }

  /**
   * A middleware's own call for the request (forwardAuth's `AuthRequest`, pkg/middlewares/auth/
   * forward.go): a CLIENT span under the innermost span, with CaptureClientRequest's attributes
   * for `url`, its context set in `headers`; Traefik ends it once the answer is read, before it
   * would record the answer's status, so it has none. Unsampled: the context only, and null.
   */
  sideCall(name: string, method: string, url: string, headers: HeaderList): RequestSpan | null {
    if (this.#held !== null) this.bodyRead();
    const tracer = this.#tracer;
    const entry = this.entry;
    let span: RequestSpan | null = null;
    let traceparent: string;
    if (!entry.sampled) traceparent = tracer.unsampledTraceparent(entry);
    else {
      span = tracer.childSpan(this.#parent, name, SPAN_CLIENT, Date.now());
      const t = urlTarget(url);
      // http.NewRequest's Proto: HTTP/1.1.
      captureCall(span, tracer, method, '1.1', url, t.path, t.query, headers);
      traceparent = span.traceparent;
    }
    this.#tracer.propagation.inject(headers, traceparent, entry.tracestate, this.#flags, this.#baggage);
    return span;
  }

  /** The previous try's Service (and service Metrics) spans end: that call is over. */
  #endTry(now: number): void {
    const t = this.#trySpans;
    if (t === null) return;
    this.#trySpans = null;
    for (let i = t.length - 1; i >= 0; i--) t[i]!.end(now, -1);
  }

  /**
   * The call returned: the server's status and response fields, or (`headers` null) the status
   * Traefik's ComputeStatusCode gives a failed call (502, 504 for a timeout, 499 when the client
   * went away).
   */
  endCall(status: number, headers: HeaderList | null): void {
    const span = this.#call;
    if (span === null) return;
    this.#call = null;
    if (headers !== null) this.#tracer.captureResponse(span, headers);
    span.end(Date.now(), status);
  }

  /** The response head as it goes to the client (Traefik's CaptureResponse on the entry span). */
  response(headers: HeaderList): void {
    if (this.entry.sampled) this.#tracer.captureResponse(this.entry, headers);
  }

  /** The request is over: spans end innermost first, the entry point's last (Traefik's defers). */
  end(ex: ReportedExchange, entryPoint: string): void {
    // Spans still held: the body never got read whole (refused, or the client left).
    this.#held = null;
    if (this.#call !== null) this.endCall(ex.status, null);
    const now = Date.now();
    const d = this.#detailed;
    if (d !== null) {
      this.#endTry(now);
      // Innermost first: the last attempts' spans, their retries' spans, then those before.
      for (let i = d.length - 1; i >= 0; i--) d[i]!.end(now, -1);
    }
    endSpan(this.entry, ex, entryPoint);
  }
}

/** A retry middleware met by a traced request (detailed): where its attempts' spans go. */
interface RetryFrame {
  readonly policy: RetryPolicy | undefined;
  /** Its `traefik.middleware.name`. */
  readonly name: string;
  /** The span each attempt's goes under (the one before the retry). */
  readonly parent: RequestSpan;
  /** Where its entry stands in the route's detailed spans (group, index), for later attempts. */
  readonly groups: NonNullable<RouteTarget['detailed']>;
  readonly group: number;
  readonly index: number;
  /** Its current attempt's span's place in the request's detailed spans. */
  readonly at: number;
}

/** The spans held until the body is read (RequestTrace.holdForBody). */
interface HeldSpans {
  /** The route whose groups they are (a child's, once a parent's children matched). */
  route: RouteTarget;
  /** The first: group `group`'s entry `index` (after the Buffer span). */
  readonly group: number;
  readonly index: number;
  /** The last group reached. */
  to: number;
}
