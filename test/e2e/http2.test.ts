/**
 * HTTP/2 downstream through the real proxy process: cleartext h2c with prior knowledge on an
 * ordinary entry point, into the same routing, middlewares and services as HTTP/1.1. Real
 * clients (curl, nghttp, h2load) and node:http2 where a test needs to see frames' effects
 * (RST_STREAM codes, multiplexing); node:http backends behind.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ClientHttp2Session,
  connect,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { freePort as closedPort } from '../helpers/free-port.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';
import { runTool } from '../helpers/tools.ts';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Deterministic bytes whose hash changes wherever a segment is dropped, doubled or moved. */
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const BIG = pattern(3 * 1024 * 1024 + 17, 7);

interface H2Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The response ended with END_STREAM (a clean end). */
  readonly ended: boolean;
  /** RST_STREAM code the stream closed with (0 when it closed cleanly). */
  readonly rstCode: number;
  readonly error: string | null;
}

function h2request(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body?: Buffer,
): Promise<H2Reply> {
  return new Promise((resolve) => {
    const req = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let got: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let ended = false;
    let error: string | null = null;
    req.on('response', (h) => {
      got = h;
      status = Number(h[':status']);
    });
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      ended = true;
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    req.on('close', () =>
      resolve({ status, headers: got, body: Buffer.concat(chunks), ended, rstCode: req.rstCode, error }),
    );
    if (body !== undefined) req.end(body);
  });
}

/**
 * Answers `/echo*` with what arrived (method, url, fields, body hash), `/big` with BIG unframed,
 * `/hold*` when the test says so, `/endless` with a body that never ends (until the connection
 * closes, which `endless.closed` counts).
 */
function backendHandler(
  holds: { waiting: ServerResponse[]; want: number; onFull: () => void },
  endless: { closed: number; onClose: () => void },
) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url === '/endless') {
      const block = Buffer.alloc(64 * 1024, 0x61);
      const pump = (): void => {
        while (res.write(block)) {}
      };
      res.on('drain', pump);
      res.on('close', () => {
        endless.closed++;
        endless.onClose();
      });
      pump();
      return;
    }
    if (req.url === '/big') {
      // No Content-Length: the body reaches the proxy chunked and leaves it as DATA frames.
      res.writeHead(200, { 'content-type': 'application/octet-stream', connection: 'keep-alive' });
      res.end(BIG);
      return;
    }
    if (req.url?.startsWith('/hold')) {
      holds.waiting.push(res);
      if (holds.waiting.length === holds.want) holds.onFull();
      return;
    }
    const h = createHash('sha256');
    let n = 0;
    req.on('data', (d: Buffer) => {
      h.update(d);
      n += d.length;
    });
    req.on('end', () => {
      res.setHeader('x-backend', 'yes');
      res.setHeader('keep-alive', 'timeout=5');
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          headers: req.headers,
          bodyBytes: n,
          sha: h.digest('hex'),
        }),
      );
    });
  };
}

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
  bodyBytes: number;
  sha: string;
}

