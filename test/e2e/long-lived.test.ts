import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { currentGeneration, waitApplied } from '../helpers/wait.ts';
import { startWsBackend, type WsBackend } from '../helpers/ws-backend.ts';

/*
 * Reloads and long-lived connections (issue 10): WebSockets and streaming responses (SSE) on
 * routes a reload leaves in place run through any number of reloads; once a reload removes
 * their route, they are closed after the entry point's graceTimeOut.
 */

/** An SSE backend: one `data: <n>` event every 50 ms, for ever. */
async function startSse(): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let n = 0;
    const timer = setInterval(() => res.write(`data: ${n++}\n\n`), 50);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A client reading one SSE stream: counts events, and says how the stream ended. */
class SseClient {
  events = 0;
  /** 'open' while streaming; 'clean' for a clean end; 'broken' for a cut connection. */
  state: 'open' | 'clean' | 'broken' = 'open';
  readonly ended: Promise<void>;

  constructor(port: number, path: string) {
    let done!: () => void;
    this.ended = new Promise((r) => {
      done = r;
    });
    const req = request({ host: '127.0.0.1', port, path }, (res: IncomingMessage) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        this.events += d.split('\n\n').length - 1;
      });
      res.on('end', () => {
        this.state = 'clean';
        done();
      });
      res.on('error', () => {
        this.state = 'broken';
        done();
      });
      res.on('aborted', () => {
        this.state = 'broken';
      });
    });
    req.on('error', () => {
      this.state = 'broken';
      done();
    });
    req.end();
  }

  /** Resolves once at least `n` more events arrived. */
  async more(n: number): Promise<void> {
    const target = this.events + n;
    for (let i = 0; i < 200 && this.events < target && this.state === 'open'; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(this.events >= target, `SSE stream got ${this.events}, wanted ${target} (state ${this.state})`);
  }
}

function dynamic(ws: string, sse: string, extra: number, keep: boolean): string {
  const kept = keep
    ? `    ws: { rule: "PathPrefix(\`/ws\`)", service: ws }
    sse: { rule: "PathPrefix(\`/sse\`)", service: sse }
`
    : '';
  return `http:
  routers:
${kept}    other${extra}: { rule: "PathPrefix(\`/other${extra}\`)", service: sse }
  services:
    ws: { loadBalancer: { servers: [{ url: "${ws}" }] } }
    sse: { loadBalancer: { servers: [{ url: "${sse}" }] } }
`;
}

describe('long-lived connections across reloads', () => {
  let wsBackend: WsBackend;
  let sse: Awaited<ReturnType<typeof startSse>>;
  let proxy: ProxyProcess;

  before(async () => {
    wsBackend = await startWsBackend();
    sse = await startSse();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    transport: { lifeCycle: { graceTimeOut: 1s } }
log: { level: INFO }
providers:
  file: { filename: dyn.yaml }
`,
      files: { 'dyn.yaml': dynamic(wsBackend.url, sse.url, 0, true) },
    });
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all([wsBackend?.close(), sse?.close()]);
  });

  it('keeps 100 WebSockets and 10 SSE streams alive through 20 reloads, then closes them once their routes are removed', async () => {
    const url = `ws://127.0.0.1:${proxy.port}/ws/live`;
    const sockets = await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const c = new WebSocket(url);
            c.once('open', () => resolve(c));
            c.once('error', reject);
          }),
      ),
    );
    const closedCodes: number[] = [];
    for (const c of sockets) c.on('close', (code) => closedCodes.push(code));
    const streams = Array.from({ length: 10 }, () => new SseClient(proxy.port, '/sse/live'));
    await Promise.all(streams.map((s) => s.more(2)));

    let generation = currentGeneration(proxy);
    for (let reload = 1; reload <= 20; reload++) {
      proxy.writeFile('dyn.yaml', dynamic(wsBackend.url, sse.url, reload, true));
      await waitApplied(proxy, ++generation);
      // Every WebSocket still answers, every stream still flows.
      const echoes = await Promise.all(
        sockets.map(
          (c, i) =>
            new Promise<string>((resolve, reject) => {
              c.once('message', (d) => resolve(String(d)));
              c.once('close', () => reject(new Error(`WebSocket ${i} closed at reload ${reload}`)));
              c.send(`r${reload}-${i}`);
            }),
        ),
      );
      for (const [i, e] of echoes.entries()) assert.equal(e, `r${reload}-${i}`);
      await Promise.all(streams.map((s) => s.more(1)));
    }
    assert.deepEqual(closedCodes, []);
    assert.ok(streams.every((s) => s.state === 'open'));

    // Their routes go: they live on for the grace period (1 s), then are closed as broken.
    proxy.writeFile('dyn.yaml', dynamic(wsBackend.url, sse.url, 99, false));
    await waitApplied(proxy, ++generation);
    await Promise.all(streams.map((s) => s.more(2)));
    assert.equal(closedCodes.length, 0, 'nothing closed before the grace period is over');
    await Promise.all(streams.map((s) => s.ended));
    for (let i = 0; i < 100 && closedCodes.length < 100; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(closedCodes.length, 100);
    assert.ok(
      closedCodes.every((c) => c === 1006),
      'closed under the clients, no close frame of ours',
    );
    assert.ok(
      streams.every((s) => s.state === 'broken'),
      'a stream cut short is never ended cleanly',
    );
  });
});

describe('streaming responses arrive as they are sent', () => {
  it('relays each SSE event before the backend sends the next, over HTTP/1.1 and HTTP/2', async (t) => {
    // The backend sends one event, then waits for the test to have seen it before the next: a
    // proxy that buffered would deadlock here, whatever flushInterval says.
    let release: (() => void) | null = null;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      release = () => {
        res.end('data: second\n\n');
      };
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    sse: { rule: "PathPrefix(\`/\`)", service: sse }
  services:
    sse:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:${(server.address() as AddressInfo).port}" }]
        responseForwarding: { flushInterval: 10s }
`,
    });
    t.after(() => proxy.stop());
    for (const http2 of [false, true]) {
      const { spawn } = await import('node:child_process');
      const curl = spawn('curl', [
        '-sN',
        http2 ? '--http2-prior-knowledge' : '--http1.1',
        `http://127.0.0.1:${proxy.port}/events`,
      ]);
      let out = '';
      const first = new Promise<void>((resolve) => {
        curl.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('data: first')) resolve();
        });
      });
      await first;
      assert.equal(out.includes('second'), false);
      release!();
      await new Promise((r) => curl.on('close', r));
      assert.equal(out, 'data: first\n\ndata: second\n\n', http2 ? 'HTTP/2' : 'HTTP/1.1');
    }
  });
});
