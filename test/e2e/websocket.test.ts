import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { launchChromium, openPage } from '../helpers/browser.ts';
import { curl } from '../helpers/curl.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { startWsBackend, type WsBackend } from '../helpers/ws-backend.ts';

/*
 * WebSocket through the real proxy process (issue 10): the `ws` package as client and backend,
 * over ws:// and wss://, with routing and middlewares on the handshake, and the tunnel's
 * behaviour when either side goes away.
 */

function open(url: string, opts: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { rejectUnauthorized: false, ...opts });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake answered ${res.statusCode}`)));
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data, binary) => resolve({ data: data as Buffer, binary }));
    ws.once('close', (code) => reject(new Error(`closed (${code}) before a message`)));
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

describe('WebSocket', () => {
  let backend: WsBackend;
  let proxy: ProxyProcess;
  let ws: string;
  let wss: string;

  before(async () => {
    backend = await startWsBackend({ protocols: ['chat.v2'] });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
log: { level: INFO }
accessLog: { format: json }
http:
  routers:
    ws:
      rule: "PathPrefix(\`/ws\`)"
      service: ws
      middlewares: [tag]
    limited:
      rule: "PathPrefix(\`/limited\`)"
      service: ws
      middlewares: [one-at-a-time]
  middlewares:
    tag: { headers: { customRequestHeaders: { X-Through: proxy } } }
    one-at-a-time: { inFlightReq: { amount: 1 } }
  services:
    ws:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
`,
    });
    ws = `ws://127.0.0.1:${proxy.ports['web']}`;
    wss = `wss://127.0.0.1:${proxy.ports['websecure']}`;
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('carries text and binary messages both ways over ws:// and wss://', async (t) => {
    for (const base of [ws, wss]) {
      const c = await open(`${base}/ws/echo`);
      t.after(() => c.terminate());
      c.send('hello');
      const text = await nextMessage(c);
      assert.equal(text.binary, false);
      assert.equal(text.data.toString(), 'hello');
      const bytes = randomBytes(1000);
      c.send(bytes);
      const bin = await nextMessage(c);
      assert.equal(bin.binary, true);
      assert.deepEqual(bin.data, bytes);
    }
  });

  it('runs the handshake through routing and middlewares, with the WebSocket fields kept', async (t) => {
    const before = backend.handshakes.length;
    const c = await open(`${ws}/ws/chat`, {}, ['chat.v1', 'chat.v2']);
    t.after(() => c.terminate());
    assert.equal(c.protocol, 'chat.v2', 'Sec-WebSocket-Protocol negotiated through the proxy');
    const h = backend.handshakes[before]!;
    assert.equal(h.url, '/ws/chat');
    assert.equal(h.headers['x-through'], 'proxy');
    assert.equal(h.headers.upgrade, 'websocket');
    assert.match(String(h.headers.connection), /upgrade/i);
    assert.equal(h.headers['sec-websocket-version'], '13');
    assert.ok(h.headers['sec-websocket-key']);
    assert.equal(h.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(h.headers['x-forwarded-proto'], 'ws', 'as Traefik sets it for a WebSocket');
  });

  // Go's server writes a 101 through the non-informational path, Date included (net/http
  // response.WriteHeader): Traefik's handshake answers carry one; the ws backend sends none.
  it('gives the 101 a Date when the backend sent none', async (t) => {
    const c = new WebSocket(`${ws}/ws/chat`);
    t.after(() => c.terminate());
    const [res] = (await once(c, 'upgrade')) as [{ headers: Record<string, string | undefined> }];
    assert.match(String(res.headers.date), /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} [\d:]{8} GMT$/);
  });

  it('answers ping with pong and relays close codes', async () => {
    const c = await open(`${ws}/ws/ping`);
    const pong = once(c, 'pong');
    c.ping(Buffer.from('are you there'));
    const [data] = (await pong) as [Buffer];
    assert.equal(data.toString(), 'are you there');
    const done = closed(c);
    c.close(4001, 'bye');
    const { code } = await done;
    assert.equal(code, 4001, 'the backend echoed our close code through the proxy');
  });

  it('carries a 16 MB message whole in both directions', async (t) => {
    const c = await open(`${ws}/ws/big`, { maxPayload: 64 * 1024 * 1024 });
    t.after(() => c.terminate());
    const big = randomBytes(16 * 1024 * 1024);
    c.send(big);
    const back = await nextMessage(c);
    assert.equal(back.data.length, big.length);
    assert.ok(back.data.equals(big));
  });

  it('holds an inFlightReq slot for as long as the WebSocket is open', async () => {
    const first = await open(`${ws}/limited/a`);
    await assert.rejects(open(`${ws}/limited/b`), /handshake answered 429/);
    const done = closed(first);
    first.close();
    await done;
    // The slot is released once the tunnel ended.
    let second: WebSocket | undefined;
    for (let i = 0; i < 50 && second === undefined; i++) {
      second = await open(`${ws}/limited/c`).catch(async () => {
        await new Promise((r) => setTimeout(r, 20));
        return undefined;
      });
    }
    assert.ok(second, 'a new WebSocket is admitted once the first closed');
    second.terminate();
  });

  it('gives the client a broken connection (1006) when the backend dies mid-stream', async () => {
    const c = await open(`${ws}/ws/chaos`);
    c.send('x');
    await nextMessage(c);
    const done = closed(c);
    for (const s of backend.sockets) s.resetAndDestroy();
    const { code } = await done;
    assert.equal(code, 1006, 'abnormal closure, never a clean close frame');
  });

  it('forwards a request that does not ask for an upgrade as a plain request', async () => {
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/ws/plain`);
    assert.equal(res.status, 426);
    assert.equal(await res.text(), 'plain GET /ws/plain');
  });

  it('logs one access-log line per WebSocket, with its bytes, when it ends', async () => {
    const c = await open(`${ws}/ws/logged`);
    c.send('0123456789');
    await nextMessage(c);
    const done = closed(c);
    c.close(1000);
    await done;
    let line: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && line === undefined; i++) {
      line = proxy
        .stdout()
        .split('\n')
        .filter((l) => l.includes('/ws/logged'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)[0];
      if (line === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(line, 'an access-log line for the WebSocket');
    assert.equal(line['DownstreamStatus'], 101);
    // The 10-byte message framed (client frames are masked: 2 + 4 + 10) plus the close frame,
    // and the echo the other way: the tunnel's bytes, counted each way.
    assert.ok(Number(line['RequestContentSize']) >= 16, `RequestContentSize ${line['RequestContentSize']}`);
    assert.ok(
      Number(line['DownstreamContentSize']) >= 12,
      `DownstreamContentSize ${line['DownstreamContentSize']}`,
    );
  });
});

/** One WebSocket frame as a client sends it (FIN, masked), RFC 6455 §5.2. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x80 | opcode, 0x80 | len])
      : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([head, mask, body]);
}

/** The first whole unmasked frame in `buf` (a server's), or undefined. */
function serverFrame(buf: Buffer): { opcode: number; payload: Buffer } | undefined {
  if (buf.length < 2) return undefined;
  let len = buf[1]! & 0x7f;
  let off = 2;
  if (len === 126) {
    if (buf.length < 4) return undefined;
    len = buf.readUInt16BE(2);
    off = 4;
  }
  if (buf.length < off + len) return undefined;
  return { opcode: buf[0]! & 0x0f, payload: buf.subarray(off, off + len) };
}

for (const engine of H2_ENGINES) {
  describe(`WebSocket over HTTP/2 (RFC 8441 extended CONNECT) [${engine} engine]`, () => {
    let backend: WsBackend;
    let proxy: ProxyProcess;

    before(async () => {
      backend = await startWsBackend();
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    ws: { rule: "PathPrefix(\`/ws\`) && Method(\`GET\`)", service: ws }
  services:
    ws: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      });
    });
    after(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    it('advertises the extended CONNECT and bridges it to the backend as an HTTP/1.1 handshake', async (t) => {
      const { connect } = await import('node:http2');
      const session = connect(`http://127.0.0.1:${proxy.port}`);
      t.after(() => session.destroy());
      const [settings] = (await once(session, 'remoteSettings')) as [{ enableConnectProtocol?: boolean }];
      assert.equal(settings.enableConnectProtocol, true, 'SETTINGS_ENABLE_CONNECT_PROTOCOL');
      const before = backend.handshakes.length;
      const stream = session.request({
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': 'http',
        ':path': '/ws/h2?room=1',
        ':authority': 'chat.test',
        'sec-websocket-version': '13',
      });
      const [headers] = (await once(stream, 'response')) as [Record<string, string | number>];
      assert.equal(headers[':status'], 200);
      assert.equal(headers['sec-websocket-accept'], undefined, 'the HTTP/1.1 handshake stays on its hop');
      const h = backend.handshakes[before]!;
      assert.equal(h.method, 'GET');
      assert.equal(h.url, '/ws/h2?room=1');
      assert.equal(h.headers.host, 'chat.test');
      let got = Buffer.alloc(0);
      const frame = new Promise<{ opcode: number; payload: Buffer }>((resolve) => {
        stream.on('data', (d: Buffer) => {
          got = Buffer.concat([got, d]);
          const f = serverFrame(got);
          if (f !== undefined) resolve(f);
        });
      });
      stream.write(clientFrame(0x1, Buffer.from('over h2')));
      const echoed = await frame;
      assert.equal(echoed.opcode, 0x1);
      assert.equal(echoed.payload.toString(), 'over h2');
    });

    it('refuses an extended CONNECT for another protocol with 501', async (t) => {
      const { connect } = await import('node:http2');
      const session = connect(`http://127.0.0.1:${proxy.port}`);
      t.after(() => session.destroy());
      await once(session, 'remoteSettings');
      const s = session.request({
        ':method': 'CONNECT',
        ':protocol': 'webtransport',
        ':scheme': 'http',
        ':path': '/ws',
        ':authority': 'x',
      });
      const [h] = (await once(s, 'response')) as [Record<string, string | number>];
      assert.equal(h[':status'], 501);
      s.destroy();
    });
  });
}

