export { clientKey } from './client-key.ts';
export {
  type ConnectionLimits,
  EntryPointGate,
  type RefusalReason,
  type ShedReason,
} from './entry-point-gate.ts';
export {
  type BodyBudget,
  BUSY_LOOP,
  CALM_SAMPLES,
  LATE_SAMPLES,
  MIN_CPU_SHARE,
  NO_OVERLOAD_LIMITS,
  OverloadManager,
  type OverloadSettings,
  type PressureSample,
  SHED_EVENT_LOOP,
  SHED_HEAP,
} from './overload-manager.ts';
export { overloadCollector } from './overload-metrics.ts';
export { ProcessSignals, SAMPLE_INTERVAL_MS } from './process-signals.ts';
