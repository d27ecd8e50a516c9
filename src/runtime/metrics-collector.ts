import { X509Certificate } from 'node:crypto';
import { HTTP_SECTIONS } from '../config/dynamic/sections.ts';
import { RouteBreakerMiddleware, ServerBreakers } from '../middleware/circuit-breaker.ts';
import { InFlightReqMiddleware } from '../middleware/in-flight-req.ts';
import { RateLimitMiddleware } from '../middleware/rate-limit.ts';
import type { MetricWriter } from '../observability/metrics/index.ts';
import type { ServerPool } from '../upstream/server-pool.ts';
import type { ConfigWatcher } from './config-watcher.ts';
import { httpReached } from './reached.ts';
import { LoadBalancerNode } from './service-nodes.ts';
import type { SnapshotRef } from './types.ts';

const BREAKER_STATE = { standby: 0, tripped: 1, recovering: 2 } as const;

/** What `traefik_tls_certs_not_after` says of a certificate, read from its PEM once. */
interface CertLabels {
  readonly cn: string;
  readonly serial: string;
  readonly sans: string;
}

/**
 * Scrape-time metrics: read from the live snapshot and the reload counters when Prometheus asks,
 * so that none of them costs anything per request. Traefik's names where Traefik has the metric
 * (`traefik_service_server_up`, `traefik_config_*`, `traefik_tls_certs_not_after`), ours
 * (`traffic_*`) for the rest.
 */
