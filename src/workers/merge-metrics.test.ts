import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countersOnly, entryPointRequests, mergeExpositions, workerFamilies } from './merge-metrics.ts';

const worker = (
  requests: number,
  bucket: number,
  start: number,
) => `# HELP traefik_entrypoint_requests_total How many.
# TYPE traefik_entrypoint_requests_total counter
traefik_entrypoint_requests_total{code="200",entrypoint="web",method="GET",protocol="http"} ${requests}
# HELP traefik_entrypoint_request_duration_seconds How long.
# TYPE traefik_entrypoint_request_duration_seconds histogram
traefik_entrypoint_request_duration_seconds_bucket{entrypoint="web",le="0.1"} ${bucket}
traefik_entrypoint_request_duration_seconds_bucket{entrypoint="web",le="+Inf"} ${requests}
traefik_entrypoint_request_duration_seconds_sum{entrypoint="web"} 0.5
traefik_entrypoint_request_duration_seconds_count{entrypoint="web"} ${requests}
# HELP process_start_time_seconds Start.
# TYPE process_start_time_seconds gauge
process_start_time_seconds ${start}
`;

describe('mergeExpositions', () => {
  it('sums counters and histogram series with the same labels, keeping one HELP and TYPE', () => {
    const out = mergeExpositions([worker(10, 7, 200), worker(5, 4, 100)]);
    assert.equal(out.match(/^# TYPE traefik_entrypoint_requests_total counter$/gm)?.length, 1);
    assert.match(
      out,
      /^traefik_entrypoint_requests_total\{code="200",entrypoint="web",method="GET",protocol="http"\} 15$/m,
    );
    assert.match(
      out,
      /^traefik_entrypoint_request_duration_seconds_bucket\{entrypoint="web",le="0.1"\} 11$/m,
    );
    assert.match(
      out,
      /^traefik_entrypoint_request_duration_seconds_bucket\{entrypoint="web",le="\+Inf"\} 15$/m,
    );
    assert.match(out, /^traefik_entrypoint_request_duration_seconds_sum\{entrypoint="web"\} 1$/m);
    assert.match(out, /^traefik_entrypoint_request_duration_seconds_count\{entrypoint="web"\} 15$/m);
  });

  it('keeps the oldest start time instead of a sum', () => {
    assert.match(
      mergeExpositions([worker(1, 1, 200), worker(1, 1, 100)]),
      /^process_start_time_seconds 100$/m,
    );
  });

  it('keeps series only one process has, in first-seen family order', () => {
    const own =
      '# HELP traffic_config_generation G.\n# TYPE traffic_config_generation gauge\ntraffic_config_generation 3\n';
    const out = mergeExpositions([own, worker(2, 2, 1)]);
    assert.ok(out.indexOf('traffic_config_generation 3') < out.indexOf('traefik_entrypoint_requests_total{'));
    assert.match(out, /^traefik_entrypoint_requests_total\{[^}]*\} 2$/m);
  });

  it('drops families without samples', () => {
    assert.equal(mergeExpositions(['# HELP a A.\n# TYPE a counter\n']), '');
  });
});

describe('workerFamilies', () => {
  it('names each slot, its pid and its requests; a slot that did not answer is down', () => {
    const out = workerFamilies('traffic', [1, 2], [{ slot: 1, pid: 42, text: worker(9, 1, 1) }], 3);
    assert.match(out, /^traffic_worker_up\{worker="1",pid="42"\} 1$/m);
    assert.match(out, /^traffic_worker_up\{worker="2"\} 0$/m);
    assert.match(out, /^traffic_worker_requests_total\{worker="1"\} 9$/m);
    assert.match(out, /^traffic_worker_restarts_total 3$/m);
  });

  it("sums a worker's open connections over its entry points", () => {
    const text =
      'traefik_open_connections{entrypoint="web",protocol="TCP"} 3\ntraefik_open_connections{entrypoint="b",protocol="TCP"} 4\n';
    const out = workerFamilies('traffic', [1], [{ slot: 1, pid: 1, text }], 0);
    assert.match(out, /^traffic_worker_open_connections\{worker="1"\} 7$/m);
  });

  it('counts requests over every entry point label set', () => {
    const text = `${worker(4, 1, 1)}traefik_entrypoint_requests_total{code="404",entrypoint="other",method="GET",protocol="http"} 6\n`;
    assert.equal(entryPointRequests(text), 10);
  });

  it('keeps the counters and histograms of an exposition, not its gauges', () => {
    const text = `# HELP c_total Requests.
# TYPE c_total counter
c_total{a="1"} 5
# HELP open Open now.
# TYPE open gauge
open 3
# HELP h Latency.
# TYPE h histogram
h_bucket{le="+Inf"} 2
h_sum 0.5
h_count 2
`;
    const kept = countersOnly(text);
    assert.equal(
      kept,
      '# HELP c_total Requests.\n# TYPE c_total counter\nc_total{a="1"} 5\n# HELP h Latency.\n# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 0.5\nh_count 2\n',
    );
    // A dead worker's kept counters add to a live one's.
    assert.match(mergeExpositions([kept, text]), /^c_total\{a="1"\} 10$/m);
    assert.match(mergeExpositions([kept, text]), /^open 3$/m);
  });
});
