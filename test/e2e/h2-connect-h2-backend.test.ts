import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  createServer as createH2cServer,
  createSecureServer,
  type Http2SecureServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type RawH2Server, type RawPeer, startRawH2Server } from '../../src/upstream/test-raw-h2.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import {
  DATA,
  END_HEADERS,
  END_STREAM,
  type Frame,
  frame,
  HEADERS,
  literal,
  RST_STREAM,
  rst,
} from '../helpers/h2-frames.ts';
import { RawH2, requestHeaders, rstCode } from '../helpers/h2-raw-client.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { TestPki } from '../helpers/tls-certs.ts';
import { within } from '../helpers/wait.ts';

/*
 * CONNECT from HTTP/2 clients to HTTP/2 backends, as Traefik's transport carries it
 * (x/net/http2: a CONNECT stream on the pooled connection, `:method` and `:authority` only, the
 * tunnel in its DATA frames; pkg/proxy/httputil/connect.go defers the payload until a 2xx): the
 * real proxy, node:http2 as the client, node:http2 backends (h2c with prior knowledge, and TLS
 * with ALPN h2) that take CONNECT streams themselves; and an https:// backend that speaks
 * HTTP/1.1 only, which still gets an HTTP/1.1 CONNECT.
 */

const BIG = 8 * 1024 * 1024;

/** Byte i of the large transfers: a pattern whose every offset can be checked. */
function pattern(from: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (from + i) % 251;
  return b;
}

function samePattern(b: Buffer, from: number): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== (from + i) % 251) return false;
  return true;
}

/** A CONNECT stream the backend took. */
interface Tunnel {
  readonly stream: ServerHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  readonly session: Http2Session;
  /** Payload bytes the backend read. */
  received: number;
  /** The proxy's END_STREAM arrived. */
  ended: boolean;
  /** Bytes of the large download whose write completed; whether a write waits for 'drain'. */
  sent: number;
  blocked: boolean;
  readonly closed: Promise<number>;
  /** For `sink.test`: starts reading. */
  release?: () => void;
}

interface H2Backend {
  readonly url: string;
  readonly tunnels: Tunnel[];
  /** Sessions of ordinary requests, in order. */
  readonly plain: Http2Session[];
  nextTunnel(): Promise<Tunnel>;
  close(): Promise<void>;
}

/**
 * By the CONNECT's authority: `echo.test` 200 and an echo of every byte (its END_STREAM after
 * ours); `late.test` the same, but its own END_STREAM only when told (`release`); `refused.test`
 * 403 with a body; `big.test` 200 then BIG bytes with backpressure; `sink.test` 200, reading only
 * once released. Other requests: 200 `plain`.
 */
