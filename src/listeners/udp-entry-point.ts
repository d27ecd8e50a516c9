import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from '../core/logger.ts';
import type { Ticker, Timed } from '../core/ticker.ts';
import type { Layer4Metrics, UdpSeries } from '../observability/metrics/layer4.ts';
import type { SnapshotRef, UdpRoute, UdpServerRuntime } from '../runtime/types.ts';

export interface UdpEntryPointOptions {
  readonly name: string;
  readonly snapshots: SnapshotRef;
  readonly ticker: Ticker;
  readonly logger: Logger;
  /** A session through which no datagram passed for this long is closed (`udp.timeout`). */
  readonly timeoutMs: number;
  readonly metrics: Layer4Metrics | null;
  /** At most this many sessions at once; datagrams that would open more are dropped (ours). */
  readonly maxSessions?: number;
}

const DEFAULT_MAX_SESSIONS = 65_536;

/**
 * The entry point's socket only sends replies, to the address a datagram came from: always an
 * IP. node:dgram asks its `lookup` for every send to an address; the default one (dns.lookup)
 * answers an IP on the next tick, a deferred callback per reply for nothing.
 */
function ipLookup(
  address: string,
  _family: unknown,
  cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  cb(null, address, isIPv6(address) ? 6 : 4);
}
/** Datagrams a session holds while its socket to the server connects (DNS lookups take time). */
const MAX_QUEUED = 64;

/**
 * One UDP entry point (Traefik's pkg/udp): a datagram from a new client address opens a session,
 * which picks a server of the entry point's router's service and talks to it from a socket of
 * its own; replies go back to the client from the entry point's socket, so the client sees the
 * address it wrote to. A session through which nothing passed for `udp.timeout` (3 s) is closed.
 * A session keeps its server for its life, through reloads.
 */
export class UdpEntryPoint {
  readonly #o: UdpEntryPointOptions;
  readonly #socket: Socket;
  readonly #reusePort: boolean;
  readonly #sessions = new Map<string, UdpSession>();
  readonly #max: number;
  #closed = false;

