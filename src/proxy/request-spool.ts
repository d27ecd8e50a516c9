import type { DirectResponse } from '../core/request.ts';
import type { SpooledBody } from '../core/spooled-body.ts';
import type { UpstreamStream } from '../upstream/stream.ts';

/** What the spool tells the exchange. */
export interface SpoolListener {
  /**
   * `spanError`: what the refusal marks on a traced request's span (forwardAuth's limit);
   * `answer`: the refusal itself (else `status` with its text).
   */
  failBody(reason: string, status?: number, spanError?: string, answer?: DirectResponse): void;
  /** A memory-only body went over the overload manager's request-body budget. */
  shedBody(): void;
  onUpstreamDrain(): void;
}

/**
 * Where a request body goes while the `buffering` middleware reads it whole (before any server
 * is picked): into a SpooledBody, bounded by `maxRequestBodyBytes` (413 past it, as oxy's
 * buffer answers). It stands where the upstream stream will, so the request body's own
 * decoding and backpressure work unchanged.
 */
export class SpoolSink implements UpstreamStream {
  readonly pendingBytes = 0;
  readonly #spool: SpooledBody;
  readonly #listener: SpoolListener;
  readonly #max: number;
  readonly #over: DirectResponse;
  readonly #what: string;
  readonly #spanError: string | undefined;
  #overLimit = false;
  readonly #drain: () => void;

  /**
   * `max` < 0: no limit; past it the request is answered `over` (`what` names the limit,
   * `spanError` is the span error of the middleware whose limit it is, if any).
   */
  constructor(
    spool: SpooledBody,
    listener: SpoolListener,
    max: number,
    over: DirectResponse,
    what: string,
    spanError?: string,
  ) {
    this.#spool = spool;
    this.#listener = listener;
    this.#max = max;
    this.#over = over;
    this.#what = what;
    this.#spanError = spanError;
    this.#drain = () => listener.onUpstreamDrain();
  }

  sendBody(buf: Buffer, start: number, end: number): boolean {
    if (this.#overLimit) return true;
    if (this.#max >= 0 && this.#spool.length + (end - start) > this.#max) {
      this.#overLimit = true;
      this.#listener.failBody(
        `request body larger than ${this.#what} (${this.#max})`,
        this.#over.status,
        this.#spanError,
        this.#over,
      );
      return true;
    }
    const ok = this.#spool.add(buf, start, end, this.#drain);
    if (this.#spool.overBudget) {
      this.#overLimit = true;
      this.#listener.shedBody();
    }
    return ok;
  }

  sendHead(): void {}
  endBody(): void {}
  cork(): void {}
  uncork(): void {}
  pause(): void {}
  resume(): void {}
  markNotReusable(): void {}
  destroy(): void {}
}
