import type { MetricWriter } from '../observability/metrics/index.ts';
import type { EntryPointGate } from './entry-point-gate.ts';
import { type OverloadManager, SHED_EVENT_LOOP, SHED_HEAP } from './overload-manager.ts';

/**
 * The overload manager's metrics (`traffic_overload_*`), written at scrape time from the counters
 * the manager and the gates keep: nothing here runs per request. Registered by main.ts as one
 * collector of the Prometheus registry.
 */
export function overloadCollector(
  manager: OverloadManager,
  gates: readonly EntryPointGate[],
  signalsSampled: boolean,
): (w: MetricWriter) => void {
  return (w) => {
    for (const g of gates) {
      const entrypoint = g.entryPoint;
      for (const [reason, n] of Object.entries(g.shed)) {
        w.counter(
          'traffic_overload_shed_requests_total',
          'Requests answered 503 by the overload manager, by reason (event_loop_delay, heap, request_body_memory).',
          { entrypoint, reason },
          n,
        );
      }
      w.counter(
        'traffic_overload_exempt_requests_total',
        'Requests admitted while shedding because they are never shed (ping, API, dashboard, metrics, ACME).',
        { entrypoint },
        g.exempted,
      );
      for (const [reason, n] of Object.entries(g.refused)) {
        w.counter(
          'traffic_overload_refused_connections_total',
          'Connections closed at accept by a connection cap, by reason (max_connections, max_connections_per_ip).',
          { entrypoint, reason },
          n,
        );
      }
      if (g.perClient) {
        w.gauge(
          'traffic_overload_tracked_clients',
          'Client addresses (IPv4, IPv6 /64) with open connections, counted for maxConnectionsPerIP.',
          { entrypoint },
          g.clients,
        );
      }
    }
    const m = manager;
    const cfg = m.settings;
    const shedding = (signal: string, bit: number) =>
      w.gauge(
        'traffic_overload_shedding',
        'Whether new requests are being shed because of this signal (1) or not (0).',
        { signal },
        (m.shedding & bit) !== 0 ? 1 : 0,
      );
    shedding('event_loop_delay', SHED_EVENT_LOOP);
    shedding('heap', SHED_HEAP);
    w.counter(
      'traffic_overload_episodes_total',
      'Times a signal went over its limit and shedding began.',
      { signal: 'event_loop_delay' },
      m.episodes.eventLoop,
    );
    w.counter(
      'traffic_overload_episodes_total',
      'Times a signal went over its limit and shedding began.',
      { signal: 'heap' },
      m.episodes.heap,
    );
    w.counter(
      'traffic_overload_late_samples_total',
      'Samples (every 250 ms) whose event-loop delay was over overload.maxEventLoopDelay, shed or not.',
      {},
      m.lateSamples,
    );
    if (signalsSampled) {
      w.gauge(
        'traffic_overload_event_loop_utilization',
        'Share of the latest sample window the event loop ran callbacks (0-1).',
        {},
        m.last.eventLoopUtilization,
      );
      w.gauge(
        'traffic_overload_event_loop_cpu_share',
        'Share of the latest sample window the event-loop thread ran on a CPU (0-1).',
        {},
        m.last.cpuShare,
      );
      w.gauge(
        'traffic_overload_event_loop_delay_seconds',
        'Longest event-loop delay of the latest sample window.',
        {},
        m.last.eventLoopDelayMs / 1000,
      );
      w.gauge(
        'traffic_overload_heap_used_bytes',
        'V8 heap in use at the latest sample.',
        {},
        m.last.heapUsedBytes,
      );
      w.gauge('traffic_overload_heap_limit_bytes', "V8's heap size limit.", {}, m.last.heapLimitBytes);
    }
    w.gauge(
      'traffic_overload_max_event_loop_delay_seconds',
      'The configured limit (overload.maxEventLoopDelay); 0 = off.',
      {},
      cfg.maxEventLoopDelayMs / 1000,
    );
    w.gauge(
      'traffic_overload_max_heap_used_ratio',
      'The configured limit (overload.maxHeapUsedRatio); 0 = off.',
      {},
      cfg.maxHeapUsedRatio,
    );
    w.gauge(
      'traffic_overload_request_body_bytes',
      'Request-body bytes counted in the budget now (bodies streaming, copies kept for retries and mirrors).',
      {},
      m.bodyBytes,
    );
    w.gauge(
      'traffic_overload_max_request_body_bytes',
      'The configured budget (overload.maxRequestBodyBytes); 0 = no limit.',
      {},
      cfg.maxRequestBodyBytes,
    );
    w.counter(
      'traffic_overload_body_copies_dropped_total',
      'Request bodies not kept for a retry or a mirror because the budget was spent.',
      {},
      m.recordingsDropped,
    );
    w.counter(
      'traffic_overload_body_spills_total',
      'Request bodies read whole (buffering) that went to their temporary file because the budget was spent.',
      {},
      m.bodiesSpilled,
    );
  };
}
