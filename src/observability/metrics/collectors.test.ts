import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ParsedFamily, parseExposition, sampleValue } from './test-exposition-parser.ts';
import { GET } from './test-request-head.ts';
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

describe('TrafficMetrics collectors', () => {
  it('groups a family written in several calls and by several collectors under one HELP and TYPE', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.addCollector((w) => {
      w.gauge('traffic_pool_idle', 'Idle connections.', { server: 'a' }, 1);
      w.gauge('traffic_server_up', 'Server health.', { server: 'a' }, 1);
      w.gauge('traffic_pool_idle', 'Idle connections.', { server: 'b' }, 2);
    });
    metrics.addCollector((w) => w.gauge('traffic_pool_idle', 'Idle connections.', { server: 'c' }, 3));
    const text = metrics.render();
    assert.equal(text.match(/^# TYPE traffic_pool_idle gauge$/gm)?.length, 1);
    assert.equal(text.match(/^# HELP traffic_pool_idle /gm)?.length, 1);
    const samples = parseExposition(text).get('traffic_pool_idle')!.samples;
    assert.deepEqual(
      samples.map((s) => [s.labels['server'], s.value]),
      [
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ],
    );
  });

  it('keeps the last value when a collector writes the same series twice', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.addCollector((w) => {
      w.counter('traffic_reloads_total', 'Reloads.', { outcome: 'applied' }, 1);
      w.counter('traffic_reloads_total', 'Reloads.', { outcome: 'applied' }, 4);
    });
    assert.equal(sampleValue(scrape(metrics), 'traffic_reloads_total', { outcome: 'applied' }), 4);
  });

  it('appends _total to a counter name that lacks it', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.addCollector((w) => w.counter('traffic_rejections', 'Rejections.', {}, 7));
    const families = scrape(metrics);
    assert.equal(families.get('traffic_rejections_total')?.type, 'counter');
    assert.equal(sampleValue(families, 'traffic_rejections_total'), 7);
  });

  it('sorts every family by name, built-in and collected alike', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.requestSeries('web', 'r', 's').observe(200, 0.01, 0, 0, GET, null);
    metrics.addCollector((w) => {
      w.gauge('zzz', 'Z.', {}, 1);
      w.gauge('aaa', 'A.', {}, 1);
      w.gauge('traffic_m', 'M.', {}, 1);
    });
    const names = [...scrape(metrics).keys()];
    assert.deepEqual(names, [...names].sort());
    assert.equal(names[0], 'aaa');
    assert.equal(names.at(-1), 'zzz');
  });

  it('counts and skips a collector that throws, a bad name, a bad label and a type clash', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.requestSeries('web', 'r', 's').observe(200, 0.01, 0, 0, GET, null);
    metrics.addCollector(() => {
      throw new Error('boom');
    });
    metrics.addCollector((w) => {
      w.gauge('bad-name', 'X.', {}, 1);
      w.gauge('fine', 'X.', { 'bad-label': 'v' }, 1);
      w.gauge('fine', 'X.', { __reserved: 'v' }, 1);
      w.gauge('traefik_service_requests_total', 'Clash.', {}, 1);
      w.gauge('fine', 'Fine.', { ok: 'v' }, 1);
    });
    const families = scrape(metrics);
    assert.equal(sampleValue(families, 'traffic_metrics_collector_errors_total'), 5);
    assert.deepEqual(families.get('fine')?.samples, [{ name: 'fine', labels: { ok: 'v' }, value: 1 }]);
    assert.equal(families.get('traefik_service_requests_total')?.type, 'counter');
    assert.equal(sampleValue(scrape(metrics), 'traffic_metrics_collector_errors_total'), 10);
  });

  it('writes special values the format can carry', () => {
    const metrics = new TrafficMetrics(ALL_ON);
    metrics.addCollector((w) => {
      w.gauge('g', 'G.', { v: 'inf' }, Infinity);
      w.gauge('g', 'G.', { v: 'ninf' }, -Infinity);
      w.gauge('g', 'G.', { v: 'nan' }, Number.NaN);
    });
    const families = scrape(metrics);
    assert.equal(sampleValue(families, 'g', { v: 'inf' }), Infinity);
    assert.equal(sampleValue(families, 'g', { v: 'ninf' }), -Infinity);
    assert.ok(Number.isNaN(sampleValue(families, 'g', { v: 'nan' })));
  });

  it('renders a valid exposition with the process collector on by default', () => {
    const metrics = new TrafficMetrics({ ...ALL_ON, processMetrics: true });
    metrics.requestSeries('web', 'r', 's').observe(200, 0.01, 0, 0, GET, null);
    const families = scrape(metrics);
    assert.equal(families.get('process_cpu_seconds_total')?.type, 'counter');
    assert.equal(families.get('process_resident_memory_bytes')?.type, 'gauge');
    const off = scrape(new TrafficMetrics(ALL_ON));
    assert.equal(off.has('process_cpu_seconds_total'), false);
    const byDefault = new TrafficMetrics({
      buckets: [1],
      addEntryPointsLabels: true,
      addRoutersLabels: false,
      addServicesLabels: true,
    });
    assert.equal(scrape(byDefault).has('process_cpu_seconds_total'), true);
  });
});
