import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { RawConn, tryConnect } from '../helpers/raw-conn.ts';
import { Counter, gate, within } from '../helpers/wait.ts';

/*
 * Graceful shutdown of the real proxy process: in-flight exchanges finish, idle keep-alive
 * connections close, the listener stops accepting, and the process exits 0 — also when an
 * exchange outlives lifeCycle.graceTimeOut and has to be cut.
 */

interface SlowBackend {
  readonly be: Backend;
  /** Requests to /slow that reached the backend. */
  readonly arrived: Counter;
  /** Lets every /slow request answer. */
  readonly release: () => void;
  /** The backend side of each connection a /slow request came on. */
  readonly sockets: Socket[];
}

async function slowBackend(t: TestContext): Promise<SlowBackend> {
  const arrived = new Counter();
  const g = gate();
  const sockets: Socket[] = [];
  const be = await startBackend((req, res) => {
    if (req.url !== '/slow') {
      res.end('fast');
      return;
    }
    sockets.push(req.socket);
    arrived.inc();
    void g.promise.then(() => res.end('slow done'));
  });
  t.after(async () => {
    g.open();
    await be.close();
  });
  return { be, arrived, release: g.open, sockets };
}

function config(be: Backend, grace: string): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
    transport:
      lifeCycle: { graceTimeOut: ${grace} }
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be:
      loadBalancer:
        servers: [{ url: "${be.url}" }]
`;
}

async function start(t: TestContext, be: Backend, grace = '10s'): Promise<ProxyProcess> {
  const proxy = await startProxy({ config: config(be, grace) });
  t.after(async () => {
    await proxy.stop('SIGKILL');
    // stop() leaves the folder behind when the process had already exited.
    rmSync(proxy.dir, { recursive: true, force: true });
  });
  return proxy;
}

function get(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: test.local\r\n\r\n`;
}

async function open(t: TestContext, port: number): Promise<RawConn> {
  const c = await RawConn.open(port);
  t.after(() => c.destroy());
  return c;
}

describe('graceful shutdown', () => {
  it('on SIGTERM finishes the request in flight, closes idle connections, refuses new ones, exits 0', async (t) => {
    const slow = await slowBackend(t);
    const proxy = await start(t, slow.be);

    const idle = await open(t, proxy.port);
    idle.write(get('/fast'));
    const first = await idle.readResponse();
    assert.equal(first.status, 200);
    assert.equal(first.body, 'fast');
    const idleBytes = idle.received().length;

    const busy = await open(t, proxy.port);
    busy.write(get('/slow'));
    await slow.arrived.reach(1, 'the slow request to reach the backend');

    proxy.child.kill('SIGTERM');
    const closed = await idle.waitClosed();
    assert.equal(closed.ended, true, 'the idle connection got a FIN');
    assert.equal(closed.error, undefined);
    assert.equal(idle.received().length, idleBytes, 'nothing was written to the idle connection');
    // The idle connection is closed after the listener stopped accepting (same tick, in order).
    assert.equal(await tryConnect(proxy.port), 'ECONNREFUSED');
    assert.equal(proxy.child.exitCode, null, 'the proxy waits for the request in flight');

    slow.release();
    const res = await busy.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.body, 'slow done');
    assert.equal(res.headers.get('connection'), 'close', 'a draining proxy announces the close');
    assert.equal((await busy.waitClosed()).ended, true);

    assert.equal(await within(proxy.exited, 'the proxy to exit'), 0);
    assert.ok(proxy.logs.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM'));
    assert.ok(proxy.logs.some((l) => l.msg === 'stopped'));
  });

  it('exits 0 on SIGINT, closing idle keep-alive connections', async (t) => {
    const slow = await slowBackend(t);
    const proxy = await start(t, slow.be);
    const idle = await open(t, proxy.port);
    idle.write(get('/fast'));
    assert.equal((await idle.readResponse()).status, 200);

    proxy.child.kill('SIGINT');
    assert.equal((await idle.waitClosed()).ended, true);
    assert.equal(await within(proxy.exited, 'the proxy to exit'), 0);
    assert.ok(proxy.logs.some((l) => l.msg === 'shutting down' && l.signal === 'SIGINT'));
  });

  it('cuts a request that outlives lifeCycle.graceTimeOut and still exits 0', async (t) => {
    const slow = await slowBackend(t);
    const proxy = await start(t, slow.be, '500ms');
    const busy = await open(t, proxy.port);
    busy.write(get('/slow'));
    await slow.arrived.reach(1, 'the slow request to reach the backend');
    const upstream = slow.sockets[0]!;
    const upstreamClosed = new Promise<void>((resolve) => upstream.once('close', () => resolve()));

    proxy.child.kill('SIGTERM');
    const closed = await busy.waitClosed();
    assert.equal(busy.received(), '', 'no response (and no error page) was sent for the cut request');
    assert.ok(closed.ended || closed.error !== undefined);
    await within(upstreamClosed, 'the upstream connection to close');
    assert.equal(await within(proxy.exited, 'the proxy to exit'), 0);
    assert.equal(slow.arrived.value, 1);
  });

  it('keeps serving for requestAcceptGraceTimeout after SIGTERM, /ping answering terminatingStatusCode, then exits 0', async (t) => {
    const be = await startBackend((_req, res) => res.end('fast'));
    t.after(() => be.close());
    const proxy = await startProxy({
      entryPoints: 2,
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    transport:
      lifeCycle: { requestAcceptGraceTimeout: 3s, graceTimeOut: 1s }
  traefik:
    address: "127.0.0.1:0"
ping: { terminatingStatusCode: 503 }
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be:
      loadBalancer:
        servers: [{ url: "${be.url}" }]
`,
    });
    t.after(async () => {
      await proxy.stop('SIGKILL');
      rmSync(proxy.dir, { recursive: true, force: true });
    });
    const ping = `http://127.0.0.1:${proxy.ports['traefik']}/ping`;
    const app = `http://127.0.0.1:${proxy.ports['web']}/app`;
    assert.equal((await fetch(ping)).status, 200);

    proxy.child.kill('SIGTERM');
    await within(
      new Promise<void>((resolve) => {
        const seen = (): void => {
          if (proxy.logs.some((l) => l.msg === 'still accepting requests before shutting down')) resolve();
          else setTimeout(seen, 20);
        };
        seen();
      }),
      'the proxy to log that it still accepts requests',
    );
    // Within the grace: new connections and requests are served, and /ping says we are leaving.
    const p = await fetch(ping, { headers: { connection: 'close' } });
    assert.equal(p.status, 503);
    assert.equal(await p.text(), 'Service Unavailable');
    const r = await fetch(app, { headers: { connection: 'close' } });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'fast');
    assert.ok(!proxy.logs.some((l) => l.msg === 'shutting down'), 'the shutdown has not started yet');
    assert.equal(await within(proxy.exited, 'the proxy to exit', 15_000), 0);
    assert.ok(proxy.logs.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM'));
  });
});
