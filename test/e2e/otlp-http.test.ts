/**
 * The OTLP/HTTP exporters' transport end to end, as Traefik sets it up (otel.go newHTTPExporter,
 * types/tracing.go setupHTTPExporter): the real proxy pushes metrics and spans in protobuf,
 * gzip-compressed, to
 * an HTTPS receiver on loopback that asks for a client certificate, with `metrics.otlp.http.tls`
 * and `tracing.otlp.http.tls` (types.ClientTLS: files or PEM text); a `tls` whose file is missing
 * leaves that exporter out, with an error, and the proxy serves on; an endpoint without a path
 * gets the signal's path (/v1/traces, /v1/metrics).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { TestPki } from '../helpers/tls-certs.ts';
import { within } from '../helpers/wait.ts';

describe('OTLP/HTTP exporters', () => {
  let pki: TestPki;
  let backend: Backend;
  let receiver: OtlpReceiver;

  before(async () => {
    pki = new TestPki();
    backend = await startBackend((_req, res) => res.end('hello'));
    receiver = await startOtlpReceiver({
      ...pki.issue('collector', ['127.0.0.1']),
      clientCaPem: pki.ca.certPem,
    });
  });

  after(async () => {
    await Promise.all([backend?.close(), receiver?.close()]);
    pki?.remove();
  });

  it('pushes metrics and spans with a client certificate, checking the collector with `ca`', async () => {
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
    http:
      endpoint: "${receiver.base}"
      tls: { ca: "${pki.ca.certFile}", cert: "${client.certFile}", key: "${client.keyFile}" }
    pushInterval: 50ms
tracing:
  otlp:
    http:
      endpoint: "${receiver.url}"
      tls: { ca: "${pki.ca.certFile}", cert: "${client.certFile}", key: "${client.keyFile}" }
http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      });
      const res = await fetch(`http://127.0.0.1:${proxy.ports.web}/traced`);
      assert.equal(res.status, 200);
      await res.text();
      const span = await receiver.waitForSpan((s) => s.attributes['url.path'] === '/traced', 30_000);
      assert.equal(span.attributes['http.response.status_code'], 200);
      const sent = receiver.exports.at(-1)!;
      assert.equal(sent.headers['content-encoding'], 'gzip');
      // Go's otlptracehttp and otlpmetrichttp send protobuf, and only protobuf.
      assert.equal(sent.contentType, 'application/x-protobuf');
      const exp = await receiver.waitForMetrics(
        (e) => e.some((p) => p.metric === 'traefik_entrypoint_requests_total' && p.asDouble === 1),
        30_000,
      );
      const at = receiver.metricExports.indexOf(exp);
      assert.equal(receiver.metricHeaders[at]!['content-encoding'], 'gzip');
      assert.equal(receiver.metricHeaders[at]!['content-type'], 'application/x-protobuf');
    } finally {
      await proxy?.stop();
    }
  });

  it('leaves out an exporter whose `tls` file cannot be read, and serves on', async () => {
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
metrics:
  otlp:
    http:
      endpoint: "${receiver.base}"
      tls: { ca: "/nonexistent/ca.pem" }
    pushInterval: 50ms
http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      });
      const res = await fetch(`http://127.0.0.1:${proxy.ports.web}/`);
      assert.equal(res.status, 200);
      await res.text();
      const line = await proxy.waitForLog((l) => String(l.msg).startsWith('metrics.otlp.http.tls:'));
      assert.equal(line.level, 'error');
      assert.match(String(line.msg), /the exporter is off/);
    } finally {
      await proxy?.stop();
    }
  });

  it("ends an export at OTEL_BSP_EXPORT_TIMEOUT (the batch span processor's context), before the exporter's own timeout", async () => {
    // A collector that takes the export and never answers: the proxy's request is what ends it.
    const held: IncomingMessage[] = [];
    let aborted: () => void = () => {};
    const abortedOnce = new Promise<void>((resolve) => {
      aborted = resolve;
    });
    const collector = createServer((req) => {
      held.push(req);
      req.resume();
      req.socket.on('close', () => aborted());
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
tracing:
  otlp:
    http:
      endpoint: "http://127.0.0.1:${port}"
http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
        // The exporter alone would wait 10 minutes; Go's processor cancels the export at 300 ms.
        env: {
          OTEL_EXPORTER_OTLP_TIMEOUT: '600000',
          OTEL_BSP_EXPORT_TIMEOUT: '300',
          OTEL_BSP_SCHEDULE_DELAY: '50',
        },
      });
      const res = await fetch(`http://127.0.0.1:${proxy.ports.web}/held`);
      assert.equal(res.status, 200);
      await res.text();
      // The exporter's own timeout (10 minutes) would come long after this bound.
      await within(abortedOnce, 'the held export to be cancelled', 30_000);
      assert.equal(held[0]?.url, '/v1/traces');
    } finally {
      await proxy?.stop();
      collector.closeAllConnections();
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
  });

  it("posts the spans of an endpoint without a path to /v1/traces (otlptracehttp's default path)", async () => {
    const plain = await startOtlpReceiver();
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
tracing:
  otlp:
    http:
      endpoint: "${plain.base}"
http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      });
      const res = await fetch(`http://127.0.0.1:${proxy.ports.web}/pathless`);
      assert.equal(res.status, 200);
      await res.text();
      await plain.waitForSpan((s) => s.attributes['url.path'] === '/pathless', 30_000);
      assert.deepEqual(new Set(plain.exports.map((e) => e.path)), new Set(['/v1/traces']));
    } finally {
      await proxy?.stop();
      await plain.close();
    }
  });

  it("puts tracing.resourceAttributes on the spans' resource, over service.name, before the deprecated globalAttributes", async () => {
    const plain = await startOtlpReceiver();
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
tracing:
  serviceName: edge
  resourceAttributes: { deployment.environment: prod, service.name: edge-eu }
  globalAttributes: { ignored: "yes" }
  otlp:
    http:
      endpoint: "${plain.url}"
http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      });
      const res = await fetch(`http://127.0.0.1:${proxy.ports.web}/attrs`);
      assert.equal(res.status, 200);
      await res.text();
      const span = await plain.waitForSpan((s) => s.attributes['url.path'] === '/attrs', 30_000);
      assert.equal(span.resource['service.name'], 'edge-eu');
      assert.equal(span.resource['deployment.environment'], 'prod');
      assert.match(String(span.resource['service.version']), /^\d+\.\d+\.\d+/);
      assert.equal(span.resource['ignored'], undefined);
    } finally {
      await proxy?.stop();
      await plain.close();
    }
  });
});
