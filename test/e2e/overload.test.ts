/**
 * The overload manager through the real proxy process: connection caps at accept (per entry point
 * and per client address), load shedding with 503 + Retry-After on real pressure signals (a heap
 * limit the process is always over; an event loop kept late relaying one-byte chunks), no shedding
 * for a pause that is not load (SIGSTOP), the proxy's own routes answering throughout, and the request-body budget against concurrent large uploads. Every
 * decision is checked in /metrics too.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { connect as connectH2 } from 'node:http2';
import { type AddressInfo, createServer, connect as netConnect, type Socket } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { RawConn } from '../helpers/raw-conn.ts';
import { Counter, gate, within } from '../helpers/wait.ts';

/** The value of one sample line `name{labels} value`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

async function metrics(proxy: ProxyProcess): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${proxy.ports.traefik}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: app.test\r\n\r\n`;

async function open(t: TestContext, port: number, localAddress?: string): Promise<RawConn> {
  const c = await RawConn.open(port, '127.0.0.1', localAddress);
  t.after(() => c.destroy());
  return c;
}

/** A connection the proxy serves: one request answered on it, kept alive. */
async function served(t: TestContext, port: number, localAddress?: string): Promise<RawConn> {
  const c = await open(t, port, localAddress);
  c.write(get('/app'));
  assert.equal((await c.readResponse()).status, 200);
  return c;
}

/**
 * A connection closed at accept: the proxy closes it without reading or writing a byte (the
 * request we send may meet a reset instead of a FIN: either way no response).
 */
async function refused(t: TestContext, port: number, localAddress?: string): Promise<void> {
  const c = await open(t, port, localAddress);
  c.write(get('/app'));
  await c.waitClosed();
  assert.equal(c.received(), '', 'not a byte from a refused connection');
}

/**
 * A slot freed by a client's close shows on the proxy's side a moment later (its socket sees
 * the FIN, then closes): new connections are tried until one is served, a bounded number of
 * times. Returns how many were refused meanwhile.
 */
async function servedOnceFreed(t: TestContext, port: number, localAddress?: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const c = await open(t, port, localAddress);
    c.write(get('/app'));
    const r = await Promise.race([c.readResponse().catch(() => undefined), c.closed.then(() => undefined)]);
    if (r !== undefined) {
      assert.equal(r.status, 200);
      return i;
    }
    await delay(20);
  }
  return assert.fail('no connection was served after a slot was freed');
}

