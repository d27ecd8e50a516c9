import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ParsedFamily, parseExposition, sampleValue } from './test-exposition-parser.ts';
import { TrafficMetrics } from './traffic-metrics.ts';
import type { MetricsOptions } from './types.ts';

const ALL_ON: MetricsOptions = {
  buckets: [0.1, 0.3, 1.2, 5],
  addEntryPointsLabels: true,
  addRoutersLabels: true,
  addServicesLabels: true,
  processMetrics: false,
};

function scrape(metrics: TrafficMetrics): Map<string, ParsedFamily> {
  return parseExposition(metrics.render());
}

function requestFamilies(families: Map<string, ParsedFamily>): string[] {
  return [...families.keys()].filter((name) => name.startsWith('traffic_') && !name.includes('collector'));
}

describe('TrafficMetrics', () => {
  it('counts durations into cumulative buckets where a duration equal to a bound is in that bucket', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const series = metrics.requestSeries('web', 'api@file', 'app@file');
    for (const seconds of [0.05, 0.1, 0.2, 2, 10]) series.observe(200, seconds, 0, 0);
    const families = scrape(metrics);
    const h = 'traffic_service_request_duration_seconds';
    const labels = { service: 'app@file', code: '2xx' };
    assert.deepEqual(
      ['0.1', '0.3', '1.2', '5', '+Inf'].map((le) => sampleValue(families, `${h}_bucket`, { ...labels, le })),
      [2, 3, 3, 4, 5],
    );
    assert.equal(sampleValue(families, `${h}_count`, labels), 5);
    assert.ok(Math.abs(sampleValue(families, `${h}_sum`, labels)! - 12.35) < 1e-9);
    assert.equal(sampleValue(families, 'traffic_service_requests_total', labels), 5);
  });

  it('labels requests by status class, putting statuses outside 100-599 under "other"', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const series = metrics.requestSeries('web', 'r', 's');
    for (const status of [100, 204, 299, 301, 404, 404, 500, 599, 0, 600]) series.observe(status, 0.01, 0, 0);
    const families = scrape(metrics);
    const count = (code: string) =>
      sampleValue(families, 'traffic_entrypoint_requests_total', { entrypoint: 'web', code });
    assert.deepEqual(['1xx', '2xx', '3xx', '4xx', '5xx', 'other'].map(count), [1, 2, 1, 2, 2, 2]);
  });

  it('adds up requests and bytes of every router that shares an entry point or a service', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.requestSeries('web', 'a', 'svc').observe(200, 0.01, 10, 100);
    metrics.requestSeries('web', 'b', 'svc').observe(200, 0.01, 5, 50);
    metrics.requestSeries('admin', 'c', 'other').observe(200, 0.01, 1, 1);
    const families = scrape(metrics);
    assert.equal(sampleValue(families, 'traffic_entrypoint_requests_bytes_total', { entrypoint: 'web' }), 15);
    assert.equal(
      sampleValue(families, 'traffic_entrypoint_responses_bytes_total', { entrypoint: 'web' }),
      150,
    );
    assert.equal(sampleValue(families, 'traffic_service_requests_total', { service: 'svc', code: '2xx' }), 2);
    assert.equal(
      sampleValue(families, 'traffic_router_requests_total', { router: 'a', service: 'svc', code: '2xx' }),
      1,
    );
    assert.equal(
      sampleValue(families, 'traffic_router_responses_bytes_total', { router: 'b', service: 'svc' }),
      50,
    );
    assert.equal(
      sampleValue(families, 'traffic_entrypoint_requests_bytes_total', { entrypoint: 'admin' }),
      1,
    );
  });

  it('counts retries per service and shows zero for a service that never retried', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const a = metrics.requestSeries('web', 'r1', 'a');
    metrics.requestSeries('web', 'r2', 'b');
    a.retry();
    a.retry();
    const families = scrape(metrics);
    assert.equal(sampleValue(families, 'traffic_service_retries_total', { service: 'a' }), 2);
    assert.equal(sampleValue(families, 'traffic_service_retries_total', { service: 'b' }), 0);
  });

  it('treats NaN or negative durations and byte counts as zero instead of poisoning the sums', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const series = metrics.requestSeries('web', 'r', 's');
    series.observe(200, Number.NaN, Number.NaN, -5);
    series.observe(200, -1, 3, 4);
    const families = scrape(metrics);
    const labels = { entrypoint: 'web', code: '2xx' };
    assert.equal(sampleValue(families, 'traffic_entrypoint_request_duration_seconds_sum', labels), 0);
    assert.equal(
      sampleValue(families, 'traffic_entrypoint_request_duration_seconds_bucket', { ...labels, le: '0.1' }),
      2,
    );
    assert.equal(sampleValue(families, 'traffic_entrypoint_requests_bytes_total', { entrypoint: 'web' }), 3);
    assert.equal(sampleValue(families, 'traffic_entrypoint_responses_bytes_total', { entrypoint: 'web' }), 4);
  });

  it('escapes quotes, backslashes and line feeds in label values so that they read back unchanged', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const nasty = 'a"b\\c\nd';
    metrics.requestSeries(nasty, nasty, nasty).observe(200, 0.01, 1, 1);
    metrics.entryPoint(nasty).connectionOpened();
    const text = metrics.render();
    assert.ok(text.includes('entrypoint="a\\"b\\\\c\\nd"'));
    const families = parseExposition(text);
    assert.equal(sampleValue(families, 'traffic_service_requests_total', { service: nasty, code: '2xx' }), 1);
    assert.equal(sampleValue(families, 'traffic_open_connections', { entrypoint: nasty }), 1);
    assert.equal(
      sampleValue(families, 'traffic_router_requests_total', { router: nasty, service: nasty, code: '2xx' }),
      1,
    );
  });

  it('renders only the label families that are switched on', () => {
    const cases: Array<[Partial<MetricsOptions>, string[]]> = [
      [{ addEntryPointsLabels: false, addRoutersLabels: false, addServicesLabels: false }, []],
      [{ addEntryPointsLabels: false, addServicesLabels: false }, ['traffic_router_']],
      [
        { addRoutersLabels: false, addServicesLabels: false },
        ['traffic_entrypoint_', 'traffic_open_connections'],
      ],
      [{ addEntryPointsLabels: false, addRoutersLabels: false }, ['traffic_service_']],
    ];
    for (const [toggles, prefixes] of cases) {
      const metrics = new TrafficMetrics({ ...ALL_ON, ...toggles });
      const series = metrics.requestSeries('web', 'r', 's');
      series.observe(200, 0.01, 1, 1);
      series.retry();
      metrics.entryPoint('web').connectionOpened();
      const names = requestFamilies(scrape(metrics));
      assert.ok(
        names.every((name) => prefixes.some((p) => name.startsWith(p))),
        `${JSON.stringify(toggles)}: ${names.join(' ')}`,
      );
      for (const p of prefixes)
        assert.ok(
          names.some((name) => name.startsWith(p)),
          `${p} missing`,
        );
    }
  });

  it('renders the whole family set for each level when everything is on', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.requestSeries('web', 'r', 's').observe(200, 0.01, 1, 1);
    metrics.entryPoint('web');
    assert.deepEqual(requestFamilies(scrape(metrics)), [
      'traffic_entrypoint_request_duration_seconds',
      'traffic_entrypoint_requests_bytes_total',
      'traffic_entrypoint_requests_total',
      'traffic_entrypoint_responses_bytes_total',
      'traffic_open_connections',
      'traffic_router_request_duration_seconds',
      'traffic_router_requests_bytes_total',
      'traffic_router_requests_total',
      'traffic_router_responses_bytes_total',
      'traffic_service_request_duration_seconds',
      'traffic_service_requests_bytes_total',
      'traffic_service_requests_total',
      'traffic_service_responses_bytes_total',
      'traffic_service_retries_total',
    ]);
  });

  it('uses the configured prefix and refuses a prefix that is not a metric name', () => {
    const metrics = new TrafficMetrics({ ...ALL_ON, prefix: 'edge' });
    metrics.requestSeries('web', 'r', 's').observe(200, 0.01, 1, 1);
    assert.equal(
      sampleValue(scrape(metrics), 'edge_service_requests_total', { service: 's', code: '2xx' }),
      1,
    );
    assert.throws(() => new TrafficMetrics({ ...ALL_ON, prefix: 'bad-prefix' }), RangeError);
  });

  it('returns the same series object for the same names and distinct ones otherwise', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const a = metrics.requestSeries('web', 'r', 's');
    assert.equal(metrics.requestSeries('web', 'r', 's'), a);
    assert.notEqual(metrics.requestSeries('web', 'r', 's2'), a);
    assert.notEqual(metrics.requestSeries('web', 'r2', 's'), a);
    // Names containing the key separator must not collide with their neighbours.
    assert.notEqual(
      metrics.requestSeries('web\u0000r', 's', ''),
      metrics.requestSeries('web', 'r\u0000s', ''),
    );
    assert.equal(metrics.entryPoint('web'), metrics.entryPoint('web'));
    assert.notEqual(metrics.entryPoint('web'), metrics.entryPoint('websecure'));
  });

  it('tracks open connections per entry point', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const web = metrics.entryPoint('web');
    web.connectionOpened();
    web.connectionOpened();
    web.connectionClosed();
    metrics.entryPoint('idle');
    const families = scrape(metrics);
    assert.equal(sampleValue(families, 'traffic_open_connections', { entrypoint: 'web' }), 1);
    assert.equal(sampleValue(families, 'traffic_open_connections', { entrypoint: 'idle' }), 0);
  });

  it('sorts, dedupes and drops non-finite buckets, always ending with +Inf', () => {
    const metrics = new TrafficMetrics({ ...ALL_ON, buckets: [5, 0.5, 5, Infinity, 1] });
    metrics.requestSeries('web', 'r', 's').observe(200, 0.7, 0, 0);
    const les = scrape(metrics)
      .get('traffic_service_request_duration_seconds')!
      .samples.filter((s) => s.name.endsWith('_bucket'))
      .map((s) => [s.labels['le'], s.value]);
    assert.deepEqual(les, [
      ['0.5', 0],
      ['1', 1],
      ['5', 1],
      ['+Inf', 1],
    ]);
  });

  it('has only the +Inf bucket when no buckets are configured', () => {
    const metrics = new TrafficMetrics({ ...ALL_ON, buckets: [] });
    metrics.requestSeries('web', 'r', 's').observe(200, 0.7, 0, 0);
    const samples = scrape(metrics).get('traffic_service_request_duration_seconds')!.samples;
    assert.deepEqual(
      samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels['le']),
      ['+Inf'],
    );
  });

  it('forgets routers and services that a reload removed, keeping the live ones', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    const kept = metrics.requestSeries('web', 'keep', 'live');
    const gone = metrics.requestSeries('web', 'gone', 'dead');
    kept.observe(200, 0.01, 0, 0);
    gone.observe(200, 0.01, 0, 0);
    metrics.prune({ routers: new Set(['keep']), services: new Set(['live']) });
    gone.observe(200, 0.01, 0, 0);
    const families = scrape(metrics);
    assert.equal(
      sampleValue(families, 'traffic_service_requests_total', { service: 'dead', code: '2xx' }),
      undefined,
    );
    assert.equal(
      sampleValue(families, 'traffic_router_requests_total', {
        router: 'gone',
        service: 'dead',
        code: '2xx',
      }),
      undefined,
    );
    assert.equal(
      sampleValue(families, 'traffic_service_requests_total', { service: 'live', code: '2xx' }),
      1,
    );
    assert.equal(metrics.requestSeries('web', 'keep', 'live'), kept);
    assert.notEqual(metrics.requestSeries('web', 'gone', 'dead'), gone);
    // Entry points are static; their totals still include the pruned router's requests.
    assert.equal(
      sampleValue(families, 'traffic_entrypoint_requests_total', { entrypoint: 'web', code: '2xx' }),
      3,
    );
  });

  it('renders byte-identical text for the same state', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.requestSeries('web', 'r', 's').observe(503, 0.4, 1, 2);
    metrics.addCollector((w) => w.gauge('z_gauge', 'Z.', { a: '1' }, 1));
    assert.equal(metrics.render(), metrics.render());
  });
});
