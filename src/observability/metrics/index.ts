export { CONTENT_TYPE as METRICS_CONTENT_TYPE } from './exposition.ts';
export { processCollector } from './process-collector.ts';
export { type LiveNames, type MetricLevels, TrafficMetrics } from './traffic-metrics.ts';
export type { TunnelMetrics } from './tunnel-metrics.ts';
export type {
  Collector,
  EntryPointSeries,
  MetricsOptions,
  MetricWriter,
  RequestSeries,
  WallClock,
} from './types.ts';
