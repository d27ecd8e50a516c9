import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createH2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { RawConn } from '../helpers/raw-conn.ts';
import { Counter } from '../helpers/wait.ts';
import { startWsBackend, type WsBackend } from '../helpers/ws-backend.ts';

/*
 * serversTransports.<n>.forwardingTimeouts.readTimeout and writeTimeout (Traefik v3.8,
 * traefik/traefik#12716, armed as #13747 does in pkg/proxy/fast/connpool.go): per-operation
 * deadlines on the server's connection. A server that stops sending its response, or stops
 * reading its request, is cut; one that keeps sending, however slowly, is not; an idle pooled
 * connection is not. The other timers are long (responseHeaderTimeout 0, the entry point's
 * readTimeout 60s), so only these can end an exchange. Statuses are Traefik's: a timeout before
 * the response head is a 504 (pkg/proxy/httputil/proxy.go, net.Error Timeout).
 */

interface ScriptedBackend {
  readonly url: string;
  readonly accepted: Counter;
  readonly closed: Counter;
  /** Request bytes received so far, all connections together. */
  bytesIn(): number;
  /** Reads again on the connections that stopped reading (to see them closed). */
  resumeAll(): void;
  close(): Promise<void>;
}

/** A raw HTTP/1.1 server whose behaviour depends on the request's path. */
async function startScriptedBackend(): Promise<ScriptedBackend> {
  const sockets = new Set<Socket>();
  const accepted = new Counter();
  const closed = new Counter();
  let bytesIn = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    accepted.inc();
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      closed.inc();
    });
    let head = '';
    const onData = (d: Buffer): void => {
      bytesIn += d.length;
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const path = head.slice(0, head.indexOf('\r\n')).split(' ')[1] ?? '/';
      head = head.slice(end + 4);
      if (path === '/ok') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else if (path === '/stall') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
      else if (path === '/trickle') {
        // Ten bytes, one every 150 ms: 1.5 s in all, against a readTimeout of 1 s.
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n');
        let left = 10;
        const timer = setInterval(() => {
          socket.write('x');
          if (--left === 0) clearInterval(timer);
        }, 150);
        socket.on('close', () => clearInterval(timer));
      } else if (path === '/upload') {
        // Reads the head and nothing more: the request body piles up until writes block.
        socket.off('data', onData);
        socket.pause();
      }
      // '/silent': reads the request, never answers.
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    accepted,
    closed,
    bytesIn: () => bytesIn,
    resumeAll: () => {
      for (const s of sockets) s.resume();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function config(be: ScriptedBackend, ws?: WsBackend): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
    transport:
      respondingTimeouts: { readTimeout: 60s, writeTimeout: 0, idleTimeout: 10m }
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
${ws === undefined ? '' : `    ws: { rule: "PathPrefix(\`/ws\`)", service: ws }\n`}  services:
    be: { loadBalancer: { serversTransport: rw, servers: [{ url: "${be.url}" }] } }
${ws === undefined ? '' : `    ws: { loadBalancer: { serversTransport: rw, servers: [{ url: "${ws.url}" }] } }\n`}  serversTransports:
    rw:
      forwardingTimeouts: { responseHeaderTimeout: 0, idleConnTimeout: 10m, readTimeout: 1s, writeTimeout: 1s }
`;
}

describe('forwardingTimeouts readTimeout / writeTimeout (Traefik v3.8) against HTTP/1.1 servers', () => {
  let be: ScriptedBackend;
  let ws: WsBackend;
  let proxy: ProxyProcess;

  before(async () => {
    be = await startScriptedBackend();
    ws = await startWsBackend();
    proxy = await startProxy({ config: config(be, ws) });
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all([be?.close(), ws?.close()]);
  });

  async function open(t: TestContext): Promise<RawConn> {
    const c = await RawConn.open(proxy.ports['web']!);
    t.after(() => c.destroy());
    return c;
  }

  it('answers 504 when the server sends nothing after the request, and closes its connection', async (t) => {
    const c = await open(t);
    const closed = be.closed.value;
    c.write('GET /silent HTTP/1.1\r\nHost: a\r\n\r\n');
    const res = await c.readResponse();
    assert.equal(res.status, 504);
    await be.closed.reach(closed + 1, 'the silent server connection closed');
  });

  it('breaks a response whose server stops sending mid-body (the client never sees it complete)', async (t) => {
    const c = await open(t);
    const closed = be.closed.value;
    c.write('GET /stall HTTP/1.1\r\nHost: a\r\n\r\n');
    const info = await c.waitClosed();
    assert.ok(info.ended || info.error !== undefined, 'the client connection closed');
    const got = c.received();
    assert.match(got, /^HTTP\/1\.1 200 /);
    assert.equal(got.slice(got.indexOf('\r\n\r\n') + 4), 'partial', 'the body stopped where the server did');
    await be.closed.reach(closed + 1, 'the stalled server connection closed');
  });

  it('lets a response run longer than readTimeout while every gap between reads is shorter', async (t) => {
    const c = await open(t);
    c.write('GET /trickle HTTP/1.1\r\nHost: a\r\n\r\n');
    const res = await c.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.body, 'xxxxxxxxxx');
  });

  it('keeps an idle pooled connection past readTimeout and reuses it', async (t) => {
    const c = await open(t);
    c.write('GET /ok HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal((await c.readResponse()).status, 200);
    const accepted = be.accepted.value;
    const closed = be.closed.value;
    // Idle for more than readTimeout and writeTimeout: neither is armed on an idle connection.
    await new Promise((r) => setTimeout(r, 2_500));
    c.write('GET /ok HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal((await c.readResponse()).status, 200);
    assert.equal(be.accepted.value, accepted, 'no new connection to the server');
    assert.equal(be.closed.value, closed, 'the pooled connection was not closed');
  });

  it('leaves a WebSocket quiet for longer than readTimeout open (no deadline after the 101)', async (t) => {
    const client = new WebSocket(`ws://127.0.0.1:${proxy.ports['web']}/ws`);
    t.after(() => client.terminate());
    await once(client, 'open');
    const echo = (text: string): Promise<string> => {
      const got = once(client, 'message').then(([d]) => String(d));
      client.send(text);
      return got;
    };
    assert.equal(await echo('one'), 'one');
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(await echo('two'), 'two');
  });

  it('answers 504 when the server stops reading the request body (writeTimeout), and closes its connection', async (t) => {
    const c = await open(t);
    const closed = be.closed.value;
    const size = 512 * 1024 * 1024;
    c.write(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`);
    // Send until the proxy answers: the writes to the server block long before the end.
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    let answered = false;
    const responded = c.readResponse(60_000).finally(() => {
      answered = true;
    });
    void (async () => {
      for (let sent = 0; sent < size && !answered && !c.isClosed; sent += chunk.length) {
        if (!c.socket.write(chunk)) await Promise.race([once(c.socket, 'drain'), c.closed]);
      }
    })().catch(() => {});
    const res = await responded;
    assert.equal(res.status, 504);
    assert.ok(be.bytesIn() < size, 'the body was not all forwarded');
    // The server reads again: what was queued, then the end of the connection the proxy cut.
    be.resumeAll();
    await be.closed.reach(closed + 1, 'the server connection closed');
  });
});

interface H2Backend {
  readonly url: string;
  readonly sessions: Counter;
  /** Streams closed (reset or ended), all sessions together. */
  readonly streamsClosed: Counter;
  /** Request body bytes received on `/upload` streams. */
  uploaded(): number;
  close(): Promise<void>;
}

/** An h2c server whose behaviour depends on the request's path, as startScriptedBackend's. */
async function startH2Backend(): Promise<H2Backend> {
  const sessions = new Counter();
  const streamsClosed = new Counter();
  let uploaded = 0;
  const server = createH2Server();
  const open = new Set<ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.inc();
    open.add(session);
    session.on('close', () => open.delete(session));
    session.on('error', () => {});
  });
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    stream.on('error', () => {});
    stream.on('close', () => streamsClosed.inc());
    const path = headers[':path'];
    if (path === '/ok') {
      stream.respond({ ':status': 200, 'content-length': '2' });
      stream.end('ok');
    } else if (path === '/stall') {
      stream.respond({ ':status': 200, 'content-length': '100' });
      stream.write('partial');
    } else if (path === '/upload') {
      // Takes a little and stops reading: the stream's window closes, the proxy's writes block.
      stream.once('data', (d: Buffer) => {
        uploaded += d.length;
        stream.pause();
      });
    }
    // '/silent': never answers.
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `h2c://127.0.0.1:${address.port}`,
    sessions,
    streamsClosed,
    uploaded: () => uploaded,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of open) session.destroy();
      }),
  };
}

