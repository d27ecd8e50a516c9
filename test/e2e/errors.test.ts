/**
 * Upstream failures through the real proxy process: what the client gets (502/503/504, or a
 * visibly broken response once the head is out), the JSON error log line that names router,
 * service and server, and the keep-alive race on a stale pooled socket (edge-rules §4.2 rows 1–4).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { curl } from '../helpers/curl.ts';
import { FakeUpstream, httpResponse, type UpstreamConnection } from '../helpers/fake-upstream.ts';
import { freePort as closedPort } from '../helpers/free-port.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { header, rawRequest } from '../helpers/raw-client.ts';

/** The `request failed` log line for `path`. */
function failedLine(proxy: ProxyProcess, path: string): Promise<LogLine> {
  return proxy.waitForLog((l) => l.msg === 'request failed' && l.level === 'error' && l.path === path);
}

function nameOf(v: unknown): string {
  return String(v).replace(/@.*$/, '');
}

/** Answers the first request on each connection; on the second, drops the connection unanswered. */
async function oneShot(conn: UpstreamConnection): Promise<void> {
  try {
    const first = await conn.request(1);
    conn.write(httpResponse(200, `first ${first.method} ${first.target}`));
    await conn.waitForRequests(2);
  } catch {
    return;
  }
  // The server gave up on the idle connection just as the next request arrived.
  conn.reset();
}

