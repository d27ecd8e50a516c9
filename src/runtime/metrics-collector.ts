import { HTTP_SECTIONS } from '../config/dynamic/schema.ts';
import { RouteBreakerMiddleware, ServerBreakers } from '../middleware/circuit-breaker.ts';
import { InFlightReqMiddleware } from '../middleware/in-flight-req.ts';
import { RateLimitMiddleware } from '../middleware/rate-limit.ts';
import type { MetricWriter } from '../observability/metrics/index.ts';
import type { ServerPool } from '../upstream/server-pool.ts';
import type { ConfigWatcher } from './config-watcher.ts';
import { LoadBalancerNode } from './service-nodes.ts';
import type { SnapshotRef } from './types.ts';

const BREAKER_STATE = { standby: 0, tripped: 1, recovering: 2 } as const;

/**
 * Scrape-time metrics: read from the live snapshot and the reload counters when Prometheus asks,
 * so that none of them costs anything per request.
 */
export function runtimeCollector(ref: SnapshotRef, watcher: ConfigWatcher): (w: MetricWriter) => void {
  return (w) => {
    const snap = ref.current;
    const pools = new Map<ServerPool, string>();
    for (const [name, node] of snap.services) {
      if (!(node instanceof LoadBalancerNode)) continue;
      for (const s of node.servers) {
        const labels = { service: name, server: s.url };
        w.gauge(
          'traffic_service_server_up',
          'Whether the server takes traffic (1) or is down, ejected or failing its health check (0).',
          labels,
          node.health === null || node.health.isUp(s.index) ? 1 : 0,
        );
        w.gauge(
          'traffic_service_server_in_flight_requests',
          'Requests in flight to the server.',
          labels,
          node.inFlight[s.index] ?? 0,
        );
        if (!pools.has(s.pool)) pools.set(s.pool, s.url);
      }
    }
    for (const [pool, server] of pools) {
      const st = pool.stats;
      const gauge = 'traffic_upstream_pool_connections';
      const help = 'Connections of the upstream pool by state.';
      w.gauge(gauge, help, { server, state: 'idle' }, st.idle);
      w.gauge(gauge, help, { server, state: 'busy' }, st.busy);
      w.gauge(gauge, help, { server, state: 'connecting' }, st.connecting);
      w.gauge(
        'traffic_upstream_pool_waiting_requests',
        'Requests waiting for a connection.',
        { server },
        st.waiting,
      );
      w.counter(
        'traffic_upstream_pool_opened_total',
        'Connections opened to the server.',
        { server },
        st.opened,
      );
      w.counter(
        'traffic_upstream_pool_closed_total',
        'Connections to the server closed.',
        { server },
        st.closed,
      );
      w.counter(
        'traffic_upstream_pool_reused_total',
        'Requests sent on a reused connection.',
        { server },
        st.reused,
      );
      // HTTP/2 servers: their connections above are sessions; these are their streams.
      const h2 = pool.streams;
      if (h2 != null) {
        w.gauge('traffic_upstream_pool_streams', 'HTTP/2 streams open to the server.', { server }, h2.active);
        w.counter(
          'traffic_upstream_pool_streams_total',
          'HTTP/2 streams started to the server.',
          { server },
          h2.opened,
        );
        w.counter(
          'traffic_upstream_pool_refused_streams_total',
          'HTTP/2 streams the server refused unprocessed (REFUSED_STREAM or GOAWAY), sent again.',
          { server },
          h2.refused,
        );
        w.counter(
          'traffic_upstream_pool_goaways_total',
          'GOAWAY frames received from the server.',
          { server },
          h2.goaways,
        );
        w.counter(
          'traffic_upstream_pool_ping_timeouts_total',
          'HTTP/2 sessions closed because the server did not answer a PING in time.',
          { server },
          h2.pingTimeouts,
        );
      }
    }
    for (const [name, list] of snap.middlewares) {
      for (const m of list) {
        if (m instanceof RateLimitMiddleware) {
          w.counter(
            'traffic_ratelimit_rejected_total',
            'Requests answered 429 by a rateLimit.',
            { middleware: name },
            m.rejected,
          );
        } else if (m instanceof InFlightReqMiddleware) {
          w.counter(
            'traffic_inflight_rejected_total',
            'Requests turned away by an inFlightReq (429, or 503 from its queue).',
            { middleware: name },
            m.rejected,
          );
        } else if (m instanceof RouteBreakerMiddleware) {
          w.gauge(
            'traffic_circuit_breaker_state',
            'Circuit breaker state: 0 standby (closed), 1 tripped (open), 2 recovering.',
            { middleware: name, server: '' },
            BREAKER_STATE[m.state],
          );
          w.counter(
            'traffic_circuit_breaker_rejected_total',
            'Requests answered by an open circuit breaker.',
            { middleware: name },
            m.rejected,
          );
        }
      }
    }
    for (const route of snap.routers.values()) {
      for (const g of route.guards) {
        if (!(g instanceof ServerBreakers)) continue;
        for (const [server, state] of g.states()) {
          w.gauge(
            'traffic_circuit_breaker_state',
            'Circuit breaker state: 0 standby (closed), 1 tripped (open), 2 recovering.',
            { middleware: '', server },
            BREAKER_STATE[state],
          );
        }
      }
    }
    // Objects a configuration error left out, and errors of the configuration in force (a
    // file serving its last good version too): non-zero until the configuration is fixed.
    const disabled = new Map<string, number>(HTTP_SECTIONS.map((sec) => [sec, 0]));
    for (const d of snap.disabled.values()) disabled.set(d.section, (disabled.get(d.section) ?? 0) + 1);
    for (const [section, n] of disabled) {
      w.gauge(
        'traffic_config_disabled_objects',
        'Routers, services, middlewares and servers transports left out of the configuration in force because of errors.',
        { section },
        n,
      );
    }
    w.gauge(
      'traffic_config_errors',
      'Errors reported for the configuration in force (disabled objects, files serving their last good version).',
      {},
      snap.issues.filter((i) => i.severity === 'error').length,
    );
    const r = watcher.status;
    w.counter(
      'traffic_config_reloads_total',
      'Configuration updates applied or rejected.',
      { result: 'success' },
      r.applied,
    );
    w.counter(
      'traffic_config_reloads_total',
      'Configuration updates applied or rejected.',
      { result: 'failure' },
      r.rejected,
    );
    w.gauge('traffic_config_generation', 'Generation of the configuration in force.', {}, r.generation);
    w.gauge(
      'traffic_config_last_reload_success_timestamp_seconds',
      'When the last configuration was applied.',
      {},
      r.lastAppliedAt / 1000,
    );
    w.gauge(
      'traffic_config_last_reload_failure_timestamp_seconds',
      'When the last configuration update was rejected (0 = never).',
      {},
      r.lastRejectedAt / 1000,
    );
  };
}
