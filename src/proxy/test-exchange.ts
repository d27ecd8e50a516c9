/**
 * Fakes for unit tests of the exchange: a client sink that records what it is told, upstream
 * streams whose every step the test drives, and a route over servers whose pools hand them out.
 * Real parsing (parseRequestHead) and a real ticker on a hand-moved clock.
 */
import type { Duplex } from 'node:stream';
import { ProxyError } from '../core/errors.ts';
import { HeaderList } from '../core/headers.ts';
import { silentLogger } from '../core/logger.ts';
import type { RequestHead, ResponseHead } from '../core/request.ts';
import { Ticker } from '../core/ticker.ts';
import { DEFAULT_REQUEST_LIMITS, type ParsedRequest, parseRequestHead } from '../http1/request-head.ts';
import { DEFAULT_PATH_POLICY } from '../http1/request-path.ts';
import type { ParsedResponse } from '../http1/response-head.ts';
import type { BufferingSpec, Middleware, RetryPolicy } from '../middleware/middleware.ts';
import { EntryPointGate, NO_OVERLOAD_LIMITS, OverloadManager } from '../overload/index.ts';
import {
  EMPTY_SNAPSHOT,
  type ErrorPage,
  type RouteTarget,
  type ServerRuntime,
  type ServiceNode,
  type ServiceRuntime,
  SnapshotRef,
} from '../runtime/types.ts';
import type { UpstreamPool } from '../upstream/pool.ts';
import type { OutgoingRequest, StreamSource, UpstreamStream, UpstreamUser } from '../upstream/stream.ts';
import type { ClientExchange, ClientSink, ClientTunnelSide } from './client-sink.ts';
import type { EntryPointContext } from './entry-point-context.ts';
import { Exchange } from './exchange.ts';
import { LongLivedRegistry } from './long-lived.ts';

/** What the client side was told, in order: 'head 200', 'data hello', 'end', 'direct 404', … */
export class RecordingSink implements ClientSink {
  readonly clientIp = '192.0.2.1';
  readonly http2: boolean;
  readonly serverName = undefined;
  readonly events: string[] = [];
  /** What `data` returns: false makes the exchange pause its upstream. */
  accept = true;
  keepAlive: boolean | null = null;
  resumed = 0;
  tunnel: ClientTunnelSide | null = null;

  /** As the real sinks: the HTTP/1.1 one takes a small body as text, the HTTP/2 ones do not. */
  readonly headText?: NonNullable<ClientSink['headText']>;

  constructor(http2 = false) {
    this.http2 = http2;
    if (!http2) {
      this.headText = (_ex, status, _reason, _res, extra, close, body) => {
        this.events.push(`head ${status}${extra === '' ? '' : ` +${extra.trim()}`}`, `text ${body}`);
        return close;
      };
    }
  }

  interim(_ex: ClientExchange, res: ParsedResponse): boolean {
    this.events.push(`interim ${res.status}`);
    return true;
  }

  head(
    _ex: ClientExchange,
    status: number,
    _reason: string,
    _res: unknown,
    extra: string,
    close: boolean,
    body: Buffer | null,
  ): boolean {
    this.events.push(`head ${status}${extra === '' ? '' : ` +${extra.trim()}`}`);
    if (body !== null) this.events.push(`data ${body.toString()}`);
    return close;
  }

  data(buf: Buffer, start: number, end: number): boolean {
    this.events.push(`data ${buf.toString('latin1', start, end)}`);
    return this.accept;
  }

  end(trailers: HeaderList | null): void {
    this.events.push(trailers === null ? 'end' : `end +${trailers.size} trailers`);
  }

  direct(_ex: ClientExchange, rh: ResponseHead, body: string): boolean {
    const allow = rh.headers.get('allow');
    const retry = rh.headers.get('retry-after');
    this.events.push(
      `direct ${rh.status}${allow === undefined ? '' : ` allow=${allow}`}${retry === undefined ? '' : ` retry-after=${retry}`} ${body}`.trimEnd(),
    );
    return false;
  }

  upgrade(_ex: ClientExchange, status: number): ClientTunnelSide | null {
    this.events.push(`upgrade ${status}`);
    return this.tunnel;
  }

  broken(): void {
    this.events.push('broken');
  }

  exchangeDone(_ex: ClientExchange, keepAlive: boolean): void {
    this.keepAlive = keepAlive;
    this.events.push(`done keepAlive=${keepAlive}`);
  }

  resumeBody(): void {
    this.resumed++;
  }
}

