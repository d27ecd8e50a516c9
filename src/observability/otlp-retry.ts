/**
 * The retries of Go's OTLP exporters, which Traefik leaves on (it never passes WithRetry):
 * go.opentelemetry.io/otel/exporters/otlp/.../internal/retry's DefaultConfig, an exponential
 * backoff (cenkalti/backoff: 5 s at first, ×1.5 each time, randomized by ±50 %, at most 30 s
 * apart, given up once a wait would take the export past 1 min), for the failures each client
 * calls retryable:
 * - OTLP/HTTP (otlp*http client.go): the statuses 429, 502, 503 and 504, waiting at least the
 *   answer's Retry-After (seconds), and a request that timed out (Go's temporary url.Error); a
 *   refused connection or any other status is not retried;
 * - OTLP/gRPC (otlp*grpc retryable): Canceled, DeadlineExceeded, Aborted, OutOfRange,
 *   Unavailable (a connection that cannot be made included) and DataLoss, waiting at least the
 *   delay of a google.rpc.RetryInfo in the status details; ResourceExhausted only with one.
 * Each export's retries also end with its context: over gRPC the export's own timeout (10 s, or
 * OTEL_EXPORTER_OTLP_*TIMEOUT) covers them all, over HTTP the batch processor's or periodic
 * reader's export timeout (30 s). Exports stay one at a time: the next one waits, as Go's do.
 * At shutdown no retry is waited for (Traefik gives its providers 5 s to shut down, less than
 * most first waits).
 */
import type { OtlpFailure, OtlpSender } from './otlp-http.ts';

/** internal/retry DefaultConfig. */
export const RETRY_INITIAL_MS = 5_000;
export const RETRY_MAX_INTERVAL_MS = 30_000;
export const RETRY_MAX_ELAPSED_MS = 60_000;
/** cenkalti/backoff's defaults. */
const RANDOMIZATION = 0.5;
const MULTIPLIER = 1.5;
/** The export timeout of Go's batch span and log processors and of the periodic metric reader. */
export const PROCESSOR_EXPORT_TIMEOUT_MS = 30_000;

/** Whether a failure is retried, and the least wait its answer asked for (ms). */
export interface RetryVerdict {
  readonly retry: boolean;
  readonly throttleMs: number;
}

const NO: RetryVerdict = { retry: false, throttleMs: 0 };
const YES: RetryVerdict = { retry: true, throttleMs: 0 };

/** otlp*http's evaluate: 429, 502, 503, 504 (with Retry-After), and timeouts. */
export function httpRetryable(f: OtlpFailure): RetryVerdict {
  const status = f.status;
  if (typeof status === 'number') {
    if (status !== 429 && status !== 502 && status !== 503 && status !== 504) return NO;
    const after = f.retryAfterSeconds;
    return typeof after === 'number' && after > 0 ? { retry: true, throttleMs: after * 1000 } : YES;
  }
  const e = f.error;
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    if (e.name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'ABORT_ERR') return YES;
  }
  return NO;
}

const GRPC_RETRYABLE = new Set([
  'Canceled',
  'DeadlineExceeded',
  'Aborted',
  'OutOfRange',
  'Unavailable',
  'DataLoss',
]);

/**
 * otlp*grpc's retryable (retryableGRPCStatus): a status of the list, waiting at least the delay of
 * a RetryInfo in its details; ResourceExhausted only with a RetryInfo (the server says it will
 * recover), after its delay; a call that could not be made (Unavailable).
 */
export function grpcRetryable(f: OtlpFailure): RetryVerdict {
  const code = f.grpcStatus;
  const delay = f.retryDelayMs;
  if (typeof code === 'string') {
    if (GRPC_RETRYABLE.has(code))
      return typeof delay === 'number' && delay > 0 ? { retry: true, throttleMs: delay } : YES;
    if (code === 'ResourceExhausted' && typeof delay === 'number') return { retry: true, throttleMs: delay };
    return NO;
  }
  // No gRPC status: the connection failed or the answer was not gRPC (grpc-go says Unavailable
  // for those, or maps the HTTP status, 4xx/5xx gateways included, to Unavailable).
  if (f.error === 'exporter closed') return NO;
  return YES;
}

export interface RetryOptions {
  readonly retryable: (f: OtlpFailure) => RetryVerdict;
  /** The export's whole deadline, retries included (ms); each attempt gets what is left. Infinity: none. */
  readonly budgetMs: number;
  /** For tests: the random source and the clock. */
  readonly random?: () => number;
  readonly now?: () => number;
  /** For tests: the wait between attempts (resolves true when it ran its course). */
  readonly sleep?: (ms: number) => Promise<boolean>;
}

/** An OtlpSender that retries as Go's exporters do (see the module's comment). */
export class RetryingSender implements OtlpSender {
  readonly #inner: OtlpSender;
  readonly #opts: RetryOptions;
  readonly #random: () => number;
  readonly #now: () => number;
  #stopped = false;
  #wake: (() => void) | null = null;

  constructor(inner: OtlpSender, opts: RetryOptions) {
    this.#inner = inner;
    this.#opts = opts;
    this.#random = opts.random ?? Math.random;
    this.#now = opts.now ?? performance.now.bind(performance);
  }

  get url(): string {
    return this.#inner.url;
  }

  async send(body: Uint8Array): Promise<OtlpFailure | null> {
    const start = this.#now();
    let interval = RETRY_INITIAL_MS;
    let attempts = 0;
    const budget = this.#opts.budgetMs;
    for (;;) {
      attempts++;
      // Each attempt ends with the export's context at the latest (Go's requests carry it).
      const left = budget - (this.#now() - start);
      const failure = await (Number.isFinite(budget)
        ? this.#inner.send(body, Math.max(1, Math.ceil(left)))
        : this.#inner.send(body));
      if (failure === null) return null;
      const done = (): OtlpFailure => (attempts > 1 ? { ...failure, attempts } : failure);
      if (this.#stopped) return done();
      const verdict = this.#opts.retryable(failure);
      if (!verdict.retry) return done();
      // cenkalti/backoff NextBackOff: the randomized interval, Stop once elapsed + it would pass
      // MaxElapsedTime; then the interval grows.
      const delta = RANDOMIZATION * interval;
      const next = interval - delta + this.#random() * (2 * delta + 1);
      interval = Math.min(interval * MULTIPLIER, RETRY_MAX_INTERVAL_MS);
      const elapsed = this.#now() - start;
      if (elapsed + next > RETRY_MAX_ELAPSED_MS) return done();
      // The greater of the backoff and the throttle the answer asked for.
      let delay = next;
      if (verdict.throttleMs > next) {
        if (elapsed + verdict.throttleMs > RETRY_MAX_ELAPSED_MS) return done();
        delay = verdict.throttleMs;
      }
      // The export's context would end during the wait (waitFunc returns its error).
      if (elapsed + delay >= this.#opts.budgetMs) return done();
      const slept = this.#opts.sleep === undefined ? this.#sleep(delay) : this.#opts.sleep(delay);
      if (!(await slept)) return done();
    }
  }

  /** Waits `ms`; false when stopRetrying() cut the wait short. */
  #sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve(true);
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve(false);
      };
    });
  }

  /** Shutdown: a retry being waited for is given up, and no more are made. */
  stopRetrying(): void {
    this.#stopped = true;
    this.#wake?.();
  }

  close(): void {
    this.stopRetrying();
    this.#inner.close();
  }
}
