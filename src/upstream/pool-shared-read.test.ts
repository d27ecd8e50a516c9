import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ticker } from '../core/ticker.ts';
import type { ParsedResponse } from '../http1/response-head.ts';
import type { UpstreamConnection } from './connection.ts';
import { UpstreamPool } from './pool.ts';
import { poolOptions, startOrigin, type TestOrigin, TestUser } from './test-pool.ts';

/*
 * Plain upstream connections read into one buffer shared by all of them (ReadSlot `shared`).
 * What a user is handed must stay its own: this user keeps every Buffer it gets, uncopied, and
 * reads them only once every response of the round has arrived, after the other connections
 * have read into the shared buffer many times. Sizes: a body read with its head, one past the
 * copy limit (4 KiB) that fits in the shared buffer, and one that fills it (then the connection
 * reads into buffers of its own).
 */

/** `GET /<size>/<tag>` is answered with `size` bytes: the tag, repeated. */
function origin(): Promise<TestOrigin> {
  return startOrigin((s) => {
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
}

function body(size: number, tag: string): string {
  return tag.repeat(Math.ceil(size / tag.length)).slice(0, size);
}

/** Keeps the pieces it is handed as they are (views, no copy), not as text. */
class Keeper extends TestUser<void> {
  readonly pieces: Buffer[] = [];
  readonly #path: string;
  constructor(path: string) {
    super();
    this.#path = path;
  }
  onUpstreamReady(conn: UpstreamConnection): void {
    conn.socket.write(`GET ${this.#path} HTTP/1.1\r\nHost: a\r\n\r\n`);
  }
  override onUpstreamHead(_res: ParsedResponse, b: Buffer | null, s: number, e: number): void {
    if (b !== null && e > s) this.pieces.push(b.subarray(s, e));
  }
  override onUpstreamData(buf: Buffer, s: number, e: number): void {
    this.pieces.push(buf.subarray(s, e));
  }
  protected result(): void {}
}

describe('upstream connections sharing one read buffer', () => {
  it('hand every user bytes of its own, whatever the other connections read later', async (t) => {
    const o = await origin();
    const ticker = new Ticker();
    const pool = new UpstreamPool(poolOptions(o.port, { maxIdle: 100 }), ticker);
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

  it('hand a small whole body as text to a user that takes it, and bytes otherwise', async (t) => {
    // `GET /<size>/<tag>/<pad>`: the head carries a field of <pad> bytes before the body.
    const o = await startOrigin((s) => {
      let pending = '';
      s.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
          const [, size, tag, pad] = /^GET \/(\d+)\/([^/ ]+)\/(\d+) /.exec(pending)!;
          pending = pending.slice(end + 4);
          const n = Number(size);
          s.write(
            `HTTP/1.1 200 OK\r\nX-Pad: ${'p'.repeat(Number(pad))}\r\nContent-Length: ${n}\r\n\r\n${body(n, tag!)}`,
          );
        }
      });
    });
    const ticker = new Ticker();
    const pool = new UpstreamPool(poolOptions(o.port), ticker);
    t.after(async () => {
      pool.close();
      ticker.stop();
      await o.close();
    });
    class Text extends Keeper {
      readonly texts: string[] = [];
      readonly takes: boolean;
      constructor(path: string, takes: boolean) {
        super(path);
        this.takes = takes;
      }
      onUpstreamHeadText(_res: ParsedResponse, text: string): boolean {
        if (this.takes) this.texts.push(text);
        return this.takes;
      }
    }
    const cases = [
      { path: '/12/hello/0', takes: true, asText: true },
      { path: '/900/<t>/0', takes: true, asText: true },
      { path: '/12/hello/0', takes: false, asText: false },
      // The head's string is the first KiB of the read: a body past it comes as bytes.
      { path: '/40/<late>/1000', takes: true, asText: false },
    ];
    for (const c of cases) {
      const user = new Text(c.path, c.takes);
      pool.acquire(user, 'GET');
      await user.done;
      const [, size, tag] = /^\/(\d+)\/([^/]+)\//.exec(c.path)!;
      const expected = body(Number(size), tag!);
      if (c.asText) {
        assert.deepEqual(user.texts, [expected], c.path);
        assert.equal(user.pieces.length, 0, `${c.path}: no bytes as well`);
      } else {
        assert.deepEqual(user.texts, [], c.path);
        assert.equal(Buffer.concat(user.pieces).toString('latin1'), expected, c.path);
      }
    }
  });
});
