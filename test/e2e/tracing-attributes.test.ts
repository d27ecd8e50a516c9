/**
 * The server span's attributes as Traefik's tracer sets them (pkg/observability/tracing/
 * tracing.go CaptureServerRequest, CaptureResponse), through the real proxy to a real OTLP/HTTP
 * receiver: `tracing.capturedRequestHeaders` / `capturedResponseHeaders` become
 * `http.request.header.<name>` / `http.response.header.<name>` string arrays; the request's
 * url.scheme, user_agent.original, network.peer.*, client.*, http.request.body.size, and url.query
 * with the values of parameters not in `tracing.safeQueryParams` redacted.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';

describe('tracing: span attributes', () => {
  let backend: Backend;
  let receiver: OtlpReceiver;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend((_req, res) => {
      res.setHeader('X-Answer', ['one', 'two']);
      res.setHeader('Content-Type', 'text/plain');
      res.end('hello');
    });
    receiver = await startOtlpReceiver();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  trusted:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1"] }
log: { level: INFO }
tracing:
  capturedRequestHeaders: ["X-Req", "user-agent", "X-Absent", "Host"]
  capturedResponseHeaders: ["x-answer", "Content-Type"]
  safeQueryParams: ["page"]
  otlp: { http: { endpoint: "${receiver.url}" } }
http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([backend?.close(), receiver?.close()]);
  });

  it('records the captured request and response fields, every value, as string arrays', async () => {
    const r = await rawRequest(
      proxy.ports['web']!,
      'GET /captured HTTP/1.1\r\nHost: app\r\nUser-Agent: probe/1\r\nX-Req: a\r\nx-req: b, c\r\nConnection: close\r\n\r\n',
      { responses: 1, timeoutMs: 10_000 },
    );
    assert.equal(r.responses[0]?.status, 200);
    const span = await receiver.waitForSpan((s) => s.attributes['url.path'] === '/captured', 10_000);
    assert.deepEqual(span.attributes['http.request.header.x-req'], ['a', 'b, c']);
    assert.deepEqual(span.attributes['http.response.header.x-answer'], ['one', 'two']);
    assert.deepEqual(span.attributes['http.response.header.content-type'], ['text/plain']);
    // User-Agent is user_agent.original, not a captured field; an absent field is no attribute.
    assert.equal(span.attributes['http.request.header.user-agent'], undefined);
    assert.equal(span.attributes['http.request.header.x-absent'], undefined);
    // Go's server moves Host out of r.Header: Traefik never finds it there.
    assert.equal(span.attributes['http.request.header.host'], undefined);
  });

  it('sets the request attributes of Traefik CaptureServerRequest, the query redacted', async () => {
    const body = 'x'.repeat(11);
    const r = await rawRequest(
      proxy.ports['web']!,
      `POST /q?token=s3cret&page=2&page=3&a=1 HTTP/1.1\r\nHost: app:8080\r\nUser-Agent: probe/2\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      { responses: 1, timeoutMs: 10_000 },
    );
    assert.equal(r.responses[0]?.status, 200);
    const span = await receiver.waitForSpan((s) => s.attributes['url.path'] === '/q', 10_000);
    const a = span.attributes;
    assert.equal(a['url.query'], 'a=REDACTED&page=2&page=3&token=REDACTED');
    assert.equal(a['url.scheme'], 'http');
    assert.equal(a['entry_point'], 'web');
    assert.equal(a['user_agent.original'], 'probe/2');
    assert.equal(a['http.request.body.size'], 11);
    assert.equal(a['server.address'], 'app:8080');
    assert.equal(a['network.peer.address'], '127.0.0.1');
    assert.equal(a['client.address'], '127.0.0.1');
    assert.equal(typeof a['network.peer.port'], 'number');
    assert.ok((a['network.peer.port'] as number) > 0);
    assert.equal(a['client.port'], a['network.peer.port']);
  });

  it("client.address is a trusted peer's first X-Forwarded-For entry, network.peer.* the peer", async () => {
    // Traefik v3.8's CaptureServerRequest (PR #13444): client.address from the first entry of
    // X-Forwarded-For when there is one (only a trusted peer's reaches it), else the peer;
    // network.peer.* and client.port from net.SplitHostPort(r.RemoteAddr).
    const r = await rawRequest(
      proxy.ports['trusted']!,
      'GET /forwarded HTTP/1.1\r\nHost: app\r\nX-Forwarded-For: 203.0.113.5, 10.0.0.1\r\nConnection: close\r\n\r\n',
      { responses: 1, timeoutMs: 10_000 },
    );
    assert.equal(r.responses[0]?.status, 200);
    // The trusted peer's X-Forwarded-For was kept (and went on to the server).
    assert.match(
      String(backend.seen.findLast((x) => x.url === '/forwarded')?.headers['x-forwarded-for']),
      /^203\.0\.113\.5, 10\.0\.0\.1/,
    );
    const span = await receiver.waitForSpan((s) => s.attributes['url.path'] === '/forwarded', 10_000);
    assert.equal(span.attributes['client.address'], '203.0.113.5');
    assert.equal(span.attributes['network.peer.address'], '127.0.0.1');
    assert.equal(span.attributes['client.port'], span.attributes['network.peer.port']);
    // An untrusted peer's X-Forwarded-For is dropped before: client.address is the peer.
    const u = await rawRequest(
      proxy.ports['web']!,
      'GET /untrusted-forwarded HTTP/1.1\r\nHost: app\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n',
      { responses: 1, timeoutMs: 10_000 },
    );
    assert.equal(u.responses[0]?.status, 200);
    const untrusted = await receiver.waitForSpan(
      (s) => s.attributes['url.path'] === '/untrusted-forwarded',
      10_000,
    );
    assert.equal(untrusted.attributes['client.address'], '127.0.0.1');
  });

  it('a request without a query, a body or a User-Agent: empty url.query and user_agent.original, size 0', async () => {
    const r = await rawRequest(
      proxy.ports['web']!,
      'GET /plain HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n',
      { responses: 1, timeoutMs: 10_000 },
    );
    assert.equal(r.responses[0]?.status, 200);
    const span = await receiver.waitForSpan((s) => s.attributes['url.path'] === '/plain', 10_000);
    assert.equal(span.attributes['url.query'], '');
    assert.equal(span.attributes['user_agent.original'], '');
    assert.equal(span.attributes['http.request.body.size'], 0);
  });

  it('url.path is the decoded path, as Go r.URL.Path is', async () => {
    const r = await rawRequest(
      proxy.ports['web']!,
      'GET /d%C3%A9j%C3%A0/a%2Fb+c HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n',
      { responses: 1, timeoutMs: 10_000 },
    );
    assert.equal(r.responses[0]?.status, 200);
    const span = await receiver.waitForSpan((s) => String(s.attributes['url.path']).startsWith('/d'), 10_000);
    assert.equal(span.attributes['url.path'], '/déjà/a/b+c');
  });

  it('over HTTP/2: a body without content-length is size -1, captured fields and authority too', async () => {
    const session = connect(`http://127.0.0.1:${proxy.ports['web']}`);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({
          ':method': 'POST',
          ':path': '/h2?page=1',
          ':authority': 'app:81',
          'x-req': 'h2',
        });
        let code = 0;
        req.on('response', (h) => {
          code = Number(h[':status']);
        });
        req.on('error', reject);
        req.on('end', () => resolve(code));
        req.resume();
        req.end('streamed');
      });
      assert.equal(status, 200);
    } finally {
      session.close();
    }
    const span = await receiver.waitForSpan((s) => s.attributes['url.path'] === '/h2', 10_000);
    const a = span.attributes;
    // Traefik's proto(): Go's "HTTP/2.0" is not in its switch, and stays as it is.
    assert.equal(a['network.protocol.version'], 'HTTP/2.0');
    // Its call goes out as HTTP/1.1 (Traefik's director): the CLIENT span says 1.1.
    const call = await receiver.waitForSpan((s) => s.traceId === span.traceId && s.kind === 3, 10_000);
    assert.equal(call.attributes['network.protocol.version'], '1.1');
    // Traefik's tracer name is the scope (types/tracing.go Setup).
    assert.equal(span.scope, 'github.com/traefik/traefik');
    assert.equal(a['http.request.body.size'], -1);
    assert.equal(a['server.address'], 'app:81');
    assert.equal(a['url.query'], 'page=1');
    assert.deepEqual(a['http.request.header.x-req'], ['h2']);
    assert.deepEqual(a['http.response.header.x-answer'], ['one', 'two']);
  });
});