async function startH2Backend(server: Http2Server | Http2SecureServer, scheme: string): Promise<H2Backend> {
  const tunnels: Tunnel[] = [];
  const plain: Http2Session[] = [];
  const waiting: ((t: Tunnel) => void)[] = [];
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (s: ServerHttp2Session) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => {});
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => {});
    if (headers[':method'] !== 'CONNECT') {
      plain.push(stream.session!);
      stream.respond({ ':status': 200 });
      stream.end('plain');
      return;
    }
    const host = String(headers[':authority']).split(':')[0]!;
    let closedResolve!: (code: number) => void;
    const t: Tunnel = {
      stream,
      headers,
      session: stream.session!,
      received: 0,
      ended: false,
      sent: 0,
      blocked: false,
      closed: new Promise<number>((r) => {
        closedResolve = r;
      }),
    };
    stream.on('close', () => closedResolve(stream.rstCode ?? 0));
    stream.on('end', () => {
      t.ended = true;
    });
    tunnels.push(t);
    if (host === 'refused.test') {
      stream.on('data', (d: Buffer) => {
        t.received += d.length;
      });
      const refuse = (): void => {
        stream.respond({ ':status': 403, 'content-type': 'text/plain' });
        stream.end('forbidden');
      };
      // A declared body is read whole first (Traefik's connect test reads it too).
      if (headers['content-length'] !== undefined) stream.once('end', refuse);
      else refuse();
    } else if (host === 'big.test') {
      stream.respond({ ':status': 200 });
      stream.resume();
      let at = 0;
      const pump = (): void => {
        while (at < BIG) {
          const n = Math.min(64 * 1024, BIG - at);
          const chunk = pattern(at, n);
          at += n;
          const ok = stream.write(chunk, () => {
            t.sent += n;
          });
          if (!ok) {
            t.blocked = true;
            stream.once('drain', () => {
              t.blocked = false;
              pump();
            });
            return;
          }
        }
        stream.end();
      };
      pump();
    } else if (host === 'sink.test') {
      stream.respond({ ':status': 200 });
      stream.pause();
      let from = 0;
      let good = true;
      stream.on('data', (d: Buffer) => {
        if (!samePattern(d, from)) good = false;
        from += d.length;
        t.received += d.length;
      });
      stream.on('end', () => stream.end(`got ${t.received} ${good ? 'intact' : 'CORRUPT'}`));
      t.release = () => stream.resume();
    } else {
      stream.respond({ ':status': 200, 'x-tunnel': scheme });
      stream.on('data', (d: Buffer) => {
        t.received += d.length;
        if (!stream.write(d)) {
          stream.pause();
          stream.once('drain', () => stream.resume());
        }
      });
      if (host === 'late.test') t.release = () => stream.end('late');
      else stream.on('end', () => stream.end());
    }
    waiting.shift()?.(t);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    tunnels,
    plain,
    nextTunnel: () => within(new Promise<Tunnel>((r) => waiting.push(r)), 'a CONNECT at the backend'),
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function response(stream: ClientHttp2Stream): Promise<IncomingHttpHeaders> {
  return within(
    new Promise((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('error', reject);
      stream.once('close', () => reject(new Error(`stream closed (${stream.rstCode}) before a response`)));
    }),
    'the response head',
  );
}

function readUntil(stream: ClientHttp2Stream, want: number): Promise<Buffer> {
  return within(
    new Promise((resolve, reject) => {
      const got: Buffer[] = [];
      let n = 0;
      const onData = (d: Buffer): void => {
        got.push(d);
        n += d.length;
        if (n >= want) {
          stream.off('data', onData);
          resolve(Buffer.concat(got));
        }
      };
      stream.on('data', onData);
      stream.once('error', reject);
    }),
    `${want} tunnel bytes`,
  );
}

/** Everything until the stream's end; rejects on a reset. */
function rest(stream: ClientHttp2Stream): Promise<Buffer> {
  return within(
    new Promise((resolve, reject) => {
      const got: Buffer[] = [];
      stream.on('data', (d: Buffer) => got.push(d));
      stream.once('end', () => resolve(Buffer.concat(got)));
      stream.once('close', () => reject(new Error(`reset (${stream.rstCode}) before the end`)));
    }),
    'the end of the tunnel',
  );
}

/** Resolves once `cond` holds, polled on each turn of the event loop (bounded by `within`). */
function until(cond: () => boolean, what: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const check = (): void => {
        if (cond()) resolve();
        else setTimeout(check, 5);
      };
      check();
    }),
    what,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function get(session: ClientHttp2Session, path: string): Promise<string> {
  return within(
    new Promise((resolve, reject) => {
      const req = session.request({ ':path': path, ':authority': 'plain.test' });
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => {
        body += d;
      });
      req.on('end', () => resolve(body));
      req.on('error', reject);
    }),
    `GET ${path}`,
  );
}