/** A backend that sends a response head promising 100000 bytes, sends part of it, and dies. */
async function startDyingBackend(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((s) => {
    s.once('data', () => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(30_000)}`, () => s.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

for (const engine of H2_ENGINES) {
  describe(`HTTP/2 (h2c with prior knowledge) [${engine} engine]`, () => {
    const holds = { waiting: [] as ServerResponse[], want: 0, onFull: () => {} };
    const endless = { closed: 0, onClose: () => {} };
    let backend: Backend;
    let dying: Awaited<ReturnType<typeof startDyingBackend>>;
    const backendSockets = new Set<net.Socket>();
    let proxy: ProxyProcess;
    let base: string;
    let session: ClientHttp2Session;

    before(async () => {
      backend = await startBackend(backendHandler(holds, endless));
      backend.server.on('connection', (s: net.Socket) => backendSockets.add(s));
      dying = await startDyingBackend();
      const refused = await closedPort();
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
accessLog: {}
http:
  routers:
    main: { rule: "Host(\`127.0.0.1\`)", service: be }
    api:
      rule: "Host(\`127.0.0.1\`) && PathPrefix(\`/api\`)"
      service: be
      middlewares: [strip, tag]
    sticky: { rule: "Host(\`127.0.0.1\`) && PathPrefix(\`/sticky\`)", service: sticky }
    refused: { rule: "Host(\`127.0.0.1\`) && PathPrefix(\`/refused\`)", service: refused }
    empty: { rule: "Host(\`127.0.0.1\`) && PathPrefix(\`/empty\`)", service: empty }
    dying: { rule: "Host(\`127.0.0.1\`) && PathPrefix(\`/dying\`)", service: dying }
  middlewares:
    strip: { stripPrefix: { prefixes: [/api] } }
    tag:
      headers:
        customRequestHeaders: { X-Mw: applied }
        customResponseHeaders: { X-Resp: from-middleware }
  services:
    be:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
    sticky:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
        sticky: { cookie: { name: tm_h2 } }
    refused:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:${refused}" }]
    empty:
      loadBalancer:
        servers: []
    dying:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:${dying.port}" }]
`,
      });
      base = `http://127.0.0.1:${proxy.port}`;
      session = connect(base);
      session.on('error', () => {});
    });

    after(async () => {
      session?.close();
      await proxy?.stop();
      await Promise.all([backend?.close(), dying?.close()]);
    });

    it('serves curl --http2-prior-knowledge GET through the same route as HTTP/1.1', async () => {
      const r = await curl(['--http2-prior-knowledge', `${base}/hello?a=1&b=2`]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.status, 200);
      assert.equal(r.transfers[0]?.info['http_version'], '2');
      const echo = JSON.parse(r.body.toString()) as Echo;
      assert.equal(echo.method, 'GET');
      assert.equal(echo.url, '/hello?a=1&b=2');
      assert.equal(echo.headers['host'], `127.0.0.1:${proxy.port}`);
      assert.equal(echo.headers['x-forwarded-proto'], 'http');
      assert.equal(echo.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(echo.headers['transfer-encoding'], undefined);
      // Hop-by-hop fields of the backend's response never reach an HTTP/2 client.
      assert.equal(r.headers['keep-alive'], undefined);
      assert.equal(r.headers['connection'], undefined);
      assert.deepEqual(r.headers['x-backend'], ['yes']);
    });

    it('forwards a POST body with its Content-Length, byte for byte (sha256)', async () => {
      const r = await curl(['--http2-prior-knowledge', '--data-binary', '@-', `${base}/echo/post`], {
        stdin: BIG,
      });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.status, 200);
      const echo = JSON.parse(r.body.toString()) as Echo;
      assert.equal(echo.method, 'POST');
      assert.equal(echo.bodyBytes, BIG.length);
      assert.equal(echo.sha, sha256(BIG));
      assert.equal(echo.headers['content-length'], String(BIG.length));
    });

    it('forwards a body of unknown length chunked upstream (sha256)', async () => {
      // `-T -` reads stdin without knowing its length: no content-length on the HTTP/2 request.
      const r = await curl(['--http2-prior-knowledge', '-T', '-', `${base}/echo/put`], { stdin: BIG });
      assert.equal(r.exitCode, 0, r.stderr);
      const echo = JSON.parse(r.body.toString()) as Echo;
      assert.equal(echo.method, 'PUT');
      assert.equal(echo.headers['transfer-encoding'], 'chunked');
      assert.equal(echo.bodyBytes, BIG.length);
      assert.equal(echo.sha, sha256(BIG));
    });

    it('streams a large response without a length as DATA frames (sha256)', async () => {
      const r = await curl(['--http2-prior-knowledge', `${base}/big`], { keepBody: false });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.status, 200);
      assert.equal(r.bodyBytes, BIG.length);
      assert.equal(r.sha256, sha256(BIG));
      assert.equal(r.headers['transfer-encoding'], undefined);
    });

    it('answers nghttp with :status and the backend fields', async () => {
      const r = await runTool('nghttp', ['-v', `${base}/echo/nghttp`]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /recv \(stream_id=\d+\) :status: 200/);
      assert.match(r.out, /recv \(stream_id=\d+\) x-backend: yes/);
      assert.doesNotMatch(r.out, /recv \(stream_id=\d+\) (connection|keep-alive):/);
      assert.match(r.out, /"url":"\/echo\/nghttp"/);
    });

    it('serves h2load -n 2000 -c 10 -m 10 without an error', async () => {
      const r = await runTool('h2load', ['-n', '2000', '-c', '10', '-m', '10', `${base}/echo/load`]);
      assert.equal(r.code, 0, r.out);
      assert.match(
        r.out,
        /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout/,
      );
      assert.match(r.out, /status codes: 2000 2xx, 0 3xx, 0 4xx, 0 5xx/);
    });

    it('sends concurrent streams of one connection to the backend at once, over pooled HTTP/1.1 connections', async () => {
      const n = 20;
      const before = backendSockets.size;
      const full = new Promise<void>((resolve) => {
        holds.waiting = [];
        holds.want = n;
        holds.onFull = resolve;
      });
      const replies = Array.from({ length: n }, (_, i) =>
        h2request(session, { ':path': `/hold/${i}`, ':authority': '127.0.0.1' }),
      );
      // Every stream is in flight at the backend at the same time: they were multiplexed.
      await full;
      for (const res of holds.waiting) res.end('held');
      const done = await Promise.all(replies);
      assert.deepEqual(
        done.map((r) => r.status),
        Array(n).fill(200),
      );
      const opened = backendSockets.size;
      assert.ok(opened - before <= n, `at most one new upstream connection per concurrent request`);
      assert.equal(
        new Set(holds.waiting.map((res) => res.req.socket)).size,
        n,
        'HTTP/1.1 upstream: one each',
      );
      // A second round reuses the pooled connections instead of dialing again.
      const again = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          h2request(session, { ':path': `/echo/again/${i}`, ':authority': '127.0.0.1' }),
        ),
      );
      assert.deepEqual(
        again.map((r) => r.status),
        Array(n).fill(200),
      );
      assert.equal(backendSockets.size, opened, 'no new upstream connection for the second round');
    });

    it('applies the route middlewares (stripPrefix, request and response headers)', async () => {
      const r = await h2request(session, { ':path': '/api/users?x=1', ':authority': '127.0.0.1' });
      assert.equal(r.status, 200);
      const echo = JSON.parse(r.body.toString()) as Echo;
      assert.equal(echo.url, '/users?x=1');
      assert.equal(echo.headers['x-mw'], 'applied');
      assert.equal(echo.headers['x-forwarded-prefix'], '/api');
      assert.equal(r.headers['x-resp'], 'from-middleware');
    });

    it('sends the sticky cookie of the service as set-cookie', async () => {
      const r = await h2request(session, { ':path': '/sticky/a', ':authority': '127.0.0.1' });
      assert.equal(r.status, 200);
      const cookies = r.headers['set-cookie'] ?? [];
      assert.ok(
        cookies.some((c) => c.startsWith('tm_h2=')),
        JSON.stringify(cookies),
      );
    });

    it('joins cookie crumbs and keeps repeated fields for the HTTP/1.1 backend', async () => {
      const r = await h2request(session, {
        ':path': '/echo/cookies',
        ':authority': '127.0.0.1',
        cookie: ['a=1', 'b=2'],
        'x-multi': ['one', 'two'],
      });
      const echo = JSON.parse(r.body.toString()) as Echo;
      assert.equal(echo.headers['cookie'], 'a=1; b=2');
      assert.equal(echo.headers['x-multi'], 'one, two');
    });

    it('answers 404, 502 and 503 as HTTP/2 responses on a connection that stays usable', async () => {
      const notFound = await h2request(session, { ':path': '/x', ':authority': 'other.test' });
      assert.equal(notFound.status, 404);
      assert.equal(notFound.ended, true);
      // Traefik's (Go's http.NotFound): the text with a newline, nosniff.
      assert.equal(notFound.body.toString(), '404 page not found\n');
      assert.equal(notFound.headers['x-content-type-options'], 'nosniff');
      const bad = await h2request(session, { ':path': '/refused/x', ':authority': '127.0.0.1' });
      assert.equal(bad.status, 502);
      assert.equal(bad.body.toString(), 'Bad Gateway');
      const unavailable = await h2request(session, { ':path': '/empty/x', ':authority': '127.0.0.1' });
      assert.equal(unavailable.status, 503);
      const ok = await h2request(session, { ':path': '/echo/after', ':authority': '127.0.0.1' });
      assert.equal(ok.status, 200);
      const viaCurl = await curl(['--http2-prior-knowledge', `${base}/refused/curl`]);
      assert.equal(viaCurl.status, 502);
      assert.equal(viaCurl.transfers[0]?.info['http_version'], '2');
    });

    it('refuses what HTTP/1.1 would refuse (a fragment in :path, a bad :authority) with 400', async () => {
      // nghttp2 may refuse it first, as a stream error: either way it is never served.
      const frag = await h2request(session, { ':path': '/a#frag', ':authority': '127.0.0.1' });
      assert.ok(frag.status === 400 || frag.rstCode === 1, `status ${frag.status}, rst ${frag.rstCode}`);
      const space = await h2request(session, { ':path': '/', ':authority': 'a b.test' });
      assert.ok(space.status === 400 || space.rstCode === 1, `status ${space.status}, rst ${space.rstCode}`);
      const userinfo = await h2request(session, { ':path': '/', ':authority': 'user@127.0.0.1' });
      assert.ok(userinfo.status === 400 || userinfo.rstCode === 1, `status ${userinfo.status}`);
      // What nghttp2 lets through, our own checks refuse (RFC 9113 §8.3.1).
      const twoHosts = await h2request(session, {
        ':path': '/',
        ':authority': '127.0.0.1',
        host: 'other.test',
      });
      assert.equal(twoHosts.status, 400);
      const ok = await h2request(session, { ':path': '/echo/fine', ':authority': '127.0.0.1' });
      assert.equal(ok.status, 200);
      assert.equal(
        backend.seen.some((q) => q.url.includes('frag')),
        false,
        'nothing of a refused request reaches the backend',
      );
    });

    it('resets the stream when the upstream dies mid-body: never a clean end', async () => {
      const r = await h2request(session, { ':path': '/dying/x', ':authority': '127.0.0.1' });
      assert.equal(r.status, 200);
      assert.equal(r.ended, false, 'no END_STREAM');
      assert.equal(r.rstCode, 2, 'RST_STREAM(INTERNAL_ERROR)');
      assert.ok(r.body.length < 100_000);
      const c = await curl(['--http2-prior-knowledge', `${base}/dying/curl`]);
      assert.notEqual(c.exitCode, 0, 'curl sees the transfer as failed');
      assert.match(c.stderr, /INTERNAL_ERROR|stream error|not closed cleanly/i);
      // The session survives its stream's reset.
      const ok = await h2request(session, { ':path': '/echo/still', ':authority': '127.0.0.1' });
      assert.equal(ok.status, 200);
    });

    for (const how of ['resets the stream', 'closes the connection'] as const) {
      it(`releases the upstream connection when the client ${how} mid-response`, async () => {
        const client = connect(base);
        client.on('error', () => {});
        const closedBefore = endless.closed;
        const upstreamClosed = new Promise<void>((resolve) => {
          endless.onClose = resolve;
        });
        const req = client.request({ ':path': '/endless', ':authority': '127.0.0.1' });
        req.on('error', () => {});
        let got = 0;
        await new Promise<void>((resolve) => {
          req.on('data', (d: Buffer) => {
            got += d.length;
            // Stop reading: the proxy's stream is now held back by flow control, and writes nothing.
            if (got > 1024 * 1024) {
              req.pause();
              resolve();
            }
          });
        });
        if (how === 'resets the stream') req.close(8 /* CANCEL */);
        else client.socket.destroy();
        await upstreamClosed;
        assert.equal(endless.closed, closedBefore + 1);
        client.destroy();
      });
    }

    it('keeps serving HTTP/1.1 on the same port', async () => {
      const r = await rawRequest(proxy.port, 'GET /echo/h1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', {
        responses: 1,
      });
      assert.equal(r.responses[0]?.status, 200);
    });

    it('logs HTTP/2 requests as HTTP/2.0 in the access log', async () => {
      await h2request(session, { ':path': '/echo/logged', ':authority': '127.0.0.1' });
      const deadline = Date.now() + 5000;
      while (!proxy.stdout().includes('/echo/logged') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const line = proxy
        .stdout()
        .split('\n')
        .find((l) => l.includes('/echo/logged'));
      assert.ok(line, 'access log line');
      assert.match(line, /HTTP\/2\.0/);
    });
  });
}

