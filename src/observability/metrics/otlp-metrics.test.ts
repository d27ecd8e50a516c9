import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { otlpUrl } from '../otlp-http.ts';
import { encodeResource } from '../tracing/otlp-json.ts';
import { encodeMetrics, type FamilyFilter, filterExposition, parseExposition } from './otlp-metrics.ts';
import { metricsUrl } from './otlp-pusher.ts';
import { SemConvMetrics } from './semconv.ts';
import { GET } from './test-request-head.ts';
import { TrafficMetrics } from './traffic-metrics.ts';

interface KV {
  key: string;
  value: { stringValue?: string };
}
interface Point {
  attributes: KV[];
  startTimeUnixNano?: string;
  timeUnixNano: string;
  asDouble?: number;
  count?: string;
  sum?: number;
  bucketCounts?: string[];
  explicitBounds?: number[];
}
interface Metric {
  name: string;
  description: string;
  unit?: string;
  sum?: { dataPoints: Point[]; aggregationTemporality: number; isMonotonic: boolean };
  gauge?: { dataPoints: Point[] };
  histogram?: { dataPoints: Point[]; aggregationTemporality: number };
}
interface Body {
  resourceMetrics: Array<{
    resource: { attributes: KV[] };
    scopeMetrics: Array<{ scope: { name: string }; metrics: Metric[] }>;
  }>;
}

const OTLP: FamilyFilter = {
  addEntryPointsLabels: true,
  addRoutersLabels: false,
  addServicesLabels: true,
  buckets: [0.1, 1],
};

function encode(text: string, filter: FamilyFilter = OTLP): { body: Body; metrics: Map<string, Metric> } {
  const body = JSON.parse(
    JSON.stringify(
      encodeMetrics(text, {
        resource: encodeResource('edge', { 'deployment.environment': 'test' }),
        filter,
        startEpochMs: 1_700_000_000_000,
        nowEpochMs: 1_700_000_010_500,
      }),
    ),
  ) as Body;
  const metrics = new Map(body.resourceMetrics[0]!.scopeMetrics[0]!.metrics.map((m) => [m.name, m]));
  return { body, metrics };
}

function attrs(p: Point): Record<string, string> {
  return Object.fromEntries(p.attributes.map((a) => [a.key, a.value.stringValue ?? '']));
}

