import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from 'node:http2';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { END_HEADERS, END_STREAM, frame, HEADERS, literal } from '../helpers/h2-frames.ts';
import { answered, RawH2, rstCode } from '../helpers/h2-raw-client.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { within } from '../helpers/wait.ts';

/*
 * CONNECT from HTTP/2 clients, tunneled to the backend as Traefik v3.7.12 does
 * (pkg/proxy/httputil/connect.go, #13542/#13556): the real proxy process, node:http2 as the
 * client, and a node:net backend that reads the CONNECT head and answers it itself.
 */

interface BackendConn {
  readonly id: number;
  /** Everything the proxy sent on this connection. */
  bytes: Buffer;
  /** Resolves when the proxy closed (or ended) its side. */
  readonly ended: Promise<void>;
}

/** A request head the backend read: its connection, its text, where it starts in `conn.bytes`. */
interface BackendRequest {
  readonly conn: BackendConn;
  readonly head: string;
  readonly at: number;
}

interface ConnectBackend {
  readonly url: string;
  readonly conns: BackendConn[];
  /** Resolves with the next request head, on whichever connection. */
  nextHead(): Promise<BackendRequest>;
  close(): Promise<void>;
}

/**
 * CONNECT to `target.test:…` (by Host): `200 Connection established`, then an echo of every
 * byte until the proxy ends its side. CONNECT to `refused.test:…`: a keep-alive 403 with a body,
 * then the socket stays open, reading (what a backend that would take the rest for a pipelined
 * request sees). Anything else: a keep-alive 200 `plain`, for later requests.
 */
async function startConnectBackend(): Promise<ConnectBackend> {
  const conns: BackendConn[] = [];
  const waiting: ((r: BackendRequest) => void)[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let endedResolve!: () => void;
    const conn: BackendConn = {
      id: conns.length,
      bytes: Buffer.alloc(0),
      ended: new Promise<void>((r) => {
        endedResolve = r;
      }),
    };
    conns.push(conn);
    let tunnel = false;
    let consumed = 0;
    socket.on('data', (d: Buffer) => {
      conn.bytes = Buffer.concat([conn.bytes, d]);
      if (tunnel) {
        socket.write(d);
        return;
      }
      for (;;) {
        const end = conn.bytes.indexOf('\r\n\r\n', consumed);
        if (end === -1) return;
        const head = conn.bytes.subarray(consumed, end + 4).toString('latin1');
        waiting.shift()?.({ conn, head, at: consumed });
        consumed = end + 4;
        const host = /\r\nhost: ([^\r]*)/i.exec(head)?.[1] ?? '';
        if (head.startsWith('CONNECT ') && host.startsWith('target.test')) {
          tunnel = true;
          socket.write('HTTP/1.1 200 Connection established\r\nX-Tunnel: yes\r\n\r\n');
          const rest = conn.bytes.subarray(consumed);
          if (rest.length > 0) socket.write(rest);
          return;
        }
        if (head.startsWith('CONNECT ')) {
          socket.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden');
          continue;
        }
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain');
      }
    });
    socket.on('end', () => {
      endedResolve();
      if (tunnel) socket.end();
    });
    socket.on('close', () => endedResolve());
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    conns,
    nextHead: () => new Promise<BackendRequest>((r) => waiting.push(r)),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function response(stream: ClientHttp2Stream): Promise<Record<string, string | number>> {
  return new Promise((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('error', reject);
    stream.once('close', () => reject(new Error(`stream closed (${stream.rstCode}) before a response`)));
  });
}

function readUntil(stream: ClientHttp2Stream, want: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      if (got.length >= want) {
        stream.off('data', onData);
        resolve(got);
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
  });
}

function body(stream: ClientHttp2Stream): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    stream.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    stream.once('end', () => resolve(got));
    stream.once('error', reject);
  });
}

