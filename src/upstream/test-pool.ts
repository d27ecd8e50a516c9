/**
 * Test-only helpers for the HTTP/1.1 pool's unit tests: a TCP origin on loopback, the pool's
 * options, and an `UpstreamUser` that keeps the body and settles a promise, the same in each test.
 */
import { createServer, type Socket } from 'node:net';
import type { ProxyError } from '../core/errors.ts';
import type { ParsedResponse } from '../http1/response-head.ts';
import type { UpstreamConnection } from './connection.ts';
import type { PoolOptions } from './pool.ts';
import type { UpstreamUser } from './stream.ts';

export interface TestOrigin {
  readonly port: number;
  /** Destroys the connections still open, then stops listening. */
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1; `onConnection` gets each accepted socket (its errors are ignored). */
export async function startOrigin(onConnection: (s: Socket) => void): Promise<TestOrigin> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A keep-alive pool to 127.0.0.1:`port`: 10 idle connections kept, no cap, no head timeout; `over` changes any. */
export function poolOptions(port: number, over: Partial<PoolOptions> = {}): PoolOptions {
  return {
    host: '127.0.0.1',
    port,
    maxIdle: 10,
    maxConns: 0,
    idleTimeoutMs: 60_000,
    connectTimeoutMs: 5_000,
    responseHeaderTimeoutMs: 0,
    maxResponseHeaderBytes: 65_536,
    ...over,
  };
}

/**
 * A user of one request that keeps the response body as latin1 text: `done` resolves with
 * `result()` when the response ends, and rejects with the error when the pool reports one.
 * Subclasses write the request.
 */
export abstract class TestUser<T> implements UpstreamUser {
  body = '';
  readonly done: Promise<T>;
  #resolve!: (v: T) => void;
  #reject!: (e: Error) => void;

  constructor() {
    this.done = new Promise((res, rej) => {
      this.#resolve = res;
      this.#reject = rej;
    });
  }

  abstract onUpstreamReady(conn: UpstreamConnection): void;
  protected abstract result(): T;

  onUpstreamInterim(): void {}
  onUpstreamHead(_res: ParsedResponse, body: Buffer | null, start: number, end: number): void {
    if (body !== null) this.body += body.toString('latin1', start, end);
  }
  onUpstreamData(buf: Buffer, start: number, end: number): void {
    this.body += buf.toString('latin1', start, end);
  }
  onUpstreamEnd(): void {
    this.#resolve(this.result());
  }
  onUpstreamError(err: ProxyError, _phase: 'connect' | 'head' | 'body'): void {
    this.#reject(err);
  }
  onInternalError(e: unknown): void {
    this.#reject(e as Error);
  }
  onUpstreamDrain(): void {}
  onUpstreamUpgrade(): void {}
}