/** Sends a response head and half of its body, then destroys the socket. */
async function halfBody(conn: UpstreamConnection): Promise<void> {
  let req: Awaited<ReturnType<UpstreamConnection['request']>>;
  try {
    req = await conn.request(1);
  } catch {
    return;
  }
  if (req.target === '/cl') {
    conn.write(`HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(500)}`);
  } else {
    conn.write(
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n${'y'.repeat(256)}\r\n80\r\n${'z'.repeat(64)}`,
    );
  }
  // Let the bytes leave before the connection dies (a reset could discard them in our buffer).
  conn.socket.once('drain', () => conn.destroy());
  if (conn.socket.writableLength === 0) conn.destroy();
}

/** Hands out the connections a fake upstream accepts, in order, as they arrive. */
function acceptQueue(): { script: (c: UpstreamConnection) => void; next: () => Promise<UpstreamConnection> } {
  const ready: UpstreamConnection[] = [];
  const waiting: ((c: UpstreamConnection) => void)[] = [];
  return {
    script: (c) => {
      const w = waiting.shift();
      if (w === undefined) ready.push(c);
      else w(c);
    },
    next: () => {
      const c = ready.shift();
      return c === undefined ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve(c);
    },
  };
}

/** Resolves once `conn` has received at least a complete request head. */
function headArrived(conn: UpstreamConnection): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (conn.received.includes('\r\n\r\n')) {
        conn.socket.off('data', check);
        resolve();
      }
    };
    conn.socket.on('data', check);
    check();
  });
}

describe('upstream errors', () => {
  const silent = acceptQueue();
  let waiting: FakeUpstream;
  let hung: FakeUpstream;
  let good: FakeUpstream;
  let broken: FakeUpstream;
  let stale: FakeUpstream;
  let refusedPort: number;
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    refusedPort = await closedPort();
    hung = await FakeUpstream.start(() => {}); // accepts, reads, never answers
    good = await FakeUpstream.start();
    waiting = await FakeUpstream.start(silent.script); // the same, with no timeout configured
    broken = await FakeUpstream.start(halfBody);
    stale = await FakeUpstream.start(oneShot);
    const route = (name: string) => `    ${name}: { rule: "PathPrefix(\`/${name}\`)", service: ${name} }\n`;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
${['refused', 'hung', 'empty', 'broken', 'stale', 'waiting', 'failover'].map(route).join('')}
  serversTransports:
    quick:
      forwardingTimeouts:
        responseHeaderTimeout: 1s
  services:
    refused:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:${refusedPort}" }]
    hung:
      loadBalancer:
        serversTransport: quick
        servers: [{ url: "http://127.0.0.1:${hung.port}" }]
    empty:
      loadBalancer:
        servers: []
    broken:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:${broken.port}/" }]
    stale:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:${stale.port}" }]
    failover:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:${refusedPort}"
          - url: "http://127.0.0.1:${good.port}"
    waiting:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:${waiting.port}" }]
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([hung?.close(), broken?.close(), stale?.close(), waiting?.close(), good?.close()]);
  });

  it('answers 502 when the server refuses the connection, and logs router, service and server', async () => {
    const r = await curl([`${base}/refused/x`]);
    assert.equal(r.status, 502);
    const line = await failedLine(proxy, '/refused/x');
    assert.equal(line.status, 502);
    assert.equal(nameOf(line.router), 'refused');
    assert.equal(nameOf(line.service), 'refused');
    assert.equal(line.server, `http://127.0.0.1:${refusedPort}`);
    assert.equal(line.code, 'UPSTREAM_REFUSED');
  });

  it('moves on to another server when one refuses the connection', async () => {
    const urls = Array.from({ length: 6 }, (_, i) => `${base}/failover/${i}`);
    const r = await curl(urls);
    assert.deepEqual(
      r.transfers.map((t) => t.status),
      [200, 200, 200, 200, 200, 200],
    );
    assert.deepEqual(
      good.requests.map((q) => q.target),
      urls.map((u) => new URL(u).pathname),
      'every request reached the server that accepts, once',
    );
  });

  it('answers 504 when the server accepts but sends no response head within responseHeaderTimeout', async () => {
    const r = await curl([`${base}/hung/x`]);
    assert.equal(r.status, 504);
    const line = await failedLine(proxy, '/hung/x');
    assert.equal(line.status, 504);
    assert.equal(nameOf(line.router), 'hung');
    assert.equal(nameOf(line.service), 'hung');
    assert.equal(line.server, `http://127.0.0.1:${hung.port}`);
    // The timed-out upstream connection is destroyed, never returned to the pool.
    assert.equal(hung.connections.length, 1);
    await hung.connections[0]!.closed;
    assert.deepEqual(
      hung.requests.map((q) => q.target),
      ['/hung/x'],
    );
  });

  it('answers 503 for a service without servers, and logs router and service', async () => {
    const r = await curl([`${base}/empty/x`]);
    assert.equal(r.status, 503);
    const line = await failedLine(proxy, '/empty/x');
    assert.equal(line.status, 503);
    assert.equal(nameOf(line.router), 'empty');
    assert.equal(nameOf(line.service), 'empty');
    assert.equal(line.server, '', 'no server was picked');
  });

  it('keeps the client connection usable after an error response', async () => {
    const r = await curl([`${base}/refused/a`, `${base}/empty/b`, `${base}/refused/c`]);
    assert.deepEqual(
      r.transfers.map((t) => t.status),
      [502, 503, 502],
    );
    assert.equal(
      r.transfers.reduce((n, t) => n + Number(t.info['num_connects']), 0),
      1,
    );
  });

  it('breaks the client connection when a Content-Length body is cut short (curl exit 18)', async () => {
    const r = await curl([`${base}/broken/cl`]);
    assert.equal(r.status, 200);
    assert.equal(r.exitCode, 18, r.stderr);
    assert.ok(r.bodyBytes < 1000);
    assert.doesNotMatch(r.body.toString('latin1'), /Bad Gateway/, 'no error page appended to a 200');
    const line = await failedLine(proxy, '/broken/cl');
    assert.equal(nameOf(line.router), 'broken');
    assert.equal(nameOf(line.service), 'broken');
    assert.equal(line.server, `http://127.0.0.1:${broken.port}`);
  });

  it('never sends the last chunk when a chunked body is cut short, and closes', async () => {
    const r = await rawRequest(proxy.port, 'GET /broken/chunked HTTP/1.1\r\nHost: e.test\r\n\r\n', {
      timeoutMs: 5000,
    });
    assert.notEqual(r.closedBy, 'timeout');
    assert.equal(r.parseError, null);
    assert.equal(r.responses.length, 1);
    const res = r.responses[0]!;
    assert.equal(res.status, 200);
    assert.equal(header(res, 'transfer-encoding'), 'chunked');
    assert.equal(res.lastChunk, false);
    assert.equal(res.complete, false);
    assert.ok(!r.data.includes('0\r\n\r\n'), 'no terminating chunk');
    assert.doesNotMatch(r.data.toString('latin1'), /Bad Gateway/);
    await failedLine(proxy, '/broken/chunked');
  });

  it('retries a GET once on a fresh connection when the pooled one turns out dead', async () => {
    const prime = await curl([`${base}/stale/prime`]);
    assert.equal(prime.body.toString(), 'first GET /stale/prime');
    const r = await curl([`${base}/stale/get`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'first GET /stale/get');
    assert.equal(stale.connections.length, 2);
    assert.deepEqual(
      stale.connections[0]!.requests.map((q) => q.target),
      ['/stale/prime', '/stale/get'],
    );
    assert.deepEqual(
      stale.connections[1]!.requests.map((q) => q.target),
      ['/stale/get'],
    );
  });

  it('does not replay a POST with a body on a dead pooled connection: 502', async () => {
    // The second connection of the previous test is now the idle pooled one.
    assert.equal(stale.connections.length, 2);
    const r = await curl(['--data-binary', 'payload', `${base}/stale/post`]);
    assert.equal(r.status, 502);
    const line = await failedLine(proxy, '/stale/post');
    assert.equal(nameOf(line.router), 'stale');
    assert.equal(line.server, `http://127.0.0.1:${stale.port}`);
    await stale.connections[1]!.closed;
    const posts = stale.requests.filter((q) => q.method === 'POST');
    assert.equal(posts.length, 1, 'the POST reached the backend exactly once');
    assert.equal(posts[0]!.body.toString(), 'payload');
    assert.equal(stale.connections.length, 2, 'no new connection was opened to replay it');
  });

  it('cancels the upstream request when the client resets while waiting for the response', {
    timeout: 5000,
  }, async () => {
    const client = net.connect(proxy.port, '127.0.0.1');
    client.on('error', () => {});
    client.write('GET /waiting/reset HTTP/1.1\r\nHost: e.test\r\n\r\n');
    const conn = await silent.next();
    await conn.request(1);
    client.resetAndDestroy();
    await conn.closed;
  });

  it('cancels the upstream request when the client goes away in the middle of the body', {
    timeout: 5000,
  }, async () => {
    const client = net.connect(proxy.port, '127.0.0.1');
    client.on('error', () => {});
    client.write('POST /waiting/body HTTP/1.1\r\nHost: e.test\r\nContent-Length: 100000\r\n\r\n0123456789');
    const conn = await silent.next();
    await headArrived(conn);
    client.end();
    await conn.closed;
    assert.equal(conn.requests.length, 0, 'the upstream never saw a complete request');
    client.destroy();
  });
});