for (const engine of H2_ENGINES) {
  describe(`CONNECT from HTTP/2 clients, tunneled (Traefik v3.7.12) [${engine} engine]`, () => {
    let backend: ConnectBackend;
    let mirror: ConnectBackend;
    let proxy: ProxyProcess;
    let session: ClientHttp2Session;
    let rawSession: ClientHttp2Session;

    before(async () => {
      backend = await startConnectBackend();
      mirror = await startConnectBackend();
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  raw:
    address: "127.0.0.1:0"
    http: { sanitizePath: false }
log: { level: INFO }
http:
  routers:
    tunnel:
      rule: "Host(\`target.test\`) || Host(\`refused.test\`)"
      service: backend
      middlewares: [tag]
    paths:
      rule: "PathPrefix(\`/\`)"
      service: backend
    mirrored:
      rule: "Host(\`mirrored.test\`)"
      service: mirrored
    based:
      rule: "Host(\`based.test\`)"
      service: based
  middlewares:
    tag: { headers: { customRequestHeaders: { X-Through: proxy } } }
  services:
    backend:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
    copies:
      loadBalancer:
        servers: [{ url: "${mirror.url}" }]
    mirrored:
      mirroring: { service: backend, mirrors: [{ name: copies, percent: 100 }] }
    based:
      loadBalancer:
        servers: [{ url: "${backend.url}/base", preservePath: true }]
`,
      });
      session = connect(`http://127.0.0.1:${proxy.ports['web']}`);
      rawSession = connect(`http://127.0.0.1:${proxy.ports['raw']}`);
      await Promise.all([once(session, 'remoteSettings'), once(rawSession, 'remoteSettings')]);
    });
    after(async () => {
      session?.destroy();
      rawSession?.destroy();
      await proxy?.stop();
      await backend?.close();
      await mirror?.close();
    });

    it('forwards the CONNECT, holds the payload until the backend accepts, then tunnels both ways', async () => {
      const head = backend.nextHead();
      const stream = session.request(
        { ':method': 'CONNECT', ':authority': 'target.test:443' },
        { endStream: false },
      );
      // Sent at once: held by the proxy until the backend's 2xx.
      stream.write('early ');
      const { conn, head: text, at } = await head;
      const lines = text.split('\r\n');
      // sanitizePath (on by default) makes the empty path `/` in Traefik: the RequestURI sent.
      assert.equal(lines[0], 'CONNECT / HTTP/1.1');
      assert.equal(lines[1], 'Host: target.test:443');
      const fields = lines.slice(1).map((l) => l.toLowerCase());
      assert.ok(fields.includes('x-through: proxy'), 'the router middlewares ran');
      assert.ok(fields.includes('x-forwarded-host: target.test:443'));
      assert.ok(fields.includes('x-forwarded-proto: http'));
      for (const name of ['connection:', 'upgrade:', 'content-length:', 'transfer-encoding:']) {
        assert.ok(!fields.some((f) => f.startsWith(name)), `no ${name} field`);
      }
      const h = await response(stream);
      assert.equal(h[':status'], 200);
      assert.equal(h['x-tunnel'], 'yes');
      assert.equal(h['content-length'], undefined);
      const echoed = readUntil(stream, 'early more'.length);
      stream.write('more');
      assert.equal(await echoed, 'early more');
      // The client ends its side: the backend reads its end, ends too, and the stream ends.
      const rest = body(stream);
      stream.end();
      await conn.ended;
      assert.equal(await rest, '');
      assert.equal(conn.bytes.subarray(at + text.length).toString(), 'early more');
    });

    it('relays a refused CONNECT as a response; the backend never sees a payload byte, and its connection is closed', async () => {
      const head = backend.nextHead();
      const stream = session.request(
        { ':method': 'CONNECT', ':authority': 'refused.test:443' },
        { endStream: false },
      );
      stream.write('GET /smuggled HTTP/1.1\r\nHost: refused.test\r\n\r\n');
      const { conn, head: text, at } = await head;
      assert.ok(text.startsWith('CONNECT / HTTP/1.1\r\nHost: refused.test:443\r\n'), text);
      const h = await response(stream);
      assert.equal(h[':status'], 403);
      assert.equal(await body(stream), 'forbidden');
      // Not put back in the pool (#13556): the proxy closes it, having sent the head only.
      await conn.ended;
      assert.equal(conn.bytes.length, at + text.length, 'no payload byte reached the backend');
      // A later request takes another connection.
      const next = backend.nextHead();
      const get = session.request({ ':path': '/after', ':authority': 'refused.test' });
      assert.equal((await response(get))[':status'], 200);
      assert.equal(await body(get), 'plain');
      assert.notEqual((await next).conn.id, conn.id, 'another backend connection');
    });

    it('sends the body of a CONNECT with a content-length at once, framed, as Traefik (refused)', async () => {
      // Traefik's connectHandler: "Nothing to defer for a CONNECT ... with a fixed Content-Length"
      // (pkg/proxy/httputil/connect.go): Go's transport writes it with its Content-Length.
      const head = backend.nextHead();
      const stream = session.request(
        { ':method': 'CONNECT', ':authority': 'refused.test:443', 'content-length': '3' },
        { endStream: false },
      );
      stream.end('foo');
      const { conn, head: text, at } = await head;
      assert.ok(text.startsWith('CONNECT / HTTP/1.1\r\nHost: refused.test:443\r\n'), text);
      assert.match(text, /\r\nContent-Length: 3\r\n/);
      const h = await response(stream);
      assert.equal(h[':status'], 403);
      assert.equal(await body(stream), 'forbidden');
      // The body went with the head, framed; the connection is not reused (#13556).
      await conn.ended;
      assert.equal(conn.bytes.subarray(at + text.length).toString(), 'foo');
    });

    it('sends the body of a CONNECT with a content-length at once; a 2xx tunnels the backend bytes back', async () => {
      const head = backend.nextHead();
      const stream = session.request(
        { ':method': 'CONNECT', ':authority': 'target.test:443', 'content-length': '4' },
        { endStream: false },
      );
      stream.end('ping');
      const { conn, head: text, at } = await head;
      assert.match(text, /\r\nContent-Length: 4\r\n/);
      const h = await response(stream);
      assert.equal(h[':status'], 200);
      // The echo backend sends back what followed the head: the body, sent before its 2xx.
      assert.equal(await readUntil(stream, 4), 'ping');
      assert.equal(conn.bytes.subarray(at + text.length).toString(), 'ping');
      stream.destroy();
    });

    it('never reuses the connection that carried a tunnel', async () => {
      const head = backend.nextHead();
      const stream = session.request(
        { ':method': 'CONNECT', ':authority': 'target.test:8443' },
        { endStream: false },
      );
      const { conn } = await head;
      assert.equal((await response(stream))[':status'], 200);
      const rest = body(stream);
      stream.end();
      await rest;
      await conn.ended;
      const next = backend.nextHead();
      const get = session.request({ ':path': '/x', ':authority': 'target.test' });
      assert.equal((await response(get))[':status'], 200);
      await body(get);
      assert.notEqual((await next).conn.id, conn.id);
    });

    it('routes by Host only: Path rules do not match the empty path of a CONNECT', async () => {
      const stream = session.request(
        { ':method': 'CONNECT', ':authority': 'elsewhere.test:443' },
        { endStream: false },
      );
      assert.equal((await response(stream))[':status'], 404);
      stream.destroy();
    });

    it('sends the authority-form target with sanitizePath off (Go transport writes the Host)', async () => {
      const head = backend.nextHead();
      const stream = rawSession.request(
        { ':method': 'CONNECT', ':authority': 'target.test:443' },
        { endStream: false },
      );
      const { head: text } = await head;
      assert.ok(text.startsWith('CONNECT target.test:443 HTTP/1.1\r\nHost: target.test:443\r\n'), text);
      assert.equal((await response(stream))[':status'], 200);
      const rest = body(stream);
      stream.end();
      await rest;
    });

    it("sends a preservePath server's path as the target, with sanitizePath on or off (Traefik's JoinURLPath)", async () => {
      // The director joins the server URL's path and the request's ('' or, sanitized, '/'): the
      // transport then writes that path rather than the authority (pkg/proxy/httputil/proxy.go).
      for (const s of [session, rawSession]) {
        const head = backend.nextHead();
        const stream = s.request(
          { ':method': 'CONNECT', ':authority': 'based.test:443' },
          { endStream: false },
        );
        const { head: text } = await head;
        assert.ok(text.startsWith('CONNECT /base/ HTTP/1.1\r\nHost: based.test:443\r\n'), text);
        assert.equal((await response(stream))[':status'], 403);
        stream.destroy();
      }
    });

    it('sends a mirror its copy of a CONNECT to `/`, as Traefik sanitizePath makes the request URI', async () => {
      const main = backend.nextHead();
      const copy = mirror.nextHead();
      const stream = session.request(
        { ':method': 'CONNECT', ':authority': 'mirrored.test:443' },
        { endStream: false },
      );
      assert.ok((await main).head.startsWith('CONNECT / HTTP/1.1\r\nHost: mirrored.test:443\r\n'));
      assert.equal((await response(stream))[':status'], 403);
      await body(stream);
      // The copy leaves once the main service answered (Traefik's mirror.go ServeHTTP).
      const { head: text } = await within(copy, 'the copy');
      assert.ok(text.startsWith('CONNECT / HTTP/1.1\r\nHost: mirrored.test:443\r\n'), text);
    });

    if (engine === 'own') {
      it('resets a CONNECT with :scheme or :path, or without :authority (PROTOCOL_ERROR, as Go)', async () => {
        // Literal fields without indexing on the static names :authority (1), :method (2),
        // :path (4), :scheme (6) (RFC 7541 §6.2.2).
        const f = (index: number, value: string): Buffer =>
          Buffer.concat([Buffer.from([index]), literal(value)]);
        const connect = (id: number, ...fields: Buffer[]): Buffer =>
          frame(HEADERS, END_STREAM | END_HEADERS, id, Buffer.concat([f(2, 'CONNECT'), ...fields]));
        const c = new RawH2(proxy.ports['web']!, true);
        try {
          c.write(connect(1, f(1, 'target.test:443'), f(4, '/')));
          c.write(connect(3, f(6, 'https'), f(1, 'target.test:443')));
          c.write(connect(5));
          c.write(connect(7, f(1, 'elsewhere.test:443')));
          const frames = await c.until(
            (x) => [1, 3, 5].every((id) => rstCode(x, id) !== undefined) && answered(x, 7),
            'three resets and an answer',
          );
          for (const id of [1, 3, 5]) assert.equal(rstCode(frames, id), 1, `stream ${id}: PROTOCOL_ERROR`);
        } finally {
          c.destroy();
        }
      });
    }

    it('still answers an HTTP/1.1 CONNECT with 501 (after routing: test/e2e/h1-connect.test.ts)', async () => {
      const { connect: tcp } = await import('node:net');
      const sock = tcp(proxy.ports['web']!, '127.0.0.1');
      sock.write('CONNECT target.test:443 HTTP/1.1\r\nHost: target.test:443\r\n\r\n');
      let got = '';
      await new Promise<void>((resolve) => {
        sock.on('data', (d: Buffer) => {
          got += d.toString('latin1');
          if (got.includes('\r\n\r\n')) resolve();
        });
      });
      sock.destroy();
      assert.match(got, /^HTTP\/1\.1 501 /);
    });
  });
}
