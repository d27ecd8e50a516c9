/**
 * HTTP/2 to backends through the real proxy: `h2c://` servers and `https://` servers that pick h2
 * by ALPN (or not, with disableHTTP2), from HTTP/1.1 and HTTP/2 clients (curl, nghttp, h2load,
 * node:http2 where trailers must be seen), many streams on few sessions, WebSocket upgrades to an
 * h2c server over HTTP/1.1 as Traefik sends them, and the pool metrics of sessions and streams.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  createServer as createH2Server,
  createSecureServer,
  type Http2SecureServer,
  type Http2Server,
  connect as h2connect,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
} from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createTcpServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { curl } from '../helpers/curl.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { run, TestPki } from '../helpers/tls-certs.ts';
import { startWsBackend, type WsBackend } from '../helpers/ws-backend.ts';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Answers every request with what arrived (as JSON) plus trailers; `/big` echoes the body's hash
 * and length. Counts its sessions.
 */
function echoOver<S extends Http2Server | Http2SecureServer>(
  server: S,
  name: string,
  sessions: ServerHttp2Session[],
): S {
  server.on('session', (s) => {
    sessions.push(s);
    s.on('error', () => {});
  });

  server.on('stream', (s, h) => {
    s.on('error', () => {});
    const hash = createHash('sha256');
    let n = 0;
    s.on('data', (d: Buffer) => {
      hash.update(d);
      n += d.length;
    });
    let clientTrailers: IncomingHttpHeaders = {};
    s.on('trailers', (t) => {
      clientTrailers = t;
    });
    s.on('end', () => {
      s.respond({ ':status': 200, 'content-type': 'application/json' }, { waitForTrailers: true });
      s.on('wantTrailers', () => s.sendTrailers({ 'x-backend-trailer': name, 'x-body-bytes': String(n) }));
      s.end(
        JSON.stringify({
          name,
          method: h[':method'],
          path: h[':path'],
          authority: h[':authority'],
          te: h.te ?? null,
          forwardedFor: h['x-forwarded-for'] ?? null,
          bytes: n,
          sha256: hash.digest('hex'),
          clientTrailer: clientTrailers['x-client-trailer'] ?? null,
        }),
      );
    });
  });
  return server;
}

interface H2Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders;
  readonly json: Record<string, unknown>;
}

function h2get(
  port: number,
  headers: Record<string, string>,
  body?: Buffer,
  trailers?: Record<string, string>,
): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request(
      { ':method': body === undefined ? 'GET' : 'POST', ...headers },
      { endStream: body === undefined, waitForTrailers: trailers !== undefined },
    );
    if (trailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(trailers));
    let h: IncomingHttpHeaders = {};
    let t: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (x) => {
      h = x;
    });
    req.on('trailers', (x) => {
      t = x;
    });
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('error', reject);
    req.on('end', () => {
      session.close();
      const text = Buffer.concat(chunks).toString();
      resolve({
        status: Number(h[':status']),
        headers: h,
        trailers: t,
        json: text === '' ? {} : JSON.parse(text),
      });
    });
    if (body !== undefined) req.end(body);
  });
}

