import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeLogsProto, decodeMetricsProto, decodeTracesProto } from '../../test/helpers/otlp-receiver.ts';
import { encodeMetrics } from './metrics/otlp-metrics.ts';
import { encodeLogs } from './otlp-logs.ts';
import { encodeExportRequest } from './otlp-proto.ts';
import { encodeResource, encodeTraces } from './tracing/otlp-json.ts';
import type { FinishedSpan } from './tracing/span.ts';

// Decoded with @grpc/proto-loader from the test's own .proto files (test/helpers/otlp-proto),
// written from opentelemetry-proto's field numbers: an independent check of the tables.

const SPAN: FinishedSpan = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  parentSpanId: '00f067aa0ba902b7',
  tracestate: 'k=v',
  name: 'GET /x',
  kind: 2,
  remoteParent: true,
  startEpochMs: 1_700_000_000_123.5,
  endEpochMs: 1_700_000_000_124,
  error: true,
  message: '',
  attributes: [
    'http.request.method',
    'GET',
    'http.response.status_code',
    503,
    'zero',
    0,
    'negative',
    -42,
    'ratio',
    0.25,
    'flag',
    false,
    'http.request.header.x-a',
    ['1', '2'],
    'utf8',
    'é✓',
  ],
};

describe('encodeExportRequest', () => {
  it('writes an ExportTraceServiceRequest that a protobuf decoder reads back field for field', () => {
    const body = encodeExportRequest(
      'traces',
      encodeTraces(encodeResource('svc', { 'deployment.environment': 'prod' }), [SPAN]),
    );
    const [s] = decodeTracesProto(body);
    assert.equal(s!.traceId, SPAN.traceId);
    assert.equal(s!.spanId, SPAN.spanId);
    assert.equal(s!.parentSpanId, SPAN.parentSpanId);
    assert.equal(s!.traceState, 'k=v');
    assert.equal(s!.name, 'GET /x');
    assert.equal(s!.kind, 2);
    assert.equal(s!.startTimeUnixNano, '1700000000123500000');
    assert.equal(s!.endTimeUnixNano, '1700000000124000000');
    assert.deepEqual(s!.status, { code: 2, message: '' });
    assert.equal(s!.scope, 'github.com/traefik/traefik');
    assert.deepEqual(s!.resource, { 'service.name': 'svc', 'deployment.environment': 'prod' });
    // Zero, false and negative values are written (oneof members), not left out as defaults.
    assert.deepEqual(s!.attributes, {
      'http.request.method': 'GET',
      'http.response.status_code': 503,
      zero: 0,
      negative: -42,
      ratio: 0.25,
      flag: false,
      'http.request.header.x-a': ['1', '2'],
      utf8: 'é✓',
    });
  });

  it('writes an ExportMetricsServiceRequest: sums, gauges and histograms with packed buckets', () => {
    const text = [
      '# HELP traefik_entrypoint_requests_total How many.',
      '# TYPE traefik_entrypoint_requests_total counter',
      'traefik_entrypoint_requests_total{code="200",entrypoint="web"} 3',
      '# TYPE traefik_config_last_reload_success gauge',
      'traefik_config_last_reload_success 1.7e9',
      '# TYPE traefik_entrypoint_request_duration_seconds histogram',
      'traefik_entrypoint_request_duration_seconds_bucket{entrypoint="web",le="0.1"} 1',
      'traefik_entrypoint_request_duration_seconds_bucket{entrypoint="web",le="1"} 3',
      'traefik_entrypoint_request_duration_seconds_bucket{entrypoint="web",le="+Inf"} 4',
      'traefik_entrypoint_request_duration_seconds_sum{entrypoint="web"} 2.5',
      'traefik_entrypoint_request_duration_seconds_count{entrypoint="web"} 4',
      '',
    ].join('\n');
    const request = encodeMetrics(text, {
      resource: encodeResource('edge', {}),
      filter: {
        addEntryPointsLabels: true,
        addRoutersLabels: false,
        addServicesLabels: true,
        buckets: [0.1, 1],
      },
      startEpochMs: 1_700_000_000_000,
      nowEpochMs: 1_700_000_010_000,
    });
    const points = decodeMetricsProto(encodeExportRequest('metrics', request));
    const byName = new Map(points.map((p) => [p.metric, p]));
    const sum = byName.get('traefik_entrypoint_requests_total')!;
    assert.equal(sum.type, 'sum');
    assert.equal(sum.isMonotonic, true);
    assert.equal(sum.temporality, 2);
    assert.equal(sum.asDouble, 3);
    assert.deepEqual(sum.attributes, { code: '200', entrypoint: 'web' });
    assert.deepEqual(sum.resource, { 'service.name': 'edge' });
    const gauge = byName.get('traefik_config_last_reload_success')!;
    assert.equal(gauge.type, 'gauge');
    assert.equal(gauge.asDouble, 1.7e9);
    const h = byName.get('traefik_entrypoint_request_duration_seconds')!;
    assert.equal(h.type, 'histogram');
    assert.equal(h.unit, 's');
    assert.equal(h.count, '4');
    assert.equal(h.sum, 2.5);
    assert.deepEqual(h.explicitBounds, [0.1, 1]);
    assert.deepEqual(h.bucketCounts, ['1', '2', '1']);
  });

  it('writes an ExportLogsServiceRequest: time, severity, body and typed attributes', () => {
    const request = encodeLogs(encodeResource('edge', { team: 'a' }), [
      {
        level: 'warn',
        msg: 'something happened',
        epochMs: 1_700_000_000_250,
        fields: { component: 'x', count: 3, ok: true, nested: { a: 1 }, level: 'dropped', time: 'dropped' },
      },
    ]);
    const [r] = decodeLogsProto(encodeExportRequest('logs', request));
    assert.equal(r!.timeUnixNano, '1700000000250000000');
    assert.equal(r!.severityNumber, 13);
    assert.equal(r!.body, 'something happened');
    assert.equal(r!.scope, 'traefik');
    assert.deepEqual(r!.resource, { 'service.name': 'edge', team: 'a' });
    assert.deepEqual(r!.attributes, { component: 'x', count: 3, ok: true, nested: '{"a":1}' });
  });
});
