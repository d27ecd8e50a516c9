import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { ProxyError } from '../core/errors.ts';
import { Ticker } from '../core/ticker.ts';
import type { ParsedResponse } from '../http1/response-head.ts';
import type { UpstreamConnection } from './connection.ts';
import { type PoolOptions, UpstreamPool } from './pool.ts';
import type { UpstreamUser } from './stream.ts';

/*
 * Plain upstream connections read into one buffer shared by all of them (ReadSlot `shared`).
 * What a user is handed must stay its own: this user keeps every Buffer it gets, uncopied, and
 * reads them only once every response of the round has arrived, after the other connections
 * have read into the shared buffer many times. Sizes: a body read with its head, one past the
 * copy limit (4 KiB) that fits in the shared buffer, and one that fills it (then the connection
 * reads into buffers of its own).
 */

/** `GET /<size>/<tag>` is answered with `size` bytes: the tag, repeated. */
async function origin(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let pending = '';
    s.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
        const [, size, tag] = /^GET \/(\d+)\/(\S+) /.exec(pending)!;
        pending = pending.slice(end + 4);
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n${body(Number(size), tag!)}`);
      }
    });
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

function body(size: number, tag: string): string {
  return tag.repeat(Math.ceil(size / tag.length)).slice(0, size);
}

/** Keeps the pieces it is handed as they are (views, no copy). */
class Keeper implements UpstreamUser {
  readonly pieces: Buffer[] = [];
  readonly done: Promise<void>;
  #resolve!: () => void;
  #reject!: (e: Error) => void;
  readonly #path: string;
  constructor(path: string) {
    this.#path = path;
    this.done = new Promise((res, rej) => {
      this.#resolve = res;
      this.#reject = rej;
    });
  }
  onUpstreamReady(conn: UpstreamConnection): void {
    conn.socket.write(`GET ${this.#path} HTTP/1.1\r\nHost: a\r\n\r\n`);
  }
  onUpstreamInterim(): void {}
  onUpstreamHead(_res: ParsedResponse, b: Buffer | null, s: number, e: number): void {
    if (b !== null && e > s) this.pieces.push(b.subarray(s, e));
  }
  onUpstreamData(buf: Buffer, s: number, e: number): void {
    this.pieces.push(buf.subarray(s, e));
  }
  onUpstreamEnd(): void {
    this.#resolve();
  }
  onUpstreamError(err: ProxyError): void {
    this.#reject(err);
  }
  onInternalError(e: unknown): void {
    this.#reject(e as Error);
  }
  onUpstreamDrain(): void {}
  onUpstreamUpgrade(): void {}
}

function options(port: number): PoolOptions {
  return {
    host: '127.0.0.1',
    port,
    maxIdle: 100,
    maxConns: 0,
    idleTimeoutMs: 60_000,
    connectTimeoutMs: 5_000,
    responseHeaderTimeoutMs: 0,
    maxResponseHeaderBytes: 65_536,
  };
}

describe('upstream connections sharing one read buffer', () => {
  it('hand every user bytes of its own, whatever the other connections read later', async (t) => {
    const o = await origin();
    const ticker = new Ticker();
    const pool = new UpstreamPool(options(o.port), ticker);
    t.after(async () => {
      pool.close();
      ticker.stop();
      await o.close();
    });
    const sizes = [40, 6000, 12_000, 40_000];
    for (let round = 0; round < 3; round++) {
      const users: { user: Keeper; expected: string }[] = [];
      for (let i = 0; i < 24; i++) {
        const size = sizes[i % sizes.length]!;
        const tag = `<${round}.${i}>`;
        const user = new Keeper(`/${size}/${tag}`);
        users.push({ user, expected: body(size, tag) });
        pool.acquire(user, 'GET');
      }
      await Promise.all(users.map((u) => u.user.done));
      for (const { user, expected } of users) {
        assert.equal(Buffer.concat(user.pieces).toString('latin1'), expected);
      }
    }
    assert.equal(pool.stats.opened, 24, 'the 24 requests of a round were in flight together');
  });
});
