/**
 * Traefik's integration/websocket_test.go (v3 branch) run against our proxy: each test names the
 * Go test it follows. Fixtures: integration/fixtures/websocket/{config,config_https}.toml in their
 * v3 form, adapted by ./fixture.ts; `[api]` left out (the tests wait for the proxy's entry points
 * instead of polling /api/rawdata). The backends are gorilla/websocket's default Upgrader echoing
 * messages (./fixture-grpcws.ts startGorillaEcho); the clients are the `ws` package, which sends
 * what gorilla's Dialer and x/net/websocket's client send (Origin included when given). Traefik's
 * resources/tls/local.{cert,key} is a self-signed certificate for 127.0.0.1 made per run.
 *
 * The tests marked "(ours)" go further on the same fixtures: the forms of the Upgrade and
 * Connection fields that a handshake may take, a stripPrefix middleware on the handshake, and a
 * WebSocket over HTTP/2 (RFC 8441), which we serve and Traefik does not.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect as h2connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { parseFrames, SETTINGS } from '../../helpers/h2-frames.ts';
import type { ProxyProcess } from '../../helpers/proxy-process.ts';
import { type KeyAndCert, selfSignedCertificate } from '../../helpers/tls-certs.ts';
import { within } from '../../helpers/wait.ts';
import { startFixture } from './fixture.ts';
import { type GorillaEcho, startGorillaEcho } from './fixture-grpcws.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

/** Traefik's resources/tls/local.cert and local.key. */
const LOCAL: KeyAndCert = selfSignedCertificate(['127.0.0.1']);

/** fixtures/websocket/config.toml; `middleware` for our stripPrefix test. */
function configToml(middleware = ''): string {
  return `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[entryPoints]
  [entryPoints.web]
    address = ":8000"

[providers.file]
  filename = "{{ .SelfFilename }}"

## dynamic configuration ##

[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "PathPrefix(\`/ws\`)"
${middleware === '' ? '' : '    middlewares = ["strip"]\n\n[http.middlewares.strip.stripPrefix]\n  prefixes = ["/ws"]\n'}
[http.services]
  [http.services.service1.loadBalancer]
    passHostHeader = true
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .WebsocketServer }}"
`;
}

/**
 * fixtures/websocket/config_https.toml (its resources/tls files given as content), its rule in the
 * v3 syntax (v2's `Path(\`/echo\`,\`/ws\`)` is an error under v3's default syntax).
 */
const CONFIG_HTTPS = `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[serversTransport]
  insecureSkipVerify = true

[entryPoints]
  [entryPoints.wss]
    address = ":8000"

[providers.file]
  filename = "{{ .SelfFilename }}"

## dynamic configuration ##

[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "Path(\`/echo\`) || Path(\`/ws\`)"
    [http.routers.router1.tls]

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]
      passHostHeader = true
      [[http.services.service1.loadBalancer.servers]]
        url = "{{ .WebsocketServer }}"

[tls.stores]
  [tls.stores.default.defaultCertificate]
    certFile = """{{ .CertContent }}"""
    keyFile = """{{ .KeyContent }}"""
`;

async function start(text: string, backendUrl: string): Promise<ProxyProcess> {
  const p = await startFixture(text, {
    WebsocketServer: backendUrl,
    CertContent: LOCAL.certPem,
    KeyContent: LOCAL.keyPem,
  });
  open.push(() => p.stop());
  return p;
}

async function gorilla(opts: Parameters<typeof startGorillaEcho>[0] = {}): Promise<GorillaEcho> {
  const b = await startGorillaEcho(opts);
  open.push(() => b.close());
  return b;
}

const sharedPairs = new Map<string, Promise<{ b: GorillaEcho; p: ProxyProcess }>>();

/**
 * One proxy on `text` before a default gorilla backend, shared by the tests that need no other
 * (the Go tests start one Traefik each; the proxy keeps nothing between them but pooled
 * connections). The backend's record of handshakes is emptied for each test.
 */