/** One upstream stream: records what the exchange sends; the test plays the server with `user`. */
export class ScriptedStream implements UpstreamStream {
  readonly sent: string[] = [];
  user!: UpstreamUser;
  /** What sendBody returns (false = backpressure). */
  accept = true;
  pendingBytes = 0;
  paused = false;
  destroyed = false;
  reusable = true;

  sendHead(out: OutgoingRequest, authority: string): void {
    this.sent.push(
      `${out.method} ${out.target} host=${authority}${out.upgrade === null ? '' : ` upgrade=${out.upgrade}`}`,
    );
  }

  sendBody(buf: Buffer, start: number, end: number): boolean {
    this.sent.push(`body ${buf.toString('latin1', start, end)}`);
    return this.accept;
  }

  endBody(): void {
    this.sent.push('end');
  }

  cork(): void {}
  uncork(): void {}

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  markNotReusable(): void {
    this.reusable = false;
  }

  destroy(): void {
    this.destroyed = true;
  }

  /** The server answers: a response head, then optional body chunks, then the end. */
  respond(status: number, body?: string, headers: [string, string][] = []): void {
    this.user.onUpstreamHead(response(status, headers), null, 0, 0);
    // A destroyed stream calls its user no more (UpstreamStream.destroy).
    if (body !== undefined && !this.destroyed) {
      const b = Buffer.from(body, 'latin1');
      this.user.onUpstreamData(b, 0, b.length);
    }
  }

  end(): void {
    if (!this.destroyed) this.user.onUpstreamEnd(null);
  }
}

export function response(status: number, headers: [string, string][] = [], bodyKind = 2): ParsedResponse {
  return {
    status,
    reason: 'R',
    versionMinor: 1,
    headers: HeaderList.from(headers),
    bodyKind: bodyKind as ParsedResponse['bodyKind'],
    contentLength: 0,
    reusable: true,
    connectionAuth: false,
    connectionTokens: null,
    headLength: 0,
    text: '',
  };
}

/** A server's pool: each acquire is answered by the next step the test queued. */
export class ScriptedSource implements StreamSource {
  readonly name: string;
  readonly streams: ScriptedStream[] = [];
  readonly acquired: { method: string; fresh: boolean }[] = [];
  /** 'stream' hands a stream at once; 'refuse' fails the connect; 'wait' keeps the user waiting. */
  readonly plan: ('stream' | 'refuse' | 'wait')[] = [];
  waiting: UpstreamUser | null = null;
  cancelled = 0;

  constructor(name: string) {
    this.name = name;
  }

  acquire(user: UpstreamUser, method: string, fresh = false): void {
    this.acquired.push({ method, fresh });
    const step = this.plan.shift() ?? 'stream';
    if (step === 'wait') {
      this.waiting = user;
      return;
    }
    if (step === 'refuse') {
      // Asynchronous, as a refused connect is: the exchange has finished its pick by then.
      queueMicrotask(() =>
        user.onUpstreamError(new ProxyError('UPSTREAM_REFUSED', 'refused'), 'connect', false),
      );
      return;
    }
    const s = new ScriptedStream();
    s.user = user;
    this.streams.push(s);
    user.onUpstreamReady(s);
  }

  cancel(user: UpstreamUser): void {
    if (this.waiting === user) this.waiting = null;
    this.cancelled++;
  }
}

export interface Harness {
  readonly sink: RecordingSink;
  readonly sources: ScriptedSource[];
  readonly ticker: Ticker;
  readonly clock: { now: number };
  readonly ctx: EntryPointContext;
  readonly route: RouteTarget;
  /** Parses `raw` (a request head, and body bytes if any) and starts an exchange for it. */
  exchange(raw: string): Exchange;
}

export interface HarnessOptions {
  readonly servers?: number;
  readonly middlewares?: readonly Middleware[];
  readonly retry?: RetryPolicy | null;
  readonly noRoute?: boolean;
  readonly http2?: boolean;
  readonly errorPages?: readonly ErrorPage[];
  readonly buffering?: BufferingSpec;
  /** The entry point's overload gate (default: every limit off). */
  readonly overload?: EntryPointGate;
  /** The route's service name (`x@internal` is never shed). */
  readonly serviceName?: string;
}

/** A load balancer over scripted servers, picked in order (untried first). */
export function scriptedService(name: string, sources: readonly ScriptedSource[], net = 0): ServiceRuntime {
  const servers: ServerRuntime[] = sources.map((s, i) => ({
    url: `http://10.0.${net}.${i + 1}`,
    authority: `10.0.${net}.${i + 1}`,
    pool: s as unknown as UpstreamPool,
    index: i,
    tunnelIdleMs: 0,
    pathPrefix: '',
  }));
  return {
    name,
    servers,
    inFlight: new Int32Array(servers.length),
    responseTimes: null,
    passHostHeader: true,
    timeouts: { totalMs: 0, perTryMs: 0 },
    health: null,
    admission: null,
    pick: (_req, tried) => {
      for (let i = 0; i < servers.length; i++) if ((tried & (1 << i)) === 0) return i;
      return -1;
    },
  };
}