for (const engine of H2_ENGINES) {
  describe(`forwardingTimeouts readTimeout / writeTimeout against HTTP/2 servers (${engine} engine)`, () => {
    let be: H2Backend;
    let proxy: ProxyProcess;

    before(async () => {
      be = await startH2Backend();
      proxy = await startProxy({
        config: config({ url: be.url } as ScriptedBackend),
        env: engineEnv(engine),
      });
    });
    after(async () => {
      await proxy?.stop();
      await be?.close();
    });

    async function open(t: TestContext): Promise<RawConn> {
      const c = await RawConn.open(proxy.ports['web']!);
      t.after(() => c.destroy());
      return c;
    }

    it('answers 504 when the stream gets nothing after the request, resets that stream only', async (t) => {
      const c = await open(t);
      c.write('GET /ok HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await c.readResponse()).status, 200);
      const closed = be.streamsClosed.value;
      c.write('GET /silent HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await c.readResponse()).status, 504);
      await be.streamsClosed.reach(closed + 1, 'the silent stream closed');
      // The session carries on: the next request takes it again.
      c.write('GET /ok HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await c.readResponse()).status, 200);
      assert.equal(be.sessions.value, 1, 'one session all along');
    });

    it('breaks a response whose stream stops sending mid-body', async (t) => {
      const c = await open(t);
      const closed = be.streamsClosed.value;
      c.write('GET /stall HTTP/1.1\r\nHost: a\r\n\r\n');
      await c.waitClosed();
      const got = c.received();
      assert.match(got, /^HTTP\/1\.1 200 /);
      assert.equal(
        got.slice(got.indexOf('\r\n\r\n') + 4),
        'partial',
        'the body stopped where the server did',
      );
      await be.streamsClosed.reach(closed + 1, 'the stalled stream closed');
    });

    it('answers 504 when the server stops reading the request body (writeTimeout)', async (t) => {
      const c = await open(t);
      const closed = be.streamsClosed.value;
      const size = 64 * 1024 * 1024;
      c.write(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`);
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      let answered = false;
      const responded = c.readResponse(60_000).finally(() => {
        answered = true;
      });
      void (async () => {
        for (let sent = 0; sent < size && !answered && !c.isClosed; sent += chunk.length) {
          if (!c.socket.write(chunk)) await Promise.race([once(c.socket, 'drain'), c.closed]);
        }
      })().catch(() => {});
      assert.equal((await responded).status, 504);
      await be.streamsClosed.reach(closed + 1, 'the upload stream closed');
      assert.ok(be.uploaded() < size, 'the body was not all forwarded');
    });
  });
}