describe('overload: connection caps and the request-body budget', () => {
  let be: Backend;
  let proxy: ProxyProcess;
  /** Uploads the backend has started to receive; their bodies wait for `release`. */
  const uploads = new Counter();
  let release = gate();

  before(async () => {
    be = await startBackend((req: IncomingMessage, res) => {
      if (req.url === '/buffered') {
        const h = createHash('sha256');
        req.on('data', (c: Buffer) => h.update(c));
        req.on('end', () => res.end(h.digest('hex')));
        return;
      }
      if (req.url !== '/upload') {
        res.end('ok');
        return;
      }
      uploads.inc();
      // Not a byte read until the test says so: the upstream socket fills, the proxy pauses.
      req.pause();
      void release.promise.then(() => {
        const h = createHash('sha256');
        req.on('data', (c: Buffer) => h.update(c));
        req.on('end', () => res.end(h.digest('hex')));
        req.resume();
      });
    });
    proxy = await startProxy({
      config: `entryPoints:
  capped:
    address: "127.0.0.1:0"
    transport: { maxConnections: 3 }
  perip:
    address: "127.0.0.1:0"
    transport: { maxConnectionsPerIP: 2 }
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
metrics: { prometheus: {} }
overload:
  maxRequestBodyBytes: ${4 * 128 * 1024}
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be, entryPoints: [capped, perip, web] }
    buffered: { rule: "Path(\`/buffered\`)", service: be, middlewares: [whole], entryPoints: [web] }
  middlewares:
    whole: { buffering: { memRequestBodyBytes: ${2 * 1024 * 1024} } }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`,
    });
  });

  after(async () => {
    release.open();
    await proxy?.stop();
    await be?.close();
  });

  it('closes connections past maxConnections at accept, and takes one again when a slot frees', async (t) => {
    const port = proxy.ports.capped!;
    const conns = [await served(t, port), await served(t, port), await served(t, port)];
    await refused(t, port);
    await refused(t, port);
    conns[0]!.destroy();
    const meanwhile = await servedOnceFreed(t, port);
    const m = await metrics(proxy);
    assert.equal(
      sample(m, 'traffic_overload_refused_connections_total', {
        entrypoint: 'capped',
        reason: 'max_connections',
      }),
      2 + meanwhile,
    );
  });

  it('caps connections per client address; another address is not affected', async (t) => {
    const port = proxy.ports.perip!;
    const mine = [await served(t, port, '127.0.0.1'), await served(t, port, '127.0.0.1')];
    await refused(t, port, '127.0.0.1');
    await served(t, port, '127.0.0.2');
    await served(t, port, '127.0.0.2');
    await refused(t, port, '127.0.0.2');
    mine[0]!.destroy();
    const meanwhile = await servedOnceFreed(t, port, '127.0.0.1');
    const m = await metrics(proxy);
    assert.equal(
      sample(m, 'traffic_overload_refused_connections_total', {
        entrypoint: 'perip',
        reason: 'max_connections_per_ip',
      }),
      2 + meanwhile,
    );
    assert.equal(sample(m, 'traffic_overload_tracked_clients', { entrypoint: 'perip' }), 2);
  });

  it('answers 503 to uploads past the request-body budget while the admitted ones complete', async (t) => {
    const port = proxy.ports.web!;
    const size = 1024 * 1024;
    const body = Buffer.alloc(size, 'x');
    const digest = createHash('sha256').update(body).digest('hex');
    const head = `POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: ${size}\r\n\r\n`;
    // Four uploads fit the budget (each reserves 128 KiB): all four reach the backend.
    const admitted: RawConn[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await open(t, port);
      c.write(head);
      c.socket.write(body.subarray(0, 64 * 1024));
      admitted.push(c);
    }
    await uploads.reach(4, 'four uploads at the backend');
    // The fifth to seventh do not fit while those are in flight.
    for (let i = 0; i < 3; i++) {
      const c = await open(t, port);
      c.write(head);
      c.socket.write(body.subarray(0, 64 * 1024));
      const r = await c.readResponse();
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '1');
      assert.equal(r.headers.get('connection'), 'close', 'the unread body ends the connection');
    }
    assert.equal(uploads.value, 4, 'the refused uploads never reached the backend');
    const during = await metrics(proxy);
    assert.equal(sample(during, 'traffic_overload_request_body_bytes', {}), 4 * 128 * 1024);
    release.open();
    for (const c of admitted) c.socket.write(body.subarray(64 * 1024));
    for (const c of admitted) {
      const r = await c.readResponse();
      assert.equal(r.status, 200);
      assert.equal(r.body, digest, 'every byte of the admitted upload reached the backend');
    }
    const m = await metrics(proxy);
    assert.equal(
      sample(m, 'traffic_overload_shed_requests_total', { entrypoint: 'web', reason: 'request_body_memory' }),
      3,
    );
    assert.equal(sample(m, 'traffic_overload_request_body_bytes', {}), 0, 'everything given back');
    // Room again.
    release = gate();
    release.open();
    const c = await open(t, port);
    c.write(`POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\n\r\nhello`);
    assert.equal((await c.readResponse()).status, 200);
  });

  it('sends a body read whole (buffering) to its temporary file once the budget is spent, and counts it', async (t) => {
    const size = 1024 * 1024;
    const body = Buffer.alloc(size, 'y');
    const c = await open(t, proxy.ports.web!);
    // memRequestBodyBytes (2 MiB) would keep it all in memory; the budget (512 KiB) cannot.
    c.write(`POST /buffered HTTP/1.1\r\nHost: app.test\r\nContent-Length: ${size}\r\n\r\n`);
    c.socket.write(body);
    const r = await c.readResponse();
    assert.equal(r.status, 200, 'not refused: the file takes what memory cannot');
    assert.equal(r.body, createHash('sha256').update(body).digest('hex'), 'every byte, in order');
    const m = await metrics(proxy);
    assert.equal(sample(m, 'traffic_overload_body_spills_total', {}), 1);
    assert.equal(sample(m, 'traffic_overload_request_body_bytes', {}), 0, 'everything given back');
  });
});