for (const engine of H2_ENGINES) {
  describe(`HTTP/2 to backends [${engine} engine]`, () => {
    let pki: TestPki;
    let proxy: ProxyProcess;
    const h2cSessions: ServerHttp2Session[] = [];
    const tlsSessions: ServerHttp2Session[] = [];
    let h2c: Http2Server;
    let h2tls: Http2SecureServer;
    const tlsAlpn: string[] = [];
    const h1Alpn: string[] = [];
    let h1tls: ReturnType<typeof createHttpsServer>;
    let both: Http2SecureServer;
    const bothAlpn: string[] = [];
    let ws: WsBackend;
    let dual: Server;
    const dualH2Sessions: ServerHttp2Session[] = [];

    before(async () => {
      pki = new TestPki();
      const cert = pki.issue('backend', ['127.0.0.1']);
      h2c = echoOver(createH2Server(), 'h2c', h2cSessions);
      h2tls = echoOver(
        createSecureServer({ key: cert.keyPem, cert: cert.certPem, allowHTTP1: true }),
        'h2-tls',
        tlsSessions,
      );
      h2tls.on('secureConnection', (s: TLSSocket) => tlsAlpn.push(String(s.alpnProtocol)));
      // Speaks both; the proxy is told to offer it http/1.1 only.
      both = createSecureServer({ key: cert.keyPem, cert: cert.certPem, allowHTTP1: true }, (req, res) => {
        res.end(JSON.stringify({ path: req.url, version: req.httpVersion }));
      });
      both.on('secureConnection', (s: TLSSocket) => bothAlpn.push(String(s.alpnProtocol)));
      h1tls = createHttpsServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
        res.end(`h1 ${req.httpVersion} ${req.url}`);
      });
      h1tls.on('secureConnection', (s: TLSSocket) => h1Alpn.push(String(s.alpnProtocol)));
      // One port that speaks h2c (prior knowledge) and HTTP/1.1 (WebSocket), as Go's h2c handler does.
      ws = await startWsBackend();
      const dualH2 = echoOver(createH2Server(), 'dual-h2c', dualH2Sessions);
      dual = createTcpServer((sock) => {
        sock.once('readable', () => {
          const first = sock.read(3) as Buffer | null;
          if (first === null) return;
          sock.unshift(first);
          if (first.toString() === 'PRI') dualH2.emit('connection', sock);
          else ws.server.emit('connection', sock);
        });
      });
      for (const s of [h2c, h2tls, h1tls, both, dual] as Server[])
        await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      const port = (s: { address(): unknown }) => (s.address() as AddressInfo).port;
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: DEBUG }
api: {}
metrics:
  prometheus: {}
http:
  routers:
    h2c: { rule: "PathPrefix(\`/h2c\`)", service: h2c, entryPoints: [web] }
    tls: { rule: "PathPrefix(\`/tls\`)", service: h2-tls, entryPoints: [web] }
    h1only: { rule: "PathPrefix(\`/h1only\`)", service: h1-tls, entryPoints: [web] }
    forced: { rule: "PathPrefix(\`/forced\`)", service: forced-h1, entryPoints: [web] }
    dual: { rule: "PathPrefix(\`/dual\`)", service: dual, entryPoints: [web] }
  services:
    h2c:
      loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${port(h2c)}" }] }
    h2-tls:
      loadBalancer:
        serversTransport: ca
        servers: [{ url: "https://127.0.0.1:${port(h2tls)}" }]
    h1-tls:
      loadBalancer:
        serversTransport: ca
        servers: [{ url: "https://127.0.0.1:${port(h1tls)}" }]
    forced-h1:
      loadBalancer:
        serversTransport: no-h2
        servers: [{ url: "https://127.0.0.1:${port(both)}" }]
    dual:
      loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${port(dual)}" }] }
  serversTransports:
    ca:
      rootCAs: ["${pki.ca.certFile}"]
    no-h2:
      rootCAs: ["${pki.ca.certFile}"]
      disableHTTP2: true
`,
      });
    });

    after(async () => {
      await proxy?.stop();
      for (const s of [...h2cSessions, ...tlsSessions, ...dualH2Sessions]) s.destroy();
      h2c?.close();
      h2tls?.close();
      h1tls?.closeAllConnections();
      h1tls?.close();
      both?.close();
      dual?.close();
      await ws?.close();
      pki?.remove();
    });

    it('proxies curl over HTTP/1.1 to an h2c server: HTTP/2 upstream, chunked back, te not invented', async () => {
      const r = await curl([`http://127.0.0.1:${proxy.ports.web}/h2c/a?b=1`]);
      assert.equal(r.status, 200);
      assert.equal(r.headers['transfer-encoding']?.[0], 'chunked');
      const j = JSON.parse(r.body.toString());
      assert.equal(j.name, 'h2c');
      assert.equal(j.path, '/h2c/a?b=1');
      assert.equal(j.authority, `127.0.0.1:${proxy.ports.web}`);
      assert.equal(j.te, null);
      assert.equal(j.forwardedFor, '127.0.0.1');
    });

    it('proxies curl --http2-prior-knowledge and nghttp to an h2c server', async () => {
      const r = await curl(['--http2-prior-knowledge', `http://127.0.0.1:${proxy.ports.web}/h2c/curl`]);
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body.toString()).path, '/h2c/curl');
      const n = await run('nghttp', ['-v', `http://127.0.0.1:${proxy.ports.web}/h2c/nghttp`]);
      assert.equal(n.code, 0, n.out);
      assert.match(n.out, /"path":"\/h2c\/nghttp"/);
      assert.match(n.out, /x-backend-trailer: h2c/, 'nghttp saw the backend trailers');
    });

    it('streams a 3 MB upload to an h2c server intact, and relays trailers both ways for HTTP/2 clients', async () => {
      const big = createHash('sha512').update('seed').digest();
      const body = Buffer.concat(Array.from({ length: (3 * 1024 * 1024) / big.length }, () => big));
      const r = await h2get(
        proxy.ports.web!,
        { ':path': '/h2c/up', ':authority': 'up.test', te: 'trailers' },
        body,
        { 'x-client-trailer': 'from-client' },
      );
      assert.equal(r.status, 200);
      assert.equal(r.json.bytes, body.length);
      assert.equal(r.json.sha256, sha256(body));
      assert.equal(r.json.te, 'trailers', 'te: trailers kept for an HTTP/2 upstream');
      assert.equal(r.json.clientTrailer, 'from-client', 'request trailers reached the backend');
      assert.equal(r.trailers['x-backend-trailer'], 'h2c', 'response trailers reached the client');
      assert.equal(r.trailers['x-body-bytes'], String(body.length));
    });

    it('speaks h2 to an https server that picks it by ALPN', async () => {
      const r = await curl([`http://127.0.0.1:${proxy.ports.web}/tls/x`]);
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body.toString()).name, 'h2-tls');
      assert.ok(tlsAlpn.includes('h2'));
    });

    it('speaks HTTP/1.1 to an https server that only offers it, and to any with disableHTTP2', async () => {
      const a = await curl([
        `http://127.0.0.1:${proxy.ports.web}/h1only/y`,
        `http://127.0.0.1:${proxy.ports.web}/h1only/z`,
      ]);
      assert.equal(a.body.toString(), 'h1 1.1 /h1only/yh1 1.1 /h1only/z');
      assert.deepEqual(h1Alpn, ['http/1.1'], 'one connection, no wasted handshake');
      const b = await curl([`http://127.0.0.1:${proxy.ports.web}/forced/w`]);
      assert.equal(b.status, 200);
      assert.equal(JSON.parse(b.body.toString()).version, '1.1');
      assert.deepEqual(bothAlpn, ['http/1.1'], 'disableHTTP2: http/1.1 offered only');
    });

    it('carries h2load traffic (2000 requests, 100 at once) on very few upstream sessions', async () => {
      const beforeSessions = h2cSessions.length;
      const r = await run(
        'h2load',
        ['-n', '2000', '-c', '10', '-m', '10', `http://127.0.0.1:${proxy.ports.web}/h2c/load`],
        60_000,
      );
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed/);
      const opened = h2cSessions.length - beforeSessions;
      // 100 concurrent streams fit one session (the server's default allows 100); a second may open
      // while the first one's SETTINGS are on their way.
      assert.ok(opened <= 2, `${opened} sessions opened for 2000 requests`);
    });

    it('sends a WebSocket upgrade to an h2c server over HTTP/1.1, as Traefik does', async () => {
      const client = new WebSocket(`ws://127.0.0.1:${proxy.ports.web}/dual/ws`);
      const echoed = await new Promise<string>((resolve, reject) => {
        client.on('error', reject);
        client.on('open', () => client.send('over h1'));
        client.on('message', (d) => resolve(String(d)));
      });
      client.close();
      assert.equal(echoed, 'over h1');
      assert.equal(ws.handshakes.length, 1);
      const r = await curl([`http://127.0.0.1:${proxy.ports.web}/dual/plain`]);
      assert.equal(JSON.parse(r.body.toString()).name, 'dual-h2c', 'other requests to it are HTTP/2');
    });

    it('exposes sessions and streams of HTTP/2 pools as metrics', async () => {
      const res = await fetch(`http://127.0.0.1:${proxy.ports.traefik}/metrics`);
      const text = await res.text();
      const server = `h2c://127.0.0.1:${(h2c.address() as AddressInfo).port}`;
      const opened = new RegExp(
        `^traffic_upstream_pool_streams_total\\{server="${server.replace(/[/.]/g, '\\$&')}"\\} (\\d+)$`,
        'm',
      ).exec(text);
      assert.ok(opened, text);
      assert.ok(Number(opened[1]) >= 2000);
      assert.match(text, /^traffic_upstream_pool_connections\{server="h2c:[^"]+",state="idle"\} \d+$/m);
      assert.match(text, /^traffic_upstream_pool_refused_streams_total\{server="h2c:/m);
    });
  });
}
