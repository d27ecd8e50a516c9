import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProxyError } from '../core/errors.ts';
import { Ticker } from '../core/ticker.ts';
import type { UpstreamConnection } from './connection.ts';
import { UpstreamPool } from './pool.ts';
import { poolOptions, startOrigin, type TestOrigin, TestUser } from './test-pool.ts';

/** A keep-alive origin on 127.0.0.1 that answers every request with "ok". */
function origin(): Promise<TestOrigin> {
  return startOrigin((s) => s.on('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')));
}

/** One request through the pool: resolves with the connection used and the body received. */
class Request extends TestUser<{ conn: UpstreamConnection; body: string }> {
  conn: UpstreamConnection | null = null;
  ready = false;
  onUpstreamReady(conn: UpstreamConnection): void {
    this.ready = true;
    this.conn = conn;
    conn.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  }
  protected result() {
    return { conn: this.conn!, body: this.body };
  }
}

describe('UpstreamPool', () => {
  it('reuses one keep-alive connection for sequential requests', async (t) => {
    const o = await origin();
    const ticker = new Ticker();
    const pool = new UpstreamPool(poolOptions(o.port), ticker);
    t.after(async () => {
      pool.close();
      ticker.stop();
      await o.close();
    });
    const used = new Set<UpstreamConnection>();
    for (let i = 0; i < 5; i++) {
      const r = new Request();
      pool.acquire(r, 'GET');
      const { conn, body } = await r.done;
      assert.equal(body, 'ok');
      used.add(conn);
    }
    assert.equal(used.size, 1);
    assert.equal(pool.stats.opened, 1);
    assert.equal(pool.stats.reused, 4);
    assert.equal(pool.idleCount, 1);
  });

  it('makes requests wait for a free connection when maxConns is reached, then serves them in order', async (t) => {
    const o = await origin();
    const ticker = new Ticker();
    const pool = new UpstreamPool(poolOptions(o.port, { maxConns: 1 }), ticker);
    t.after(async () => {
      pool.close();
      ticker.stop();
      await o.close();
    });
    const a = new Request();
    const b = new Request();
    pool.acquire(a, 'GET');
    pool.acquire(b, 'GET');
    assert.equal(pool.stats.waiting, 1, 'the second request queues instead of opening a connection');
    const ra = await a.done;
    const rb = await b.done;
    assert.equal(ra.body, 'ok');
    assert.equal(rb.body, 'ok');
    assert.equal(ra.conn, rb.conn, 'the released connection is handed to the waiter');
    assert.equal(pool.stats.opened, 1);
  });

  it('keeps at most maxIdle idle connections', async (t) => {
    const o = await origin();
    const ticker = new Ticker();
    const pool = new UpstreamPool(poolOptions(o.port, { maxIdle: 1 }), ticker);
    t.after(async () => {
      pool.close();
      ticker.stop();
      await o.close();
    });
    const reqs = [new Request(), new Request(), new Request()];
    for (const r of reqs) pool.acquire(r, 'GET');
    await Promise.all(reqs.map((r) => r.done));
    assert.equal(pool.stats.opened, 3, 'three concurrent requests need three connections');
    assert.equal(pool.idleCount, 1);
    assert.equal(pool.stats.closed, 2);
  });

  it('closes an idle connection once its idle deadline passes', async (t) => {
    const o = await origin();
    let now = 0;
    const ticker = new Ticker(100, () => now);
    const pool = new UpstreamPool(poolOptions(o.port, { idleTimeoutMs: 1_000 }), ticker);
    t.after(async () => {
      pool.close();
      ticker.stop();
      await o.close();
    });
    const r = new Request();
    pool.acquire(r, 'GET');
    await r.done;
    assert.equal(pool.idleCount, 1);
    now = 999;
    ticker.tick();
    assert.equal(pool.idleCount, 1);
    now = 1_001;
    ticker.tick();
    assert.equal(pool.idleCount, 0);
    assert.equal(pool.stats.closed, 1);
  });

  it('reports a refused connection as a connect-phase error', async (t) => {
    const o = await origin();
    const port = o.port;
    await o.close(); // nothing listens there any more
    const ticker = new Ticker();
    const pool = new UpstreamPool(poolOptions(port), ticker);
    t.after(() => {
      pool.close();
      ticker.stop();
    });
    const phases: string[] = [];
    const user = new Request();
    await new Promise<void>((resolve) => {
      user.onUpstreamError = (err: ProxyError, phase: 'connect' | 'head' | 'body') => {
        phases.push(`${err.code}:${phase}`);
        resolve();
      };
      pool.acquire(user, 'GET');
    });
    assert.deepEqual(phases, ['UPSTREAM_REFUSED:connect']);
    assert.equal(user.ready, false);
  });

  it('after close(), destroys idle connections and refuses new requests', async (t) => {
    const o = await origin();
    const ticker = new Ticker();
    const pool = new UpstreamPool(poolOptions(o.port), ticker);
    t.after(async () => {
      ticker.stop();
      await o.close();
    });
    const r = new Request();
    pool.acquire(r, 'GET');
    await r.done;
    pool.close();
    assert.equal(pool.idleCount, 0);
    const late = new Request();
    pool.acquire(late, 'GET');
    await assert.rejects(late.done, (e: ProxyError) => e.code === 'SERVICE_DISABLED');
  });
});
