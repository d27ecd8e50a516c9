import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { HeaderList } from '../core/headers.ts';
import { Ticker } from '../core/ticker.ts';
import { type PoolOptions, UpstreamPool } from '../upstream/pool.ts';
import { poolOptions } from '../upstream/test-pool.ts';
import {
  MIRROR_ABORTED,
  MIRROR_TIMEOUT,
  MirrorCopy,
  MirrorRequest,
  type MirrorRequestOptions,
  type MirrorResult,
  ResponseCapture,
} from './mirror-request.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function origin(t: TestContext, handler: Handler): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { server, port: (server.address() as { port: number }).port };
}

/** A pool whose ticker runs on a clock the test moves by hand. */
function makePool(t: TestContext, port: number, over: Partial<PoolOptions> = {}) {
  const clock = { now: 0 };
  const ticker = new Ticker(60_000, () => clock.now);
  const pool = new UpstreamPool(poolOptions(port, { maxIdle: 4, ...over }), ticker);
  t.after(() => {
    pool.close();
    ticker.stop();
  });
  return { pool, ticker, clock };
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

const OPTS: MirrorRequestOptions = { headers: [], digest: true, timeoutMs: 10_000 };

/**
 * The copy a test head describes (`METHOD target HTTP/1.1`, a Host line, other fields), as the
 * mirroring service builds it from a client request.
 */
function copyOf(head: string, body: Buffer | null): { copy: MirrorCopy; authority: string } {
  const lines = head.split('\r\n').filter((l) => l !== '');
  const [method = '', target = ''] = lines[0]!.split(' ');
  const headers = new HeaderList();
  let authority = '';
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    const name = line.slice(0, c);
    const value = line.slice(c + 1).trim();
    if (name.toLowerCase() === 'host') authority = value;
    else if (name.toLowerCase() !== 'content-length') headers.append(name, value);
  }
  return { copy: new MirrorCopy(method, target, headers, body, null), authority };
}

/** Starts a mirror; `result` resolves on the first done call, `calls` counts every call. */
function mirror(pool: UpstreamPool, head: string, body: Buffer | null, opts: MirrorRequestOptions = OPTS) {
  let calls = 0;
  let resolve!: (r: MirrorResult) => void;
  const result = new Promise<MirrorResult>((r) => {
    resolve = r;
  });
  const { copy, authority } = copyOf(head, body);
  const req = new MirrorRequest(pool, pool.ticker, copy, authority, opts, (r: MirrorResult) => {
    calls++;
    resolve(r);
  });
  req.start();
  return { req, result, calls: () => calls };
}

