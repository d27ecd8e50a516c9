import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { TLSSocket } from 'node:tls';
import type { ProxyError } from '../core/errors.ts';
import { Ticker } from '../core/ticker.ts';
import type { UpstreamConnection } from './connection.ts';
import { type PoolOptions, UpstreamPool } from './pool.ts';
import { type Issued, TestPki } from './test-pki.ts';
import { poolOptions, startOrigin, TestUser } from './test-pool.ts';
import { loadUpstreamTls, type TransportTlsConfig, type UpstreamTls } from './transport-tls.ts';

type Phase = 'connect' | 'head' | 'body';

/** One request through the pool; settles with the body, or `failed` with the error and its phase. */
class Request extends TestUser<{ conn: UpstreamConnection; body: string }> {
  conn: UpstreamConnection | null = null;
  readonly failed: Promise<{ err: ProxyError; phase: Phase }>;
  #fail!: (v: { err: ProxyError; phase: Phase }) => void;
  constructor() {
    super();
    this.failed = new Promise((res) => {
      this.#fail = res;
    });
  }
  onUpstreamReady(conn: UpstreamConnection): void {
    this.conn = conn;
    conn.socket.write('GET / HTTP/1.1\r\nHost: backend.test\r\n\r\n');
  }
  protected result() {
    return { conn: this.conn!, body: this.body };
  }
  override onUpstreamError(err: ProxyError, phase: Phase): void {
    this.#fail({ err, phase });
  }
  override onInternalError(e: unknown): void {
    this.#fail({ err: e as ProxyError, phase: 'body' });
  }
}

/** What the server saw of each TLS connection. */
interface Seen {
  servername: string | false | null;
  alpn: string | false | null;
  resumed: boolean;
  peerCN: string | undefined;
}

async function httpsBackend(
  t: TestContext,
  opts: ServerOptions,
): Promise<{ port: number; seen: Seen[]; tcp: Socket[] }> {
  const seen: Seen[] = [];
  const tcp: Socket[] = [];
  const server = createHttpsServer(opts, (req, res) => {
    res.end(`hello ${req.url}`);
  });
  server.on('connection', (s: Socket) => tcp.push(s));
  server.on('secureConnection', (s: TLSSocket) => {
    const subject = s.getPeerCertificate().subject as { CN?: string } | undefined;
    seen.push({
      servername: s.servername,
      alpn: s.alpnProtocol,
      resumed: s.isSessionReused(),
      peerCN: subject?.CN,
    });
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        for (const s of tcp) s.destroy();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as { port: number }).port, seen, tcp };
}

function tlsOf(cfg: TransportTlsConfig): UpstreamTls {
  const r = loadUpstreamTls(cfg);
  if (!r.ok) throw new Error(r.message);
  return r.tls;
}

function makePool(
  t: TestContext,
  port: number,
  cfg: TransportTlsConfig,
  over: Partial<PoolOptions> = {},
  ticker = new Ticker(),
): UpstreamPool {
  const pool = new UpstreamPool(poolOptions(port, { tls: tlsOf(cfg), ...over }), ticker);
  t.after(() => {
    pool.close();
    ticker.stop();
  });
  return pool;
}

async function failure(pool: UpstreamPool): Promise<{ code: string; phase: Phase; message: string }> {
  const r = new Request();
  pool.acquire(r, 'GET');
  const { err, phase } = await Promise.race([
    r.failed,
    r.done.then(() => {
      throw new Error('the request succeeded');
    }),
  ]);
  return { code: err.code, phase, message: err.message };
}

let pki: TestPki;
let good: Issued;
let expired: Issued;
let selfSigned: Issued;
let client: Issued;

before(() => {
  pki = new TestPki();
  good = pki.issue('backend', ['backend.test', '127.0.0.1']);
  expired = pki.issue('old', ['backend.test', '127.0.0.1'], { expired: true });
  selfSigned = pki.selfSigned('alone', ['backend.test', '127.0.0.1']);
  client = pki.issue('proxy-client', []);
});

after(() => pki.remove());

