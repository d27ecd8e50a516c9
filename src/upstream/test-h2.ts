/**
 * Test-only helpers for the HTTP/2 pool: its options, a recording `UpstreamUser` that sends one
 * request, a node:http2 server on loopback, and a TCP relay that can go silent (a dead peer that keeps its
 * connection open), for unit tests against real sockets.
 */
import {
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import {
  type AddressInfo,
  connect,
  createServer as createTcpServer,
  type Server,
  type Socket,
} from 'node:net';
import type { Duplex } from 'node:stream';
import type { ProxyError } from '../core/errors.ts';
import { HeaderList } from '../core/headers.ts';
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, type BodyKind } from '../http1/request-head.ts';
import type { H2PoolOptions } from './h2-pool.ts';
import type { OutgoingRequest, UpstreamResponse, UpstreamStream, UpstreamUser } from './stream.ts';

/** Options of a pool to 127.0.0.1:`port` (h2c unless `over` has `tls`): no idle close, no PINGs. */
export function h2PoolOptions(port: number, over: Partial<H2PoolOptions> = {}): H2PoolOptions {
  return {
    host: '127.0.0.1',
    port,
    maxIdle: 10,
    maxConns: 0,
    idleTimeoutMs: 0,
    connectTimeoutMs: 5_000,
    responseHeaderTimeoutMs: 0,
    maxResponseHeaderBytes: 64 * 1024,
    readIdleTimeoutMs: 0,
    pingTimeoutMs: 15_000,
    ...over,
  };
}

export interface SentRequest {
  readonly method?: string;
  readonly target?: string;
  readonly headers?: readonly (readonly [string, string])[];
  /** Sent whole with a Content-Length, or in these chunks with an open length. */
  readonly body?: Buffer | readonly Buffer[];
  readonly trailers?: readonly (readonly [string, string])[];
}

/** One request through a StreamSource, with everything the upstream answered. */
export class RecordingUser implements UpstreamUser {
  stream: UpstreamStream | null = null;
  head: UpstreamResponse | null = null;
  readonly chunks: Buffer[] = [];
  trailers: HeaderList | null = null;
  ended = false;
  error: { err: ProxyError; phase: string; reused: boolean } | null = null;
  readonly done: Promise<void>;
  readonly #out: OutgoingRequest;
  readonly #authority: string;
  readonly #req: SentRequest;
  #resolve!: () => void;

  constructor(req: SentRequest = {}, authority = 'backend.test') {
    this.#req = req;
    this.#authority = authority;
    const headers = HeaderList.from(req.headers ?? []);
    const body = req.body;
    let bodyKind: BodyKind = BODY_NONE;
    let contentLength = 0;
    if (Buffer.isBuffer(body)) {
      bodyKind = BODY_LENGTH;
      contentLength = body.length;
    } else if (body !== undefined) bodyKind = BODY_CHUNKED;
    this.#out = {
      method: req.method ?? (body === undefined ? 'GET' : 'POST'),
      target: req.target ?? '/',
      headers,
      bodyKind,
      contentLength,
      upgrade: null,
      forwardedFor: null,
      h1Fields: () => '\r\n',
    };
    this.done = new Promise((r) => {
      this.#resolve = r;
    });
  }

  get body(): string {
    return Buffer.concat(this.chunks).toString();
  }

  onUpstreamReady(stream: UpstreamStream): void {
    this.stream = stream;
    stream.sendHead(this.#out, this.#authority);
    const body = this.#req.body;
    if (body === undefined) return;
    for (const b of Buffer.isBuffer(body) ? [body] : body) stream.sendBody(b, 0, b.length);
    const t = this.#req.trailers;
    stream.endBody(t === undefined ? null : HeaderList.from(t));
  }

  onUpstreamInterim(): void {}

  onUpstreamHead(res: UpstreamResponse, body: Buffer | null, start: number, end: number): void {
    this.head = res;
    if (body !== null) this.chunks.push(body.subarray(start, end));
  }

  onUpstreamData(buf: Buffer, start: number, end: number): void {
    this.chunks.push(Buffer.from(buf.subarray(start, end)));
  }

  onUpstreamEnd(trailers: HeaderList | null): void {
    this.trailers = trailers;
    this.ended = true;
    this.#resolve();
  }

  onUpstreamError(err: ProxyError, phase: 'connect' | 'head' | 'body', reused: boolean): void {
    this.error = { err, phase, reused };
    this.#resolve();
  }

  onInternalError(e: unknown): void {
    throw e;
  }

  onUpstreamDrain(): void {}

  onUpstreamUpgrade(_res: UpstreamResponse, socket: Duplex): void {
    socket.destroy();
  }
}

export interface TestH2Server {
  readonly server: Http2Server;
  readonly port: number;
  /** Sessions accepted so far. */
  readonly sessions: ServerHttp2Session[];
  close(): Promise<void>;
}

export type StreamHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, body: Buffer) => void;

/** A cleartext HTTP/2 server; `handler` gets each request once its body has arrived. */
export async function startH2Server(
  handler: StreamHandler,
  settings: { maxConcurrentStreams?: number } = {},
): Promise<TestH2Server> {
  const server = createServer({ settings });
  const sessions: ServerHttp2Session[] = [];
  server.on('session', (s) => {
    sessions.push(s);
    s.on('error', () => {});
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => handler(stream, headers, Buffer.concat(chunks)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    sessions,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A TCP relay to `port` whose connections can be frozen: bytes stop, sockets stay open. */
export interface Relay {
  readonly port: number;
  readonly connections: number;
  freeze(): void;
  close(): Promise<void>;
}

export async function startRelay(port: number): Promise<Relay> {
  const pairs: [Socket, Socket][] = [];
  let frozen = false;
  const server: Server = createTcpServer((a) => {
    const b = connect(port, '127.0.0.1');
    pairs.push([a, b]);
    a.on('error', () => {});
    b.on('error', () => {});
    a.on('data', (d) => {
      if (!frozen) b.write(d);
    });
    b.on('data', (d) => {
      if (!frozen) a.write(d);
    });
    a.on('close', () => b.destroy());
    b.on('close', () => a.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return pairs.length;
    },
    freeze: () => {
      frozen = true;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
        server.close(() => r());
      }),
  };
}
