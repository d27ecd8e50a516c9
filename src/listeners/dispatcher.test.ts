import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { createLogger } from '../core/logger.ts';
import { Ticker } from '../core/ticker.ts';
import type { TcpMatch } from '../router/tcp/index.ts';
import { buildTcpSnapshot, type HttpRouteSpot, type TcpRouteSpot } from '../runtime/build-dispatch.ts';
import { EMPTY_SNAPSHOT, SnapshotRef, type TcpRoute } from '../runtime/types.ts';
import { type DispatchTargets, EntryPointDispatcher, type Hello } from './dispatcher.ts';

type Outcome =
  | { kind: 'http'; bytes: string }
  | { kind: 'https'; sni: string | undefined; alpn: readonly string[]; buffered: number }
  | { kind: 'tcp'; router: string; buffered: string | null; sni: string | undefined; postgres?: true };

const logger = createLogger({ level: 'error', format: 'json' });

const NO_SERVICE = { name: 'none', available: () => false, pick: () => undefined };

function tcpSpot(name: string, rule: string, tls: TcpRoute['tls'], priority?: number): TcpRouteSpot {
  const value: TcpRoute = { router: name, tls, middlewares: [], service: NO_SERVICE };
  return { entryPoints: [], entry: { name, rule, value, ...(priority === undefined ? {} : { priority }) } };
}

/** A dispatcher on a real listening socket; each accepted connection's outcome is awaited. */
class Harness {
  readonly ref = new SnapshotRef(EMPTY_SNAPSHOT);
  readonly ticker = new Ticker(10_000, () => this.now);
  now = 0;
  server: Server | null = null;
  port = 0;
  dispatcher: EntryPointDispatcher | null = null;
  #waiters: ((o: Outcome) => void)[] = [];
  readonly outcomes: Outcome[] = [];

  routes(plain: HttpRouteSpot[], secure: HttpRouteSpot[], tcp: TcpRouteSpot[]): void {
    this.ref.swap({ ...EMPTY_SNAPSHOT, tcp: buildTcpSnapshot(plain, secure, tcp) });
  }

  async start(): Promise<void> {
    const report = (o: Outcome, s: Socket): void => {
      s.destroy();
      this.outcomes.push(o);
      this.#waiters.shift()?.(o);
    };
    const targets: DispatchTargets = {
      http: (s) => {
        // Whatever the dispatcher read must be readable again by the HTTP side.
        s.once('data', (d: Buffer) => report({ kind: 'http', bytes: d.toString('latin1') }, s));
      },
      https: (s, buffered, hello: Hello) =>
        report({ kind: 'https', sni: hello.serverName, alpn: hello.alpn, buffered: buffered.length }, s),
      tcp: (s, m: TcpMatch<TcpRoute>, buffered, hello, postgres) =>
        report(
          {
            kind: 'tcp',
            router: m.value.router,
            buffered: buffered === null ? null : buffered.toString('latin1'),
            sni: hello?.serverName,
            ...(postgres === true ? { postgres } : {}),
          },
          s,
        ),
    };
    this.dispatcher = new EntryPointDispatcher({
      entryPoint: 'ep',
      snapshots: this.ref,
      ticker: this.ticker,
      logger,
      targets,
      firstBytesTimeoutMs: 10_000,
      serverFirstTimeoutMs: 2_000,
    });
    this.server = createServer({ allowHalfOpen: true }, (s) => this.dispatcher!.accept(s));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  next(): Promise<Outcome> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Waits until the dispatcher holds `n` connections (it saw them arrive). */
  async pending(n: number): Promise<void> {
    while (this.dispatcher!.pending !== n) await new Promise((r) => setImmediate(r));
  }

  close(): Promise<void> {
    this.ticker.stop();
    return new Promise((r) => this.server!.close(() => r()));
  }
}

function send(port: number, bytes: string | Buffer): Socket {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.on('connect', () => s.write(bytes));
  return s;
}

/** A real ClientHello from node's TLS client, with this SNI and ALPN. */
function hello(port: number, servername: string, alpn: string[]): void {
  const s = tlsConnect({
    host: '127.0.0.1',
    port,
    servername,
    ALPNProtocols: alpn,
    rejectUnauthorized: false,
  });
  s.on('error', () => {});
}

async function closedBy(s: Socket): Promise<string> {
  let data = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => {
    data += d;
  });
  await once(s, 'close');
  return data;
}