async function shared(text: string): Promise<{ b: GorillaEcho; p: ProxyProcess }> {
  let pair = sharedPairs.get(text);
  if (pair === undefined) {
    pair = gorilla().then(async (b) => ({ b, p: await start(text, b.url) }));
    sharedPairs.set(text, pair);
  }
  const got = await pair;
  got.b.requests.splice(0);
  return got;
}

type Handshake = { ok: true; ws: WebSocket; headers: IncomingHttpHeaders } | { ok: false; status: number };

/** Dials `url` (gorilla's DefaultDialer.Dial, or x/net/websocket's NewClient with an origin). */
function dial(url: string, opts: WebSocket.ClientOptions = {}, protocols: string[] = []): Promise<Handshake> {
  return within(
    new Promise<Handshake>((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { ca: LOCAL.certPem, ...opts });
      let headers: IncomingHttpHeaders = {};
      ws.once('upgrade', (res) => {
        headers = res.headers;
      });
      ws.once('open', () => resolve({ ok: true, ws, headers }));
      ws.once('unexpected-response', (_req, res) => {
        resolve({ ok: false, status: res.statusCode ?? 0 });
        res.resume();
        ws.terminate();
      });
      ws.once('error', reject);
    }),
    `the handshake with ${url}`,
  );
}

/** Sends "OK" and reads the echo, as every Go test does. */
async function echoOk(h: Handshake): Promise<void> {
  assert.ok(h.ok, h.ok ? '' : `handshake refused with ${h.status}`);
  const ws = h.ws;
  try {
    const reply = new Promise<string>((resolve) => ws.once('message', (m) => resolve(String(m))));
    ws.send('OK');
    assert.equal(await within(reply, 'the echo'), 'OK');
  } finally {
    ws.terminate();
  }
}

/** One masked client text frame (RFC 6455 §5.2), for handshakes written by hand. */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** The unmasked server text frame the echo answers with. */
function serverText(text: string): Buffer {
  return Buffer.concat([Buffer.from([0x81, text.length]), Buffer.from(text)]);
}

/**
 * A handshake written as given (Upgrade and Connection in `fields`), then "OK" through the
 * tunnel: the status line, and the frame that came back after the 101.
 */
