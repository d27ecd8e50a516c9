/**
 * The OTLP/gRPC exporters end to end, as Traefik sets them up (types/tracing.go
 * setupGRPCExporter, metrics/otel.go newGRPCExporter): the real proxy sends spans and metrics as
 * unary Export calls to a @grpc/grpc-js receiver on loopback, in cleartext with `insecure` and
 * over mutual TLS with `tls`; the resource carries service.name, the resource attributes and, last,
 * OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME (resource.WithFromEnv); `headers` arrive as
 * metadata. An endpoint that is not host:port leaves the exporter off, logged, and the proxy
 * serves on.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type OtlpReceiver, startOtlpGrpcReceiver } from '../helpers/otlp-receiver.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { TestPki } from '../helpers/tls-certs.ts';

const ROUTES = (backendUrl: string): string => `http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${backendUrl}" }] } }
`;

describe('OTLP/gRPC exporters', () => {
  let pki: TestPki;
  let backend: Backend;
  let plain: OtlpReceiver;
  let secure: OtlpReceiver;

  before(async () => {
    pki = new TestPki();
    backend = await startBackend((_req, res) => res.end('hello'));
    plain = await startOtlpGrpcReceiver();
    secure = await startOtlpGrpcReceiver({
      ...pki.issue('collector', ['127.0.0.1']),
      clientCaPem: pki.ca.certPem,
    });
  });

  after(async () => {
    await Promise.all([backend?.close(), plain?.close(), secure?.close()]);
    pki?.remove();
  });

  it('sends spans and metrics over h2c with `insecure`, with the resource and the headers', async () => {
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
metrics:
  otlp:
    grpc:
      endpoint: "${plain.hostPort}"
      insecure: true
      headers: { X-Tenant: metrics-team }
    pushInterval: 50ms
    serviceName: edge-metrics
    resourceAttributes: { deployment.environment: staging, team: a }
tracing:
  serviceName: edge-traces
  resourceAttributes: { deployment.environment: staging, team: a }
  otlp:
    grpc:
      endpoint: "${plain.hostPort}"
      insecure: true
      headers: { authorization: "Bearer t0k3n" }
${ROUTES(backend.url)}`,
        // resource.WithFromEnv comes last: it overrides the configured attributes.
        env: { OTEL_RESOURCE_ATTRIBUTES: 'team=b,region=eu%20west' },
      });
      const res = await fetch(`http://127.0.0.1:${proxy.ports.web}/over-grpc?x=1`);
      assert.equal(res.status, 200);
      await res.text();
      const span = await plain.waitForSpan((s) => s.attributes['url.path'] === '/over-grpc', 30_000);
      assert.equal(span.kind, 2);
      assert.equal(span.attributes['http.request.method'], 'GET');
      assert.equal(span.attributes['http.response.status_code'], 200);
      assert.match(span.traceId, /^[0-9a-f]{32}$/);
      assert.match(span.spanId, /^[0-9a-f]{16}$/);
      assert.equal(span.resource['service.name'], 'edge-traces');
      assert.equal(span.resource['deployment.environment'], 'staging');
      assert.equal(span.resource.team, 'b');
      assert.equal(span.resource.region, 'eu west');
      // Traefik's resource detectors (WithHost, WithOS, WithProcess), first in the resource.
      assert.equal(span.resource['host.name'], hostname());
      assert.equal(span.resource['os.type'], 'linux');
      assert.equal(span.resource['process.pid'], proxy.child.pid);
      const call = plain.exports.find((e) => e.spanCount > 0)!;
      assert.equal(call.path, '/opentelemetry.proto.collector.trace.v1.TraceService/Export');
      assert.equal(call.headers.authorization, 'Bearer t0k3n');

      const points = await plain.waitForMetrics(
        (e) => e.some((p) => p.metric === 'traefik_entrypoint_requests_total' && p.asDouble === 1),
        30_000,
      );
      const requests = points.find((p) => p.metric === 'traefik_entrypoint_requests_total')!;
      assert.equal(requests.type, 'sum');
      assert.equal(requests.isMonotonic, true);
      assert.equal(requests.attributes.entrypoint, 'web');
      assert.equal(requests.attributes.code, '200');
      assert.equal(requests.resource['service.name'], 'edge-metrics');
      assert.equal(requests.resource.team, 'b');
      assert.equal(requests.resource['host.name'], hostname());
      const duration = points.find((p) => p.metric === 'traefik_entrypoint_request_duration_seconds')!;
      assert.equal(duration.type, 'histogram');
      assert.equal(duration.count, '1');
      assert.equal(duration.bucketCounts!.length, duration.explicitBounds!.length + 1);
      assert.equal(plain.metricHeaders[plain.metricExports.indexOf(points)]!['x-tenant'], 'metrics-team');
    } finally {
      await proxy?.stop();
    }
  });

  it('sends over mutual TLS with `tls`, and OTEL_SERVICE_NAME names the service', async () => {
    const client = pki.issue('edge', ['edge']);
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
metrics:
  otlp:
    grpc:
      endpoint: "${secure.hostPort}"
      tls: { ca: "${pki.ca.certFile}", cert: "${client.certFile}", key: "${client.keyFile}" }
    pushInterval: 50ms
tracing:
  otlp:
    grpc:
      endpoint: "${secure.hostPort}"
      tls: { ca: "${pki.ca.certFile}", cert: "${client.certFile}", key: "${client.keyFile}" }
${ROUTES(backend.url)}`,
        env: { OTEL_SERVICE_NAME: 'from-env', OTEL_RESOURCE_ATTRIBUTES: 'service.name=ignored' },
      });
      const res = await fetch(`http://127.0.0.1:${proxy.ports.web}/over-tls`);
      await res.text();
      const span = await secure.waitForSpan((s) => s.attributes['url.path'] === '/over-tls', 30_000);
      assert.equal(span.resource['service.name'], 'from-env');
      const points = await secure.waitForMetrics(
        (e) => e.some((p) => p.metric === 'traefik_entrypoint_requests_total'),
        30_000,
      );
      assert.equal(points[0]!.resource['service.name'], 'from-env');
    } finally {
      await proxy?.stop();
    }
  });

  it('batches spans as OTEL_BSP_* say (the Go SDK’s batch span processor reads them)', async () => {
    const receiver = await startOtlpGrpcReceiver();
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
tracing:
  otlp:
    grpc: { endpoint: "${receiver.hostPort}", insecure: true }
${ROUTES(backend.url)}`,
        // One span per export, as soon as it ends; no timer in between.
        env: { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1', OTEL_BSP_SCHEDULE_DELAY: '3600000' },
      });
      const port = proxy.ports.web;
      await Promise.all(
        [1, 2, 3].map(async (i) => (await fetch(`http://127.0.0.1:${port}/batch-${i}`)).text()),
      );
      await receiver.waitForSpans(3, 30_000);
      assert.deepEqual(
        receiver.exports.map((e) => e.spanCount),
        [1, 1, 1],
      );
    } finally {
      await proxy?.stop();
      await receiver.close();
    }
  });

  it('leaves out an exporter whose endpoint is not host:port, and serves on', async () => {
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
tracing:
  otlp:
    grpc:
      endpoint: "http://${plain.hostPort}"
      insecure: true
${ROUTES(backend.url)}`,
      });
      const line = await proxy.waitForLog((l) => l.level === 'error' && /tracing\.otlp/.test(String(l.msg)));
      assert.match(String(line.msg), /too many colons in address/);
      const res = await fetch(`http://127.0.0.1:${proxy.ports.web}/`);
      assert.equal(await res.text(), 'hello');
    } finally {
      await proxy?.stop();
    }
  });

  it('leaves out the exporters when OTEL_RESOURCE_ATTRIBUTES has a pair without a value', async () => {
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
tracing:
  otlp:
    grpc:
      endpoint: "${plain.hostPort}"
      insecure: true
${ROUTES(backend.url)}`,
        env: { OTEL_RESOURCE_ATTRIBUTES: 'team=c,oops' },
      });
      const line = await proxy.waitForLog((l) => l.level === 'error' && /tracing\.otlp/.test(String(l.msg)));
      assert.match(String(line.msg), /missing value: \[oops\]/);
      const res = await fetch(`http://127.0.0.1:${proxy.ports.web}/`);
      assert.equal(await res.text(), 'hello');
    } finally {
      await proxy?.stop();
    }
  });
});