for (const engine of H2_ENGINES) {
  describe(`HTTP/2 sessions [${engine} engine]`, () => {
    let backend: Backend;
    let proxy: ProxyProcess;
    let base: string;

    before(async () => {
      // Answers once the whole request body has arrived.
      backend = await startBackend((req, res) => {
        req.resume();
        req.on('end', () => res.end(`${req.method} ${req.url}`));
      });
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    transport:
      respondingTimeouts: { idleTimeout: 1s, readTimeout: 1s }
      keepAliveMaxRequests: 3
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
`,
      });
      base = `http://127.0.0.1:${proxy.port}`;
    });

    after(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    it('closes an idle session with GOAWAY after idleTimeout', async () => {
      const client = connect(base);
      client.on('error', () => {});
      const goaway = new Promise<number>((resolve) => client.on('goaway', (code: number) => resolve(code)));
      const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
      const r = await h2request(client, { ':path': '/idle' });
      assert.equal(r.status, 200);
      assert.equal(await goaway, 0, 'GOAWAY(NO_ERROR)');
      await closed;
    });

    it('answers 408 when a request body does not arrive within readTimeout', async () => {
      const client = connect(base);
      client.on('error', () => {});
      const req = client.request({ ':method': 'POST', ':path': '/upload', 'content-length': '10' });
      req.write('12345'); // half of it, then nothing
      const status = await new Promise<number>((resolve) => {
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', () => resolve(0));
      });
      assert.equal(status, 408);
      client.destroy();
    });

    it('sends GOAWAY once a session has carried keepAliveMaxRequests requests', async () => {
      const client = connect(base);
      client.on('error', () => {});
      const goaway = new Promise<void>((resolve) => client.on('goaway', () => resolve()));
      const replies = [];
      for (let i = 0; i < 3; i++) replies.push(await h2request(client, { ':path': `/max/${i}` }));
      assert.deepEqual(
        replies.map((r) => r.status),
        [200, 200, 200],
      );
      await goaway;
      client.destroy();
    });

    it('sends GOAWAY after the first request that finds the session older than keepAliveMaxTime', async (t) => {
      const p = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    transport:
      keepAliveMaxTime: 1s
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
`,
      });
      t.after(() => p.stop());
      const client = connect(`http://127.0.0.1:${p.port}`);
      client.on('error', () => {});
      let goaways = 0;
      const goaway = new Promise<void>((resolve) =>
        client.on('goaway', () => {
          goaways++;
          resolve();
        }),
      );
      assert.equal((await h2request(client, { ':path': '/young' })).status, 200);
      await sleep(1500);
      assert.equal(goaways, 0, 'no GOAWAY while the session is young and idle');
      // The request that finds it old is still served; the session then goes away.
      assert.equal((await h2request(client, { ':path': '/old' })).status, 200);
      await goaway;
      client.destroy();
    });

    it('lets a request in flight finish when the proxy shuts down gracefully', async () => {
      const slow = await startBackend((_req, res) => {
        setTimeout(() => res.end('finished'), 800);
      });
      const p = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be:
      loadBalancer:
        servers: [{ url: "${slow.url}" }]
`,
      });
      try {
        const client = connect(`http://127.0.0.1:${p.port}`);
        client.on('error', () => {});
        const goaway = new Promise<void>((resolve) => client.on('goaway', () => resolve()));
        const pending = h2request(client, { ':path': '/slow' });
        await new Promise<void>((resolve) => {
          const check = (): void => {
            if (slow.seen.length > 0) resolve();
            else setTimeout(check, 10);
          };
          check();
        });
        const stopped = p.stop('SIGTERM');
        await goaway;
        const r = await pending;
        assert.equal(r.status, 200);
        assert.equal(r.body.toString(), 'finished');
        assert.equal(r.ended, true);
        assert.equal(await stopped, 0);
        client.destroy();
      } finally {
        await p.stop();
        await slow.close();
      }
    });
  });
}
