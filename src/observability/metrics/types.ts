export interface MetricsOptions {
  /** Upper bounds of the duration histogram, in seconds; `+Inf` is always added. */
  readonly buckets: readonly number[];
  readonly addEntryPointsLabels: boolean;
  readonly addRoutersLabels: boolean;
  readonly addServicesLabels: boolean;
  /** Prefix of the request families (`traffic_entrypoint_requests_total`); default 'traffic'. */
  readonly prefix?: string;
  /** Register the process collector (CPU, memory, fds, start time); default true. */
  readonly processMetrics?: boolean;
}

/** Counters for one (entry point, router, service), bound once so that a request does no lookups. */
export interface RequestSeries {
  /** One finished request: status code (counted by class), duration, body bytes each way. */
  observe(status: number, seconds: number, bytesIn: number, bytesOut: number): void;
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
