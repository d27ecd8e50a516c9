/**
 * What the fake HashiCorp APIs (fake-consul.ts, fake-nomad.ts) share: their listening socket on
 * loopback, which a test may stop and start again, and blocking queries.
 */
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A server listening on 127.0.0.1. */
export interface Listening {
  readonly port: number;
  /** Stops listening and cuts every connection (blocked queries, streams). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Stops, when listening. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (a free port), keeping the connections so that `stop` can cut them. */
export async function listenLoopback(server: Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const stop = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return {
    port,
    stop,
    start: () => new Promise<void>((r) => server.listen(port, '127.0.0.1', r)),
    close: async () => {
      if (server.listening) await stop();
    },
  };
}

/**
 * HashiCorp's blocking queries (Consul and Nomad alike): a request whose
 * `index` is at least the current index is answered at the next change (a call of the waiters),
 * or when its `wait` runs out (`5m` when absent, at most 10 minutes); any other is answered now.
 */
export function answerBlocking(
  res: ServerResponse,
  url: URL,
  index: number,
  waiters: Set<() => void>,
  send: () => void,
): void {
  const want = Number(url.searchParams.get('index') ?? 0);
  if (!(want > 0 && want >= index)) {
    send();
    return;
  }
  const waitMs = Math.min(parseWait(url.searchParams.get('wait') ?? '5m'), 600_000);
  const done = (): void => {
    waiters.delete(done);
    clearTimeout(timer);
    send();
  };
  const timer = setTimeout(done, waitMs);
  waiters.add(done);
  res.on('close', () => {
    waiters.delete(done);
    clearTimeout(timer);
  });
}

/** `wait` as HashiCorp's APIs read it: `10ms`, `30s`, `5m`, or seconds. */
export function parseWait(s: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(s);
  if (m === null) return 300_000;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}
