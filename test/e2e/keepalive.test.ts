/**
 * Connection reuse on both legs, pipelining, keepAliveMaxRequests and keepAliveMaxTime, HTTP/1.0 and client
 * half-close, through the real proxy process.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Backend, simpleConfig, startBackend } from '../helpers/backends.ts';
import { connectsOf, curl } from '../helpers/curl.ts';
import { FakeUpstream, type UpstreamConnection } from '../helpers/fake-upstream.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { header, rawRequest } from '../helpers/raw-client.ts';
import { RawSession } from '../helpers/raw-session.ts';

/** A backend that echoes method, path and body, and counts TCP connections. */
async function countingBackend(): Promise<Backend & { connections: () => number }> {
  const b = await startBackend((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString();
      const text = `${req.method} ${req.url}${body === '' ? '' : ` ${body}`}`;
      if (req.url?.startsWith('/chunked') === true) {
        res.write(text.slice(0, 3));
        res.end(text.slice(3));
      } else res.end(text);
    });
  });
  let n = 0;
  b.server.on('connection', () => n++);
  return Object.assign(b, { connections: () => n });
}

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: ka.test\r\n${extra}\r\n`;

describe('keep-alive', () => {
  let backend: Awaited<ReturnType<typeof countingBackend>>;
  let proxy: ProxyProcess;
  let limited: ProxyProcess;
  let base: string;

  before(async () => {
    backend = await countingBackend();
    proxy = await startProxy({ config: simpleConfig([backend.url]).replace('DEBUG', 'INFO') });
    limited = await startProxy({
      config: simpleConfig([backend.url])
        .replace('DEBUG', 'INFO')
        .replace(
          'address: "127.0.0.1:0"',
          'address: "127.0.0.1:0"\n    transport:\n      keepAliveMaxRequests: 3',
        ),
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await Promise.all([proxy?.stop(), limited?.stop()]);
    await backend?.close();
  });

  it('reuses one client connection and a handful of backend connections for 200 sequential requests', async () => {
    const before = backend.connections();
    const args: string[] = [];
    for (let i = 0; i < 200; i++) args.push(`${base}/seq/${i}`);
    const r = await curl(args);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.transfers.length, 200);
    assert.ok(r.transfers.every((t) => t.status === 200));
    assert.equal(r.body.toString(), Array.from({ length: 200 }, (_, i) => `GET /seq/${i}`).join(''));
    assert.equal(connectsOf(r), 1);
    const opened = backend.connections() - before;
    assert.ok(opened >= 1 && opened <= 2, `backend saw ${opened} new connections`);
  });

  it('shares pooled backend connections between separate client connections', async () => {
    const before = backend.connections();
    for (let i = 0; i < 20; i++) {
      const r = await curl([`${base}/client/${i}`]);
      assert.equal(r.status, 200);
    }
    assert.ok(
      backend.connections() - before <= 1,
      `backend saw ${backend.connections() - before} new connections`,
    );
  });

  it('answers pipelined requests in order on one connection', async () => {
    const methods = ['GET', 'POST', 'GET', 'HEAD', 'GET', 'GET'];
    const r = await rawRequest(
      proxy.port,
      get('/p1') +
        'POST /p2 HTTP/1.1\r\nHost: ka.test\r\nContent-Length: 5\r\n\r\nhello' +
        get('/chunked/p3') +
        'HEAD /p4 HTTP/1.1\r\nHost: ka.test\r\n\r\n' +
        'POST /p5 HTTP/1.1\r\nHost: ka.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
        get('/p6'),
      { methods, responses: 6, timeoutMs: 5000 },
    );
    assert.equal(r.parseError, null);
    assert.deepEqual(
      r.responses.map((x) => x.body.toString()),
      ['GET /p1', 'POST /p2 hello', 'GET /chunked/p3', '', 'POST /p5 abc', 'GET /p6'],
    );
    assert.ok(r.responses.every((x) => x.status === 200 && header(x, 'connection') === undefined));
    assert.equal(r.closedBy, 'client');
  });

  it('stops reading a client that pipelines and reads no response, and answers all once it reads', async () => {
    // 16 KiB answers: a few hundred fill the loopback buffers, so 4,000 pipelined requests
    // (64 MiB of answers) would pile up in the proxy if it kept reading the client.
    const N = 4000;
    const SIZE = 16 * 1024;
    const body = Buffer.alloc(SIZE, 'a');
    let served = 0;
    const big = await startBackend((_req, res) => {
      served++;
      res.end(body);
    });
    const p = await startProxy({ config: simpleConfig([big.url]).replace('DEBUG', 'INFO') });
    const c = connect(p.port, '127.0.0.1');
    try {
      await once(c, 'connect');
      c.pause(); // reads stop once Node's stream buffer is full: the kernel's then fill up
      c.write(get('/big').repeat(N));
      // Wait until the proxy stops asking the backend (the count holds still for 1 s).
      const deadline = Date.now() + 30_000;
      let last = -1;
      while (served !== last && Date.now() < deadline) {
        last = served;
        await sleep(1000);
      }
      assert.ok(served < N / 2, `the proxy went on reading: ${served} of ${N} requests reached the backend`);
      // Once the client reads, every answer comes, in order, whole.
      const head = 'HTTP/1.1 200 OK';
      let text = '';
      let answers = 0;
      const all = new Promise<void>((resolve) => {
        c.on('data', (d: Buffer) => {
          text += d.toString('latin1');
          let i = text.indexOf(head);
          while (i !== -1) {
            answers++;
            i = text.indexOf(head, i + head.length);
          }
          text = text.slice(Math.max(0, text.length - head.length));
          if (answers === N) resolve();
        });
      });
      c.resume();
      await Promise.race([all, sleep(30_000)]);
      assert.equal(answers, N);
      assert.equal(served, N);
    } finally {
      c.destroy();
      await p.stop();
      await big.close();
    }
  });

  it('relays small and larger bodies byte for byte, every byte value', async () => {
    const bytes = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) bytes[i] = i;
    const bodies = [bytes, Buffer.concat([bytes, bytes, bytes, bytes]), Buffer.concat(Array(20).fill(bytes))];
    const b = await startBackend((req, res) => {
      res.end(bodies[Number(req.url?.slice(1))]);
    });
    const p = await startProxy({ config: simpleConfig([b.url]).replace('DEBUG', 'INFO') });
    try {
      for (let i = 0; i < bodies.length; i++) {
        const r = await rawRequest(p.port, get(`/${i}`), { responses: 1, timeoutMs: 5000 });
        assert.equal(r.responses[0]!.status, 200);
        assert.deepEqual(r.responses[0]!.body, bodies[i], `body ${i} (${bodies[i]!.length} bytes)`);
      }
    } finally {
      await p.stop();
      await b.close();
    }
  });

  it('answers requests sent one at a time on the same raw connection', async () => {
    const c = await RawSession.open(proxy.port);
    try {
      for (let i = 1; i <= 3; i++) {
        c.write(get(`/one/${i}`));
        const all = await c.responses(i);
        assert.equal(all[i - 1]!.body.toString(), `GET /one/${i}`);
      }
      assert.equal(c.closedBy, null);
    } finally {
      c.destroy();
    }
  });

  it('closes after keepAliveMaxRequests, announcing it on the last response', async () => {
    const before = backend.seen.length;
    const r = await rawRequest(limited.port, get('/m1') + get('/m2') + get('/m3') + get('/m4'), {
      timeoutMs: 5000,
    });
    assert.equal(r.parseError, null);
    assert.deepEqual(
      r.responses.map((x) => x.body.toString()),
      ['GET /m1', 'GET /m2', 'GET /m3'],
    );
    assert.equal(header(r.responses[1]!, 'connection'), undefined);
    assert.equal(header(r.responses[2]!, 'connection'), 'close');
    assert.equal(r.closedBy, 'fin');
    assert.equal(r.rest.length, 0);
    assert.equal(backend.seen.length - before, 3, 'the fourth request never reached the backend');

    const args: string[] = [];
    for (let i = 0; i < 7; i++) args.push(`http://127.0.0.1:${limited.port}/c/${i}`);
    const c = await curl(args);
    assert.ok(c.transfers.every((t) => t.status === 200));
    assert.equal(connectsOf(c), 3);
  });

  it('closes after answering an HTTP/1.1 request that asked for Connection: close', async () => {
    const before = backend.seen.length;
    const r = await rawRequest(proxy.port, get('/bye', 'Connection: close\r\n') + get('/never'), {
      timeoutMs: 5000,
    });
    assert.equal(r.responses.length, 1);
    assert.equal(r.responses[0]!.body.toString(), 'GET /bye');
    assert.equal(header(r.responses[0]!, 'connection'), 'close');
    assert.equal(r.closedBy, 'fin');
    assert.equal(backend.seen.length - before, 1);
  });

  it('closes an HTTP/1.0 connection without keep-alive after the response', async () => {
    const r = await rawRequest(proxy.port, 'GET /old HTTP/1.0\r\n\r\n', { timeoutMs: 5000 });
    assert.equal(r.responses.length, 1);
    assert.equal(r.responses[0]!.status, 200);
    assert.equal(r.responses[0]!.body.toString(), 'GET /old');
    assert.equal(header(r.responses[0]!, 'connection'), 'close');
    assert.equal(r.closedBy, 'fin');
  });

  it('keeps an HTTP/1.0 keep-alive connection open, and ends a body it cannot chunk by closing', async () => {
    const c = await RawSession.open(proxy.port);
    try {
      c.write('GET /old-ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      const [first] = await c.responses(1);
      assert.equal(first!.body.toString(), 'GET /old-ka');
      assert.equal(header(first!, 'connection')?.toLowerCase(), 'keep-alive');
      assert.equal(header(first!, 'content-length'), '11');
      // The backend answers this one chunked; an HTTP/1.0 client cannot read chunked, so the
      // proxy delimits the body by closing the connection.
      c.write('GET /chunked/old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      assert.equal(await c.serverClosed, 'fin');
      const all = c.parsed();
      assert.equal(all.length, 2);
      assert.equal(all[1]!.framing, 'close');
      assert.equal(all[1]!.complete, true);
      assert.equal(all[1]!.body.toString(), 'GET /chunked/old');
      assert.equal(header(all[1]!, 'connection'), 'close');
      assert.equal(header(all[1]!, 'transfer-encoding'), undefined);
    } finally {
      c.destroy();
    }
  });

  it('still answers a client that half-closes right after its request', async () => {
    const r = await rawRequest(proxy.port, get('/half'), { end: true, timeoutMs: 5000 });
    assert.equal(r.responses.length, 1);
    assert.equal(r.responses[0]!.body.toString(), 'GET /half');
    assert.equal(r.closedBy, 'fin');

    const p = await rawRequest(
      proxy.port,
      `POST /half-body HTTP/1.1\r\nHost: ka.test\r\nContent-Length: 4\r\n\r\nbody${get('/half-2')}`,
      { end: true, timeoutMs: 5000, methods: ['POST', 'GET'] },
    );
    assert.deepEqual(
      p.responses.map((x) => x.body.toString()),
      ['POST /half-body body', 'GET /half-2'],
    );
    assert.ok(p.responses.every((x) => x.complete));
    assert.equal(p.closedBy, 'fin');
  });
});