for (const engine of H2_ENGINES) {
  describe(`CONNECT from HTTP/2 clients to HTTP/2 backends (x/net/http2's CONNECT stream) [${engine} engine]`, () => {
    let pki: TestPki;
    let h2c: H2Backend;
    let h2tls: H2Backend;
    /** One stream at a time per connection (SETTINGS_MAX_CONCURRENT_STREAMS 1). */
    let single: H2Backend;
    let h1tls: HttpsServer;
    let h1reset: HttpServer;
    const h1Connects: { url: string; host: string | undefined; version: string }[] = [];
    const h1Sockets = new Set<Socket>();
    let proxy: ProxyProcess;
    const sessions: Record<string, ClientHttp2Session> = {};
    // A backend that writes its frames itself: a bare RST_STREAM mid-tunnel (node's close()
    // sends END_STREAM first), and every frame the proxy sends it, per stream.
    let raw: RawH2Server;
    const rawPeers = new Map<number, RawPeer>();
    const rawFrames: { type: number; flags: number; id: number; payload: Buffer }[] = [];
    const rawWaiting: (() => void)[] = [];

    before(async () => {
      pki = new TestPki();
      const cert = pki.issue('backend', ['127.0.0.1']);
      h2c = await startH2Backend(createH2cServer(), 'h2c');
      single = await startH2Backend(createH2cServer({ settings: { maxConcurrentStreams: 1 } }), 'h2c');
      h2tls = await startH2Backend(
        createSecureServer({ key: cert.keyPem, cert: cert.certPem, allowHTTP1: false }),
        'https',
      );
      // An https:// server that answers ALPN with http/1.1 only: the CONNECT goes as HTTP/1.1.
      h1tls = createHttpsServer({ key: cert.keyPem, cert: cert.certPem, ALPNProtocols: ['http/1.1'] });
      h1tls.on('connect', (req, socket: Socket, head: Buffer) => {
        h1Connects.push({ url: req.url ?? '', host: req.headers.host, version: req.httpVersion });
        h1Sockets.add(socket);
        socket.on('error', () => {});
        socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (head.length > 0) socket.write(head);
        socket.pipe(socket);
      });
      await new Promise<void>((r) => h1tls.listen(0, '127.0.0.1', r));
      // A cleartext HTTP/1.1 backend that resets (TCP RST) its tunnel at the first payload byte.
      h1reset = createHttpServer();
      h1reset.on('connect', (_req, socket: Socket) => {
        h1Sockets.add(socket);
        socket.on('error', () => {});
        socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
        socket.once('data', () => socket.resetAndDestroy());
      });
      await new Promise<void>((r) => h1reset.listen(0, '127.0.0.1', r));
      raw = await startRawH2Server(
        (peer, id, fields) => {
          rawFrames.push({ type: HEADERS, flags: 0, id, payload: Buffer.from(fields.join('\n')) });
          rawPeers.set(id, peer);
          peer.headers(id, [':status', '200'], false);
          for (const w of rawWaiting.splice(0)) w();
        },
        [],
        (type, flags, id, payload) => {
          rawFrames.push({ type, flags, id, payload });
          for (const w of rawWaiting.splice(0)) w();
        },
      );
      const h1port = (h1tls.address() as AddressInfo).port;
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  c:
    address: "127.0.0.1:0"
  t:
    address: "127.0.0.1:0"
  h1:
    address: "127.0.0.1:0"
  r:
    address: "127.0.0.1:0"
  s:
    address: "127.0.0.1:0"
  p:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    c: { rule: "HostRegexp(\`^.+$\`)", service: h2c, entryPoints: [c] }
    t: { rule: "HostRegexp(\`^.+$\`)", service: tls, entryPoints: [t] }
    h1: { rule: "HostRegexp(\`^.+$\`)", service: h1, entryPoints: [h1] }
    r: { rule: "HostRegexp(\`^.+$\`)", service: raw, entryPoints: [r] }
    s: { rule: "HostRegexp(\`^.+$\`)", service: single, entryPoints: [s] }
    p: { rule: "HostRegexp(\`^.+$\`)", service: plain1, entryPoints: [p] }
  services:
    h2c:
      loadBalancer: { servers: [{ url: "${h2c.url}" }] }
    tls:
      loadBalancer:
        serversTransport: ca
        servers: [{ url: "${h2tls.url}" }]
    raw:
      loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${raw.port}" }] }
    single:
      loadBalancer: { servers: [{ url: "${single.url}" }] }
    plain1:
      loadBalancer: { servers: [{ url: "http://127.0.0.1:${(h1reset.address() as AddressInfo).port}" }] }
    h1:
      loadBalancer:
        serversTransport: ca
        servers: [{ url: "https://127.0.0.1:${h1port}" }]
  serversTransports:
    ca:
      rootCAs: ["${pki.ca.certFile}"]
`,
      });
      for (const ep of ['c', 't', 'h1', 's', 'p']) {
        sessions[ep] = connect(`http://127.0.0.1:${proxy.ports[ep]}`);
        sessions[ep].on('error', () => {});
      }
      await Promise.all(Object.values(sessions).map((s) => once(s, 'remoteSettings')));
    });

    after(async () => {
      for (const s of Object.values(sessions)) s.destroy();
      await proxy?.stop();
      await h2c?.close();
      await h2tls?.close();
      await single?.close();
      for (const s of h1Sockets) s.destroy();
      await new Promise<void>((r) => (h1tls ? h1tls.close(() => r()) : r()));
      await new Promise<void>((r) => (h1reset ? h1reset.close(() => r()) : r()));
      await raw?.close();
      pki?.remove();
    });

    const backends: [string, () => H2Backend][] = [
      ['c', () => h2c],
      ['t', () => h2tls],
    ];

    for (const [ep, backendOf] of backends) {
      const kind = ep === 'c' ? 'h2c://' : 'https:// (ALPN h2)';

      it(`${kind}: a CONNECT stream (:method and :authority only), its DATA the tunnel both ways, on the connection ordinary requests share`, async () => {
        const backend = backendOf();
        const session = sessions[ep]!;
        const next = backend.nextTunnel();
        const stream = session.request(
          { ':method': 'CONNECT', ':authority': 'echo.test:443' },
          { endStream: false },
        );
        // Sent before the backend answered: held until its 2xx, then the tunnel's first bytes.
        stream.write('early ');
        const t = await next;
        const head = await response(stream);
        assert.equal(head[':status'], 200);
        assert.equal(head['x-tunnel'], ep === 'c' ? 'h2c' : 'https');
        assert.equal(t.headers[':method'], 'CONNECT');
        assert.equal(t.headers[':authority'], 'echo.test:443');
        assert.equal(t.headers[':scheme'], undefined);
        assert.equal(t.headers[':path'], undefined);
        assert.equal(t.headers['x-forwarded-for'], '127.0.0.1');
        assert.equal(t.headers['content-length'], undefined);
        assert.equal(t.session.alpnProtocol, ep === 'c' ? 'h2c' : 'h2');
        stream.write('ping');
        assert.equal((await readUntil(stream, 10)).toString(), 'early ping');
        // An ordinary request meanwhile: a stream of the same backend connection.
        const before = backend.plain.length;
        assert.equal(await get(session, '/x'), 'plain');
        assert.equal(backend.plain.length, before + 1);
        assert.equal(backend.plain[before], t.session, 'the GET shares the CONNECT stream’s connection');
        stream.write('pong', () => {});
        assert.equal((await readUntil(stream, 4)).toString(), 'pong');
        // The client's END_STREAM reaches the backend as END_STREAM; its own ends the tunnel.
        const ended = rest(stream);
        stream.end();
        assert.equal((await ended).length, 0);
        assert.equal(await t.closed, 0);
        assert.equal(t.ended, true);
        assert.equal(t.received, 14);
      });

      it(`${kind}: content-length: 0 is a CONNECT without one (Traefik defers its payload: ContentLength 0 is not > 0); DATA past it resets the client's stream`, async () => {
        const backend = backendOf();
        const next = backend.nextTunnel();
        const stream = sessions[ep]!.request(
          { ':method': 'CONNECT', ':authority': 'late.test:443', 'content-length': '0' },
          { endStream: false },
        );
        stream.on('error', () => {});
        const t = await next;
        assert.equal(t.headers['content-length'], undefined, 'no content-length to the backend');
        assert.equal((await response(stream))[':status'], 200);
        if (engine === 'node') {
          // nghttp2 does not hold a CONNECT to its content-length (docs/migrating-from-traefik.md).
          stream.close(constants.NGHTTP2_CANCEL);
          await within(t.closed, 'the backend stream closed');
          return;
        }
        const closed = within(new Promise((r) => stream.once('close', r)), 'the client stream reset');
        stream.write('too much');
        await closed;
        assert.equal(stream.rstCode, constants.NGHTTP2_PROTOCOL_ERROR);
        assert.equal(await within(t.closed, 'the backend stream closed'), constants.NGHTTP2_CANCEL);
        assert.equal(t.received, 0, 'not a byte past the declared length reached the backend');
      });

      it(`${kind}: a refusal is relayed as a response; the backend never sees a payload byte and gets END_STREAM`, async () => {
        const backend = backendOf();
        const next = backend.nextTunnel();
        const stream = sessions[ep]!.request(
          { ':method': 'CONNECT', ':authority': 'refused.test:443' },
          { endStream: false },
        );
        stream.write('GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
        const t = await next;
        const head = await response(stream);
        assert.equal(head[':status'], 403);
        const body = await within(
          new Promise<string>((resolve) => {
            let b = '';
            stream.setEncoding('utf8');
            stream.on('data', (d: string) => {
              b += d;
            });
            stream.once('end', () => resolve(b));
            stream.once('close', () => resolve(b));
          }),
          'the refusal body',
        );
        assert.equal(body, 'forbidden');
        await t.closed;
        assert.equal(t.received, 0);
        assert.equal(t.ended, true, 'END_STREAM, as x/net/http2 ends a closed body pipe');
      });

      it(`${kind}: a CONNECT with a content-length sends that body at once, framed, even when refused (Traefik's connectHandler defers nothing then)`, async () => {
        const backend = backendOf();
        const next = backend.nextTunnel();
        const stream = sessions[ep]!.request(
          { ':method': 'CONNECT', ':authority': 'refused.test:443', 'content-length': '3' },
          { endStream: false },
        );
        stream.end('foo');
        const t = await next;
        assert.equal(t.headers['content-length'], '3');
        assert.equal((await response(stream))[':status'], 403);
        await t.closed;
        assert.equal(t.received, 3);
        assert.equal(t.ended, true);
      });

      it(`${kind}: a large download to a client slow to read is held back by flow control, then arrives whole`, async () => {
        const backend = backendOf();
        const next = backend.nextTunnel();
        const stream = sessions[ep]!.request(
          { ':method': 'CONNECT', ':authority': 'big.test:443' },
          { endStream: false },
        );
        const t = await next;
        assert.equal((await response(stream))[':status'], 200);
        stream.pause();
        await until(() => t.blocked, 'the backend blocked by flow control');
        // A while for anything unbounded to show (no timing is asserted).
        await sleep(300);
        assert.ok(t.blocked, 'still blocked while the client does not read');
        assert.ok(
          t.sent < BIG / 2,
          `the backend could send ${t.sent} of ${BIG} bytes to a client not reading`,
        );
        let from = 0;
        let intact = true;
        const done = within(
          new Promise<void>((resolve, reject) => {
            stream.on('data', (d: Buffer) => {
              if (!samePattern(d, from)) intact = false;
              from += d.length;
            });
            stream.once('end', resolve);
            stream.once('close', () => (from === BIG ? resolve() : reject(new Error(`reset at ${from}`))));
          }),
          'the whole download',
          30_000,
        );
        stream.resume();
        await done;
        assert.equal(from, BIG);
        assert.ok(intact, 'bytes in order');
        stream.end();
        await t.closed;
      });

      it(`${kind}: a client that ends its half first still gets every byte of a large download, then the end`, async () => {
        const backend = backendOf();
        const next = backend.nextTunnel();
        const stream = sessions[ep]!.request(
          { ':method': 'CONNECT', ':authority': 'big.test:443' },
          { endStream: false },
        );
        const t = await next;
        assert.equal((await response(stream))[':status'], 200);
        // Half-closed at once (a request sent, its answer read to the end), and slow to read.
        stream.end();
        stream.pause();
        await until(() => t.blocked, 'the backend blocked by flow control');
        let from = 0;
        let intact = true;
        const done = within(
          new Promise<void>((resolve, reject) => {
            stream.on('data', (d: Buffer) => {
              if (!samePattern(d, from)) intact = false;
              from += d.length;
            });
            stream.once('end', resolve);
            stream.once('close', () =>
              from === BIG ? resolve() : reject(new Error(`reset (${stream.rstCode}) at ${from}`)),
            );
          }),
          'the whole download',
          30_000,
        );
        // Read slowly: a chunk per turn of the event loop, paused in between.
        const slow = setInterval(() => {
          stream.resume();
          setImmediate(() => stream.pause());
        }, 2);
        try {
          await done;
        } finally {
          clearInterval(slow);
        }
        assert.equal(from, BIG);
        assert.ok(intact, 'bytes in order');
        assert.equal(await t.closed, 0);
      });

      it(`${kind}: a large upload to a backend slow to read is held back by flow control, then arrives whole`, async () => {
        const backend = backendOf();
        const next = backend.nextTunnel();
        const stream = sessions[ep]!.request(
          { ':method': 'CONNECT', ':authority': 'sink.test:443' },
          { endStream: false },
        );
        const t = await next;
        assert.equal((await response(stream))[':status'], 200);
        let at = 0;
        let accepted = 0;
        let blocked = false;
        const pump = (): void => {
          while (at < BIG) {
            const n = Math.min(64 * 1024, BIG - at);
            const chunk = pattern(at, n);
            at += n;
            const ok = stream.write(chunk, () => {
              accepted += n;
            });
            if (!ok) {
              blocked = true;
              stream.once('drain', () => {
                blocked = false;
                pump();
              });
              return;
            }
          }
          stream.end();
        };
        pump();
        await until(() => blocked, 'the client blocked by flow control');
        await sleep(300);
        assert.ok(blocked, 'still blocked while the backend does not read');
        assert.ok(
          accepted < BIG / 2,
          `the client could send ${accepted} of ${BIG} bytes to a backend not reading`,
        );
        const answer = rest(stream);
        t.release!();
        assert.equal((await answer).toString(), `got ${BIG} intact`);
        await t.closed;
      });

      it(`${kind}: the client's END_STREAM leaves the backend's half open as long as it wants (no 1 s cut)`, async () => {
        const backend = backendOf();
        const next = backend.nextTunnel();
        const stream = sessions[ep]!.request(
          { ':method': 'CONNECT', ':authority': 'late.test:443' },
          { endStream: false },
        );
        const t = await next;
        assert.equal((await response(stream))[':status'], 200);
        stream.write('abc');
        assert.equal((await readUntil(stream, 3)).toString(), 'abc');
        const answer = rest(stream);
        stream.end();
        await until(() => t.ended, "the client's END_STREAM at the backend");
        // Past the second the proxy gave an HTTP/1.1 backend's half (WebSocket's termination delay).
        await sleep(1300);
        t.release!();
        assert.equal((await answer).toString(), 'late');
        assert.equal(await t.closed, 0);
      });

      it(`${kind}: the client's reset mid-tunnel resets the backend's stream (CANCEL, as Go's transport); the connection serves on`, async () => {
        const backend = backendOf();
        const next = backend.nextTunnel();
        // A backend that does not end its half at our END_STREAM (node's close() ends the
        // client's writable side before its RST_STREAM): the reset is what closes its stream.
        const stream = sessions[ep]!.request(
          { ':method': 'CONNECT', ':authority': 'late.test:443' },
          { endStream: false },
        );
        stream.on('error', () => {});
        const t = await next;
        assert.equal((await response(stream))[':status'], 200);
        stream.write('y');
        await readUntil(stream, 1);
        stream.close(constants.NGHTTP2_CANCEL);
        assert.equal(await within(t.closed, 'the backend stream closed'), constants.NGHTTP2_CANCEL);
        const before = backend.plain.length;
        assert.equal(await get(sessions[ep]!, '/after'), 'plain');
        assert.equal(backend.plain[before], t.session);
      });
    }

    /** Resolves once the raw backend's frames hold `cond`. */
    function rawUntil(cond: () => boolean, what: string): Promise<void> {
      return within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (cond()) resolve();
            else rawWaiting.push(check);
          };
          check();
        }),
        what,
      );
    }

    /** A CONNECT on raw client stream `id`, without END_STREAM: `:method CONNECT` and `:authority`. */
    function connectHeaders(id: number, authority: string): Buffer {
      const block = Buffer.concat([
        Buffer.from([0x02]),
        literal('CONNECT'),
        Buffer.from([0x01]),
        literal(authority),
      ]);
      return frame(HEADERS, END_HEADERS, id, block);
    }

    const ended = (f: Frame[], id: number): boolean =>
      f.some(
        (x) => x.stream === id && (x.type === DATA || x.type === HEADERS) && (x.flags & END_STREAM) !== 0,
      );

    it("the backend's bare RST_STREAM mid-tunnel resets the client's stream with INTERNAL_ERROR (Traefik's aborted handler), never a clean end", async () => {
      const client = new RawH2(proxy.ports['r']!, true);
      try {
        const seen = rawPeers.size;
        client.write(connectHeaders(1, 'reset.test:443'));
        await rawUntil(() => rawPeers.size > seen, 'the CONNECT at the backend');
        const [id, peer] = [...rawPeers.entries()].at(-1)!;
        await client.until((f) => f.some((x) => x.stream === 1 && x.type === HEADERS), 'the 200');
        client.write(frame(DATA, 0, 1, Buffer.from('hello')));
        await rawUntil(
          () => rawFrames.some((x) => x.id === id && x.type === DATA && x.payload.length > 0),
          'the payload',
        );
        peer.writer.data(id, Buffer.from('world'), 0, 5, false);
        peer.writer.rst(id, constants.NGHTTP2_INTERNAL_ERROR);
        peer.flush();
        const f = await client.until((x) => rstCode(x, 1) !== undefined, "the client stream's reset");
        assert.equal(rstCode(f, 1), constants.NGHTTP2_INTERNAL_ERROR);
        assert.equal(ended(f, 1), false, 'no END_STREAM before the reset');
      } finally {
        client.destroy();
      }
    });

    it("the client's bare RST_STREAM mid-tunnel resets the backend's stream with CANCEL (Go's transport), no END_STREAM first", async () => {
      const client = new RawH2(proxy.ports['r']!, true);
      try {
        const seen = rawPeers.size;
        client.write(connectHeaders(1, 'reset.test:443'));
        await rawUntil(() => rawPeers.size > seen, 'the CONNECT at the backend');
        const [id] = [...rawPeers.entries()].at(-1)!;
        const head = rawFrames
          .find((x) => x.id === id && x.type === HEADERS)!
          .payload.toString()
          .split('\n');
        assert.deepEqual(head.slice(0, 4), [':method', 'CONNECT', ':authority', 'reset.test:443']);
        assert.ok(!head.includes(':scheme') && !head.includes(':path'));
        await client.until((f) => f.some((x) => x.stream === 1 && x.type === HEADERS), 'the 200');
        client.write(rst(1, constants.NGHTTP2_CANCEL));
        await rawUntil(
          () => rawFrames.some((x) => x.id === id && x.type === RST_STREAM),
          'the backend stream reset',
        );
        const mine = rawFrames.filter((x) => x.id === id);
        const r = mine.find((x) => x.type === RST_STREAM)!;
        assert.equal(r.payload.readUInt32BE(0), constants.NGHTTP2_CANCEL);
        assert.ok(
          !mine.some((x) => x.type === DATA && (x.flags & END_STREAM) !== 0),
          'no END_STREAM before it',
        );
      } finally {
        client.destroy();
      }
    });

    it('an ordinary upload the client resets reaches the backend as RST_STREAM(CANCEL) alone, never an END_STREAM first', async () => {
      const client = new RawH2(proxy.ports['r']!, true);
      try {
        const seen = rawPeers.size;
        client.write(requestHeaders(1, [], END_HEADERS, '/upload'));
        client.write(frame(DATA, 0, 1, Buffer.from('part of a body')));
        await rawUntil(() => rawPeers.size > seen, 'the POST at the backend');
        const [id] = [...rawPeers.entries()].at(-1)!;
        await rawUntil(
          () => rawFrames.some((x) => x.id === id && x.type === DATA && x.payload.length > 0),
          'the body bytes',
        );
        client.write(rst(1, constants.NGHTTP2_CANCEL));
        await rawUntil(
          () => rawFrames.some((x) => x.id === id && x.type === RST_STREAM),
          'the backend stream reset',
        );
        const mine = rawFrames.filter((x) => x.id === id);
        assert.equal(
          mine.find((x) => x.type === RST_STREAM)!.payload.readUInt32BE(0),
          constants.NGHTTP2_CANCEL,
        );
        assert.ok(
          !mine.some((x) => x.type === DATA && (x.flags & END_STREAM) !== 0),
          'the cut body never ends',
        );
      } finally {
        client.destroy();
      }
    });

    it('a CONNECT stream takes one of the connection’s concurrent streams while the tunnel lives', async () => {
      const next = single.nextTunnel();
      const stream = sessions['s']!.request(
        { ':method': 'CONNECT', ':authority': 'echo.test:443' },
        { endStream: false },
      );
      const t = await next;
      assert.equal((await response(stream))[':status'], 200);
      // The server allows one stream per connection: the GET needs another one.
      assert.equal(await get(sessions['s']!, '/while'), 'plain');
      assert.notEqual(single.plain.at(-1), t.session);
      const ended = rest(stream);
      stream.end();
      await ended;
      await t.closed;
      // The slot is given back once the tunnel is over: the oldest connection (the tunnel's)
      // takes GETs again (each GET waits for its answer: no timing involved but the bound).
      await within(
        (async () => {
          for (;;) {
            assert.equal(await get(sessions['s']!, '/after'), 'plain');
            if (single.plain.at(-1) === t.session) return;
          }
        })(),
        "a GET on the tunnel's connection",
      );
    });

    it("an HTTP/1.1 backend's TCP reset mid-tunnel resets the client's stream with INTERNAL_ERROR too (Traefik's aborted handler)", async () => {
      const stream = sessions['p']!.request(
        { ':method': 'CONNECT', ':authority': 'reset.test:443' },
        { endStream: false },
      );
      stream.on('error', () => {});
      assert.equal((await response(stream))[':status'], 200);
      let ended = false;
      stream.on('end', () => {
        ended = true;
      });
      stream.resume();
      const closed = within(new Promise((r) => stream.once('close', r)), 'the client stream closed');
      stream.write('x');
      await closed;
      assert.equal(stream.rstCode, constants.NGHTTP2_INTERNAL_ERROR);
      assert.equal(ended, false, 'never a clean end');
    });

    it('https:// that negotiates http/1.1: still an HTTP/1.1 CONNECT (regression)', async () => {
      const stream = sessions['h1']!.request(
        { ':method': 'CONNECT', ':authority': 'echo.test:443' },
        { endStream: false },
      );
      const head = await response(stream);
      assert.equal(head[':status'], 200);
      stream.write('over h1');
      assert.equal((await readUntil(stream, 7)).toString(), 'over h1');
      const c = h1Connects.find((x) => x.host === 'echo.test:443');
      assert.equal(c?.version, '1.1');
      stream.close(constants.NGHTTP2_CANCEL);
    });
  });
}