/** Lets pending socket events run (close, end), so that a late second done call would show. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

const GET = 'GET /x HTTP/1.1\r\nHost: mirror.test\r\n\r\n';

// A safety net, not a timing assertion: a broken completion path fails instead of hanging.
describe('MirrorRequest', { timeout: 20_000 }, () => {
  it('reports status, byte count and the digest of a Content-Length body for a GET without body', async (t) => {
    let seen = '';
    const { port } = await origin(t, (req, res) => {
      seen = `${req.method} ${req.url} ${req.headers.host}`;
      res.end('hello');
    });
    const { pool } = makePool(t, port);
    const m = mirror(pool, GET, null);
    const r = await m.result;
    assert.equal(seen, 'GET /x mirror.test');
    assert.deepEqual(r, {
      ok: true,
      status: 200,
      headers: {},
      digest: sha256('hello'),
      error: null,
      bytes: 5,
    });
    await settle();
    assert.equal(m.calls(), 1);
  });

  it('delivers a POST body to the server intact', async (t) => {
    const body = randomBytes(300_000);
    let received: Buffer | null = null;
    let length = '';
    const { port } = await origin(t, (req, res) => {
      const parts: Buffer[] = [];
      length = req.headers['content-length'] ?? '';
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        received = Buffer.concat(parts);
        res.statusCode = 201;
        res.end('stored');
      });
    });
    const { pool } = makePool(t, port);
    const head = `POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`;
    const m = mirror(pool, head, body);
    const r = await m.result;
    assert.equal(r.ok, true);
    assert.equal(r.status, 201);
    assert.equal(length, String(body.length));
    assert.ok(received !== null && body.equals(received));
    assert.equal(m.calls(), 1);
  });

  it('hashes a large Content-Length body that arrives over many reads', async (t) => {
    const sent = randomBytes(256 * 1024);
    const { port } = await origin(t, (_req, res) => {
      res.setHeader('content-length', sent.length);
      res.end(sent);
    });
    const { pool } = makePool(t, port);
    const r = await mirror(pool, GET, null).result;
    assert.equal(r.digest, sha256(sent));
    assert.equal(r.bytes, sent.length);
  });

  it('hashes the decoded payload of a chunked response, not its framing', async (t) => {
    const parts = [randomBytes(10), randomBytes(70_000), randomBytes(1), randomBytes(33_333)];
    const { port } = await origin(t, (_req, res) => {
      for (const p of parts) res.write(p);
      res.end();
    });
    const { pool } = makePool(t, port);
    const opts = { headers: ['transfer-encoding'], digest: true, timeoutMs: 10_000 };
    const r = await mirror(pool, GET, null, opts).result;
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.ok, true);
    assert.equal(r.digest, sha256(Buffer.concat(parts)));
    assert.equal(r.bytes, 10 + 70_000 + 1 + 33_333);
  });

  it('counts bytes without a digest when none is requested', async (t) => {
    const { port } = await origin(t, (_req, res) => res.end('abc'));
    const { pool } = makePool(t, port);
    const r = await mirror(pool, GET, null, { headers: [], digest: false, timeoutMs: 0 }).result;
    assert.equal(r.digest, null);
    assert.equal(r.bytes, 3);
  });

  it('captures only the selected headers, joining repeated fields and leaving absent ones undefined', async (t) => {
    const { port } = await origin(t, (_req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('X-Multi', ['a', 'b']);
      res.setHeader('X-Unselected', 'no');
      res.end('x');
    });
    const { pool } = makePool(t, port);
    const opts = { headers: ['content-type', 'x-multi', 'etag'], digest: false, timeoutMs: 10_000 };
    const r = await mirror(pool, GET, null, opts).result;
    assert.deepEqual(r.headers, { 'content-type': 'text/plain', 'x-multi': 'a, b', etag: undefined });
  });

  it('ignores interim 103 responses and reports the final one', async (t) => {
    const { port } = await origin(t, (_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.statusCode = 404;
      res.end('nope');
    });
    const { pool } = makePool(t, port);
    const m = mirror(pool, GET, null, { headers: ['link'], digest: true, timeoutMs: 10_000 });
    const r = await m.result;
    assert.equal(r.status, 404);
    assert.equal(r.headers['link'], undefined);
    assert.equal(r.digest, sha256('nope'));
    assert.equal(m.calls(), 1);
  });

  it('reads a HEAD response as bodyless despite its Content-Length', async (t) => {
    const { port } = await origin(t, (_req, res) => {
      res.setHeader('content-length', 1234);
      res.end();
    });
    const { pool } = makePool(t, port);
    const r = await mirror(pool, 'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n', null).result;
    assert.equal(r.ok, true);
    assert.equal(r.bytes, 0);
    assert.equal(r.digest, sha256(''));
  });

  it('reuses the keep-alive connection for the next mirror after a clean response', async (t) => {
    const { port } = await origin(t, (_req, res) => res.end('ok'));
    const { pool } = makePool(t, port);
    assert.equal((await mirror(pool, GET, null).result).ok, true);
    assert.equal((await mirror(pool, GET, null).result).ok, true);
    assert.equal(pool.stats.opened, 1);
    assert.equal(pool.stats.reused, 1);
  });

  it('replays a bodyless GET once on a fresh connection when a reused one was closed as it was written, but not a POST', async (t) => {
    // Answers the first request of each connection and closes on the second: the keep-alive race.
    const sockets = new Set<Socket>();
    const server = createNetServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      let n = 0;
      s.on('data', () => {
        if (n++ === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        else s.destroy();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
    );
    const { pool } = makePool(t, (server.address() as { port: number }).port);
    assert.equal((await mirror(pool, GET, null).result).ok, true);
    const replayed = mirror(pool, GET, null);
    const r = await replayed.result;
    assert.equal(r.ok, true);
    assert.equal(r.digest, sha256('ok'));
    assert.equal(pool.stats.opened, 2);
    const post = mirror(pool, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n', Buffer.from('x'));
    const p = await post.result;
    assert.equal(p.ok, false);
    assert.match(p.error ?? '', /^UPSTREAM_RESET: /);
    await settle();
    assert.equal(replayed.calls(), 1);
    assert.equal(post.calls(), 1);
  });

  it('reports an error result when the server resets mid-response', async (t) => {
    const { port } = await origin(t, (req, res) => {
      res.writeHead(200, { 'content-length': 1000 });
      res.write('0123456789', () => req.socket.resetAndDestroy());
    });
    const { pool, ticker } = makePool(t, port);
    const m = mirror(pool, GET, null);
    const r = await m.result;
    assert.equal(r.ok, false);
    assert.equal(r.status, 0);
    assert.equal(r.digest, null);
    assert.deepEqual(r.headers, {});
    assert.match(r.error ?? '', /^UPSTREAM_RESET: /);
    assert.equal(ticker.size, 0);
    await settle();
    assert.equal(m.calls(), 1);
  });

  it('reports an error result when the server refuses the connection', async (t) => {
    const { port, server } = await origin(t, () => {});
    await new Promise<void>((r) => server.close(() => r()));
    const { pool } = makePool(t, port);
    const m = mirror(pool, GET, null);
    const r = await m.result;
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /^UPSTREAM_REFUSED: /);
    await settle();
    assert.equal(m.calls(), 1);
  });

  it('reports a closed pool synchronously from start()', async (t) => {
    const { port } = await origin(t, () => {});
    const { pool } = makePool(t, port);
    pool.close();
    const m = mirror(pool, GET, null);
    assert.equal(m.calls(), 1);
    assert.match((await m.result).error ?? '', /^SERVICE_DISABLED: /);
  });

  it('times out a hanging server on the ticker and closes the connection', async (t) => {
    let serverSocket: Socket | null = null;
    let arrived!: () => void;
    const requestArrived = new Promise<void>((r) => {
      arrived = r;
    });
    const { port } = await origin(t, (req) => {
      serverSocket = req.socket;
      arrived();
    });
    const { pool, ticker, clock } = makePool(t, port);
    const m = mirror(pool, GET, null, { headers: [], digest: true, timeoutMs: 500 });
    await requestArrived;
    const closed = new Promise<void>((r) => serverSocket!.once('close', () => r()));
    clock.now += 499;
    ticker.tick();
    assert.equal(m.calls(), 0);
    clock.now += 1;
    ticker.tick();
    assert.equal(m.calls(), 1);
    const r = await m.result;
    assert.deepEqual(r, { ok: false, status: 0, headers: {}, digest: null, error: MIRROR_TIMEOUT, bytes: 0 });
    await closed;
    assert.equal(ticker.size, 0);
    await settle();
    assert.equal(m.calls(), 1);
  });

  it('times out a response whose body stalls after the head', async (t) => {
    let arrived!: () => void;
    const headSent = new Promise<void>((r) => {
      arrived = r;
    });
    const { port } = await origin(t, (_req, res) => {
      res.writeHead(200, { 'content-length': 100 });
      res.write('part', () => arrived());
    });
    const { pool, ticker, clock } = makePool(t, port);
    const m = mirror(pool, GET, null, { headers: [], digest: true, timeoutMs: 100 });
    await headSent;
    await settle();
    clock.now += 100;
    ticker.tick();
    assert.equal(m.calls(), 1);
    const r = await m.result;
    assert.equal(r.error, MIRROR_TIMEOUT);
    assert.equal(r.status, 0);
    await settle();
    assert.equal(m.calls(), 1);
  });

  it('abort() destroys the connection and reports aborted once', async (t) => {
    let serverSocket: Socket | null = null;
    let arrived!: () => void;
    const requestArrived = new Promise<void>((r) => {
      arrived = r;
    });
    const { port } = await origin(t, (req) => {
      serverSocket = req.socket;
      arrived();
    });
    const { pool, ticker } = makePool(t, port);
    const m = mirror(pool, GET, null);
    await requestArrived;
    const closed = new Promise<void>((r) => serverSocket!.once('close', () => r()));
    m.req.abort();
    assert.equal(m.calls(), 1);
    assert.equal((await m.result).error, MIRROR_ABORTED);
    m.req.abort();
    await closed;
    assert.equal(ticker.size, 0);
    await settle();
    assert.equal(m.calls(), 1);
  });

  it('abort() while queued for a connection leaves the pool queue', async (t) => {
    const { port } = await origin(t, () => {});
    const { pool } = makePool(t, port, { maxConns: 1 });
    const first = mirror(pool, GET, null);
    const queued = mirror(pool, GET, null);
    assert.equal(pool.stats.waiting, 1);
    queued.req.abort();
    assert.equal(pool.stats.waiting, 0);
    assert.equal(queued.calls(), 1);
    assert.equal((await queued.result).error, MIRROR_ABORTED);
    first.req.abort();
    assert.equal(first.calls(), 1);
  });

  it('abort() while connecting withdraws from the pool and reports aborted once', async (t) => {
    const { port } = await origin(t, (_req, res) => res.end('late'));
    const { pool } = makePool(t, port);
    const m = mirror(pool, GET, null);
    m.req.abort();
    assert.equal(m.calls(), 1);
    assert.equal((await m.result).error, MIRROR_ABORTED);
    await settle();
    assert.equal(m.calls(), 1);
  });
});

describe('ResponseCapture', () => {
  it('gives the primary the same header and digest reduction as a mirror', () => {
    const c = new ResponseCapture(['etag', 'vary'], true);
    c.head(
      200,
      HeaderList.from([
        ['ETag', '"1"'],
        ['Vary', 'a'],
        ['vary', 'b'],
      ]),
    );
    c.data(Buffer.from('xxhello'), 2, 7);
    c.data(Buffer.from('!'), 0, 1);
    assert.deepEqual(c.result(), {
      ok: true,
      status: 200,
      headers: { etag: '"1"', vary: 'a, b' },
      digest: sha256('hello!'),
      error: null,
      bytes: 6,
    });
  });
});
