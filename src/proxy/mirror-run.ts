/**
 * One mirror's copy of a request that runs service middlewares first (Traefik v3.7: a mirror is
 * its service's handler with its own middlewares and the mirror entry's, pkg/server/service/
 * service.go getMirrorServiceHandler, and Traefik's mirror serves it a clone of the request,
 * pkg/server/service/loadbalancer/mirror/mirror.go). Their request phase runs on the copy's own
 * head, in order, each step's after the one above it; a middleware that answers ends the copy
 * (Traefik's mirror writes the mirrors' answers nowhere), one that suspends (forwardAuth, a
 * rateLimit or inFlightReq queue) resumes it later. Then what is below the steps is resolved
 * and the copy sent as the middlewares left it. Their response phases have nothing to act on:
 * a mirror's answer reaches no client. Only mirrors with service middlewares make one. A body
 * transform (grpcWeb) changes what the server is sent and answers: a copy has no client to
 * answer, and its body is the recorded request's, sent as it came (StepRun's transformBody).
 */
import { REQUEST, settleFields } from '../core/field-values.ts';
import { type DirectResponse, type RequestHead, withQuery } from '../core/request.ts';
import type { Lease } from '../middleware/middleware.ts';
import type { ServiceRuntime } from '../runtime/types.ts';
import { MirrorCopy } from './mirror-request.ts';
import type { MirrorState, SendEnv } from './mirror-state.ts';
import { StepRun } from './step-run.ts';

export class MirrorRun extends StepRun {
  readonly #state: MirrorState;
  readonly #index: number;
  readonly #head: RequestHead;
  readonly #hostBefore: string | undefined;
  #host: string;
  readonly #forwardedFor: string | null;
  readonly #env: SendEnv;
  #over = false;
  #leases: Lease[] | null = null;
  readonly #began = performance.now();

  constructor(
    state: MirrorState,
    index: number,
    head: RequestHead,
    host: string,
    forwardedFor: string | null,
    env: SendEnv,
  ) {
    super(head, [], state.node.mirrors[index]!.node);
    this.#state = state;
    this.#index = index;
    this.#head = head;
    this.#hostBefore = head.headers.get('host');
    this.#host = host;
    this.#forwardedFor = forwardedFor;
    this.#env = env;
  }

  protected get over(): boolean {
    return this.#over;
  }

  protected failed(e: unknown): void {
    this.#env.logger.error('mirror middleware failed', {
      mirror: this.#state.node.mirrors[this.#index]!.name,
      error: String(e),
    });
    this.answered({ status: 500 });
  }

  /** The middlewares ran: the copy is sent to a server of `lb`. */
  protected resolved(lb: ServiceRuntime | undefined): void {
    this.#send(lb);
  }

  #send(lb: ServiceRuntime | undefined): void {
    const head = this.#head;
    // A field a middleware made that needs it is settled before it is written (as #dispatch).
    if (head.headers.unsettled && settleFields(head.headers, REQUEST) !== null) {
      this.answered({ status: 400 });
      return;
    }
    const h = head.headers.get('host');
    if (h !== undefined && h !== this.#hostBefore) this.#host = h;
    const target = withQuery(head.path, head.query);
    const copy = new MirrorCopy(
      head.method,
      target.length === 0 ? '/' : target,
      head.headers,
      this.#env.body,
      head.omitForwardedFor ? null : this.#forwardedFor,
    );
    this.#state.send(this.#index, lb, head, copy, this.#host, this.#env, (status, networkError) =>
      this.#end(status, networkError),
    );
  }

  /** A middleware answered: the copy goes no further (its answer reaches no one). */
  protected answered(r: DirectResponse): void {
    this.#state.report(this.#index, {
      ok: true,
      status: r.status,
      headers: {},
      digest: null,
      error: null,
      bytes: 0,
    });
    this.#end(r.status, false);
  }

  #end(status: number, networkError: boolean): void {
    if (this.#over) return;
    this.#over = true;
    const leases = this.#leases;
    if (leases === null) return;
    this.#leases = null;
    const ms = performance.now() - this.#began;
    for (const l of leases) l.release({ status, networkError, headMs: ms, totalMs: ms });
  }

  onEnd(lease: Lease): void {
    if (this.#over) {
      const ms = performance.now() - this.#began;
      lease.release({ status: 0, networkError: false, headMs: ms, totalMs: ms });
      return;
    }
    if (this.#leases === null) this.#leases = [lease];
    else this.#leases.push(lease);
  }

  /** forwardAuth's `forwardBody`: the recorded body (none when the mirror sends none). */
  readBody(limit: number, over: DirectResponse, done: (body: Buffer) => void): void {
    const body = this.#env.body ?? Buffer.alloc(0);
    queueMicrotask(() => {
      if (this.#over) return;
      if (limit >= 0 && body.length > limit) this.answered(over);
      else done(body);
    });
  }

  /** A copy sets no cookie (nor starts another mirror or failover: StepRun). */
  addSetCookie(_line: string): void {}
}