  constructor(opts: UdpEntryPointOptions, ipv6: boolean, reusePort = false) {
    this.#o = opts;
    this.#max = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.#reusePort = reusePort;
    // Data-plane workers each bind the port (SO_REUSEPORT: a client's datagrams hash to one).
    this.#socket = createSocket({
      type: ipv6 ? 'udp6' : 'udp4',
      reuseAddr: false,
      reusePort,
      lookup: ipLookup,
    });
    this.#socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => this.#message(msg, rinfo));
    this.#socket.on('error', (err) =>
      opts.logger.error('UDP entry point error', { entryPoint: opts.name, error: err }),
    );
  }

  get sessions(): number {
    return this.#sessions.size;
  }

  get options(): UdpEntryPointOptions {
    return this.#o;
  }

  listen(host: string, port: number): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.#socket.once('error', onError);
      const where = { port, ...(host === '' ? {} : { address: host }) };
      this.#socket.bind(this.#reusePort ? { ...where, exclusive: true } : where, () => {
        this.#socket.off('error', onError);
        const a = this.#socket.address();
        resolve({ address: a.address, port: a.port });
      });
    });
  }

  /** A reply from a session's server, for its client. */
  reply(msg: Buffer, s: UdpSession): void {
    if (this.#closed) return;
    this.#socket.send(msg, s.clientPort, s.clientAddress);
  }

  /** @internal */
  ended(s: UdpSession): void {
    if (this.#sessions.get(s.key) === s) this.#sessions.delete(s.key);
  }

  #message(msg: Buffer, rinfo: RemoteInfo): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    let s = this.#sessions.get(key);
    if (s === undefined) {
      const route = this.#o.snapshots.current.udp.entryPoint(this.#o.name);
      if (route === null) return;
      const series = this.#o.metrics?.udp(this.#o.name, route.router, route.service.name) ?? null;
      if (this.#sessions.size >= this.#max) {
        series?.drop('too_many_sessions');
        return;
      }
      const server = route.service.pick();
      if (server === undefined) {
        series?.drop('no_server');
        return;
      }
      s = new UdpSession(this, key, rinfo, route, server, series);
      this.#sessions.set(key, s);
      s.open();
    }
    s.fromClient(msg);
  }

  /** Shutdown: every session and the socket are closed. */
  close(): Promise<void> {
    this.#closed = true;
    for (const s of [...this.#sessions.values()]) s.close();
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

class UdpSession implements Timed {
  readonly key: string;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly #ep: UdpEntryPoint;
  readonly #route: UdpRoute;
  readonly #server: UdpServerRuntime;
  readonly #series: UdpSeries | null;
  readonly #socket: Socket;
  #queue: Buffer[] | null = [];
  #last = 0;
  #over = false;
  deadline = 0;
  tickerSlot = -1;

  constructor(
    ep: UdpEntryPoint,
    key: string,
    rinfo: RemoteInfo,
    route: UdpRoute,
    server: UdpServerRuntime,
    series: UdpSeries | null,
  ) {
    this.#ep = ep;
    this.key = key;
    this.clientAddress = rinfo.address;
    this.clientPort = rinfo.port;
    this.#route = route;
    this.#server = server;
    this.#series = series;
    this.#socket = createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
  }

  open(): void {
    const o = this.#ep.options;
    const s = this.#socket;
    if (this.#series !== null) {
      this.#series.open++;
      this.#series.total++;
    }
    s.on('message', (msg: Buffer) => this.#fromServer(msg));
    // A server that is gone answers with ICMP port unreachable: node reports it on the
    // connected socket as ECONNREFUSED. The session ends; the next datagram opens a new one.
    s.on('error', (e: NodeJS.ErrnoException) => this.#failed(e));
    const unusable = this.#server.unusable;
    if (unusable !== undefined) {
      // An address no dial can use (config/dynamic/server-address.ts): Traefik's net.Dial fails.
      this.#last = o.ticker.now;
      this.deadline = this.#last + o.timeoutMs;
      o.ticker.add(this);
      this.#failed(Object.assign(new Error(unusable), { code: 'ENOTFOUND' }));
      return;
    }
    s.connect(this.#server.port, this.#server.host, () => {
      const q = this.#queue;
      this.#queue = null;
      if (q !== null) for (const m of q) this.#send(m);
    });
    this.#last = o.ticker.now;
    this.deadline = this.#last + o.timeoutMs;
    o.ticker.add(this);
  }

  fromClient(msg: Buffer): void {
    if (this.#over) return;
    this.#last = this.#ep.options.ticker.now;
    const series = this.#series;
    if (series !== null) {
      series.datagramsIn++;
      series.bytesIn += msg.length;
    }
    const q = this.#queue;
    if (q === null) this.#send(msg);
    else if (q.length < MAX_QUEUED) q.push(msg);
    else series?.drop('queue_full');
  }

  #send(msg: Buffer): void {
    // No callback (none allocated per datagram): a failed send is an 'error' event, handled above.
    this.#socket.send(msg);
  }

  #fromServer(msg: Buffer): void {
    if (this.#over) return;
    this.#last = this.#ep.options.ticker.now;
    const series = this.#series;
    if (series !== null) {
      series.datagramsOut++;
      series.bytesOut += msg.length;
    }
    this.#ep.reply(msg, this);
  }

  #failed(e: NodeJS.ErrnoException): void {
    if (this.#over) return;
    this.#series?.drop(e.code === 'ECONNREFUSED' ? 'server_unreachable' : 'error');
    this.#ep.options.logger.debug('UDP server unreachable', {
      entryPoint: this.#ep.options.name,
      router: this.#route.router,
      server: this.#server.address,
      error: e.message,
    });
    this.close();
  }

  onDeadline(now: number): void {
    if (this.#over) return;
    const timeout = this.#ep.options.timeoutMs;
    if (now - this.#last < timeout) {
      this.deadline = this.#last + timeout;
      return;
    }
    this.close();
  }

  close(): void {
    if (this.#over) return;
    this.#over = true;
    this.#ep.options.ticker.delete(this);
    if (this.#series !== null) this.#series.open--;
    this.#socket.close();
    this.#ep.ended(this);
  }
}
