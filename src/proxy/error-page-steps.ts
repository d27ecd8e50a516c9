/**
 * An error page whose service has service middlewares (Traefik v3.7): the `errors` middleware
 * calls its service's handler, built by BuildHTTP with the service's own middlewares
 * (pkg/middlewares/customerrors, pkg/server/service/service.go wrapMiddlewares), so the page
 * request goes through them. Their request phase runs here on the page request's own head, in
 * order, each step's after the one above it (a middleware that suspends resumes it later); one
 * that answers gives the client its answer, under the status the page stands for (Traefik's
 * codeModifier). Once they ran, what is below them is resolved and the page fetched as they
 * left the request; their response phase runs on the page's answer before the router's
 * middlewares before the `errors` one (ExchangeTries.onUpstreamHead). Only such pages make one.
 */
import type { DirectResponse, RequestHead } from '../core/request.ts';
import {
  type BodyTransform,
  type Lease,
  type Middleware,
  type RequestControl,
  SUSPEND,
} from '../middleware/middleware.ts';
import type {
  FailoverNode,
  MirroringNode,
  ResolveSink,
  ServiceNode,
  ServiceRuntime,
  ServiceStep,
} from '../runtime/types.ts';

/** What the exchange hears from a page's run. */
export interface PageStepHost {
  /** A middleware answered; `run.ran` are those before it (their response phase applies). */
  pageAnswered(resp: DirectResponse, run: PageStepRun): void;
  /** The middlewares ran: the page's load balancer (undefined: none available). */
  pageResolved(lb: ServiceRuntime | undefined, run: PageStepRun): void;
  /** A middleware threw. */
  pageFailed(e: unknown): void;
  /** A middleware's lease, released when the request ends (the exchange's). */
  onEnd(lease: Lease): void;
  /** A sticky choice below the middlewares (the exchange's, as for a page without them). */
  addSetCookie(line: string): void;
  /** The exchange ended (the client went away): a late resume does nothing. */
  readonly done: boolean;
}

export class PageStepRun implements RequestControl, ResolveSink {
  /** The page request as the middlewares see and change it. */
  readonly head: RequestHead;
  /** The middlewares whose request phase let it through, in order (their response phase applies). */
  readonly ran: Middleware[] = [];
  readonly #host: PageStepHost;
  #node: ServiceNode;
  #chain: readonly Middleware[];
  #at = 0;
  #waiting = false;
  serviceStep: ServiceStep | null = null;

  constructor(head: RequestHead, step: ServiceStep, host: PageStepHost) {
    this.head = head;
    this.#host = host;
    this.#chain = step.middlewares;
    this.#node = step.inner;
  }

  run(): void {
    const head = this.head;
    for (;;) {
      if (this.#at < this.#chain.length) {
        const m = this.#chain[this.#at++]!;
        if (m.onRequest === undefined) {
          this.ran.push(m);
          continue;
        }
        let r: ReturnType<NonNullable<Middleware['onRequest']>>;
        try {
          r = m.onRequest(head, this);
        } catch (e) {
          this.#host.pageFailed(e);
          return;
        }
        if (r === SUSPEND) {
          this.#waiting = true;
          return;
        }
        if (r !== undefined) {
          this.#host.pageAnswered(r, this);
          return;
        }
        this.ran.push(m);
        continue;
      }
      this.serviceStep = null;
      const lb = this.#node.resolve(head, this);
      const step = this.serviceStep as ServiceStep | null;
      if (lb === undefined && step !== null) {
        this.#chain = step.middlewares;
        this.#at = 0;
        this.#node = step.inner;
        continue;
      }
      this.#host.pageResolved(lb, this);
      return;
    }
  }

  // ---- RequestControl

  resume(response?: DirectResponse): void {
    if (!this.#waiting || this.#host.done) return;
    this.#waiting = false;
    if (response !== undefined) this.#host.pageAnswered(response, this);
    else {
      this.ran.push(this.#chain[this.#at - 1]!);
      this.run();
    }
  }

  onEnd(lease: Lease): void {
    this.#host.onEnd(lease);
  }

  /** The page request has no body and its answer is the client's as it comes: nothing to transform. */
  transformBody(_t: BodyTransform): void {}

  // ---- ResolveSink: a page starts no mirror or failover (as the exchange's own page).

  addSetCookie(line: string): void {
    this.#host.addSetCookie(line);
  }
  mirrorThrough(_node: MirroringNode): void {}
  failoverThrough(_node: FailoverNode): void {}
  serviceMiddlewares(step: ServiceStep): void {
    this.serviceStep = step;
  }
}