describe('UpstreamPool over TLS', () => {
  it('speaks HTTP/1.1 over TLS (ALPN) and reuses the connection for the next request', async (t) => {
    const b = await httpsBackend(t, { key: good.keyPem, cert: good.certPem });
    const pool = makePool(t, b.port, { rootCAs: [pki.ca.certFile] });
    const first = new Request();
    pool.acquire(first, 'GET');
    const r1 = await first.done;
    const second = new Request();
    pool.acquire(second, 'GET');
    const r2 = await second.done;
    assert.equal(r1.body, 'hello /');
    assert.equal(r2.body, 'hello /');
    assert.equal(r1.conn, r2.conn);
    assert.equal(pool.stats.opened, 1);
    assert.equal(pool.stats.reused, 1);
    assert.equal(b.seen.length, 1);
    assert.equal(b.seen[0]!.alpn, 'http/1.1');
    assert.equal((r1.conn.socket as TLSSocket).encrypted, true);
  });

  it('resumes the TLS session on a later connection', async (t) => {
    const b = await httpsBackend(t, { key: good.keyPem, cert: good.certPem });
    const pool = makePool(t, b.port, { rootCAs: [pki.ca.certPem] }, { maxIdle: 0 });
    for (let i = 0; i < 3; i++) {
      const r = new Request();
      pool.acquire(r, 'GET');
      await r.done;
    }
    assert.equal(pool.stats.opened, 3, 'maxIdle 0 keeps no connection');
    assert.deepEqual(
      b.seen.map((s) => s.resumed),
      [false, true, true],
    );
  });

  it('sends no SNI to an IP server and verifies the certificate against the IP', async (t) => {
    const b = await httpsBackend(t, { key: good.keyPem, cert: good.certPem });
    const pool = makePool(t, b.port, { rootCAs: [pki.ca.certPem] });
    const r = new Request();
    pool.acquire(r, 'GET');
    await r.done;
    assert.equal(b.seen[0]!.servername, false);
  });

  it('sends serverName as SNI and verifies the certificate against it', async (t) => {
    const b = await httpsBackend(t, { key: good.keyPem, cert: good.certPem });
    const pool = makePool(t, b.port, { rootCAs: [pki.ca.certPem], serverName: 'backend.test' });
    const r = new Request();
    pool.acquire(r, 'GET');
    await r.done;
    assert.equal(b.seen[0]!.servername, 'backend.test');
  });

  it('fails with UPSTREAM_TLS_HOSTNAME when the certificate does not name serverName', async (t) => {
    const b = await httpsBackend(t, { key: good.keyPem, cert: good.certPem });
    const pool = makePool(t, b.port, { rootCAs: [pki.ca.certPem], serverName: 'other.test' });
    const f = await failure(pool);
    assert.equal(f.code, 'UPSTREAM_TLS_HOSTNAME');
    assert.equal(f.phase, 'connect');
    assert.match(f.message, /other\.test/);
  });

  it('never resumes the session of a connection that failed verification (TLS 1.2 sends it early)', async (t) => {
    const b = await httpsBackend(t, { key: good.keyPem, cert: good.certPem, maxVersion: 'TLSv1.2' });
    const pool = makePool(t, b.port, { rootCAs: [pki.ca.certPem], serverName: 'other.test' });
    assert.equal((await failure(pool)).code, 'UPSTREAM_TLS_HOSTNAME');
    assert.equal((await failure(pool)).code, 'UPSTREAM_TLS_HOSTNAME');
  });

  it('fails with UPSTREAM_TLS_CERT_EXPIRED for an expired certificate', async (t) => {
    const b = await httpsBackend(t, { key: expired.keyPem, cert: expired.certPem });
    const pool = makePool(t, b.port, { rootCAs: [pki.ca.certPem] });
    const f = await failure(pool);
    assert.deepEqual(
      { code: f.code, phase: f.phase },
      { code: 'UPSTREAM_TLS_CERT_EXPIRED', phase: 'connect' },
    );
    assert.match(f.message, /expired/);
  });

  it('fails with UPSTREAM_TLS_UNTRUSTED for a certificate outside rootCAs', async (t) => {
    const b = await httpsBackend(t, { key: selfSigned.keyPem, cert: selfSigned.certPem });
    const pool = makePool(t, b.port, { rootCAs: [pki.ca.certPem] });
    const f = await failure(pool);
    assert.deepEqual({ code: f.code, phase: f.phase }, { code: 'UPSTREAM_TLS_UNTRUSTED', phase: 'connect' });
  });

  it("fails with UPSTREAM_TLS_UNTRUSTED for a private CA when only Node's bundled CAs are trusted", async (t) => {
    const b = await httpsBackend(t, { key: good.keyPem, cert: good.certPem });
    const pool = makePool(t, b.port, {});
    assert.equal((await failure(pool)).code, 'UPSTREAM_TLS_UNTRUSTED');
  });

  it('accepts any certificate with insecureSkipVerify', async (t) => {
    const b = await httpsBackend(t, { key: selfSigned.keyPem, cert: selfSigned.certPem });
    const pool = makePool(t, b.port, { insecureSkipVerify: true, serverName: 'whatever.test' });
    const r = new Request();
    pool.acquire(r, 'GET');
    assert.equal((await r.done).body, 'hello /');
  });

  it('presents the client certificate to a server that requires one', async (t) => {
    const b = await httpsBackend(t, {
      key: good.keyPem,
      cert: good.certPem,
      ca: pki.ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const pool = makePool(t, b.port, {
      rootCAs: [pki.ca.certPem],
      certificates: [{ certFile: client.certFile, keyFile: client.keyFile }],
    });
    const r = new Request();
    pool.acquire(r, 'GET');
    assert.equal((await r.done).body, 'hello /');
    assert.equal(b.seen[0]!.peerCN, 'proxy-client');
  });

  it('fails with UPSTREAM_TLS_HANDSHAKE when a TLS 1.3 server requires a client certificate we lack', async (t) => {
    const b = await httpsBackend(t, {
      key: good.keyPem,
      cert: good.certPem,
      ca: pki.ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const pool = makePool(t, b.port, { rootCAs: [pki.ca.certPem] });
    const f = await failure(pool);
    assert.equal(f.code, 'UPSTREAM_TLS_HANDSHAKE');
    // TLS 1.3: the server's verdict comes after our Finished, once the request was written.
    assert.equal(f.phase, 'head');
    assert.match(f.message, /requires a client certificate/);
  });

  it('fails in the connect phase when a TLS 1.2 server refuses the handshake without a client certificate', async (t) => {
    const b = await httpsBackend(t, {
      key: good.keyPem,
      cert: good.certPem,
      ca: pki.ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const pool = makePool(t, b.port, { rootCAs: [pki.ca.certPem], maxVersion: 'VersionTLS12' });
    const f = await failure(pool);
    assert.deepEqual({ code: f.code, phase: f.phase }, { code: 'UPSTREAM_TLS_HANDSHAKE', phase: 'connect' });
  });

  it('fails with UPSTREAM_TLS_HANDSHAKE when no protocol version is common', async (t) => {
    const b = await httpsBackend(t, { key: good.keyPem, cert: good.certPem, minVersion: 'TLSv1.3' });
    const pool = makePool(t, b.port, { rootCAs: [pki.ca.certPem], maxVersion: 'VersionTLS12' });
    const f = await failure(pool);
    assert.deepEqual({ code: f.code, phase: f.phase }, { code: 'UPSTREAM_TLS_HANDSHAKE', phase: 'connect' });
    assert.match(f.message, /protocol version/);
  });

  it('says so when the server does not speak TLS', async (t) => {
    const origin = await startOrigin((s) => {
      s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    });
    t.after(() => origin.close());
    const pool = makePool(t, origin.port, {});
    const f = await failure(pool);
    assert.equal(f.code, 'UPSTREAM_TLS_HANDSHAKE');
    assert.match(f.message, /is the server speaking TLS\?/);
  });

  it('counts the handshake in the connect timeout', async (t) => {
    // A server that accepts TCP and never answers the ClientHello.
    let helloSeen!: () => void;
    const hello = new Promise<void>((r) => {
      helloSeen = r;
    });
    const origin = await startOrigin((s) => {
      s.once('data', () => helloSeen());
    });
    t.after(() => origin.close());
    let now = 0;
    const ticker = new Ticker(100, () => now);
    const pool = makePool(t, origin.port, {}, { connectTimeoutMs: 1_000 }, ticker);
    const r = new Request();
    pool.acquire(r, 'GET');
    await hello; // TCP is up and the ClientHello went out
    now = 999;
    ticker.tick();
    assert.equal(pool.stats.connecting, 1);
    now = 1_001;
    ticker.tick();
    const { err, phase } = await r.failed;
    assert.deepEqual(
      { code: err.code, phase, message: err.message },
      { code: 'UPSTREAM_CONNECT_TIMEOUT', phase: 'connect', message: 'upstream TLS handshake timeout' },
    );
    assert.equal(pool.stats.connecting, 0);
  });
});
