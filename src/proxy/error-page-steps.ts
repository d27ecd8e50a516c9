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
import type { Lease, Middleware } from '../middleware/middleware.ts';
import type { ServiceRuntime, ServiceStep } from '../runtime/types.ts';
import { StepRun } from './step-run.ts';

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

/**
 * The page request's run (StepRun): a middleware's answer, failure or the load balancer below
 * them goes to the exchange (PageStepHost); `ran` keeps the middlewares that let it through.
 * The page request has no body and its answer is the client's as it comes: nothing to transform.
 */
export class PageStepRun extends StepRun {
  /** The page request as the middlewares see and change it. */
  readonly head: RequestHead;
  /** The middlewares whose request phase let it through, in order (their response phase applies). */
  readonly ran: Middleware[] = [];
  readonly #host: PageStepHost;

  constructor(head: RequestHead, step: ServiceStep, host: PageStepHost) {
    super(head, step.middlewares, step.inner);
    this.head = head;
    this.#host = host;
  }

  protected get over(): boolean {
    return this.#host.done;
  }

  protected answered(r: DirectResponse): void {
    this.#host.pageAnswered(r, this);
  }

  protected failed(e: unknown): void {
    this.#host.pageFailed(e);
  }

  protected resolved(lb: ServiceRuntime | undefined): void {
    this.#host.pageResolved(lb, this);
  }

  protected override passed(m: Middleware): void {
    this.ran.push(m);
  }

  onEnd(lease: Lease): void {
    this.#host.onEnd(lease);
  }

  addSetCookie(line: string): void {
    this.#host.addSetCookie(line);
  }
}
