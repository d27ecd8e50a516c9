/**
 * A node:http backend on 127.0.0.1 whose life a test controls: it can be stopped (listener closed,
 * every connection destroyed: the port refuses), restarted on the same port, hung (it reads
 * requests and never answers), made to answer any status, or to reset connections (RST).
 *
 * Requests to `healthPath` (default `/health`, query ignored) are health probes; everything else is
 * traffic. Each side has its own behaviour, so a test can fail the probes while traffic is served
 * (or the other way round), and a behaviour can be limited to the next `times` requests.
 *
 *   const b = await startKillableBackend('b');
 *   b.setMode(500, { scope: 'health', times: 2 }); // the next two probes get 500, then 200 again
 *   await b.stop();    // connection refused from now on
 *   await b.restart(); // same port, answering again
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Counter } from './wait.ts';

/**
 * What the backend does with a request: `'ok'` answers 200 with its name as the body; a number
 * answers that status (body: the name); `'hang'` reads the request and never answers; `'reset'`
 * destroys the connection with an RST without answering.
 */
export type BackendMode = 'ok' | 'hang' | 'reset' | number;

export interface ModeOptions {
  /** Which requests: health probes, traffic, or both (default). */
  readonly scope?: 'all' | 'health' | 'traffic';
  /** Only the next `times` requests (counted per side with scope `all`); then back to `'ok'`. Default: until changed. */
  readonly times?: number;
}

/** One request as the backend saw it, and what it did. */
export interface SeenRequest {
  readonly method: string;
  /** Request target as sent (path and query). */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly probe: boolean;
  /** The status it answered, or 'hang' / 'reset'. */
  readonly outcome: number | 'hang' | 'reset';
}

export interface KillableBackend {
  readonly name: string;
  /** Fixed for the backend's life, across restarts. */
  readonly port: number;
  /** `http://127.0.0.1:<port>`, as written in a server URL. */
  readonly url: string;
  /** `127.0.0.1:<port>`: the `server` field of the proxy's active health log lines. */
  readonly authority: string;
  /** Every request so far, probes included, in arrival order. */
  readonly requests: readonly SeenRequest[];
  /** Bumped on each health probe received / each traffic request received. */
  readonly probes: Counter;
  readonly traffic: Counter;
  readonly listening: boolean;
  setMode(mode: BackendMode, opts?: ModeOptions): void;
  /** Stops listening and destroys every connection (hung ones included). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  /** `stop`, for t.after: safe to call when already stopped. */
  close(): Promise<void>;
}

interface Slot {
  mode: BackendMode;
  /** Requests left before the mode reverts to 'ok'; Infinity = until changed. */
  left: number;
}

export async function startKillableBackend(name: string, healthPath = '/health'): Promise<KillableBackend> {
  const health: Slot = { mode: 'ok', left: Number.POSITIVE_INFINITY };
  const traffic: Slot = { mode: 'ok', left: Number.POSITIVE_INFINITY };
  const requests: SeenRequest[] = [];
  const probes = new Counter();
  const trafficCounter = new Counter();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const take = (slot: Slot): BackendMode => {
    const mode = slot.mode;
    if (slot.left !== Number.POSITIVE_INFINITY && --slot.left <= 0) {
      slot.mode = 'ok';
      slot.left = Number.POSITIVE_INFINITY;
    }
    return mode;
  };

  const listen = async (): Promise<void> => {
    const s = createServer((req, res) => {
      const url = req.url ?? '';
      const q = url.indexOf('?');
      const probe = (q === -1 ? url : url.slice(0, q)) === healthPath;
      const mode = take(probe ? health : traffic);
      const outcome = mode === 'ok' ? 200 : mode;
      requests.push({ method: req.method ?? '', url, headers: req.headers, probe, outcome });
      (probe ? probes : trafficCounter).inc();
      if (outcome === 'hang') return;
      if (outcome === 'reset') {
        req.socket.resetAndDestroy();
        return;
      }
      req.resume();
      res.writeHead(outcome, { 'content-type': 'text/plain' });
      res.end(name);
    });
    s.keepAliveTimeout = 30_000;
    s.on('connection', (sock: Socket) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    // The port was free a moment ago; a dial of the proxy may briefly hold it as a source port.
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen(port, '127.0.0.1', () => {
            s.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (e) {
        if (attempt >= 20 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    port = (s.address() as AddressInfo).port;
    server = s;
  };

  const stop = async (): Promise<void> => {
    const s = server;
    if (s === undefined) return;
    server = undefined;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    await closed;
  };

  await listen();
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    authority: `127.0.0.1:${port}`,
    requests,
    probes,
    traffic: trafficCounter,
    get listening() {
      return server !== undefined;
    },
    setMode(mode, opts = {}) {
      const scope = opts.scope ?? 'all';
      const left = opts.times ?? Number.POSITIVE_INFINITY;
      if (scope !== 'traffic') Object.assign(health, { mode, left });
      if (scope !== 'health') Object.assign(traffic, { mode, left });
    },
    stop,
    async restart() {
      if (server !== undefined) throw new Error(`backend ${name} is already listening`);
      await listen();
    },
    close: stop,
  };
}