describe('entry point dispatcher', () => {
  const h = new Harness();
  before(() => h.start());
  after(() => h.close());

  it('hands a connection to HTTP at once when the entry point has no HTTPS and no TCP router', async () => {
    h.routes([{ rule: 'PathPrefix(`/`)', entryPoints: [] }], [], []);
    const got = h.next();
    const c = send(h.port, 'GET / HTTP/1.1\r\n\r\n');
    assert.deepEqual(await got, { kind: 'http', bytes: 'GET / HTTP/1.1\r\n\r\n' });
    c.destroy();
  });

  it('reads the first bytes when HTTPS routers share the entry point: cleartext to HTTP, bytes intact', async () => {
    h.routes(
      [{ rule: 'PathPrefix(`/`)', entryPoints: [] }],
      [{ rule: 'Host(`a.test`)', entryPoints: [] }],
      [],
    );
    const got = h.next();
    const c = send(h.port, 'GET /x HTTP/1.1\r\nHost: b\r\n\r\n');
    assert.deepEqual(await got, { kind: 'http', bytes: 'GET /x HTTP/1.1\r\nHost: b\r\n\r\n' });
    c.destroy();
  });

  it('gives a ClientHello to the HTTPS side with its SNI, ALPN and every byte read', async () => {
    h.routes([], [{ rule: 'Host(`a.test`)', entryPoints: [] }], []);
    const got = h.next();
    hello(h.port, 'a.test', ['h2', 'http/1.1']);
    const o = await got;
    assert.equal(o.kind, 'https');
    assert.ok(o.kind === 'https');
    assert.equal(o.sni, 'a.test');
    assert.deepEqual(o.alpn, ['h2', 'http/1.1']);
    assert.ok(o.buffered > 100);
  });

  it("hands cleartext to HTTP where only TLS is served (as Traefik's httpForwarder), refuses a broken hello with Go's alert", async () => {
    h.routes([], [{ rule: 'Host(`a.test`)', entryPoints: [] }], []);
    const got = h.next();
    const c = send(h.port, 'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n');
    assert.deepEqual(await got, { kind: 'http', bytes: 'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n' });
    c.destroy();
    const notAHello = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x06, 0x02, 0x00, 0x00, 0x02, 0x03, 0x03]);
    // Go's server answers a handshake that is not a ClientHello with unexpected_message (10), in a
    // TLS 1.0 record (no version chosen yet), as Traefik's peek hands it the bytes.
    assert.equal(await closedBy(send(h.port, notAHello)), '\x15\x03\x01\x00\x02\x02\x0a');
  });

  it('answers a Postgres SSLRequest (even split) with S, then routes its ClientHello among TLS TCP routers', async () => {
    h.routes(
      [{ rule: 'PathPrefix(`/`)', entryPoints: [] }],
      [{ rule: 'Host(`db.test`)', entryPoints: [] }],
      [
        tcpSpot('clear', 'HostSNI(`*`)', { kind: 'none' }),
        tcpSpot('any', 'HostSNI(`*`)', { kind: 'passthrough' }),
      ],
    );
    const got = h.next();
    const c = connect(h.port, '127.0.0.1');
    c.on('error', () => {});
    await once(c, 'connect');
    c.write(Buffer.from([0, 0, 0, 8]));
    await new Promise((r) => setTimeout(r, 20));
    c.write(Buffer.from([4, 210, 22, 47]));
    const [reply] = (await once(c, 'data')) as [Buffer];
    assert.equal(reply.toString('latin1'), 'S');
    // The HTTPS router naming db.test does not take it: only TLS TCP routers do (the catch-all too).
    const t = tlsConnect({ socket: c, servername: 'db.test', rejectUnauthorized: false });
    t.on('error', () => {});
    const o = await got;
    assert.equal(o.kind, 'tcp');
    assert.ok(o.kind === 'tcp');
    assert.equal(o.router, 'any');
    assert.equal(o.sni, 'db.test');
    assert.equal(o.postgres, true);
    assert.equal(o.buffered!.charCodeAt(0), 0x16, 'the SSLRequest is not forwarded');
  });

  it('closes a Postgres client that does not go on with TLS, or that no TLS TCP router takes', async () => {
    h.routes([], [], [tcpSpot('db', 'HostSNI(`db.test`)', { kind: 'passthrough' })]);
    const before = h.outcomes.length;
    const c = send(h.port, Buffer.from([0, 0, 0, 8, 4, 210, 22, 47, 0x47, 0x45, 0x54]));
    assert.equal(await closedBy(c), 'S');
    const c2 = connect(h.port, '127.0.0.1');
    c2.on('error', () => {});
    await once(c2, 'connect');
    c2.write(Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]));
    await once(c2, 'data');
    const closed = closedBy(c2);
    const t = tlsConnect({ socket: c2, servername: 'other.test', rejectUnauthorized: false });
    t.on('error', () => {});
    await closed;
    assert.equal(h.outcomes.length, before);
  });

  it('follows Traefik: HTTPS host, then TCP TLS by SNI, then HTTPS catch-all, then the TCP catch-all', async () => {
    h.routes(
      [],
      [
        { rule: 'Host(`web.test`)', entryPoints: [] },
        { rule: 'PathPrefix(`/`)', entryPoints: [] },
      ],
      [
        tcpSpot('db', 'HostSNI(`db.test`)', { kind: 'passthrough' }),
        tcpSpot('any', 'HostSNI(`*`)', { kind: 'passthrough' }),
        tcpSpot('h2only', 'ALPN(`h2`) && HostSNI(`web.test`)', { kind: 'passthrough' }),
      ],
    );
    const cases: [string, string[], string][] = [
      ['web.test', ['h2'], 'https'],
      ['db.test', [], 'tcp:db'],
      ['other.test', [], 'https'],
    ];
    for (const [sni, alpn, want] of cases) {
      const got = h.next();
      hello(h.port, sni, alpn);
      const o = await got;
      assert.equal(o.kind === 'tcp' ? `tcp:${o.router}` : o.kind, want, sni);
    }
    // Without an HTTPS catch-all, the TCP catch-all takes the rest.
    h.routes(
      [],
      [{ rule: 'Host(`web.test`)', entryPoints: [] }],
      [tcpSpot('any', 'HostSNI(`*`)', { kind: 'passthrough' })],
    );
    const got = h.next();
    hello(h.port, 'other.test', []);
    const o = await got;
    assert.ok(o.kind === 'tcp' && o.router === 'any' && o.sni === 'other.test', JSON.stringify(o));
  });

  it('serves a cleartext catch-all at once when no TLS router shares the entry point (nothing read)', async () => {
    h.routes(
      [{ rule: 'PathPrefix(`/`)', entryPoints: [] }],
      [],
      [tcpSpot('banner', 'HostSNI(`*`)', { kind: 'none' })],
    );
    const got = h.next();
    const c = connect(h.port, '127.0.0.1');
    c.on('error', () => {});
    assert.deepEqual(await got, { kind: 'tcp', router: 'banner', buffered: null, sni: undefined });
    c.destroy();
  });

  it('serves a silent client with the cleartext catch-all once the server-first wait is over', async () => {
    h.routes(
      [],
      [{ rule: 'Host(`a.test`)', entryPoints: [] }],
      [tcpSpot('banner', 'HostSNI(`*`)', { kind: 'none' })],
    );
    const got = h.next();
    const c = connect(h.port, '127.0.0.1');
    c.on('error', () => {});
    await h.pending(1);
    const before = h.outcomes.length;
    h.now += 1_999;
    h.ticker.tick();
    assert.equal(h.outcomes.length, before, 'not before the wait is over');
    h.now += 1;
    h.ticker.tick();
    assert.deepEqual(await got, { kind: 'tcp', router: 'banner', buffered: null, sni: undefined });
    c.destroy();
  });

  it('gives cleartext bytes to a cleartext TCP router that matches the client, else to HTTP', async () => {
    h.routes(
      [{ rule: 'PathPrefix(`/`)', entryPoints: [] }],
      [{ rule: 'Host(`a.test`)', entryPoints: [] }],
      [tcpSpot('local', 'ClientIP(`127.0.0.1`)', { kind: 'none' })],
    );
    const got = h.next();
    const c = send(h.port, 'PING\r\n');
    assert.deepEqual(await got, { kind: 'tcp', router: 'local', buffered: 'PING\r\n', sni: undefined });
    c.destroy();
    h.routes(
      [{ rule: 'PathPrefix(`/`)', entryPoints: [] }],
      [{ rule: 'Host(`a.test`)', entryPoints: [] }],
      [tcpSpot('remote', 'ClientIP(`10.0.0.0/8`)', { kind: 'none' })],
    );
    const got2 = h.next();
    const c2 = send(h.port, 'GET / HTTP/1.1\r\n\r\n');
    assert.equal((await got2).kind, 'http');
    c2.destroy();
  });

  it('closes a client that sends nothing in time, and one that leaves before its first bytes', async () => {
    h.routes([], [{ rule: 'Host(`a.test`)', entryPoints: [] }], []);
    const silent = connect(h.port, '127.0.0.1');
    silent.on('error', () => {});
    const closed = closedBy(silent);
    await h.pending(1);
    h.now += 10_000;
    h.ticker.tick();
    assert.equal(await closed, '');
    const leaver = connect(h.port, '127.0.0.1', () => leaver.end());
    await h.pending(1);
    await h.pending(0);
  });
});
