import assert from 'node:assert/strict';
import type { ServerHttp2Stream } from 'node:http2';
import { after, describe, it } from 'node:test';

const ENGINES = ['node', 'own'] as const;

import { Ticker } from '../core/ticker.ts';
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE } from '../http1/request-head.ts';
import { H2Pool } from './h2-pool.ts';
import { h2PoolOptions, RecordingUser, startH2Server, startRelay } from './test-h2.ts';

function send(pool: H2Pool, user: RecordingUser): RecordingUser {
  pool.acquire(user, 'GET');
  return user;
}

const ticker = new Ticker(20);
after(() => ticker.stop());

/** Lets the event loop run until `cond` holds (streams close a few turns after their end). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), 'condition never held');
}

for (const engine of ENGINES) {
  describe(`H2Pool (${engine} engine)`, () => {
    it('sends method, path, authority and fields as HTTP/2 and relays status, body and trailers', async (t) => {
      const srv = await startH2Server((s, h, body) => {
        s.respond(
          {
            ':status': 201,
            'content-type': 'text/plain',
            'x-seen': `${h[':method']} ${h[':path']} ${h[':authority']} ${h['x-a']} ${h.te}`,
          },
          { waitForTrailers: true },
        );
        s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0', 'x-sum': String(body.length) }));
        s.end('hello');
      });
      const pool = new H2Pool(h2PoolOptions(srv.port), ticker, null, engine);
      t.after(async () => {
        pool.close();
        await srv.close();
      });
      const u = new RecordingUser({
        target: '/x?y=1',
        headers: [
          ['X-A', 'b'],
          ['Connection', 'keep-alive'],
          ['Content-Type', 'application/grpc'],
        ],
        body: [Buffer.from('abc'), Buffer.from('de')],
      });
      pool.acquire(u, 'POST');
      await u.done;
      assert.equal(u.error, null);
      assert.equal(u.head!.status, 201);
      assert.equal(u.head!.headers.get('x-seen'), 'POST /x?y=1 backend.test b trailers');
      assert.equal(u.head!.bodyKind, BODY_CHUNKED, 'no content-length: the client side re-frames');
      assert.equal(u.head!.trailers, true);
      assert.equal(u.body, 'hello');
      assert.equal(u.trailers!.get('grpc-status'), '0');
      assert.equal(u.trailers!.get('x-sum'), '5');
    });

    it('takes a Content-Length response as framed by it, and a HEADERS frame with END_STREAM as no body', async (t) => {
      const srv = await startH2Server((s, h) => {
        if (h[':path'] === '/len') {
          s.respond({ ':status': 200, 'content-length': '3' });
          s.end('abc');
        } else s.respond({ ':status': 200, 'grpc-status': '5' }, { endStream: true });
      });
      const pool = new H2Pool(h2PoolOptions(srv.port), ticker, null, engine);
      t.after(async () => {
        pool.close();
        await srv.close();
      });
      const a = send(pool, new RecordingUser({ target: '/len' }));
      const b = send(pool, new RecordingUser({ target: '/only' }));
      await Promise.all([a.done, b.done]);
      assert.equal(a.head!.bodyKind, BODY_LENGTH);
      assert.equal(a.head!.contentLength, 3);
      assert.equal(a.body, 'abc');
      assert.equal(b.head!.bodyKind, BODY_NONE);
      assert.equal(b.head!.headers.get('grpc-status'), '5');
      assert.ok(b.ended);
    });

    it('carries concurrent requests on one session until the server limit, then opens another', async (t) => {
      const held: ServerHttp2Stream[] = [];
      let release = (): void => {};
      const allHeld = new Promise<void>((r) => {
        release = r;
      });
      const srv = await startH2Server(
        (s, h) => {
          if (h[':path'] === '/warm') {
            s.respond({ ':status': 200 });
            s.end();
            return;
          }
          held.push(s);
          if (held.length === 4) release();
        },
        { maxConcurrentStreams: 2 },
      );
      const pool = new H2Pool(h2PoolOptions(srv.port), ticker, null, engine);
      t.after(async () => {
        pool.close();
        await srv.close();
      });
      // The first exchange brings the server's SETTINGS (2 streams at most).
      const warm = send(pool, new RecordingUser({ target: '/warm' }));
      await warm.done;
      const users = Array.from({ length: 4 }, (_, i) => send(pool, new RecordingUser({ target: `/${i}` })));
      await allHeld;
      assert.equal(srv.sessions.length, 2, 'a second session once the first had 2 streams');
      assert.equal(pool.streams.active, 4);
      for (const s of held) {
        s.respond({ ':status': 200 });
        s.end('ok');
      }
      await Promise.all(users.map((u) => u.done));
      assert.deepEqual(
        users.map((u) => u.body),
        ['ok', 'ok', 'ok', 'ok'],
      );
      assert.equal(pool.streams.opened, 5);
      assert.equal(pool.stats.opened, 2);
    });

    it('sends streams a GOAWAY left unprocessed again on a new session, body included', async (t) => {
      let first: ServerHttp2Stream | undefined;
      let held = 0;
      let seen = (): void => {};
      const firstSeen = new Promise<void>((r) => {
        seen = r;
      });
      const srv = await startH2Server((s, _h, body) => {
        if (s.session === srv.sessions[0]) {
          // Session 1 answers nothing; once streams 1, 3 and 5 are open on it, GOAWAY says only
          // stream 1 will be processed.
          if (++held === 1) {
            first = s;
            seen();
          }
          if (held === 3) s.session!.goaway(0, 1);
          return;
        }
        s.respond({ ':status': 200 });
        s.end(`again:${body.toString()}`);
      });
      const pool = new H2Pool(h2PoolOptions(srv.port), ticker, null, engine);
      t.after(async () => {
        pool.close();
        await srv.close();
      });
      const a = send(pool, new RecordingUser({ target: '/a' }));
      await firstSeen;
      const b = new RecordingUser({ target: '/b', body: Buffer.from('B') });
      pool.acquire(b, 'POST');
      const c = new RecordingUser({ target: '/c', body: [Buffer.from('C1'), Buffer.from('C2')] });
      pool.acquire(c, 'POST');
      await Promise.all([b.done, c.done]);
      assert.equal(b.error, null);
      assert.equal(c.error, null);
      assert.deepEqual([b.body, c.body].sort(), ['again:B', 'again:C1C2']);
      assert.equal(pool.streams.refused, 2);
      assert.equal(pool.streams.goaways, 1);
      assert.equal(srv.sessions.length, 2);
      first!.respond({ ':status': 200 });
      first!.end('first');
      await a.done;
      assert.equal(a.body, 'first', 'the stream below the last id finishes on the draining session');
    });

    it('fails a connect to a closed port as a connect error, nothing sent', async () => {
      const srv = await startH2Server(() => {});
      const port = srv.port;
      await srv.close();
      const pool = new H2Pool(h2PoolOptions(port), ticker, null, engine);
      const u = send(pool, new RecordingUser());
      await u.done;
      pool.close();
      assert.equal(u.error!.phase, 'connect');
      assert.equal(u.error!.err.code, 'UPSTREAM_REFUSED');
    });

    it('reports a session that dies mid-body as a broken body, never an end', async (t) => {
      const srv = await startH2Server((s) => {
        s.respond({ ':status': 200 });
        s.write('partial', () => s.session!.socket.destroy());
      });
      const pool = new H2Pool(h2PoolOptions(srv.port), ticker, null, engine);
      t.after(async () => {
        pool.close();
        await srv.close();
      });
      const u = send(pool, new RecordingUser());
      await u.done;
      assert.equal(u.ended, false);
      assert.equal(u.error!.phase, 'body');
      assert.equal(u.error!.err.code, 'UPSTREAM_RESET');
    });

    it('reports a stream the server resets before answering, with its error code', async (t) => {
      const srv = await startH2Server((s) => s.close(2));
      const pool = new H2Pool(h2PoolOptions(srv.port), ticker, null, engine);
      t.after(async () => {
        pool.close();
        await srv.close();
      });
      const u = send(pool, new RecordingUser());
      await u.done;
      assert.equal(u.error!.phase, 'head');
      assert.match(u.error!.err.message, /INTERNAL_ERROR/);
    });

    it('takes a silent session down when its PING goes unanswered, failing its streams', async (t) => {
      let now = 0;
      const clock = new Ticker(1_000_000, () => now);
      let seen = (): void => {};
      const arrived = new Promise<void>((r) => {
        seen = r;
      });
      const srv = await startH2Server((s, h) => {
        if (h[':path'] !== '/first') {
          seen(); // never answers
          return;
        }
        s.respond({ ':status': 200 });
        s.end('ok');
      });
      const relay = await startRelay(srv.port);
      const pool = new H2Pool(
        h2PoolOptions(relay.port, { readIdleTimeoutMs: 1000, pingTimeoutMs: 500 }),
        clock,
        null,
        engine,
      );
      t.after(async () => {
        pool.close();
        clock.stop();
        await relay.close();
        await srv.close();
      });
      // A first answer: the server's SETTINGS ACK came before it (otherwise the session would end
      // for that, pingTimeout after it began, before the PING below is due).
      const first = send(pool, new RecordingUser({ target: '/first' }));
      await first.done;
      assert.equal(first.body, 'ok');
      const u = send(pool, new RecordingUser());
      await arrived;
      relay.freeze(); // the server and the connection stay, no byte passes any more
      now = 1500;
      clock.tick(); // bytes were read since the session began: the silence starts counting now
      now = 2600;
      clock.tick(); // nothing read for readIdleTimeout: PING
      now = 2700;
      clock.tick();
      assert.equal(u.error, null, 'not yet: the PING has pingTimeout to come back');
      now = 3200;
      clock.tick(); // no answer within pingTimeout
      await u.done;
      assert.equal(u.error!.err.code, 'UPSTREAM_RESET');
      assert.match(u.error!.err.message, /PING/);
      assert.equal(u.error!.phase, 'head');
      assert.equal(pool.streams.pingTimeouts, 1);
    });

    it('keeps a session whose PINGs are answered', async (t) => {
      let now = 0;
      const clock = new Ticker(1_000_000, () => now);
      const srv = await startH2Server((s) => {
        s.respond({ ':status': 200 });
        s.end('ok');
      });
      const pool = new H2Pool(
        h2PoolOptions(srv.port, { readIdleTimeoutMs: 1000, pingTimeoutMs: 5000 }),
        clock,
        null,
        engine,
      );
      t.after(async () => {
        pool.close();
        clock.stop();
        await srv.close();
      });
      await send(pool, new RecordingUser()).done;
      const pinged = new Promise<void>((r) => srv.sessions[0]!.once('ping', () => r()));
      now = 1500;
      clock.tick();
      now = 2600;
      clock.tick(); // idle for readIdleTimeout: PING
      await pinged;
      // The server answered the PING before this request, on the same connection.
      const b = send(pool, new RecordingUser());
      await b.done;
      now = 8000;
      clock.tick();
      const c = send(pool, new RecordingUser());
      await c.done;
      assert.equal(c.body, 'ok');
      assert.equal(pool.streams.pingTimeouts, 0);
      assert.equal(pool.stats.opened, 1, 'the same session throughout');
    });

    it('closes a session idle for idleConnTimeout', async (t) => {
      let now = 0;
      const clock = new Ticker(1_000_000, () => now);
      const srv = await startH2Server((s) => {
        s.respond({ ':status': 200 });
        s.end();
      });
      const pool = new H2Pool(h2PoolOptions(srv.port, { idleTimeoutMs: 1000 }), clock, null, engine);
      t.after(async () => {
        pool.close();
        clock.stop();
        await srv.close();
      });
      await send(pool, new RecordingUser()).done;
      await until(() => pool.stats.idle === 1);
      now = 1200;
      clock.tick();
      await new Promise<void>((r) => srv.sessions[0]!.once('close', r));
      await until(() => pool.stats.closed === 1);
    });

    it('answers a response header timeout with a 504 error', async (t) => {
      const srv = await startH2Server(() => {});
      const pool = new H2Pool(h2PoolOptions(srv.port, { responseHeaderTimeoutMs: 50 }), ticker, null, engine);
      t.after(async () => {
        pool.close();
        await srv.close();
      });
      const u = send(pool, new RecordingUser());
      await u.done;
      assert.equal(u.error!.err.code, 'UPSTREAM_RESPONSE_TIMEOUT');
      assert.equal(u.error!.phase, 'head');
    });

    it('refuses requests once closed', async () => {
      const pool = new H2Pool(h2PoolOptions(1), ticker, null, engine);
      pool.close();
      const u = send(pool, new RecordingUser());
      await u.done;
      assert.equal(u.error!.err.code, 'SERVICE_DISABLED');
    });
  });
}
