import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { HeaderList } from '../core/headers.ts';
import { Ticker } from '../core/ticker.ts';
import { BODY_LENGTH, BODY_NONE, type BodyKind } from '../http1/request-head.ts';
import type { UpstreamConnection } from './connection.ts';
import { UpstreamPool } from './pool.ts';
import type { OutgoingRequest } from './stream.ts';
import { poolOptions, startOrigin, TestUser } from './test-pool.ts';

/** An origin that keeps every byte each connection sent and answers each head with "ok". */
async function recordingOrigin() {
  const received = new Map<Socket, string>();
  const closeWaiters: (() => void)[] = [];
  const origin = await startOrigin((s) => {
    received.set(s, '');
    s.on('close', () => {
      for (const w of closeWaiters.splice(0)) w();
    });
    s.on('data', (d) => {
      const all = received.get(s)! + d.toString('latin1');
      received.set(s, all);
      // One answer per complete head or body-carrying request (bodies here are 2 bytes).
      if (all.endsWith('\r\n\r\n') || all.endsWith('\r\n\r\nhi')) {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }
    });
  });
  return {
    port: origin.port,
    /** Everything received, per connection, in the order connections came. */
    texts: () => [...received.values()],
    /** Resolves when one of the origin's sockets closes next. */
    nextClose: () => new Promise<void>((r) => closeWaiters.push(r)),
    close: origin.close,
  };
}

function request(target: string, bodyKind: BodyKind = BODY_NONE): OutgoingRequest {
  const contentLength = bodyKind === BODY_LENGTH ? 2 : 0;
  return {
    method: bodyKind === BODY_NONE ? 'GET' : 'POST',
    target,
    headers: new HeaderList([], [], []),
    bodyKind,
    contentLength,
    upgrade: null,
    forwardedFor: null,
    h1Fields: () => (contentLength > 0 ? 'Content-Length: 2\r\n\r\n' : '\r\n'),
  };
}

/** A user that hands each ready connection to `onReady` and resolves with the body when the response ended. */
class User extends TestUser<string> {
  readonly onReady: (conn: UpstreamConnection) => void;
  constructor(onReady: (conn: UpstreamConnection) => void) {
    super();
    this.onReady = onReady;
  }
  onUpstreamReady(conn: UpstreamConnection): void {
    this.onReady(conn);
  }
  protected result(): string {
    return this.body;
  }
}

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const o = await recordingOrigin();
  const ticker = new Ticker();
  const pool = new UpstreamPool(poolOptions(o.port), ticker);
  t.after(async () => {
    pool.close();
    ticker.stop();
    await o.close();
  });
  return { o, pool };
}

describe('request heads written at the end of the turn', () => {
  it('writes the heads of one turn together after it, each whole and once', async (t) => {
    const { o, pool } = await setup(t);
    // Open 6 keep-alive connections first, so that the second round gets them at once.
    const warm = Array.from({ length: 6 }, (_, i) => {
      const u = new User((c) => c.sendHead(request(`/warm${i}`), 'a'));
      pool.acquire(u, 'GET');
      return u.done;
    });
    assert.deepEqual(await Promise.all(warm), Array(6).fill('ok'));
    assert.equal(pool.idleCount, 6);

    const conns: UpstreamConnection[] = [];
    const written: number[] = [];
    const round = Array.from({ length: 6 }, (_, i) => {
      const u = new User((c) => {
        const before = c.socket.bytesWritten;
        c.sendHead(request(`/n${i}`), 'a');
        conns.push(c);
        written.push(c.socket.bytesWritten - before);
      });
      pool.acquire(u, 'GET');
      return u.done;
    });
    // Still the turn the heads were made in: nothing handed to the sockets yet, all queued.
    assert.equal(conns.length, 6, 'idle connections are handed out at once');
    assert.deepEqual(written, Array(6).fill(0));
    for (const c of conns) assert.ok(c.pendingBytes > 0, 'the queued head counts as pending');
    assert.deepEqual(await Promise.all(round), Array(6).fill('ok'));
    const heads = o
      .texts()
      .map((s) => s.slice(s.indexOf('\r\n\r\n') + 4))
      .sort();
    assert.deepEqual(
      heads,
      Array.from({ length: 6 }, (_, i) => `GET /n${i} HTTP/1.1\r\nHost: a\r\n\r\n`).sort(),
    );
  });

  it('writes a head with a body at once, and a queued head before anything corked after it', async (t) => {
    const { o, pool } = await setup(t);
    const post = new User((c) => {
      const before = c.socket.bytesWritten;
      c.sendHead(request('/post', BODY_LENGTH), 'a');
      assert.ok(c.socket.bytesWritten > before, 'a head with a body goes out with it, not later');
      c.sendBody(Buffer.from('hi'), 0, 2);
      c.endBody();
    });
    pool.acquire(post, 'POST');
    assert.equal(await post.done, 'ok');
    const corked = new User((c) => {
      c.sendHead(request('/get'), 'a');
      // A caller that corks (a replay) writes after the head: the head is flushed first.
      c.cork();
      c.uncork();
    });
    pool.acquire(corked, 'GET');
    assert.equal(await corked.done, 'ok');
    assert.deepEqual(o.texts(), [
      'POST /post HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi' +
        'GET /get HTTP/1.1\r\nHost: a\r\n\r\n',
    ]);
  });

  it('writes nothing for a connection destroyed before the end of the turn', async (t) => {
    const { o, pool } = await setup(t);
    const warm = new User((c) => c.sendHead(request('/warm'), 'a'));
    pool.acquire(warm, 'GET');
    assert.equal(await warm.done, 'ok');
    let conn: UpstreamConnection | null = null;
    const closed = o.nextClose();
    const u = new User((c) => {
      conn = c;
      c.sendHead(request('/dropped'), 'a');
      c.destroy();
    });
    pool.acquire(u, 'GET');
    assert.ok(conn !== null);
    // The turn's flush skips it (a write to a destroyed socket would raise an error), and the
    // origin sees the connection close with only the first request on it.
    await closed;
    assert.deepEqual(o.texts(), ['GET /warm HTTP/1.1\r\nHost: a\r\n\r\n']);
  });
});