/**
 * Responses after which the upstream socket must not carry another request. The fake upstream
 * keeps every connection open and answers every request it gets, so a proxy that reused the
 * socket anyway would show up as a second request on the first connection.
 */
const NOT_REUSABLE: Readonly<Record<string, string>> = {
  '/conn-close': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok',
  '/http10': 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok',
  '/extra-bytes':
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged',
  '/cl-and-te':
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  '/head-with-body': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
};

async function answerAll(conn: UpstreamConnection): Promise<void> {
  for (let n = 1; ; n++) {
    let target: string;
    try {
      target = (await conn.request(n)).target;
    } catch {
      return;
    }
    conn.write(NOT_REUSABLE[target] ?? 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext');
  }
}

describe('keepAliveMaxTime', () => {
  it('closes a connection after the first request that finds it older than the limit, saying so', async (t) => {
    const backend = await countingBackend();
    t.after(() => backend.close());
    const p = await startProxy({
      config: simpleConfig([backend.url])
        .replace('DEBUG', 'INFO')
        .replace(
          'address: "127.0.0.1:0"',
          'address: "127.0.0.1:0"\n    transport:\n      keepAliveMaxTime: 1s',
        ),
    });
    t.after(() => p.stop());
    const c = await RawSession.open(p.port);
    try {
      c.write(get('/young'));
      const [first] = await c.responses(1);
      assert.equal(header(first!, 'connection'), undefined);
      // Traefik's keepAliveMiddleware: a request that arrives once the connection is older than
      // keepAliveMaxTime gets `Connection: close`, and the connection ends after its response.
      await sleep(1500);
      c.write(get('/old'));
      const all = await c.responses(2);
      assert.equal(all[1]!.body.toString(), 'GET /old');
      assert.equal(header(all[1]!, 'connection'), 'close');
      assert.equal(await c.serverClosed, 'fin');
    } finally {
      c.destroy();
    }
  });
});

describe('upstream connection reuse', () => {
  let upstream: FakeUpstream;
  let proxy: ProxyProcess;

  before(async () => {
    upstream = await FakeUpstream.start(answerAll);
    proxy = await startProxy({
      config: simpleConfig([`http://127.0.0.1:${upstream.port}`]).replace('DEBUG', 'INFO'),
    });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  it('reuses the upstream connection after a cleanly delimited keep-alive response', async () => {
    const before = upstream.connections.length;
    const r = await curl([`http://127.0.0.1:${proxy.port}/a`, `http://127.0.0.1:${proxy.port}/b`]);
    assert.equal(r.body.toString(), 'nextnext');
    assert.equal(upstream.connections.length - before, 1);
  });

  for (const path of Object.keys(NOT_REUSABLE)) {
    it(`opens a new upstream connection after ${path.slice(1)}`, async () => {
      const method = path === '/head-with-body' ? 'HEAD' : 'GET';
      const after = `/after${path}`;
      const r = await rawRequest(
        proxy.port,
        `${method} ${path} HTTP/1.1\r\nHost: ka.test\r\n\r\nGET ${after} HTTP/1.1\r\nHost: ka.test\r\n\r\n`,
        { responses: 2, methods: [method, 'GET'], timeoutMs: 5000 },
      );
      assert.equal(r.parseError, null);
      assert.deepEqual(
        r.responses.map((x) => x.status),
        [200, 200],
      );
      assert.equal(r.responses[0]!.body.toString(), method === 'HEAD' ? '' : 'ok');
      assert.equal(r.responses[1]!.body.toString(), 'next');
      const first = upstream.connections.find((c) => c.requests.some((q) => q.target === path))!;
      const second = upstream.connections.find((c) => c.requests.some((q) => q.target === after))!;
      assert.notEqual(first, second, 'the next request went to a fresh connection');
      assert.equal(first.requests.at(-1)!.target, path, 'nothing followed on the first connection');
      await first.closed;
    });
  }
});

describe('serversTransports.maxIdleConnsPerHost', () => {
  let zero: Awaited<ReturnType<typeof countingBackend>>;
  let negative: Awaited<ReturnType<typeof countingBackend>>;
  let proxy: ProxyProcess;

  before(async () => {
    zero = await countingBackend();
    negative = await countingBackend();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  serversTransports:
    zero: { maxIdleConnsPerHost: 0 }
    negative: { maxIdleConnsPerHost: -1 }
  routers:
    zero: { rule: "PathPrefix(\`/zero/\`)", service: zero }
    negative: { rule: "PathPrefix(\`/negative/\`)", service: negative }
  services:
    zero: { loadBalancer: { serversTransport: zero, servers: [{ url: "${zero.url}" }] } }
    negative: { loadBalancer: { serversTransport: negative, servers: [{ url: "${negative.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([zero?.close(), negative?.close()]);
  });

  /** New backend connections for 10 sequential requests through `prefix`. */
  async function opened(
    backend: Awaited<ReturnType<typeof countingBackend>>,
    prefix: string,
  ): Promise<number> {
    const before = backend.connections();
    const args: string[] = [];
    for (let i = 0; i < 10; i++) args.push(`http://127.0.0.1:${proxy.port}/${prefix}/${i}`);
    const r = await curl(args);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.ok(r.transfers.every((t) => t.status === 200));
    return backend.connections() - before;
  }

  // Traefik hands the value to Go's http.Transport: 0 means its default, a negative value keeps
  // no idle connection (pkg/server/service/transport.go createRoundTripper).
  it('0 keeps idle connections, as the default does', async () => {
    const n = await opened(zero, 'zero');
    assert.ok(n >= 1 && n <= 2, `backend saw ${n} new connections`);
  });

  it('a negative value keeps none: each request opens its own connection', async () => {
    assert.equal(await opened(negative, 'negative'), 10);
  });
});
