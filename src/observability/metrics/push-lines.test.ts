import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  dogstatsdLines,
  durationSamples,
  influxLines,
  PushDeltas,
  packDatagrams,
  statsdLines,
} from './push-lines.ts';
import { requestHead as testRequestHead } from './test-request-head.ts';
import { TrafficMetrics } from './traffic-metrics.ts';

const ALL = { addEntryPointsLabels: true, addRoutersLabels: true, addServicesLabels: true };

function registry(): TrafficMetrics {
  return new TrafficMetrics({
    buckets: [0.01, 0.1, 1],
    ...ALL,
    processMetrics: false,
  });
}

describe('push lines (statsD, datadog, influxDB2)', () => {
  it("sends each interval's share of the counters, and nothing for a series that did not move", () => {
    const m = registry();
    const s = m.requestSeries('web', 'app@file', 'app@file');
    const req = testRequestHead('GET');
    s.observe(200, 0.005, 10, 100, req, null);
    s.observe(200, 0.005, 10, 100, req, null);
    const deltas = new PushDeltas();
    const first = dogstatsdLines(deltas.series(m.render(), ALL), 'traefik');
    assert.ok(
      first.includes(
        'traefik.entrypoint.request.total:2.000000|c|#entrypoint:web,method:GET,protocol:http,code:200',
      ),
      first.join('\n'),
    );
    assert.ok(
      first.includes(
        'traefik.router.request.total:2.000000|c|#router:app@file,service:app@file,method:GET,protocol:http,code:200',
      ),
    );
    assert.ok(
      first.includes(
        'traefik.service.responses.bytes.total:200.000000|c|#service:app@file,method:GET,protocol:http,code:200',
      ),
    );
    // Two requests in one bucket: their mean, standing for both (sample rate 1/2).
    assert.ok(
      first.includes(
        'traefik.service.request.duration:0.005000|h|@0.5|#service:app@file,method:GET,protocol:http,code:200',
      ),
    );
    s.observe(404, 0.005, 0, 0, req, null);
    const second = dogstatsdLines(deltas.series(m.render(), ALL), 'traefik');
    assert.ok(
      second.includes(
        'traefik.entrypoint.request.total:1.000000|c|#entrypoint:web,method:GET,protocol:http,code:404',
      ),
    );
    assert.ok(!second.some((l) => l.includes('code:200')), second.join('\n'));
    assert.deepEqual(
      dogstatsdLines(deltas.series(m.render(), ALL), 'traefik').filter((l) => l.includes('request')),
      [],
    );
  });

  it("drops Prometheus's header labels (Traefik's NoopHeaders) and sends a request's 0 bytes", () => {
    const m = new TrafficMetrics({
      buckets: [0.1],
      ...ALL,
      headerLabels: { tenant: 'X-Tenant' },
      processMetrics: false,
    });
    const s = m.requestSeries('web', 'a@file', 'a@file');
    s.observe(200, 0.05, 0, 5, testRequestHead('GET', [['x-tenant', 'one']]), null);
    s.observe(200, 0.05, 0, 5, testRequestHead('GET', [['x-tenant', 'two']]), null);
    const deltas = new PushDeltas();
    const lines = dogstatsdLines(deltas.series(m.render(), ALL), 'traefik');
    assert.deepEqual(lines.filter((l) => l.startsWith('traefik.entrypoint.request.')).sort(), [
      'traefik.entrypoint.request.duration:0.050000|h|@0.5|#entrypoint:web,method:GET,protocol:http,code:200',
      'traefik.entrypoint.request.total:2.000000|c|#entrypoint:web,method:GET,protocol:http,code:200',
    ]);
    assert.ok(
      lines.includes(
        'traefik.entrypoint.requests.bytes.total:0.000000|c|#entrypoint:web,method:GET,protocol:http,code:200',
      ),
      lines.join('\n'),
    );
    assert.ok(
      !dogstatsdLines(deltas.series(m.render(), ALL), 'traefik').some((l) => l.includes('bytes')),
      'no request in the interval: no bytes line',
    );
  });

  it('statsD: no labels, each name summed; timings in milliseconds; the label switches', () => {
    const m = registry();
    const req = testRequestHead('GET');
    m.requestSeries('web', 'a@file', 'a@file').observe(200, 0.25, 0, 0, req, null);
    m.requestSeries('web', 'b@file', 'b@file').observe(500, 0.25, 0, 0, req, null);
    const lines = statsdLines(
      new PushDeltas().series(m.render(), { ...ALL, addRoutersLabels: false }),
      'edge',
    );
    assert.ok(lines.includes('edge.entrypoint.request.total:2.000000|c'), lines.join('\n'));
    assert.ok(lines.includes('edge.service.request.total:2.000000|c'));
    assert.ok(lines.includes('edge.entrypoint.request.duration:250.000000|ms'));
    assert.ok(!lines.some((l) => l.startsWith('edge.router.')), 'addRoutersLabels: false');
  });

  it('influxDB2: sorted tags with the additional labels, count/p50…p99 fields, one timestamp in ns', () => {
    const m = registry();
    const req = testRequestHead('GET');
    m.requestSeries('web', 'a@file', 'a@file').observe(200, 0.5, 3, 4, req, null);
    const lines = influxLines(new PushDeltas().series(m.render(), ALL), { zone: 'eu 1' }, 1_700_000_000_123);
    assert.ok(
      lines.includes(
        'traefik.entrypoint.requests.total,code=200,entrypoint=web,method=GET,protocol=http,zone=eu\\ 1 count=1 1700000000123000000',
      ),
      lines.join('\n'),
    );
    assert.ok(
      lines.includes(
        'traefik.router.request.duration,code=200,method=GET,protocol=http,router=a@file,service=a@file,zone=eu\\ 1 p50=0.5,p90=0.5,p95=0.5,p99=0.5 1700000000123000000',
      ),
    );
  });

  it('reads observations back from the buckets: one line per bucket, the last one from the sum', () => {
    assert.deepEqual(durationSamples([0.1, 1], [0, 3, 0], 0.9, 3), [[0.3, 3]]);
    assert.deepEqual(durationSamples([0.1, 1], [1, 2, 1], 0.05 + 1.1 + 4, 4), [
      [0.05, 1],
      [0.55, 2],
      [4, 1],
    ]);
  });

  it('packs lines into datagrams, each line ended by a newline', () => {
    const d = packDatagrams(['a'.repeat(10), 'b'.repeat(10), 'c'.repeat(30)], 25);
    assert.deepEqual(
      d.map((b) => b.toString()),
      [`${'a'.repeat(10)}\n${'b'.repeat(10)}\n`, `${'c'.repeat(30)}\n`],
    );
  });
});
