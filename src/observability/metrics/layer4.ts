import type { Collector } from './types.ts';

/** Counters of one (entry point, router, service) of TCP connections. Plain fields: the hot path adds. */
export class TcpSeries {
  open = 0;
  total = 0;
  /** Bytes from clients (to servers), and to clients (from servers). */
  bytesIn = 0;
  bytesOut = 0;
  /** Sum of connection durations. */
  seconds = 0;
  /** Connections that failed or ended badly, by reason. */
  readonly failures = new Map<string, number>();

  opened(): void {
    this.open++;
    this.total++;
  }

  closed(bytesIn: number, bytesOut: number, seconds: number): void {
    this.open--;
    this.bytesIn += bytesIn;
    this.bytesOut += bytesOut;
    this.seconds += seconds;
  }

  failed(reason: string): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }
}

/** Counters of one (entry point, router, service) of UDP sessions. */
export class UdpSeries {
  open = 0;
  total = 0;
  datagramsIn = 0;
  datagramsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  readonly dropped = new Map<string, number>();

  drop(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }
}

function key(entryPoint: string, router: string, service: string): string {
  return JSON.stringify([entryPoint, router, service]);
}

/**
 * Metrics of TCP connections and UDP sessions. A connection or a session finds its series once
 * (by router and service) and adds to plain number fields; the exposition is written at scrape
 * time by `collector`.
 */
export class Layer4Metrics {
  readonly #tcp = new Map<string, { labels: Record<string, string>; s: TcpSeries }>();
  readonly #udp = new Map<string, { labels: Record<string, string>; s: UdpSeries }>();

  tcp(entryPoint: string, router: string, service: string): TcpSeries {
    const k = key(entryPoint, router, service);
    let e = this.#tcp.get(k);
    if (e === undefined) {
      e = { labels: { entrypoint: entryPoint, router, service }, s: new TcpSeries() };
      this.#tcp.set(k, e);
    }
    return e.s;
  }

  udp(entryPoint: string, router: string, service: string): UdpSeries {
    const k = key(entryPoint, router, service);
    let e = this.#udp.get(k);
    if (e === undefined) {
      e = { labels: { entrypoint: entryPoint, router, service }, s: new UdpSeries() };
      this.#udp.set(k, e);
    }
    return e.s;
  }

  readonly collector: Collector = (w) => {
    for (const { labels, s } of this.#tcp.values()) {
      w.gauge('traffic_tcp_connections_open', 'Open TCP connections through a router.', labels, s.open);
      w.counter('traffic_tcp_connections_total', 'TCP connections a router took.', labels, s.total);
      w.counter(
        'traffic_tcp_bytes_received_total',
        'Bytes received from TCP clients (sent to servers).',
        labels,
        s.bytesIn,
      );
      w.counter(
        'traffic_tcp_bytes_sent_total',
        'Bytes sent to TCP clients (received from servers).',
        labels,
        s.bytesOut,
      );
      w.counter(
        'traffic_tcp_connection_duration_seconds_total',
        'Time TCP connections stayed open, summed.',
        labels,
        s.seconds,
      );
      for (const [reason, n] of s.failures) {
        w.counter(
          'traffic_tcp_connection_failures_total',
          'TCP connections refused or broken, by reason.',
          { ...labels, reason },
          n,
        );
      }
    }
    for (const { labels, s } of this.#udp.values()) {
      w.gauge(
        'traffic_udp_sessions_open',
        'Open UDP sessions (one per client address) through a router.',
        labels,
        s.open,
      );
      w.counter('traffic_udp_sessions_total', 'UDP sessions a router opened.', labels, s.total);
      w.counter(
        'traffic_udp_datagrams_received_total',
        'Datagrams received from UDP clients.',
        labels,
        s.datagramsIn,
      );
      w.counter(
        'traffic_udp_datagrams_sent_total',
        'Datagrams sent back to UDP clients.',
        labels,
        s.datagramsOut,
      );
      w.counter('traffic_udp_bytes_received_total', 'Bytes received from UDP clients.', labels, s.bytesIn);
      w.counter('traffic_udp_bytes_sent_total', 'Bytes sent back to UDP clients.', labels, s.bytesOut);
      for (const [reason, n] of s.dropped) {
        w.counter(
          'traffic_udp_datagrams_dropped_total',
          'UDP datagrams dropped, by reason.',
          { ...labels, reason },
          n,
        );
      }
    }
  };
}