describe('overload: forwardAuth bodies in the request-body budget', () => {
  // A proxy of its own: the uploads of the describe above hold part of that one's budget.
  let be: Backend;
  let proxy: ProxyProcess;
  const authBodies: number[] = [];

  before(async () => {
    be = await startBackend((req: IncomingMessage, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
      });
      req.on('end', () => {
        if (req.url === '/auth') authBodies.push(n);
        res.end(String(n));
      });
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
metrics: { prometheus: {} }
overload:
  maxRequestBodyBytes: ${512 * 1024}
  retryAfter: 2s
http:
  routers:
    authbody: { rule: "PathPrefix(\`/\`)", service: be, middlewares: [auth], entryPoints: [web] }
  middlewares:
    auth: { forwardAuth: { address: "${be.url}/auth", forwardBody: true } }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await be?.close();
  });

  it('reads a body that fits whole for the auth server, then forwards it', async () => {
    const size = 100 * 1024;
    const res = await fetch(`http://127.0.0.1:${proxy.ports.web}/small`, {
      method: 'POST',
      body: Buffer.alloc(size, 'a'),
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), String(size), 'the backend got every byte');
    assert.deepEqual(authBodies, [size], 'and so did the auth server');
  });

  it('sheds (503, Retry-After) a body the budget cannot hold in memory, and gives every byte back', async (t) => {
    const size = 1024 * 1024;
    const c = await open(t, proxy.ports.web!);
    c.write(`POST /large HTTP/1.1\r\nHost: app.test\r\nContent-Length: ${size}\r\n\r\n`);
    c.socket.write(Buffer.alloc(size, 'b'));
    const r = await c.readResponse();
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '2');
    assert.equal(authBodies.length, 1, 'the auth server was not asked');
    const m = await metrics(proxy);
    assert.equal(
      sample(m, 'traffic_overload_shed_requests_total', { entrypoint: 'web', reason: 'request_body_memory' }),
      1,
    );
    assert.equal(sample(m, 'traffic_overload_request_body_bytes', {}), 0, 'everything given back');
  });
});

describe('overload: shedding on the heap signal, the proxy’s own routes never shed', () => {
  let be: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    be = await startBackend();
    proxy = await startProxy({
      // A heap limit this process is always over: a real signal, read from V8 every sample.
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
ping: { entryPoint: web }
metrics: { prometheus: {} }
overload:
  maxHeapUsedRatio: 0.0001
  retryAfter: 3s
certificatesResolvers:
  le:
    acme:
      caServer: "https://127.0.0.1:1/dir"
      httpChallenge: { entryPoint: web }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be, entryPoints: [web] }
    api-on-web: { rule: "PathPrefix(\`/api\`)", service: api@internal, entryPoints: [web] }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`,
    });
    await proxy.waitForLog((l) => l.msg === 'overload: shedding new requests');
  });

  after(async () => {
    await proxy?.stop();
    await be?.close();
  });

  it('answers 503 with Retry-After to proxied requests, without asking the backend', async () => {
    const seen = be.seen.length;
    const res = await fetch(`http://127.0.0.1:${proxy.ports.web}/app`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '3');
    assert.equal(be.seen.length, seen);
  });

  it('sheds HTTP/2 streams the same way (h2c), and answers ping on them', async (t) => {
    const session = connectH2(`http://127.0.0.1:${proxy.ports.web}`);
    t.after(() => session.close());
    const ask = (path: string) =>
      new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
        const s = session.request({ ':path': path, ':authority': 'app.test' });
        s.on('response', (h) => {
          s.resume();
          s.on('end', () =>
            resolve({ status: Number(h[':status']), retryAfter: h['retry-after'] as string | undefined }),
          );
        });
        s.on('error', reject);
        s.end();
      });
    assert.deepEqual(await ask('/app'), { status: 503, retryAfter: '3' });
    assert.equal((await ask('/ping')).status, 200);
  });

  it('still answers ping, the API (on its own entry point and through a router), metrics and ACME http-01', async () => {
    const web = `http://127.0.0.1:${proxy.ports.web}`;
    const admin = `http://127.0.0.1:${proxy.ports.traefik}`;
    const ping = await fetch(`${web}/ping`);
    assert.equal(ping.status, 200);
    assert.equal(await ping.text(), 'OK');
    assert.equal((await fetch(`${admin}/api/version`)).status, 200);
    assert.equal((await fetch(`${web}/api/version`)).status, 200);
    // No challenge is pending: the http-01 route answers 404 itself, it is not shed.
    assert.equal((await fetch(`${web}/.well-known/acme-challenge/none`)).status, 404);
    const m = await metrics(proxy);
    assert.equal(sample(m, 'traffic_overload_shedding', { signal: 'heap' }), 1);
    assert.equal(sample(m, 'traffic_overload_shedding', { signal: 'event_loop_delay' }), 0);
    assert.ok(
      (sample(m, 'traffic_overload_shed_requests_total', { entrypoint: 'web', reason: 'heap' }) ?? 0) >= 1,
    );
    assert.ok((sample(m, 'traffic_overload_exempt_requests_total', { entrypoint: 'web' }) ?? 0) >= 3);
    assert.ok((sample(m, 'traffic_overload_heap_used_bytes', {}) ?? 0) > 0);
  });
});

