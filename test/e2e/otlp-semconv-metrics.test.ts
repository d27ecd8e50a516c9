/**
 * Traefik's OpenTelemetry semantic-convention histograms, added when `metrics.otlp` is set
 * (pkg/observability/metrics/otel.go NewSemConvMetricRegistry): `http.server.request.duration`
 * for each request through an entry point (pkg/middlewares/observability/semconv.go) and
 * `http.client.request.duration` for each call to a server (pkg/proxy/httputil/observability.go),
 * pushed by the real proxy to a receiver on loopback, with their attributes typed as Go's, the
 * exporter's explicitBoundaries, and never in the Prometheus exposition.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type OtlpReceiver, type ReceivedMetricPoint, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { RawConn } from '../helpers/raw-conn.ts';

function find(
  exp: readonly ReceivedMetricPoint[],
  metric: string,
  attrs: Record<string, string | number>,
): ReceivedMetricPoint | undefined {
  return exp.find(
    (p) => p.metric === metric && Object.entries(attrs).every(([k, v]) => p.attributes[k] === v),
  );
}

describe('metrics.otlp semantic-convention histograms', () => {
  let backend: Backend;
  let mirror: Backend;
  let receiver: OtlpReceiver;

  before(async () => {
    backend = await startBackend((req, res) => {
      res.statusCode = req.url === '/app/missing' ? 404 : 200;
      res.end('hello');
    });
    mirror = await startBackend((_req, res) => res.end('copy'));
    receiver = await startOtlpReceiver();
  });

  after(async () => {
    await Promise.all([backend?.close(), mirror?.close(), receiver?.close()]);
  });

  it('records http.server.request.duration and http.client.request.duration as Traefik', async () => {
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
api: { insecure: true }
log: { level: INFO }
metrics:
  prometheus: {}
  otlp:
    http: { endpoint: "${receiver.base}" }
    explicitBoundaries: [0.5, 30]
    pushInterval: 1h
http:
  routers:
    app: { rule: "PathPrefix(\`/app\`)", service: app }
    dead: { rule: "PathPrefix(\`/dead\`)", service: dead }
    copied: { rule: "PathPrefix(\`/copied\`)", service: copied }
  services:
    copied: { mirroring: { service: app, mirrors: [{ name: mir, percent: 100 }] } }
    mir: { loadBalancer: { servers: [{ url: "${mirror.url}" }] } }
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
    dead: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }
`,
      });
      const web = proxy.ports['web']!;
      const c = await RawConn.open(web);
      try {
        c.write('GET /app/x HTTP/1.1\r\nHost: Shop.test:8443\r\n\r\n');
        assert.equal((await c.readResponse()).status, 200);
        c.write('PURGE /app/x HTTP/1.1\r\nHost: shop.test\r\n\r\n');
        assert.equal((await c.readResponse()).status, 200);
        c.write('GET /app/missing HTTP/1.1\r\nHost: shop.test\r\n\r\n');
        assert.equal((await c.readResponse()).status, 404);
        c.write('GET /dead HTTP/1.1\r\nHost: shop.test\r\n\r\n');
        assert.equal((await c.readResponse()).status, 502);
        c.write('GET /copied HTTP/1.1\r\nHost: shop.test\r\n\r\n');
        assert.equal((await c.readResponse()).status, 200);
        c.write('GET /nowhere HTTP/1.1\r\nHost: shop.test\r\n\r\n');
        assert.equal((await c.readResponse()).status, 404);
      } finally {
        c.destroy();
      }
      // The mirror's copy is counted on its service when its answer is in, and its call with it:
      // scrape until the mirror's service shows it.
      let text = '';
      for (let i = 0; i < 200 && !/traefik_service_requests_total\{[^}]*service="mir@file"/.test(text); i++)
        text = await (await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/metrics`)).text();
      // Prometheus never shows them (Traefik's semconv registry is the OTLP meter's).
      assert.match(text, /traefik_entrypoint_requests_total/);
      assert.doesNotMatch(text, /semconv|http_server_request_duration/);
      // pushInterval is an hour: what arrives comes from the shutdown.
      assert.equal(await proxy.stop('SIGTERM', 30_000), 0);
      const exp = receiver.metricExports.at(-1)!;

      const server = find(exp, 'http.server.request.duration', {
        'http.request.method': 'GET',
        'http.response.status_code': 200,
      });
      assert.ok(server, JSON.stringify(exp.filter((p) => p.metric.startsWith('http.'))));
      assert.equal(server.type, 'histogram');
      // Traefik's meter: github.com/traefik/traefik, with the version.
      assert.equal(server.scope, 'github.com/traefik/traefik');
      assert.match(server.scopeVersion, /^\d+\.\d+\.\d+/);
      assert.equal(server.unit, 's');
      assert.deepEqual(server.explicitBounds, [0.5, 30]);
      assert.equal(server.count, '1');
      assert.deepEqual(server.attributes, {
        'http.request.method': 'GET',
        'http.response.status_code': 200,
        // The matched router's rule (Traefik's WithHTTPRoute, read by semconv.go).
        'http.route': 'PathPrefix(`/app`)',
        'network.protocol.name': 'http/1.1',
        'network.protocol.version': '1.1',
        // The Host without its port; server.port is the port the connection came in on.
        'server.address': 'Shop.test',
        'server.port': web,
        // X-Forwarded-Proto as the proxy set it.
        'url.scheme': 'http',
      });
      // The server side keeps the request's method; a status from 400 on is error.type.
      assert.ok(find(exp, 'http.server.request.duration', { 'http.request.method': 'PURGE' }));
      const missing = find(exp, 'http.server.request.duration', {
        'http.response.status_code': 404,
        'http.route': 'PathPrefix(`/app`)',
      });
      assert.equal(missing?.attributes['error.type'], '404');
      // No router took it (the entry point's 404): no http.route.
      const unrouted = exp.filter(
        (p) => p.metric === 'http.server.request.duration' && !('http.route' in p.attributes),
      );
      assert.equal(unrouted.length, 1, JSON.stringify(unrouted));
      assert.equal(unrouted[0]!.attributes['http.response.status_code'], 404);
      assert.equal(
        find(exp, 'http.server.request.duration', { 'http.route': 'PathPrefix(`/dead`)' })?.attributes[
          'http.response.status_code'
        ],
        502,
      );

      const backendPort = Number(new URL(backend.url).port);
      const client = find(exp, 'http.client.request.duration', {
        'http.request.method': 'GET',
        'http.response.status_code': 200,
      });
      assert.ok(client);
      assert.equal(client.unit, 's');
      assert.deepEqual(client.explicitBounds, [0.5, 30]);
      assert.deepEqual(client.attributes, {
        'http.request.method': 'GET',
        'http.response.status_code': 200,
        'network.protocol.name': 'http/1.1',
        'network.protocol.version': '1.1',
        // The server URL's host, port included (Traefik passes req.URL.Host).
        'server.address': `127.0.0.1:${backendPort}`,
        'server.port': backendPort,
        'url.scheme': 'http',
      });
      // The client side's method is httpconv's enum: PURGE is _OTHER.
      assert.ok(find(exp, 'http.client.request.duration', { 'http.request.method': '_OTHER' }));
      const clientMissing = find(exp, 'http.client.request.duration', { 'http.response.status_code': 404 });
      assert.equal(clientMissing?.attributes['error.type'], '404');
      // A call that failed: the status ComputeStatusCode gives it (502 for a refused connection).
      const refused = find(exp, 'http.client.request.duration', { 'server.address': '127.0.0.1:9' });
      assert.equal(refused?.attributes['http.response.status_code'], 502);
      assert.equal(refused?.attributes['error.type'], '502');
      assert.equal(refused?.attributes['server.port'], 9);
      // A mirror's copy is a call of its own.
      const copy = find(exp, 'http.client.request.duration', { 'server.address': new URL(mirror.url).host });
      assert.equal(copy?.attributes['http.response.status_code'], 200);
    } finally {
      await proxy?.stop();
    }
  });
});