export function runtimeCollector(ref: SnapshotRef, watcher: ConfigWatcher): (w: MetricWriter) => void {
  const certLabels = new Map<string, CertLabels>();
  return (w) => {
    const snap = ref.current;
    const pools = new Map<ServerPool, string>();
    // Traefik's gauge exists for the services it built (those a router reaches): their health
    // checkers set it (pkg/healthcheck); an unreached service's checks are stopped here.
    const built = httpReached(snap).builtServices;
    for (const [name, node] of snap.services) {
      if (!(node instanceof LoadBalancerNode)) continue;
      let inFlight = 0;
      const reached = built.has(name);
      for (const s of node.servers) {
        const labels = { service: name, server: s.url };
        // Traefik's: 1 when the server takes traffic, 0 when down, ejected or failing its check.
        if (reached)
          w.gauge(
            'traefik_service_server_up',
            'service server is up, described by gauge value of 0 or 1.',
            { service: name, url: s.url },
            node.health === null || node.health.isUp(s.index) ? 1 : 0,
          );
        inFlight += node.inFlight[s.index] ?? 0;
        w.gauge(
          'traffic_service_server_in_flight_requests',
          'Requests in flight to the server.',
          labels,
          node.inFlight[s.index] ?? 0,
        );
        if (!pools.has(s.pool)) pools.set(s.pool, s.url);
      }
      // Traefik v2's gauge of requests in flight on a service (dashboards list services by it).
      w.gauge(
        'traefik_service_open_connections',
        'How many requests are in flight on a service (Traefik v2 name).',
        { service: name, protocol: 'http' },
        inFlight,
      );
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
        w.counter(
          'traffic_upstream_pool_floods_total',
          'HTTP/2 sessions closed because the server flooded PING, SETTINGS or empty DATA frames.',
          { server },
          h2.floods,
        );
      }
    }
    // Each router has its own instance of a middleware that keeps state (Traefik's): the
    // counters are the middleware's sum, the breaker state one series per router.
    for (const [name, byRouter] of snap.middlewareUses) {
      let limited = 0;
      let turnedAway = 0;
      let broken = 0;
      let kind = '';
      for (const [router, list] of byRouter) {
        let state = -1;
        for (const m of list) {
          if (m instanceof RateLimitMiddleware) {
            kind = 'rateLimit';
            limited += m.rejected;
          } else if (m instanceof InFlightReqMiddleware) {
            kind = 'inFlightReq';
            turnedAway += m.rejected;
          } else if (m instanceof RouteBreakerMiddleware) {
            kind = 'circuitBreaker';
            broken += m.rejected;
            // A router that uses the breaker twice: the worse of its states.
            state = Math.max(state, BREAKER_STATE[m.state]);
          }
        }
        if (state >= 0) {
          w.gauge(
            'traffic_circuit_breaker_state',
            'Circuit breaker state: 0 standby (closed), 1 tripped (open), 2 recovering.',
            { middleware: name, router, server: '' },
            state,
          );
        }
      }
      if (kind === 'rateLimit') {
        w.counter(
          'traffic_ratelimit_rejected_total',
          'Requests answered 429 by a rateLimit.',
          { middleware: name },
          limited,
        );
      } else if (kind === 'inFlightReq') {
        w.counter(
          'traffic_inflight_rejected_total',
          'Requests turned away by an inFlightReq (429, or 503 from its queue).',
          { middleware: name },
          turnedAway,
        );
      } else if (kind === 'circuitBreaker') {
        w.counter(
          'traffic_circuit_breaker_rejected_total',
          'Requests answered by an open circuit breaker.',
          { middleware: name },
          broken,
        );
      }
    }
    for (const route of snap.routers.values()) {
      for (const g of route.guards) {
        if (!(g instanceof ServerBreakers)) continue;
        for (const [server, state] of g.states()) {
          w.gauge(
            'traffic_circuit_breaker_state',
            'Circuit breaker state: 0 standby (closed), 1 tripped (open), 2 recovering.',
            { middleware: '', router: route.router, server },
            BREAKER_STATE[state],
          );
        }
      }
    }
    // Objects a configuration error left out, and errors of the configuration in force (a
    // file serving its last good version too): non-zero until the configuration is fixed.
    const disabled = new Map<string, number>(HTTP_SECTIONS.map((sec) => [sec, 0]));
    for (const d of snap.disabled.values()) {
      // Layer 4 objects as `tcp.routers`, …: only when there are some (the HTTP series are always there).
      const key = d.kind === undefined ? d.section : `${d.kind}.${d.section}`;
      disabled.set(key, (disabled.get(key) ?? 0) + 1);
    }
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
    w.counter('traefik_config_reloads_total', 'Config reloads', {}, r.applied);
    // Traefik's LastConfigReloadSuccessGauge().Set(float64(time.Now().Unix())) (pkg/server/
    // server_entrypoint / cmd/traefik setupServer): whole seconds, in every exporter.
    w.gauge(
      'traefik_config_last_reload_success',
      'Last config reload success',
      {},
      Math.floor(r.lastAppliedAt / 1000),
    );
    const tls = snap.tls;
    if (tls !== null) {
      const certs = [...tls.store.certificates];
      if (!tls.store.defaultCertificate.generated) certs.push(tls.store.defaultCertificate);
      const seen = new Set<string>();
      for (const c of certs) {
        seen.add(c.fingerprint256);
        let l = certLabels.get(c.fingerprint256);
        if (l === undefined) {
          l = labelsOf(c.certPem);
          certLabels.set(c.fingerprint256, l);
        }
        w.gauge(
          'traefik_tls_certs_not_after',
          'Certificate expiration timestamp',
          { cn: l.cn, serial: l.serial, sans: l.sans },
          c.notAfter.getTime() / 1000,
        );
      }
      for (const k of certLabels.keys()) if (!seen.has(k)) certLabels.delete(k);
    }
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
      'traffic_config_last_reload_failure_timestamp_seconds',
      'When the last configuration update was rejected (0 = never).',
      {},
      r.lastRejectedAt / 1000,
    );
  };
}

/** Traefik's labels: the subject's CN, the serial number in decimal, the DNS SANs joined by commas. */
function labelsOf(certPem: string): CertLabels {
  const x = new X509Certificate(certPem);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1] ?? '';
  const sans = (x.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4))
    .join(',');
  return {
    cn,
    serial: BigInt(`0x${x.serialNumber}`).toString(10),
    sans,
  };
}