/** Chunks of one byte: the proxy decodes and re-encodes each in JS, the backend sends them in one write. */
const TINY_CHUNKS = Buffer.from(`${'1\r\nx\r\n'.repeat(50_000)}0\r\n\r\n`, 'latin1');

/** A keep-alive backend that answers every request with TINY_CHUNKS: cheap to send, costly to relay. */
async function startChunkBackend(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => {});
    let pending = '';
    s.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      for (let i = pending.indexOf('\r\n\r\n'); i !== -1; i = pending.indexOf('\r\n\r\n')) {
        pending = pending.slice(i + 4);
        s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
        s.write(TINY_CHUNKS);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A client that GETs /heavy over one keep-alive connection, one request after the other, while
 * `loading()`; counts the statuses. Only the end of each response is kept (the bodies are large).
 */
function heavyClient(port: number, statuses: Map<number, number>, loading: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = netConnect(port, '127.0.0.1');
    let head = '';
    let tail = '';
    let status = 0;
    const next = (): void => {
      if (!loading()) {
        s.destroy();
        resolve();
        return;
      }
      head = '';
      tail = '';
      status = 0;
      s.write('GET /heavy HTTP/1.1\r\nHost: app.test\r\n\r\n');
    };
    s.on('connect', next);
    s.on('error', reject);
    s.on('close', () => reject(new Error(`closed by the proxy (status ${status})`)));
    s.on('data', (d: Buffer) => {
      if (status === 0) {
        head += d.toString('latin1', 0, Math.min(d.length, 64));
        if (head.length < 12) return;
        status = Number(head.slice(9, 12));
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status !== 200) {
          // A 503 of shedding (small, Content-Length): this connection's part is done.
          s.destroy();
          resolve();
          return;
        }
      }
      tail = (tail + d.toString('latin1', Math.max(0, d.length - 7))).slice(-7);
      if (tail === '\r\n0\r\n\r\n') next();
    });
  });
}