function rawHandshake(port: number, fields: string): Promise<{ status: string; frame: Buffer }> {
  return within(
    new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      let buf = Buffer.alloc(0);
      let head: string | undefined;
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (head === undefined) {
          const end = buf.indexOf('\r\n\r\n');
          if (end === -1) return;
          head = buf.subarray(0, end).toString('latin1');
          buf = buf.subarray(end + 4);
          if (!head.startsWith('HTTP/1.1 101')) {
            s.destroy();
            resolve({ status: head.split('\r\n')[0]!, frame: Buffer.alloc(0) });
            return;
          }
          s.write(maskedText('OK'));
        }
        if (buf.length >= 4) {
          s.destroy();
          resolve({ status: head.split('\r\n')[0]!, frame: buf.subarray(0, 4) });
        }
      });
      s.on('error', reject);
      s.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${fields}` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    }),
    'the hand-written handshake',
  );
}

describe('traefik integration/websocket_test.go', () => {
  it('TestBase: a message and its echo', async () => {
    const { p } = await shared(configToml());
    await echoOk(await dial(`ws://127.0.0.1:${p.ports.web}/ws`));
  });

  it('TestWrongOrigin: the backend’s refusal of another origin reaches the client', async () => {
    const { b, p } = await shared(configToml());
    // Traefik's port 8000 and origin port 800: the entry point's port less its last digit.
    const origin = `ws://127.0.0.1:${String(p.ports.web).slice(0, -1)}`;
    const h = await dial(`ws://127.0.0.1:${p.ports.web}/ws`, { origin });
    assert.deepEqual(h, { ok: false, status: 403 });
    assert.equal(b.requests[0]?.headers.origin, origin);
  });

  it('TestOrigin: the same origin is accepted (the Host is passed)', async () => {
    const { p } = await shared(configToml());
    await echoOk(await dial(`ws://127.0.0.1:${p.ports.web}/ws`, { origin: `ws://127.0.0.1:${p.ports.web}` }));
  });

  it('TestWrongOriginIgnoredByServer: another origin, accepted by the backend', async () => {
    const b = await gorilla({ checkOrigin: false });
    const p = await start(configToml(), b.url);
    await echoOk(await dial(`ws://127.0.0.1:${p.ports.web}/ws`, { origin: 'ws://127.0.0.1:80' }));
  });

  it('TestSSLTermination: wss to the proxy, ws to the backend', async () => {
    const { p } = await shared(CONFIG_HTTPS);
    await echoOk(await dial(`wss://127.0.0.1:${p.ports.wss}/ws`));
  });

  it('TestBasicAuth: the Authorization field reaches the backend', async () => {
    const { b, p } = await shared(configToml());
    const auth = `Basic ${Buffer.from('traefiker:secret').toString('base64')}`;
    await echoOk(
      await dial(`ws://127.0.0.1:${p.ports.web}/ws`, {
        origin: `ws://127.0.0.1:${p.ports.web}`,
        headers: { Authorization: auth },
      }),
    );
    assert.equal(b.requests[0]?.headers.authorization, auth);
  });

  it('TestSpecificResponseFromBackend: the backend’s 401 reaches the client', async () => {
    const srv = createServer((_req, res) => {
      res.writeHead(401);
      res.end();
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    open.push(
      () =>
        new Promise<void>((resolve) => {
          srv.closeAllConnections();
          srv.close(() => resolve());
        }),
    );
    const p = await start(configToml(), `http://127.0.0.1:${(srv.address() as AddressInfo).port}`);
    assert.deepEqual(await dial(`ws://127.0.0.1:${p.ports.web}/ws`), { ok: false, status: 401 });
  });

  it('TestURLWithURLEncodedChar: the escaped path reaches the backend as sent', async () => {
    const { b, p } = await shared(configToml());
    await echoOk(await dial(`ws://127.0.0.1:${p.ports.web}/ws/http%3A%2F%2Ftest`));
    assert.equal(b.requests[0]?.url, '/ws/http%3A%2F%2Ftest');
  });

  it('TestSSLhttp2: a TLS backend that offers h2 is spoken to in HTTP/1.1 for the handshake', async () => {
    const b = await gorilla({ tls: LOCAL });
    const p = await start(CONFIG_HTTPS, b.url);
    await echoOk(await dial(`wss://127.0.0.1:${p.ports.wss}/echo`));
    assert.equal(b.requests[0]?.httpVersion, '1.1');
  });

  it('TestSettingEnableConnectProtocol: the HTTP/2 SETTINGS do not offer extended CONNECT', {
    todo: 'ours offers SETTINGS_ENABLE_CONNECT_PROTOCOL and serves WebSocket over HTTP/2 (RFC 8441; docs/protocols.md), which Traefik does not',
  }, async () => {
    const p = await start(CONFIG_HTTPS, 'http://127.0.0.1');
    const settings = await within(
      new Promise<Buffer>((resolve, reject) => {
        const s = tlsConnect({
          host: '127.0.0.1',
          port: p.ports.wss!,
          ca: LOCAL.certPem,
          ALPNProtocols: ['h2'],
        });
        let buf = Buffer.alloc(0);
        s.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          const f = parseFrames(buf)[0];
          if (f !== undefined) {
            s.destroy();
            assert.equal(f.type, SETTINGS);
            resolve(f.payload);
          }
        });
        s.on('error', reject);
      }),
      'the server’s SETTINGS',
    );
    const ids: number[] = [];
    for (let i = 0; i + 6 <= settings.length; i += 6) ids.push(settings.readUInt16BE(i));
    assert.ok(!ids.includes(0x8), `SETTINGS_ENABLE_CONNECT_PROTOCOL offered: ${ids.join(',')}`);
  });

  it('TestSettingEnableConnectProtocol (ours): a WebSocket over HTTP/2 (RFC 8441)', async () => {
    const { p } = await shared(CONFIG_HTTPS);
    const session = h2connect(`https://127.0.0.1:${p.ports.wss}`, { ca: LOCAL.certPem });
    open.push(async () => session.destroy());
    await within(
      new Promise<void>((resolve, reject) => {
        session.once('remoteSettings', (s) => {
          assert.equal(s.enableConnectProtocol, true);
          resolve();
        });
        session.once('error', reject);
      }),
      'the SETTINGS',
    );
    const stream = session.request({
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':path': '/ws',
      ':authority': `127.0.0.1:${p.ports.wss}`,
      'sec-websocket-version': '13',
    });
    const status = await within(
      new Promise<number>((resolve, reject) => {
        stream.once('response', (h) => resolve(Number(h[':status'])));
        stream.once('error', reject);
      }),
      'the answer to the extended CONNECT',
    );
    assert.equal(status, 200);
    const echoed = within(
      new Promise<Buffer>((resolve) => {
        let buf = Buffer.alloc(0);
        stream.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length >= 4) resolve(buf.subarray(0, 4));
        });
      }),
      'the echo',
    );
    stream.write(maskedText('OK'));
    assert.deepEqual(await echoed, serverText('OK'));
    stream.close();
  });

  it('TestHeaderAreForwarded: a field of the handshake reaches the backend', async () => {
    const { b, p } = await shared(configToml());
    await echoOk(await dial(`ws://127.0.0.1:${p.ports.web}/ws`, { headers: { 'X-Token': 'my-token' } }));
    assert.equal(b.requests[0]?.headers['x-token'], 'my-token');
  });

  it('TestHeaderAreForwarded (ours): the 101’s fields and the chosen subprotocol reach the client', async () => {
    const b = await gorilla({ subprotocols: ['chat'], responseHeader: ['X-Upgrader: gorilla'] });
    const p = await start(configToml(), b.url);
    const h = await dial(`ws://127.0.0.1:${p.ports.web}/ws`, {}, ['superchat', 'chat']);
    assert.ok(h.ok);
    assert.equal(h.ws.protocol, 'chat');
    assert.equal(h.headers['x-upgrader'], 'gorilla');
    assert.equal(b.requests[0]?.headers['sec-websocket-protocol'], 'superchat,chat');
    await echoOk(h);
  });

  it('TestBase (ours): the forms of Upgrade and Connection a handshake may take', async () => {
    const { p } = await shared(configToml());
    // Go's reverse proxy: Connection lists the token `Upgrade` (any case, among others), and
    // Upgrade names the protocol (any case): httpguts.HeaderValuesContainsToken, upgradeType.
    for (const fields of [
      'Upgrade: websocket\r\nConnection: Upgrade\r\n',
      'Upgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n',
      'Upgrade: websocket\r\nConnection: keep-alive\r\nConnection: upgrade\r\n',
      'upgrade: websocket\r\nconnection: UPGRADE\r\n',
    ]) {
      const r = await rawHandshake(p.ports.web!, fields);
      assert.equal(r.status, 'HTTP/1.1 101 Switching Protocols', fields);
      assert.deepEqual(r.frame, serverText('OK'), fields);
    }
  });

  it('TestBase (ours): with a stripPrefix middleware, the backend gets the stripped path', async () => {
    const b = await gorilla();
    const p = await start(configToml('strip'), b.url);
    await echoOk(await dial(`ws://127.0.0.1:${p.ports.web}/ws/chat?room=1`));
    assert.equal(b.requests[0]?.url, '/chat?room=1');
    assert.equal(b.requests[0]?.headers['x-forwarded-prefix'], '/ws');
  });
});
