import type { CircuitBreakerConfig } from '../config/dynamic/middlewares.ts';
import type { Logger } from '../core/logger.ts';
import type { DirectResponse } from '../core/request.ts';
import { statusText } from '../core/status-text.ts';
import type { Ticker } from '../core/ticker.ts';
import {
  type BreakerPredicate,
  type BreakerState,
  CircuitBreaker,
  compileBreakerExpression,
  DEFAULT_CHECK_PERIOD_MS,
  DEFAULT_FALLBACK_DURATION_MS,
  DEFAULT_RECOVERY_DURATION_MS,
} from '../resilience/circuit-breaker/index.ts';
import type {
  BuildContext,
  Lease,
  Middleware,
  MiddlewareFactory,
  RequestControl,
  RequestOutcome,
  ServerGuard,
} from './middleware.ts';

/**
 * What NetworkErrorRatio() counts: oxy's memmetrics RTMetrics.Record takes every 502 and 504 for a
 * network error, whether the proxy wrote it (a refused connection, a timeout) or the server did.
 */
function isNetworkError(status: number): boolean {
  return status === 502 || status === 504;
}

function breaker(
  config: CircuitBreakerConfig,
  predicate: BreakerPredicate,
  ticker: Ticker,
  logger: Logger,
  fields: Record<string, string>,
): CircuitBreaker {
  // Traefik's circuitbreaker New passes each duration to oxy only when it is > 0: a 0 leaves
  // oxy's default (100 ms, 10 s, 10 s), it never means "no wait".
  const orDefault = (ms: number, byDefault: number): number => (ms > 0 ? ms : byDefault);
  return new CircuitBreaker(
    {
      predicate,
      checkPeriodMs: orDefault(config.checkPeriod, DEFAULT_CHECK_PERIOD_MS),
      fallbackDurationMs: orDefault(config.fallbackDuration, DEFAULT_FALLBACK_DURATION_MS),
      recoveryDurationMs: orDefault(config.recoveryDuration, DEFAULT_RECOVERY_DURATION_MS),
      onStateChange: (from: BreakerState, to: BreakerState) => {
        const level = to === 'tripped' ? 'warn' : 'info';
        logger[level]('circuit breaker state changed', { ...fields, from, to });
      },
    },
    ticker.now,
  );
}

/**
 * Traefik's circuitBreaker on a whole route: while tripped, requests get `responseCode` at once
 * and never reach the service; the outcome of every request that went through feeds the metrics.
 * The middleware is its own lease, so a request through a closed breaker allocates nothing.
 */
export class RouteBreakerMiddleware implements Middleware, Lease {
  readonly #breaker: CircuitBreaker;
  readonly #ticker: Ticker;
  readonly #rejection: DirectResponse;
  /** Requests answered by the open breaker, for metrics. */
  rejected = 0;

  constructor(b: CircuitBreaker, ticker: Ticker, responseCode: number, expression: string) {
    this.#breaker = b;
    this.#ticker = ticker;
    this.#rejection = {
      status: responseCode,
      body: statusText(responseCode),
      // Traefik's circuitbreaker fallback: observability.SetStatusErrorf(ctx, "blocked by
      // circuit-breaker (%q)", expression).
      spanError: `blocked by circuit-breaker (${JSON.stringify(expression)})`,
    };
  }

  onRequest = (_req: unknown, ctl: RequestControl): DirectResponse | undefined => {
    if (!this.#breaker.allow(this.#ticker.now, Math.random())) {
      this.rejected++;
      return this.#rejection;
    }
    ctl.onEnd(this);
    return undefined;
  };

  get state(): BreakerState {
    return this.#breaker.state;
  }

  release(o: RequestOutcome): void {
    // oxy's cbreaker times the whole ServeHTTP of what follows it, body included: the latency of
    // LatencyAtQuantileMS is the request's, to its last byte, not to its response head.
    this.#breaker.record(this.#ticker.now, isNetworkError(o.status), o.status, o.totalMs);
  }
}

/**
 * Ours: one breaker per server. A tripped server is skipped by the load balancer (the others keep
 * serving); only when every server's breaker is open does the request fail, with the service's
 * usual 503.
 */
export class ServerBreakers implements ServerGuard {
  readonly #byUrl = new Map<string, CircuitBreaker>();
  readonly #create: (url: string) => CircuitBreaker;
  readonly #ticker: Ticker;

  constructor(create: (url: string) => CircuitBreaker, ticker: Ticker) {
    this.#create = create;
    this.#ticker = ticker;
  }

  #get(url: string): CircuitBreaker {
    let b = this.#byUrl.get(url);
    if (b === undefined) {
      b = this.#create(url);
      this.#byUrl.set(url, b);
    }
    return b;
  }

  /** Each server's breaker state (servers that never failed have none yet). */
  states(): ReadonlyMap<string, BreakerState> {
    const out = new Map<string, BreakerState>();
    for (const [url, b] of this.#byUrl) out.set(url, b.state);
    return out;
  }

  accept(server: { readonly url: string }): boolean {
    const b = this.#byUrl.get(server.url);
    return b === undefined || b.allow(this.#ticker.now, Math.random());
  }

  record(server: { readonly url: string }, status: number, headMs: number): void {
    // A try that failed on the network is status 0 here, not yet the client's 502.
    this.#get(server.url).record(this.#ticker.now, status === 0 || isNetworkError(status), status, headMs);
  }
}

/** A breaker is a router's: its log lines name that router. */
function routerField(ctx: BuildContext): Record<string, string> {
  return ctx.router === undefined ? {} : { router: ctx.router };
}

export const circuitBreakerFactory: MiddlewareFactory<CircuitBreakerConfig> = {
  type: 'circuitBreaker',
  create(config, ctx) {
    const compiled = compileBreakerExpression(config.expression);
    if (!compiled.ok) {
      return { error: `invalid expression: ${compiled.error} (at offset ${compiled.offset})` };
    }
    const key = `circuitBreaker|${JSON.stringify(config)}`;
    // A breaker per router, as Traefik's circuitbreaker.New runs once per router chain (and
    // perServer's breakers are the router's too).
    if (config.perServer) {
      const guard = ctx.routerState(
        key,
        () =>
          new ServerBreakers(
            (url) =>
              breaker(config, compiled.expr, ctx.ticker, ctx.logger, {
                middleware: ctx.name,
                ...routerField(ctx),
                server: url,
              }),
            ctx.ticker,
          ),
      );
      return { guard };
    }
    const b = ctx.routerState(key, () =>
      breaker(config, compiled.expr, ctx.ticker, ctx.logger, { middleware: ctx.name, ...routerField(ctx) }),
    );
    return new RouteBreakerMiddleware(b, ctx.ticker, config.responseCode, config.expression);
  },
};