describe('OTLP metrics encoding', () => {
  it('turns counters into cumulative monotonic sums with the Prometheus names and labels', () => {
    const m = new TrafficMetrics({ ...OTLP, processMetrics: false });
    const s = m.requestSeries('web', 'r@file', 'app@file');
    s.observe(200, 0.05, 10, 20, GET, null);
    s.observe(200, 0.5, 10, 20, GET, null);
    s.observe(404, 2, 0, 5, GET, null);
    const { body, metrics } = encode(m.render());
    assert.deepEqual(body.resourceMetrics[0]!.resource.attributes, [
      { key: 'service.name', value: { stringValue: 'edge' } },
      { key: 'deployment.environment', value: { stringValue: 'test' } },
    ]);
    const requests = metrics.get('traefik_entrypoint_requests_total')!;
    assert.equal(requests.sum!.aggregationTemporality, 2);
    assert.equal(requests.sum!.isMonotonic, true);
    const byCode = new Map(requests.sum!.dataPoints.map((p) => [attrs(p).code, p]));
    assert.equal(byCode.get('200')!.asDouble, 2);
    assert.equal(byCode.get('404')!.asDouble, 1);
    assert.deepEqual(attrs(byCode.get('200')!), {
      entrypoint: 'web',
      code: '200',
      method: 'GET',
      protocol: 'http',
    });
    assert.equal(byCode.get('200')!.startTimeUnixNano, '1700000000000000000');
    assert.equal(byCode.get('200')!.timeUnixNano, '1700000010500000000');
    assert.equal(
      metrics
        .get('traefik_service_requests_bytes_total')!
        .sum!.dataPoints.reduce((a, p) => a + p.asDouble!, 0),
      20,
    );
  });

  it('turns histograms into per-bucket counts (not cumulative) with the explicit bounds', () => {
    const m = new TrafficMetrics({ ...OTLP, processMetrics: false });
    const s = m.requestSeries('web', 'r@file', 'app@file');
    // 0.1 is in the first bucket (upper bound inclusive), 5 and 7 above every bound.
    for (const seconds of [0.01, 0.1, 0.5, 0.7, 1, 5, 7]) s.observe(200, seconds, 0, 0, GET, null);
    const { metrics } = encode(m.render());
    const h = metrics.get('traefik_service_request_duration_seconds')!;
    assert.equal(h.unit, 's');
    assert.equal(h.histogram!.aggregationTemporality, 2);
    const [p] = h.histogram!.dataPoints;
    assert.deepEqual(p!.explicitBounds, [0.1, 1]);
    assert.deepEqual(p!.bucketCounts, ['2', '3', '2']);
    assert.equal(p!.count, '7');
    assert.ok(Math.abs(p!.sum! - 14.31) < 1e-9);
    assert.deepEqual(attrs(p!), { service: 'app@file', code: '200', method: 'GET', protocol: 'http' });
  });

  it('keeps only its own bounds of a registry that holds the union of both exporters', () => {
    const m = new TrafficMetrics({ ...OTLP, buckets: [0.1, 0.3, 1, 5], processMetrics: false });
    const s = m.requestSeries('web', 'r@file', 'app@file');
    for (const seconds of [0.05, 0.2, 0.5, 3, 9]) s.observe(200, seconds, 0, 0, GET, null);
    const text = m.render();
    const [p] = encode(text).metrics.get('traefik_entrypoint_request_duration_seconds')!.histogram!
      .dataPoints;
    assert.deepEqual(p!.explicitBounds, [0.1, 1]);
    assert.deepEqual(p!.bucketCounts, ['1', '2', '2']);
    // Prometheus beside it keeps its own bounds too.
    const prom = filterExposition(text, { ...OTLP, buckets: [0.3, 5] });
    const les = [
      ...prom.matchAll(/traefik_entrypoint_request_duration_seconds_bucket\{[^}]*le="([^"]+)"/g),
    ].map((x) => x[1]);
    assert.deepEqual(les, ['0.3', '5', '+Inf']);
  });

  it('exports gauges as gauges and leaves out the families its switches turn off', () => {
    const m = new TrafficMetrics({ ...OTLP, addRoutersLabels: true, processMetrics: false });
    m.entryPoint('web').connectionOpened();
    m.requestSeries('web', 'r@file', 'app@file').observe(200, 0.01, 0, 0, GET, null);
    m.addCollector((w) =>
      w.gauge('traefik_service_server_up', 'up', { service: 'app@file', url: 'http://x' }, 1),
    );
    const { metrics } = encode(m.render());
    const open = metrics.get('traefik_open_connections')!;
    assert.equal(open.sum, undefined);
    assert.deepEqual(
      open.gauge!.dataPoints.map((p) => [attrs(p), p.asDouble, p.startTimeUnixNano]),
      [[{ entrypoint: 'web', protocol: 'TCP' }, 1, undefined]],
    );
    assert.equal(metrics.get('traefik_service_server_up')!.gauge!.dataPoints[0]!.asDouble, 1);
    assert.ok(metrics.has('traefik_entrypoint_requests_total'));
    assert.ok(!metrics.has('traefik_router_requests_total'), 'addRoutersLabels is off for OTLP');
    assert.ok(
      encode(m.render(), { ...OTLP, addRoutersLabels: true }).metrics.has('traefik_router_requests_total'),
    );
  });

  it('reads escaped label values back as they were', () => {
    const m = new TrafficMetrics({ ...OTLP, processMetrics: false });
    m.requestSeries('we"b\\x\ny', 'r', 's').observe(200, 0.01, 0, 0, GET, null);
    const [p] = encode(m.render()).metrics.get('traefik_entrypoint_requests_total')!.sum!.dataPoints;
    assert.equal(attrs(p!).entrypoint, 'we"b\\x\ny');
    assert.equal(parseExposition('x_total{a="1"} 3\n').get('x_total')!.samples[0]!.value, 3);
  });

  it('carries a rule with quotes and backslashes as http.route, whole', () => {
    const m = new TrafficMetrics({ ...OTLP, processMetrics: false });
    const sc = new SemConvMetrics([0.1]);
    m.semconv = sc;
    const rule = 'Host("a.test") && PathRegexp(`^/x\\d+`)';
    sc.server('GET', 200, 'HTTP/1.1', 'a.test', 8080, 'http', rule, 0.01);
    sc.server('GET', 404, 'HTTP/1.1', 'a.test', 8080, 'http', '', 0.01);
    const points = encode(m.render()).metrics.get('http.server.request.duration')!.histogram!.dataPoints;
    const routes = points.map((p) => attrs(p)['http.route']);
    assert.deepEqual(routes, [rule, undefined]);
  });

  it('posts to /v1/metrics when the endpoint has no path, else to its path (otlpmetrichttp)', () => {
    assert.equal(metricsUrl('https://localhost:4318'), 'https://localhost:4318/v1/metrics');
    assert.equal(metricsUrl('http://127.0.0.1:9/'), 'http://127.0.0.1:9/');
    assert.equal(metricsUrl('http://127.0.0.1:9/otlp/v1/metrics'), 'http://127.0.0.1:9/otlp/v1/metrics');
    assert.equal(otlpUrl('https://collector:4318', '/v1/traces'), 'https://collector:4318/v1/traces');
    assert.equal(otlpUrl('http://[::1]:4318?x=1', '/v1/traces'), 'http://[::1]:4318/v1/traces');
    assert.equal(otlpUrl('http://c:4318/otlp/traces?x=1', '/v1/traces'), 'http://c:4318/otlp/traces');
  });
});