describe('overload: event-loop delay', () => {
  let be: Backend;
  let heavy: { url: string; close: () => Promise<void> };
  let proxy: ProxyProcess;

  before(async () => {
    be = await startBackend();
    heavy = await startChunkBackend();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
ping: { entryPoint: web }
metrics: { prometheus: {} }
overload:
  maxEventLoopDelay: 100ms
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be, entryPoints: [web] }
    heavy: { rule: "Path(\`/heavy\`)", priority: 1000, service: heavy, entryPoints: [web] }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
    heavy: { loadBalancer: { servers: [{ url: "${heavy.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await heavy?.close();
    await be?.close();
  });

  it('does not shed after a pause that is not load (SIGSTOP: one late sample), and counts it', async (t) => {
    const app = await served(t, proxy.ports.web!);
    const from = proxy.logs.length;
    const lateBefore = sample(await metrics(proxy), 'traffic_overload_late_samples_total', {}) ?? 0;
    // The stimulus: a process that cannot run for a second.
    proxy.child.kill('SIGSTOP');
    await delay(1000);
    proxy.child.kill('SIGCONT');
    // The sample taken after the pause shows it (a scrape is never shed; a bounded wait).
    let late = lateBefore;
    for (let i = 0; i < 50 && late === lateBefore; i++) {
      late = sample(await metrics(proxy), 'traffic_overload_late_samples_total', {}) ?? 0;
      if (late === lateBefore) await delay(50);
    }
    assert.ok(late > lateBefore, 'the pause was seen');
    app.write(get('/app'));
    assert.equal((await app.readResponse()).status, 200);
    assert.equal(
      proxy.logs.slice(from).some((l) => l.msg === 'overload: shedding new requests'),
      false,
      'a pause never starts shedding',
    );
  });

  it('sheds while relaying keeps its loop late, answers ping meanwhile, and recovers', async (t) => {
    const port = proxy.ports.web!;
    // Start calm: whatever the previous test left must be over (a scrape is never shed).
    for (let i = 0; i < 100; i++) {
      const m = await metrics(proxy);
      if (sample(m, 'traffic_overload_shedding', { signal: 'event_loop_delay' }) === 0) break;
      await delay(100);
    }
    const shedBefore =
      sample(await metrics(proxy), 'traffic_overload_shed_requests_total', {
        entrypoint: 'web',
        reason: 'event_loop_delay',
      }) ?? 0;
    const app = await served(t, port);
    const health = await served(t, port);
    const from = proxy.logs.length;
    const shedding = proxy.waitForLog(
      (l) => proxy.logs.indexOf(l) >= from && l.msg === 'overload: shedding new requests',
      60_000,
    );
    // The load: responses of 50,000 one-byte chunks, each decoded and re-encoded by the proxy,
    // on 16 connections at once; a client whose request is shed stops.
    let loading = true;
    const statuses = new Map<number, number>();
    const clients = Promise.all(Array.from({ length: 16 }, () => heavyClient(port, statuses, () => loading)));
    const line = await shedding;
    assert.deepEqual(line.signals, ['event_loop_delay']);
    assert.ok(Number(line.eventLoopUtilization) >= 0.5, 'the loop was busy');
    assert.ok(Number(line.cpuShare) >= 0.1, 'and its thread ran');
    // While it sheds: the app's requests get 503 + Retry-After, ping is answered.
    let appShed = 0;
    for (let i = 0; i < 50 && appShed === 0; i++) {
      app.write(get('/app'));
      health.write(get('/ping'));
      const [a, h] = await Promise.all([app.readResponse(30_000), health.readResponse(30_000)]);
      assert.equal(h.status, 200, 'ping is never shed');
      if (a.status === 503) {
        assert.equal(a.headers.get('retry-after'), '1');
        appShed++;
      } else assert.equal(a.status, 200);
    }
    assert.equal(appShed, 1, 'the app was shed');
    loading = false;
    await clients;
    assert.deepEqual(
      [...statuses.keys()].filter((s) => s !== 200 && s !== 503),
      [],
      `200 or 503, nothing else: ${JSON.stringify([...statuses])}`,
    );
    // The load is gone: the end of the last shedding episode (several may have come and gone).
    const lastStart = proxy.logs.findLastIndex((l) => l.msg === 'overload: shedding new requests');
    const over = proxy.waitForLog(
      (l) =>
        proxy.logs.indexOf(l) > lastStart && l.msg === 'overload: pressure is over, admitting every request',
      60_000,
    );
    await within(over, 'the end of shedding', 60_000);
    app.write(get('/app'));
    assert.equal((await app.readResponse()).status, 200, 'served again on the same connection');
    const m = await metrics(proxy);
    assert.equal(
      sample(m, 'traffic_overload_shed_requests_total', { entrypoint: 'web', reason: 'event_loop_delay' }),
      shedBefore + appShed + (statuses.get(503) ?? 0),
      'every 503 counted',
    );
    assert.ok((sample(m, 'traffic_overload_exempt_requests_total', { entrypoint: 'web' }) ?? 0) >= 1);
  });
});
