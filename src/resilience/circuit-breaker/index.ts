export {
  type BreakerOptions,
  type BreakerState,
  CircuitBreaker,
  DEFAULT_CHECK_PERIOD_MS,
  DEFAULT_FALLBACK_DURATION_MS,
  DEFAULT_RECOVERY_DURATION_MS,
} from './breaker.ts';
export {
  type BreakerMetricsView,
  type BreakerPredicate,
  type CompileResult,
  compileBreakerExpression,
} from './expression.ts';
export {
  DEFAULT_WINDOW_BUCKETS,
  DEFAULT_WINDOW_MS,
  RollingMetrics,
  type RollingWindowOptions,
} from './rolling-metrics.ts';