describe('WebSocket tunnels: scale, idle timeout, shutdown', () => {
  let backend: WsBackend;

  before(async () => {
    backend = await startWsBackend();
  });
  after(async () => {
    await backend?.close();
  });

  function config(extra = ''): string {
    return `entryPoints:
  web:
    address: "127.0.0.1:0"
    transport: { lifeCycle: { graceTimeOut: 2s } }
log: { level: INFO }
http:
  routers:
    ws: { rule: "PathPrefix(\`/\`)", service: ws }
  services:
    ws: { loadBalancer: { servers: [{ url: "${backend.url}" }], serversTransport: t } }
  serversTransports:
    t: { forwardingTimeouts: { tunnelIdleTimeout: ${extra || '1h'} } }
`;
  }

  it('carries 1,000 WebSockets at once, each with its own messages', async (t) => {
    const proxy = await startProxy({ config: config() });
    t.after(() => proxy.stop());
    const url = `ws://127.0.0.1:${proxy.port}/many`;
    const clients: WebSocket[] = [];
    t.after(() => {
      for (const c of clients) c.terminate();
    });
    for (let i = 0; i < 1000; i += 100) {
      clients.push(...(await Promise.all(Array.from({ length: 100 }, () => open(url)))));
    }
    const replies = await Promise.all(
      clients.map((c, i) => {
        const m = nextMessage(c);
        c.send(`client ${i}`);
        return m;
      }),
    );
    for (const [i, r] of replies.entries()) assert.equal(r.data.toString(), `client ${i}`);
    assert.equal(backend.openCount() >= 1000, true, `backend holds ${backend.openCount()} WebSockets`);
  });

  it('closes a tunnel that stays idle for tunnelIdleTimeout, and keeps one that talks', async (t) => {
    const proxy = await startProxy({ config: config('600ms') });
    t.after(() => proxy.stop());
    const quiet = await open(`ws://127.0.0.1:${proxy.port}/quiet`);
    const chatty = await open(`ws://127.0.0.1:${proxy.port}/chatty`);
    t.after(() => chatty.terminate());
    const quietClosed = closed(quiet);
    // The chatty one exchanges a message every 200 ms for over twice the idle limit.
    for (let i = 0; i < 7; i++) {
      chatty.send(`ping ${i}`);
      assert.equal((await nextMessage(chatty)).data.toString(), `ping ${i}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const { code } = await quietClosed;
    assert.equal(code, 1006, 'the idle tunnel was closed under the client (no close frame of its own)');
    assert.equal(chatty.readyState, WebSocket.OPEN);
  });

  it('lets open tunnels work on through graceful shutdown until graceTimeOut, then closes them', async () => {
    const proxy = await startProxy({ config: config() });
    const c = await open(`ws://127.0.0.1:${proxy.port}/draining`);
    const done = closed(c);
    const exited = proxy.stop();
    // Shutdown has begun (new connections are refused), the tunnel still carries messages.
    await new Promise((r) => setTimeout(r, 300));
    await assert.rejects(open(`ws://127.0.0.1:${proxy.port}/late`));
    c.send('still there');
    assert.equal((await nextMessage(c)).data.toString(), 'still there');
    const { code } = await done;
    assert.equal(code, 1006);
    assert.equal(await exited, 0);
  });
});

describe('WebSocket metrics', () => {
  it('counts open and ended tunnels, their bytes each way and their time, per router and service', async (t) => {
    const backend = await startWsBackend();
    t.after(() => backend.close());
    const proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
metrics:
  prometheus: {}
http:
  routers:
    chat: { rule: "PathPrefix(\`/\`)", service: chat }
  services:
    chat: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
    t.after(() => proxy.stop());
    const scrape = async (): Promise<string> =>
      (await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/metrics`)).text();
    const c = await open(`ws://127.0.0.1:${proxy.ports['web']}/m`);
    assert.match(await scrape(), /traffic_tunnels_open\{router="chat@file",service="chat@file"\} 1/);
    c.send('x'.repeat(100));
    await nextMessage(c);
    const done = closed(c);
    c.close(1000);
    await done;
    let text = '';
    for (let i = 0; i < 100 && !text.includes('end="closed"'); i++) {
      text = await scrape();
      if (!text.includes('end="closed"')) await new Promise((r) => setTimeout(r, 25));
    }
    assert.match(text, /traffic_tunnels_total\{end="closed",router="chat@file",service="chat@file"\} 1/);
    assert.match(text, /traffic_tunnels_open\{router="chat@file",service="chat@file"\} 0/);
    const bytes = (dir: string): number =>
      Number(
        new RegExp(`traffic_tunnel_bytes_total\\{[^}]*direction="${dir}"[^}]*\\} (\\d+)`).exec(text)?.[1],
      );
    assert.ok(bytes('client_to_server') >= 106, `client_to_server ${bytes('client_to_server')}`);
    assert.ok(bytes('server_to_client') >= 102, `server_to_client ${bytes('server_to_client')}`);
    assert.match(
      text,
      /traffic_tunnel_duration_seconds_total\{router="chat@file",service="chat@file"\} [0-9.e-]+/,
    );
  });
});

for (const engine of H2_ENGINES) {
  describe(`WebSocket from a browser [${engine} engine]`, () => {
    it('opens wss:// through the proxy from headless Chromium and gets its echo', async (t) => {
      const backend = await startWsBackend();
      t.after(() => backend.close());
      const proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
log: { level: INFO }
accessLog: { format: json }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      });
      t.after(() => proxy.stop());
      const browser = await launchChromium();
      t.after(() => browser.close());
      const { page, errors, close } = await openPage(browser, `https://127.0.0.1:${proxy.port}/page`, {
        ignoreHTTPSErrors: true,
      });
      t.after(close);
      await page.waitForFunction("document.title !== 'waiting'", undefined, { timeout: 10_000 });
      assert.equal(await page.title(), 'echo: from the browser');
      assert.deepEqual(errors, []);
      // The page closed its WebSocket: the tunnel's end writes its access-log line.
      let wsLine: Record<string, unknown> | undefined;
      for (let i = 0; i < 100 && wsLine === undefined; i++) {
        wsLine = proxy
          .stdout()
          .split('\n')
          .filter((l) => l.includes('/ws/browser'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)[0];
        if (wsLine === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(wsLine?.['DownstreamStatus'], 101, proxy.stdout());
      t.diagnostic(`the browser's WebSocket went over ${String(wsLine?.['RequestProtocol'])}`);
      // The proxy serves on after the tunnel's clean end (ending an HTTP/2 tunnel stream the wrong
      // way once left node's HTTP/2 session spinning at 100 % CPU).
      const again = await curl(['-sk', '--http2', `https://127.0.0.1:${proxy.port}/page`]);
      assert.equal(again.status, 200);
    });
  });
}
