/**
 * A request of the proxy's own that goes through service middlewares (Traefik v3.7) on a head of
 * its own: an error page's (error-page-steps.ts PageStepRun) or a mirror's copy's (mirror-run.ts
 * MirrorRun). Their request phase runs in order, each step's after the one above it; a middleware
 * that suspends resumes the run later, one that answers ends it. Then what is below the steps is
 * resolved, and a service with middlewares of its own found there is one more step. What happens
 * at each end is the subclass's.
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

export abstract class StepRun implements RequestControl, ResolveSink {
  readonly #head: RequestHead;
  #node: ServiceNode;
  #chain: readonly Middleware[];
  #at = 0;
  #waiting = false;
  serviceStep: ServiceStep | null = null;

  /** `chain` runs first on `head`, then `node` is resolved. */
  protected constructor(head: RequestHead, chain: readonly Middleware[], node: ServiceNode) {
    this.#head = head;
    this.#chain = chain;
    this.#node = node;
  }

  /** The run is over (its request ended): a late resume does nothing. */
  protected abstract get over(): boolean;
  /** A middleware answered `r`: the run ends there. */
  protected abstract answered(r: DirectResponse): void;
  /** A middleware threw. */
  protected abstract failed(e: unknown): void;
  /** The middlewares ran: the load balancer below them (undefined: none available). */
  protected abstract resolved(lb: ServiceRuntime | undefined): void;
  /** Middleware `m`'s request phase let the request through (or it has none). */
  protected passed(_m: Middleware): void {}

  /** Runs the middlewares from where it stands, then resolves. */
  run(): void {
    const head = this.#head;
    for (;;) {
      if (this.#at < this.#chain.length) {
        const m = this.#chain[this.#at++]!;
        if (m.onRequest === undefined) {
          this.passed(m);
          continue;
        }
        let r: ReturnType<NonNullable<Middleware['onRequest']>>;
        try {
          r = m.onRequest(head, this);
        } catch (e) {
          this.failed(e);
          return;
        }
        if (r === SUSPEND) {
          this.#waiting = true;
          return;
        }
        if (r !== undefined) {
          this.answered(r);
          return;
        }
        this.passed(m);
        continue;
      }
      this.serviceStep = null;
      const lb = this.#node.resolve(head, this);
      const step = this.serviceStep as ServiceStep | null;
      if (lb === undefined && step !== null) {
        // The services above chose one with middlewares of its own: they run next.
        this.#chain = step.middlewares;
        this.#at = 0;
        this.#node = step.inner;
        continue;
      }
      this.resolved(lb);
      return;
    }
  }

  // ---- RequestControl

  resume(response?: DirectResponse): void {
    if (!this.#waiting || this.over) return;
    this.#waiting = false;
    if (response !== undefined) this.answered(response);
    else {
      this.passed(this.#chain[this.#at - 1]!);
      this.run();
    }
  }

  abstract onEnd(lease: Lease): void;

  /** Nothing to transform: the subclass says why. */
  transformBody(_t: BodyTransform): void {}

  // ---- ResolveSink: such a request starts no mirror or failover.

  abstract addSetCookie(line: string): void;
  mirrorThrough(_node: MirroringNode): void {}
  failoverThrough(_node: FailoverNode): void {}
  serviceMiddlewares(step: ServiceStep): void {
    this.serviceStep = step;
  }
}