/** The service tree's leaf for one load balancer. */
export function serviceNode(lb: ServiceRuntime): ServiceNode {
  return { name: lb.name, available: () => true, resolve: () => lb };
}

/** One route to one load balancer over `servers` scripted servers (picked in order, untried first). */
export function harness(opts: HarnessOptions = {}): Harness {
  const clock = { now: 1000 };
  const ticker = new Ticker(60_000, () => clock.now);
  const sources = Array.from({ length: opts.servers ?? 1 }, (_, i) => new ScriptedSource(`s${i}`));
  const lb = scriptedService('svc@test', sources);
  const route: RouteTarget = {
    router: 'r@test',
    middlewares: opts.middlewares ?? [],
    service:
      opts.serviceName === undefined ? serviceNode(lb) : { ...serviceNode(lb), name: opts.serviceName },
    children: null,
    timeouts: { totalMs: 0, perTryMs: 0 },
    retry: opts.retry ?? null,
    guards: [],
    bodyPhase: (opts.middlewares ?? []).some((m) => m.onResponseBody !== undefined),
    errorPages: opts.errorPages ?? null,
    buffering: opts.buffering ?? null,
    // After the last middleware, as a buffering that ends a chain.
    bufferings:
      opts.buffering === undefined ? null : [{ at: (opts.middlewares ?? []).length, spec: opts.buffering }],
    logged: true,
    metered: true,
    traced: true,
    httpRoute: '',
  };
  const found = () => (opts.noRoute === true ? undefined : route);
  const ref = new SnapshotRef({
    ...EMPTY_SNAPSHOT,
    routes: { match: found, http: found, https: found, explain: () => [] },
  });
  const ctx: EntryPointContext = {
    name: 'web',
    scheme: 'http',
    port: '80',
    limits: DEFAULT_REQUEST_LIMITS,
    pathPolicy: DEFAULT_PATH_POLICY,
    allowTrace: false,
    readHeaderTimeoutMs: 10_000,
    idleTimeoutMs: 60_000,
    readTimeoutMs: 60_000,
    writeTimeoutMs: 0,
    keepAliveMaxRequests: 0,
    keepAliveMaxTimeMs: 0,
    isTrusted: () => false,
    connectionKept: null,
    appendForwardedFor: true,
    schemeHeaders: false,
    snapshots: ref,
    ticker,
    logger: silentLogger,
    accessLog: null,
    metrics: null,
    tracer: null,
    logUnrouted: true,
    meterUnrouted: true,
    traceUnrouted: true,
    detailUnrouted: false,
    overload:
      opts.overload ??
      new EntryPointGate('web', new OverloadManager(NO_OVERLOAD_LIMITS, silentLogger), {
        maxConnections: 0,
        maxConnectionsPerIp: 0,
      }),
    longLived: new LongLivedRegistry(ticker),
    graceMs: 1000,
    draining: false,
  };
  const sink = new RecordingSink(opts.http2 ?? false);
  return {
    sink,
    sources,
    ticker,
    clock,
    ctx,
    route,
    exchange(raw: string): Exchange {
      const buf = Buffer.from(raw, 'latin1');
      const parsed = parseRequestHead(buf, 0, buf.length, DEFAULT_REQUEST_LIMITS);
      if (parsed === null || !('method' in parsed)) throw new Error(`test request does not parse: ${raw}`);
      const p: ParsedRequest = parsed;
      const req: RequestHead = {
        method: p.method,
        path: p.path,
        query: p.query,
        host: p.host,
        hostPort: p.hostPort,
        headers: p.headers,
        clientIp: sink.clientIp,
        scheme: 'http',
        entryPoint: 'web',
        omitForwardedFor: false,
      };
      const ex = new Exchange(sink, ctx, p, req);
      ex.start();
      const rest = buf.subarray(p.headLength);
      if (rest.length > 0 && ex.canTakeBody) ex.feedBody(rest, 0, rest.length);
      return ex;
    },
  };
}

/** A tunnel end for the client side of a 101 (a Duplex the test drives). */
export function tunnelSide(stream: Duplex, rest: Buffer | null = null): ClientTunnelSide {
  return { stream, rest };
}
