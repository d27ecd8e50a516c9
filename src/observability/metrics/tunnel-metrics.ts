import type { MetricWriter } from './types.ts';

interface TunnelCounts {
  readonly router: string;
  readonly service: string;
  open: number;
  bytesUp: number;
  bytesDown: number;
  seconds: number;
  /** Ended tunnels by how they ended (closed, broken, idle, closed-by-proxy). */
  readonly ends: Map<string, number>;
}

/**
 * Tunnels (WebSockets and other upgraded connections) per router and service: how many are
 * open, how many ended and how, their bytes each way and their total duration (sum, with the count
 * of ended ones: the mean duration is one division in PromQL). Counted when a tunnel opens and
 * ends, not per message; rendered at scrape time.
 */
export class TunnelMetrics {
  readonly #prefix: string;
  readonly #byRoute = new Map<string, TunnelCounts>();

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  #counts(router: string, service: string): TunnelCounts {
    const key = `${router}\n${service}`;
    let c = this.#byRoute.get(key);
    if (c === undefined) {
      c = { router, service, open: 0, bytesUp: 0, bytesDown: 0, seconds: 0, ends: new Map() };
      this.#byRoute.set(key, c);
    }
    return c;
  }

  opened(router: string, service: string): void {
    this.#counts(router, service).open++;
  }

  closed(
    router: string,
    service: string,
    end: string,
    bytesUp: number,
    bytesDown: number,
    seconds: number,
  ): void {
    const c = this.#counts(router, service);
    c.open--;
    c.bytesUp += bytesUp;
    c.bytesDown += bytesDown;
    c.seconds += seconds;
    c.ends.set(end, (c.ends.get(end) ?? 0) + 1);
  }

  collect(w: MetricWriter): void {
    const p = this.#prefix;
    for (const c of this.#byRoute.values()) {
      const labels = { router: c.router, service: c.service };
      w.gauge(`${p}_tunnels_open`, 'Open tunnels (WebSockets) by router and service.', labels, c.open);
      w.counter(
        `${p}_tunnel_bytes_total`,
        'Bytes through tunnels, by direction (client_to_server, server_to_client).',
        { ...labels, direction: 'client_to_server' },
        c.bytesUp,
      );
      w.counter(
        `${p}_tunnel_bytes_total`,
        'Bytes through tunnels, by direction (client_to_server, server_to_client).',
        { ...labels, direction: 'server_to_client' },
        c.bytesDown,
      );
      w.counter(`${p}_tunnel_duration_seconds_total`, 'Summed lifetime of ended tunnels.', labels, c.seconds);
      for (const [end, n] of c.ends) {
        w.counter(`${p}_tunnels_total`, 'Ended tunnels, by how they ended.', { ...labels, end }, n);
      }
    }
  }
}
