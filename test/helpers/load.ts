/**
 * A small load generator for e2e tests: N concurrent clients, each with its own keep-alive
 * connection (node:http Agent, one socket per client), sending requests back to back until it is
 * stopped, a request count is reached or a time bound runs out. It counts outcomes instead of
 * throwing, so that a test can assert "zero failed requests" over a whole run.
 */
import { Agent, request } from 'node:http';

export interface LoadOptions {
  /** Full URL of every request (GET). */
  readonly url: string;
  readonly concurrency: number;
  /** Stop after this many requests in total (all clients). */
  readonly maxRequests: number;
  /** Stop after this long at the latest: a bound, never a measurement. */
  readonly maxDurationMs: number;
  /** A request without a complete response after this long counts as a timeout (default 10 s). */
  readonly requestTimeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LoadStats {
  /** Requests started. */
  requests: number;
  /** 2xx responses read to the end. */
  ok: number;
  non2xx: number;
  /** Socket errors: refused, reset, hang-up, a body cut short. */
  errors: number;
  timeouts: number;
  /** TCP connections opened: with keep-alive intact this stays at `concurrency`. */
  connections: number;
  /** Response bodies seen, with how often (backends answer with their name). */
  readonly bodies: Map<string, number>;
  /** The first few failures, for assertion messages. */
  readonly failures: string[];
}

export interface LoadRun {
  readonly stats: LoadStats;
  /** Resolves once every client has stopped (on stop(), at the count or at the time bound). */
  readonly done: Promise<LoadStats>;
  /** Asks every client to stop after its current request; resolves like `done`. */
  stop(): Promise<LoadStats>;
  /** Resolves when `body` has been received `times` more times from now (rejects when the run ends first). */
  waitForBody(body: string, times?: number): Promise<void>;
}

const MAX_FAILURE_SAMPLES = 10;

export function startLoad(opts: LoadOptions): LoadRun {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: opts.concurrency,
    maxFreeSockets: opts.concurrency,
  });
  const stats: LoadStats = {
    requests: 0,
    ok: 0,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    connections: 0,
    bodies: new Map(),
    failures: [],
  };
  const bodyWaiters: { body: string; target: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  let stopped = false;
  const bound = setTimeout(() => {
    stopped = true;
  }, opts.maxDurationMs);

  const fail = (what: string): void => {
    if (stats.failures.length < MAX_FAILURE_SAMPLES) stats.failures.push(what);
  };

  const onBody = (body: string): void => {
    const n = (stats.bodies.get(body) ?? 0) + 1;
    stats.bodies.set(body, n);
    for (let i = bodyWaiters.length - 1; i >= 0; i--) {
      const w = bodyWaiters[i]!;
      if (w.body === body && n >= w.target) {
        bodyWaiters.splice(i, 1);
        w.resolve();
      }
    }
  };

  const once = (): Promise<void> =>
    new Promise<void>((resolve) => {
      stats.requests++;
      let settled = false;
      const settle = (): void => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      const req = request(opts.url, { agent, headers: opts.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (settled) return;
          const status = res.statusCode ?? 0;
          const body = Buffer.concat(chunks).toString('utf8');
          if (status >= 200 && status < 300) {
            stats.ok++;
            onBody(body);
          } else {
            stats.non2xx++;
            fail(`status ${status}: ${body.slice(0, 200)}`);
          }
          settle();
        });
        res.on('error', (e) => {
          if (settled) return;
          stats.errors++;
          fail(`response error: ${e.message}`);
          settle();
        });
      });
      req.on('socket', () => {
        if (!req.reusedSocket) stats.connections++;
      });
      req.setTimeout(opts.requestTimeoutMs ?? 10_000, () => {
        if (settled) return;
        stats.timeouts++;
        fail('request timed out');
        settle();
        req.destroy();
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (settled) return;
        stats.errors++;
        fail(`request error: ${e.code ?? ''} ${e.message}`);
        settle();
      });
      req.end();
    });

  const client = async (): Promise<void> => {
    while (!stopped && stats.requests < opts.maxRequests) await once();
  };

  const done = Promise.all(Array.from({ length: opts.concurrency }, client)).then(() => {
    clearTimeout(bound);
    stopped = true;
    agent.destroy();
    for (const w of bodyWaiters.splice(0)) {
      w.reject(new Error(`load ended before "${w.body}" was seen again: ${JSON.stringify(summary(stats))}`));
    }
    return stats;
  });

  return {
    stats,
    done,
    stop() {
      stopped = true;
      return done;
    },
    waitForBody(body, times = 1) {
      if (stopped) return Promise.reject(new Error('load is not running'));
      return new Promise<void>((resolve, reject) => {
        bodyWaiters.push({ body, target: (stats.bodies.get(body) ?? 0) + times, resolve, reject });
      });
    },
  };
}

/** The counters without the maps, for assertion messages. */
export function summary(s: LoadStats): Record<string, unknown> {
  return {
    requests: s.requests,
    ok: s.ok,
    non2xx: s.non2xx,
    errors: s.errors,
    timeouts: s.timeouts,
    connections: s.connections,
    bodies: Object.fromEntries(s.bodies),
    failures: s.failures,
  };
}
