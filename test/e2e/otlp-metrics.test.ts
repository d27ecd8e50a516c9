/**
 * metrics.otlp end to end: the real proxy pushes its metrics over OTLP/HTTP (protobuf, as Traefik's otlpmetrichttp) to a receiver
 * on loopback, alone and beside Prometheus, in one process and from a control plane that sums
 * two workers' figures.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type OtlpReceiver, type ReceivedMetricPoint, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { getMany, killWorkers, startWorkers } from '../helpers/workers.ts';

function points(exp: readonly ReceivedMetricPoint[], metric: string): ReceivedMetricPoint[] {
  return exp.filter((p) => p.metric === metric);
}

/** The entry point's request counter for `web`, summed over codes; 0 when absent. */
function webRequests(exp: readonly ReceivedMetricPoint[]): number {
  return points(exp, 'traefik_entrypoint_requests_total')
    .filter((p) => p.attributes['entrypoint'] === 'web')
    .reduce((s, p) => s + (p.asDouble ?? 0), 0);
}

describe('metrics.otlp', () => {
  let backend: Backend;
  let receiver: OtlpReceiver;

  before(async () => {
    backend = await startBackend((_req, res) => res.end('hello'));
    receiver = await startOtlpReceiver();
  });

  after(async () => {
    await Promise.all([backend?.close(), receiver?.close()]);
  });

  it('pushes the request counters and histograms every pushInterval when only otlp is configured', async () => {
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
      headers: { x-tenant: one }
    explicitBoundaries: [0.05, 30]
    pushInterval: 50ms
    serviceName: edge
    addRoutersLabels: true
http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      });
      const replies = await getMany(proxy.ports['web']!, 3);
      assert.deepEqual(
        replies.map((r) => r.status),
        [200, 200, 200],
      );
      const exp = await receiver.waitForMetrics((e) => webRequests(e) === 3, 30_000);
      const at = receiver.metricExports.indexOf(exp);
      assert.equal(receiver.metricHeaders[at]!['x-tenant'], 'one', 'the configured headers');
      assert.equal(receiver.metricHeaders[at]!['content-type'], 'application/x-protobuf');
      const [requests] = points(exp, 'traefik_entrypoint_requests_total');
      assert.equal(requests!.type, 'sum');
      assert.equal(requests!.isMonotonic, true);
      assert.equal(requests!.temporality, 2, 'cumulative');
      assert.equal(requests!.resource['service.name'], 'edge');
      assert.match(String(requests!.resource['service.version']), /^\d+\.\d+\.\d+/);
      assert.deepEqual(requests!.attributes, {
        entrypoint: 'web',
        code: '200',
        method: 'GET',
        protocol: 'http',
      });
      const [router] = points(exp, 'traefik_router_requests_total');
      assert.equal(router!.asDouble, 3);
      assert.equal(router!.attributes['router'], 'app@file');
      const [h] = points(exp, 'traefik_service_request_duration_seconds');
      assert.equal(h!.type, 'histogram');
      assert.equal(h!.unit, 's');
      assert.deepEqual(h!.explicitBounds, [0.05, 30]);
      assert.equal(h!.bucketCounts!.length, 3);
      assert.equal(
        h!.bucketCounts!.reduce((s, c) => s + Number(c), 0),
        3,
        'per-bucket counts add up to the count',
      );
      assert.equal(h!.bucketCounts![2], '0', 'none took 30 s');
      assert.equal(h!.count, '3');
      const [open] = points(exp, 'traefik_open_connections');
      assert.equal(open!.type, 'gauge');
      // Traefik's instruments' units (otel.go: every counter "1", its gauges their own), which
      // a collector's Prometheus exporter turns into name suffixes.
      const units = Object.fromEntries(exp.map((p) => [p.metric, p.unit]));
      assert.deepEqual(
        {
          requests: units.traefik_entrypoint_requests_total,
          requestBytes: units.traefik_entrypoint_requests_bytes_total,
          responseBytes: units.traefik_router_responses_bytes_total,
          open: units.traefik_open_connections,
          reloads: units.traefik_config_reloads_total,
          lastReload: units.traefik_config_last_reload_success,
          serverUp: units.traefik_service_server_up,
          duration: units.traefik_entrypoint_request_duration_seconds,
          // Ours, beside Traefik's: by their names.
          rss: units.process_resident_memory_bytes,
        },
        {
          requests: '1',
          requestBytes: '1',
          responseBytes: '1',
          open: '1',
          reloads: '1',
          lastReload: 'ms',
          serverUp: '1',
          duration: 's',
          rss: 'By',
        },
      );
      // Traefik's descriptions: its Prometheus HELP texts, but the router byte counters'.
      const descriptions = Object.fromEntries(exp.map((p) => [p.metric, p.description]));
      assert.equal(
        descriptions.traefik_entrypoint_requests_total,
        'How many HTTP requests processed on an entrypoint, partitioned by status code, protocol, and method.',
      );
      assert.equal(
        descriptions.traefik_router_request_duration_seconds,
        'How long it took to process the request on a router, partitioned by service, status code, protocol, and method.',
      );
      assert.equal(
        descriptions.traefik_router_requests_bytes_total,
        'The total size of requests in bytes handled by a router, partitioned by status code, protocol, and method.',
      );
      assert.equal(
        descriptions.traefik_service_responses_bytes_total,
        'The total size of responses in bytes returned by a service, partitioned by status code, protocol, and method.',
      );
      assert.equal(
        descriptions.traefik_open_connections,
        'How many open connections exist, by entryPoint and protocol',
      );
    } finally {
      await proxy?.stop();
    }
  });

  it('beside Prometheus, each keeps its own buckets; a control plane pushes the workers’ sum at shutdown', async () => {
    const before = receiver.metricExports.length;
    const proxy = await startWorkers({
      config: `workers: 2
log: { level: INFO, format: json }
entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
api: { insecure: true }
metrics:
  prometheus: { buckets: [0.3, 5] }
  otlp:
    http: { endpoint: "${receiver.base}/v1/metrics" }
    explicitBoundaries: [0.01, 7.5]
    pushInterval: 1h
    serviceName: fleet
http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
    try {
      const replies = await getMany(proxy.ports['web']!, 40);
      assert.ok(replies.every((r) => r.status === 200));
      const text = await (await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/metrics`)).text();
      const les = new Set(
        [...text.matchAll(/^traefik_entrypoint_request_duration_seconds_bucket\{[^}]*le="([^"]+)"/gm)].map(
          (m) => m[1],
        ),
      );
      assert.deepEqual([...les], ['0.3', '5', '+Inf'], 'Prometheus keeps its own buckets');
      // Traefik's HELP texts (prometheus.go initStandardRegistry).
      for (const help of [
        '# HELP traefik_entrypoint_requests_total How many HTTP requests processed on an entrypoint, partitioned by status code, protocol, and method.',
        '# HELP traefik_service_request_duration_seconds How long it took to process the request on a service, partitioned by status code, protocol, and method.',
        '# HELP traefik_entrypoint_requests_bytes_total The total size of requests in bytes handled by an entrypoint, partitioned by status code, protocol, and method.',
        '# HELP traefik_open_connections How many open connections exist, by entryPoint and protocol',
      ])
        assert.ok(text.includes(`${help}\n`), help);
      // pushInterval is an hour: what arrives comes from the shutdown.
      assert.equal(await proxy.stop('SIGTERM', 30_000), 0);
    } finally {
      await killWorkers(proxy);
    }
    const exports = receiver.metricExports.slice(before);
    assert.ok(exports.length > 0, 'pushed at shutdown');
    const last = exports.at(-1)!;
    assert.equal(webRequests(last), 40, 'the sum of both workers');
    const [h] = points(last, 'traefik_entrypoint_request_duration_seconds');
    assert.deepEqual(h!.explicitBounds, [0.01, 7.5]);
    assert.equal(h!.resource['service.name'], 'fleet');
  });
});
