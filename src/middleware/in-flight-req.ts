import type { InFlightReqConfig } from '../config/dynamic/middlewares.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import type { Ticker, Timed } from '../core/ticker.ts';
import { AdmissionQueue, type QueueWaiter } from '../resilience/admission-queue.ts';
import {
  type Lease,
  type Middleware,
  type MiddlewareFactory,
  type RequestControl,
  type RequestPhaseValue,
  SUSPEND,
} from './middleware.ts';
import { type SourceKey, sourceKey } from './source-key.ts';

/**
 * Traefik's refusal is oxy's connlimit ConnErrHandler: 429 with the MaxConnError text as the body
 * (`max connections reached: <amount>`).
 */
function tooMany(amount: number): DirectResponse {
  return { status: 429, body: `max connections reached: ${amount}` };
}

/**
 * The limit's state, shared across reloads while the configuration is unchanged (so that a
 * reload never forgets the requests in flight) and swept by the ticker for queue timeouts.
 */
export class InFlightState implements Timed {
  readonly queue: AdmissionQueue;
  readonly queueTimeoutMs: number;
  /** Retry-After for a full queue or a timed-out wait: the queue timeout in whole seconds. */
  readonly retryAfter: string;
  readonly #ticker: Ticker;
  deadline = 0;
  tickerSlot = -1;

  constructor(config: Pick<InFlightReqConfig, 'amount' | 'queue'>, ticker: Ticker) {
    this.queueTimeoutMs = config.queue?.timeout ?? 0;
    this.retryAfter = String(Math.max(1, Math.ceil(this.queueTimeoutMs / 1000)));
    this.queue = new AdmissionQueue({
      limit: config.amount,
      queueSize: config.queue?.size ?? 0,
      queueTimeoutMs: this.queueTimeoutMs,
    });
    this.#ticker = ticker;
    // Only a queue arms deadlines: a limit without one (each router's use has its own state)
    // costs the ticker's sweep nothing.
    if ((config.queue?.size ?? 0) > 0) ticker.add(this);
  }

  armDeadline(): void {
    this.deadline = this.queue.nextDeadline();
  }

  onDeadline(now: number): void {
    this.queue.expire(now);
    this.armDeadline();
  }

  close(): void {
    this.#ticker.delete(this);
  }
}

const QUEUED = 1;
const ADMITTED = 2;
const DONE = 3;

/** One request under the limit: waiting, then holding a slot until it ends. */
class InFlightLease implements Lease, QueueWaiter {
  readonly #state: InFlightState;
  readonly #key: string;
  readonly #ctl: RequestControl;
  readonly #retryAfter: string;
  #phase = QUEUED;
  queueDeadline = 0;

  constructor(state: InFlightState, key: string, ctl: RequestControl, retryAfter: string) {
    this.#state = state;
    this.#key = key;
    this.#ctl = ctl;
    this.#retryAfter = retryAfter;
  }

  admitNow(): void {
    this.#phase = ADMITTED;
  }

  onAdmitted(): void {
    if (this.#phase !== QUEUED) return;
    this.#phase = ADMITTED;
    this.#ctl.resume();
  }

  onQueueTimeout(): void {
    if (this.#phase !== QUEUED) return;
    this.#phase = DONE;
    this.#ctl.resume(unavailable(this.#retryAfter));
  }

  release(): void {
    const phase = this.#phase;
    this.#phase = DONE;
    if (phase === ADMITTED) this.#state.queue.leave(this.#key);
    else if (phase === QUEUED) this.#state.queue.cancel(this.#key, this);
  }
}

/**
 * Takes a slot of `state` under `key` for the request behind `ctl`: undefined when admitted,
 * SUSPEND when queued (ctl.resume follows), or the rejection to answer.
 */
export function enterLimit(
  state: InFlightState,
  key: string,
  ctl: RequestControl,
  now: number,
  rejection: DirectResponse,
): RequestPhaseValue {
  const lease = new InFlightLease(state, key, ctl, state.retryAfter);
  const r = state.queue.enter(key, lease, now);
  if (r === 'admitted') {
    lease.admitNow();
    ctl.onEnd(lease);
    return undefined;
  }
  if (r === 'rejected') return rejection;
  ctl.onEnd(lease);
  state.armDeadline();
  return SUSPEND;
}

export function unavailable(retryAfter: string): DirectResponse {
  return { status: 503, headers: [['Retry-After', retryAfter]], body: 'Service Unavailable' };
}

/**
 * Traefik's inFlightReq: at most `amount` requests in flight per source. Over the limit, Traefik
 * answers 429 at once; with a `queue`, requests wait (FIFO, bounded) for a slot instead, and get
 * 503 with Retry-After only when the queue is full or the wait times out.
 */
export class InFlightReqMiddleware implements Middleware {
  readonly #state: InFlightState;
  readonly #key: SourceKey;
  readonly #ticker: Ticker;
  readonly #queued: boolean;
  readonly #retryAfter: string;
  readonly #tooMany: DirectResponse;
  /** Requests turned away (429, or 503 from a full queue or a timed-out wait), for metrics. */
  rejected = 0;

  constructor(state: InFlightState, key: SourceKey, ticker: Ticker, queued: boolean, amount: number) {
    this.#state = state;
    this.#tooMany = tooMany(amount);
    this.#key = key;
    this.#ticker = ticker;
    this.#queued = queued;
    this.#retryAfter = String(Math.max(1, Math.ceil(state.queueTimeoutMs / 1000)));
  }

  onRequest = (req: RequestHead, ctl: RequestControl): RequestPhaseValue => {
    const r = enterLimit(
      this.#state,
      this.#key(req),
      ctl,
      this.#ticker.now,
      this.#queued ? unavailable(this.#retryAfter) : this.#tooMany,
    );
    if (r !== undefined && r !== SUSPEND) this.rejected++;
    return r;
  };
}

export const inFlightReqFactory: MiddlewareFactory<InFlightReqConfig> = {
  type: 'inFlightReq',
  create(config, ctx) {
    if (config.amount <= 0) {
      // oxy's connlimit, Traefik's limiter, lets no request in with a limit of 0 or less (validate.ts
      // warns): every one is answered 429 at once.
      const answer = tooMany(config.amount);
      return { onRequest: () => answer };
    }
    // Counts per router, as Traefik's inflightreq.New runs once per router chain.
    const state = ctx.routerState(
      `inFlightReq|${config.amount}|${config.queue?.size ?? 0}|${config.queue?.timeout ?? 0}`,
      () => new InFlightState(config, ctx.ticker),
    );
    return new InFlightReqMiddleware(
      state,
      sourceKey(config.sourceCriterion, { requestHost: true }),
      ctx.ticker,
      (config.queue?.size ?? 0) > 0,
      config.amount,
    );
  },
};
