import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as http2Connect } from 'node:http2';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { RawConn } from '../helpers/raw-conn.ts';
import {
  type SilentUpstream,
  startSilentUpstream,
  startUnacceptingUpstream,
  type UnacceptingUpstream,
} from '../helpers/stuck-upstream.ts';

/*
 * Timeouts of the real proxy process, each against the one timer it is about. Two entry points
 * differ only in which downstream timer is short, so that the connection can only have been
 * closed by the timer under test; the upstream timers use their own serversTransports.
 */

function config(be: Backend, silent: SilentUpstream, unaccepting: UnacceptingUpstream): string {
  return `entryPoints:
  hdr:
    address: "127.0.0.1:0"
    transport:
      respondingTimeouts: { readHeaderTimeout: 500ms, idleTimeout: 10m, readTimeout: 60s }
  idle:
    address: "127.0.0.1:0"
    transport:
      respondingTimeouts: { readHeaderTimeout: 60s, idleTimeout: 500ms, readTimeout: 60s }
  body:
    address: "127.0.0.1:0"
    transport:
      respondingTimeouts: { readHeaderTimeout: 60s, idleTimeout: 60s, readTimeout: 500ms }
  idleZero:
    address: "127.0.0.1:0"
    transport:
      respondingTimeouts: { readHeaderTimeout: 60s, idleTimeout: 0s, readTimeout: 500ms }
log: { level: INFO }
http:
  routers:
    ok: { rule: "PathPrefix(\`/\`)", service: ok }
    hang: { rule: "PathPrefix(\`/hang\`)", service: silent }
    dial: { rule: "PathPrefix(\`/dial\`)", service: unaccepting }
    failover: { rule: "PathPrefix(\`/failover\`)", service: failover }
  services:
    ok: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
    silent:
      loadBalancer: { serversTransport: header-timeout, servers: [{ url: "${silent.url}" }] }
    unaccepting:
      loadBalancer: { serversTransport: dial-timeout, servers: [{ url: "${unaccepting.url}" }] }
    failover:
      loadBalancer:
        serversTransport: dial-timeout
        servers: [{ url: "${unaccepting.url}" }, { url: "${be.url}" }]
  serversTransports:
    # Only the timer under test is short; responseHeaderTimeout 0 waits forever.
    header-timeout: { forwardingTimeouts: { dialTimeout: 60s, responseHeaderTimeout: 500ms } }
    dial-timeout: { forwardingTimeouts: { dialTimeout: 500ms, responseHeaderTimeout: 0 } }
`;
}

/** A SETTINGS frame with no parameters: length 0, type 4, no flags, stream 0. */
const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

/** The types of the whole HTTP/2 frames in `bytes`. */
function frameTypes(bytes: Buffer): number[] {
  const types: number[] = [];
  for (let at = 0; at + 9 <= bytes.length; at += 9 + bytes.readUIntBE(at, 3)) types.push(bytes[at + 3]!);
  return types;
}

