import type { RequestHead } from '../../core/request.ts';

export interface MetricsOptions {
  /** Upper bounds of the duration histogram, in seconds; `+Inf` is always added. */
  readonly buckets: readonly number[];
  readonly addEntryPointsLabels: boolean;
  readonly addRoutersLabels: boolean;
  readonly addServicesLabels: boolean;
  /**
   * Traefik's headerLabels: label name → request header; the header's value on each request
   * (first value, "" when absent) labels the `*_requests_total` families. Default none.
   */
  readonly headerLabels?: Readonly<Record<string, string>>;
  /**
   * Prefix of our own families (`traffic_tunnels_open`); default 'traffic'. Traefik's families
   * (`traefik_entrypoint_requests_total` and the others Traefik exposes) keep Traefik's names, so
   * that dashboards made for Traefik work unchanged.
   */
  readonly prefix?: string;
  /** Register the process collector (CPU, memory, fds, start time); default true. */
  readonly processMetrics?: boolean;
}

/** Counters for one (entry point, router, service), bound once so that a request does no lookups. */
export interface RequestSeries {
  /**
   * One finished request: status code, duration, body bytes each way, and the request (its
   * method and headers give Traefik's `method` and `protocol` labels; `upgrade` is the protocol
   * it asked to switch to, or null). `grpcStatus` is the response's grpc-status (its head's,
   * else its trailers'), the `code` of a gRPC or gRPC-Web request (Unknown, 2, without one).
   * `serviceSeconds`, when ≥ 0, is the service level's duration (from its last try's start);
   * the entry point and router take `seconds`, the whole request's. `serviceStatus` and
   * `serviceBytesOut`, when ≥ 0, are the service's own answer (its server's status, its body
   * bytes before the router's middlewares changed them), which the service level counts instead
   * of `status` and `bytesOut`, as Traefik's service metrics sit below the router's middlewares
   * (pkg/middlewares/metrics/metrics.go, wrapped around the service's handler).
   */
  observe(
    status: number,
    seconds: number,
    bytesIn: number,
    bytesOut: number,
    req: RequestHead,
    upgrade: string | null,
    grpcStatus?: string,
    serviceSeconds?: number,
    serviceStatus?: number,
    serviceBytesOut?: number,
  ): void;
  /**
   * A try the service's server took that is not the request's answer (a retry, another server,
   * the failover service or an error page follows; or a mirror's copy), ended with `status` after
   * `seconds`: counted at the service level only (a failed try without bytes), as Traefik's
   * service metrics wrap each server's
   * handler below the retry, failover and errors handlers (pkg/server/service/service.go
   * getLoadBalancerServiceHandler). The request's own observe() follows.
   */
  tryEnded(
    status: number,
    seconds: number,
    req: RequestHead,
    upgrade: string | null,
    bytesIn?: number,
    bytesOut?: number,
  ): void;
  /** One more attempt sent to the service after the first. */
  retry(): void;
}

export interface EntryPointSeries {
  connectionOpened(): void;
  connectionClosed(): void;
}

/** What a scrape-time collector writes; names and label names that the format forbids are dropped. */
export interface MetricWriter {
  /** `name` should end in `_total`; it is appended when missing. */
  counter(name: string, help: string, labels: Readonly<Record<string, string>>, value: number): void;
  gauge(name: string, help: string, labels: Readonly<Record<string, string>>, value: number): void;
}

export type Collector = (w: MetricWriter) => void;

export interface WallClock {
  /** Milliseconds since the epoch. */
  wallNow(): number;
}