function get(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: test.local\r\n\r\n`;
}

describe('timeouts', () => {
  let be: Backend;
  let silent: SilentUpstream;
  let unaccepting: UnacceptingUpstream;
  let proxy: ProxyProcess;

  before(async () => {
    // Answers once the whole request body is in, as most applications do.
    be = await startBackend((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    silent = await startSilentUpstream();
    unaccepting = await startUnacceptingUpstream();
    proxy = await startProxy({ config: config(be, silent, unaccepting) });
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all([be?.close(), silent?.close(), unaccepting?.close()]);
  });

  async function open(t: TestContext, entryPoint: 'hdr' | 'idle' | 'body' | 'idleZero'): Promise<RawConn> {
    const port = proxy.ports[entryPoint];
    assert.ok(port !== undefined, `entry point ${entryPoint} is listening`);
    const c = await RawConn.open(port);
    t.after(() => c.destroy());
    return c;
  }

  it('answers 408 and closes when a request head does not complete within readHeaderTimeout', async (t) => {
    const c = await open(t, 'hdr');
    const seen = be.seen.length;
    c.write('GET /ok HTTP/1.1\r\nHost: test.local\r\n'); // the blank line never comes
    const res = await c.readResponse();
    assert.equal(res.status, 408);
    assert.equal(res.headers.get('connection'), 'close');
    assert.equal((await c.waitClosed()).ended, true);
    assert.equal(be.seen.length, seen, 'nothing was forwarded');
  });

  it('closes a new connection that sends nothing within readHeaderTimeout (not idleTimeout), writing nothing', async (t) => {
    // 'hdr' has readHeaderTimeout 500ms and idleTimeout 60s: a client that connects and stays
    // silent (slowloris's cheapest form) is closed after the first, as Go's server does.
    const c = await open(t, 'hdr');
    const closed = await c.waitClosed();
    assert.equal(closed.ended, true, 'closed with a FIN');
    assert.equal(c.received().length, 0, 'no 408 for a request that never began');
  });

  it('closes an HTTP/2 connection that sends only its preface within readHeaderTimeout (not idleTimeout)', async (t) => {
    // 'hdr' has readHeaderTimeout 500ms and idleTimeout 10m (beyond the test's timeout): the
    // connection is h2c by prior knowledge (the server answers with its SETTINGS), and a client
    // that never opens a stream is closed by the first timer.
    const c = await open(t, 'hdr');
    c.socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), EMPTY_SETTINGS]));
    const closed = await c.waitClosed();
    assert.equal(closed.ended, true, 'closed with a FIN');
    const got = Buffer.from(c.received(), 'latin1');
    assert.ok(got.length >= 9, 'the server sent its preface');
    assert.equal(got[3], 0x04, "the server's first frame is SETTINGS: the connection was HTTP/2");
    assert.ok(frameTypes(got).includes(0x07), 'a GOAWAY before the close');
  });

  it('answers 408 when the head of a second request on a keep-alive connection stalls', async (t) => {
    const c = await open(t, 'hdr');
    c.write(get('/ok'));
    assert.equal((await c.readResponse()).status, 200);
    c.write('GET /ok HTTP/1.1\r\nHost: te');
    const res = await c.readResponse();
    assert.equal(res.status, 408);
    assert.equal((await c.waitClosed()).ended, true);
  });

  it('closes a keep-alive connection that stays idle for idleTimeout, without writing anything', async (t) => {
    const c = await open(t, 'idle');
    c.write(get('/ok'));
    const res = await c.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('connection'), undefined, 'the response keeps the connection');
    const bytes = c.received().length;
    const closed = await c.waitClosed();
    assert.equal(closed.ended, true, 'closed with a FIN');
    assert.equal(closed.error, undefined);
    assert.equal(c.received().length, bytes, 'no 408 or other bytes on an idle connection');
  });

  it("closes an idle keep-alive connection after readTimeout when idleTimeout is 0, as Go's server", async (t) => {
    // Traefik passes idleTimeout to Go's http.Server as it is (createHTTPServer), whose
    // idleTimeout() takes ReadTimeout's value for 0: 'idleZero' has readTimeout 500ms, and a
    // 60s readHeaderTimeout, so that only the idle timer can close the connection.
    const c = await open(t, 'idleZero');
    c.write(get('/ok'));
    const res = await c.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('connection'), undefined, 'the response keeps the connection');
    const bytes = c.received().length;
    const closed = await c.waitClosed();
    assert.equal(closed.ended, true, 'closed with a FIN');
    assert.equal(c.received().length, bytes, 'no 408 or other bytes on an idle connection');
  });

  it('answers 408 and closes when a request body does not complete within readTimeout', async (t) => {
    const c = await open(t, 'body');
    // 10 of the 100 announced body bytes, then nothing: the slow-POST pattern.
    c.write('POST /ok HTTP/1.1\r\nHost: test.local\r\nContent-Length: 100\r\n\r\n0123456789');
    const res = await c.readResponse();
    assert.equal(res.status, 408);
    assert.equal(res.headers.get('connection'), 'close');
    assert.equal((await c.waitClosed()).ended, true);
  });

  it('answers 504 when the upstream does not send a response head within responseHeaderTimeout', async (t) => {
    const c = await open(t, 'hdr');
    const from = proxy.logs.length;
    const accepted = silent.accepted.value;
    c.write(get('/hang'));
    const res = await c.readResponse();
    assert.equal(res.status, 504);
    assert.equal(silent.accepted.value, accepted + 1, 'the request reached the upstream');
    assert.match(silent.received.at(-1) ?? '', /^GET \/hang HTTP\/1\.1\r\n/);
    // A timed-out upstream connection is destroyed, never reused.
    await silent.closed.reach(accepted + 1, 'the upstream connection to be closed');
    const logged = await proxy.waitForLog(
      (l) =>
        proxy.logs.indexOf(l) >= from && l.msg === 'request failed' && l.code === 'UPSTREAM_RESPONSE_TIMEOUT',
    );
    assert.equal(logged.router, 'hang@file');
    // The client connection stays usable.
    c.write(get('/ok'));
    const next = await c.readResponse();
    assert.equal(next.status, 200);
    assert.equal(next.body, 'ok');
  });

  it('answers 504 when the upstream does not accept the connection within dialTimeout', async (t) => {
    const c = await open(t, 'hdr');
    const from = proxy.logs.length;
    c.write(get('/dial'));
    const res = await c.readResponse();
    assert.equal(res.status, 504);
    const logged = await proxy.waitForLog(
      (l) =>
        proxy.logs.indexOf(l) >= from && l.msg === 'request failed' && l.code === 'UPSTREAM_CONNECT_TIMEOUT',
    );
    assert.equal(logged.router, 'dial@file');
    c.write(get('/ok'));
    assert.equal((await c.readResponse()).status, 200);
  });

  it('moves a request whose dial timed out to the next server', async (t) => {
    const c = await open(t, 'hdr');
    const from = proxy.logs.length;
    // Two requests: smooth round robin starts one of them on each server.
    for (let i = 0; i < 2; i++) {
      c.write(get('/failover'));
      const res = await c.readResponse();
      assert.equal(res.status, 200, `request ${i}`);
      assert.equal(res.body, 'ok');
    }
    assert.ok(
      !proxy.logs.slice(from).some((l) => l.msg === 'request failed' && l.level === 'error'),
      'no request failed',
    );
  });
});

/*
 * A backend that accepts and never answers, behind a service with the default transport
 * (responseHeaderTimeout 0, as in Traefik): the entry point's readTimeout, counted from the
 * request's head, bounds the wait for the response head. Traefik v3's readTimeout (60s by
 * default) is a read deadline that cancels such a request too.
 */
describe('a frozen backend with the default transport', () => {
  let silent: SilentUpstream;
  let proxy: ProxyProcess;

  before(async () => {
    silent = await startSilentUpstream();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    transport:
      respondingTimeouts: { readTimeout: 1s }
log: { level: INFO }
http:
  routers:
    frozen: { rule: "PathPrefix(\`/\`)", service: frozen }
  services:
    frozen: { loadBalancer: { servers: [{ url: "${silent.url}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await silent?.close();
  });

  it('answers an HTTP/1.1 request 504 once readTimeout runs out, and closes the upstream connection', async (t) => {
    const c = await RawConn.open(proxy.port);
    t.after(() => c.destroy());
    const from = proxy.logs.length;
    const accepted = silent.accepted.value;
    c.write(get('/frozen'));
    const res = await c.readResponse();
    assert.equal(res.status, 504);
    assert.equal(silent.accepted.value, accepted + 1, 'the request reached the upstream');
    await silent.closed.reach(accepted + 1, 'the upstream connection to be closed');
    const logged = await proxy.waitForLog(
      (l) =>
        proxy.logs.indexOf(l) >= from && l.msg === 'request failed' && l.code === 'UPSTREAM_RESPONSE_TIMEOUT',
    );
    assert.equal(logged.detail, "no response head within the entry point's readTimeout");
  });

  it('answers an HTTP/2 stream 504 the same way', async (t) => {
    const client = http2Connect(`http://127.0.0.1:${proxy.port}`);
    t.after(() => client.close());
    client.on('error', () => {});
    const stream = client.request({ ':path': '/frozen-h2' });
    const [headers] = (await once(stream, 'response')) as [Record<string, unknown>];
    stream.resume();
    assert.equal(headers[':status'], 504);
  });
});
